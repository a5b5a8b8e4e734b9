"""Callaway & Sant'Anna group-time average treatment effects ATT(g,t).

Reproduces R ``did`` 2.5.1 ``att_gt()`` (analytic SEs): each (g,t) cell is a 2x2
comparison of cohort g with never-treated or not-yet-treated units between a
base period and t, estimated by outcome regression, IPW or the doubly robust
estimator of ``DRDID``; the result keeps the unit-level influence functions so
that :func:`botrygt_eval.did.aggregate` only forms weighted sums.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import linalg, sparse, stats

from botrygt_eval.did import drdid
from botrygt_eval.did._data import DidData, prepare
from botrygt_eval.did.inference import (
    SE_FLOOR,
    analytic_se,
    block_multiplier_draws,
    cluster_sums,
    one_blas_thread,
)
from botrygt_eval.errors import BotrygtError, DidWarning, check_option
from botrygt_eval.options import DEFAULT_ALPHA, BasePeriod, Control, FixWeights, check
from botrygt_eval.options import DidMethod as Method
from botrygt_eval.plots.did import plot_att_gt
from botrygt_eval.results import ResultMixin


@dataclass(frozen=True)
class PreTest:
    """Wald pre-test that all pre-treatment ATT(g,t) are zero (R did's ``W``, ``Wpval``)."""

    statistic: float
    df: int
    p_value: float


@dataclass(frozen=True, eq=False)
class ATTgtResult(ResultMixin):
    """Group-time ATTs with their influence functions and the settings that made them."""

    table: pd.DataFrame  # group, time, base_period, post, att, se, n_treated, n_control
    inf: sparse.csc_matrix = field(repr=False)  # (n IF rows) x (cells), sparse
    data: DidData = field(repr=False)
    settings: dict
    _draws_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _jackknife: list = field(default_factory=list, init=False, repr=False, compare=False)

    @cached_property
    def pretest(self) -> PreTest | None:
        """Wald pre-test of R did (computed on first use; None without pre-periods)."""
        return _pretest(self.table, self.cross_sums, self.n, len(self.data.glist))

    @cached_property
    def gram(self) -> np.ndarray | None:
        """S'S of the cluster-summed IF columns [cells, cohort weights] (see :func:`if_gram`):
        the covariance of any weighted sum of them, computed once on first use. None when
        there are more than ``MAX_GRAM_COLUMNS`` columns (see :meth:`cross_sums`)."""
        if self.inf.shape[1] + len(self.data.glist) > MAX_GRAM_COLUMNS:
            return None
        return if_gram(self.inf, self.data)

    def cross_sums(self, coef: np.ndarray) -> np.ndarray:
        """coef' S'S coef (k x k): n^2 times the analytic covariance of the weighted sums
        ``[inf, cohort_columns] @ coef``. From the Gram when it is kept; with very many
        cells (a Gram too large to keep) from the cluster sums times ``coef`` directly."""
        if self.gram is not None:
            return coef.T @ (self.gram @ coef)
        z = sparse.hstack([self.inf, cohort_columns(self.data)], format="csr")
        s = sparse.csr_matrix(cluster_sums(z, self.data.cluster))
        sb = (s @ sparse.csc_matrix(coef)).toarray()
        return sb.T @ sb

    def block_draws(self, draws: int, seed: int | None) -> BlockDraws | None:
        """Multiplier draws of the cell influence functions, cohort block by cohort block.

        Panel units are sorted by cohort, and a cell's influence function lives on its
        treated and control cohorts only. Per cohort block the basis is the cells touching
        it plus the aggregation weight column (the estimated-share term of every
        aggregate is a multiple of it), so each aggregation's bootstrap is a small product
        of these draws and all aggregations share one pass over the multipliers (the
        same ones :func:`multiplier_bootstrap` draws for the seed). None with clusters or
        for repeated cross-sections (rows not in cohort blocks): use the general path.
        """
        d = self.data
        if not d.panel or d.cluster is not None:
            return None
        key = (int(draws), seed)
        if key not in self._draws_cache:
            self._draws_cache.clear()  # one entry: repeated aggregations share one seed
            self._draws_cache[key] = _block_draws(self.inf, d, int(draws), seed)
        return self._draws_cache[key]

    @property
    def n(self) -> int:
        """Rows of the influence function (units for panels, observations otherwise)."""
        return self.inf.shape[0]

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: group, time, event_time, estimate, se, ci_low, ci_high, n."""
        t = self.table
        z = stats.norm.ppf(1 - self.settings["alpha"] / 2)
        group = t["group"]
        if np.all(group == np.round(group)):
            group = group.astype(np.int64)
        return pd.DataFrame(
            {
                "group": group,
                "time": t["time"],
                "event_time": t["time"] - t["group"],
                "post": t["post"],
                "estimate": t["att"],
                "se": t["se"],
                "ci_low": t["att"] - z * t["se"],
                "ci_high": t["att"] + z * t["se"],
                "n": t["n_treated"] + t["n_control"],
            }
        )

    def summary(self) -> str:
        """Text table of ATT(g,t) with pointwise intervals and the pre-test."""
        s = self.settings
        lines = [
            "Callaway-Sant'Anna group-time ATT(g,t)",
            f"method={s['method']} control={s['control']} base_period={s['base_period']} "
            f"anticipation={s['anticipation']} panel={s['panel']} "
            f"cluster={s['cluster']} weights={s['weights']}",
            f"units={self.data.n_units} observations={self.data.n_obs}",
            self.to_frame().to_string(index=False, float_format=lambda v: f"{v:.4f}"),
        ]
        if self.pretest is not None:
            p = self.pretest
            lines.append(
                f"Pre-test of parallel trends: W={p.statistic:.4f}, df={p.df}, p={p.p_value:.5f}"
            )
        return "\n".join(lines)

    def _payload(self) -> dict:
        """The ATT(g,t) part of the JSON of ``botrygt-eval did att-gt`` (cohort 0 = never
        treated; integral periods and cohorts as integers)."""
        t = self.table
        p = self.pretest
        return {
            "att_gt": [
                {"group": _label(g), "time": _label(tt), "att": a, "se": s}
                for g, tt, a, s in zip(t["group"], t["time"], t["att"], t["se"], strict=True)
            ],
            "n_units": int(self.data.n_units),
            "n_obs": int(self.data.n_obs),
            "settings": dict(self.settings),
            "pretest": None if p is None
            else {"W": p.statistic, "df": p.df, "p_value": p.p_value},
        }  # fmt: skip

    def _draw(self, **kwargs):
        """Group-time chart (one panel per cohort); see :func:`did.plots.plot_att_gt`."""

        return plot_att_gt(self, **kwargs)


def _label(v):
    """A period or cohort for JSON: an int when integral."""
    v = v.item() if isinstance(v, np.generic) else v
    return int(v) if isinstance(v, float) and v.is_integer() else v


@dataclass(frozen=True)
class BlockDraws:
    """Bootstrap draws (B x R) of per-cohort-block bases and how to read them.

    Column p of the block-wise influence-function matrix is cell ``cell[p]``'s influence
    function on one cohort block, or (``cell[p] == -1``) the aggregation weight there;
    ``row[p]`` is that block's first IF row. Those columns are ``basis @ lift``, so the
    draws of any combination ``coef`` (P x k) of them are ``draws @ (lift @ coef)``.
    """

    draws: np.ndarray
    lift: sparse.csr_matrix  # R x P
    cell: np.ndarray
    row: np.ndarray


def _compress(q: np.ndarray, d: DidData, a: int, e: int):
    """A narrower exact basis for a wide block (the never-treated units touch every cell).

    Without covariates a cell's influence function on a block is a combination of the
    period-to-period outcome changes, a constant and the aggregation weight; that basis
    is used only if it reproduces every column of the block (relative residual < 1e-6).
    Returns (basis, coefficients) or (q, None).
    """
    if d.X is not None or d.Y is None or q.shape[1] <= 2 * (d.Y.shape[1] + 1):
        return q, None
    cols = [np.diff(d.Y[a:e], axis=1), np.ones((e - a, 1))]
    if d.W is not None:
        cols.append(d.agg_w[a:e, None])
    basis = np.hstack(cols)
    if basis.shape[0] <= basis.shape[1]:
        return q, None  # fewer units than basis columns: no narrower basis to draw on
    qb, rb = np.linalg.qr(basis)
    diag = np.abs(np.diag(rb))
    if not diag.min() > 1e-10 * diag.max():
        return q, None  # collinear outcome changes: keep the columns
    proj = qb.T @ q
    # squared residual of each column's projection, from the norms (no n x P product);
    # resolvable down to ~1e-8 relative, and exact bases sit at rounding level
    resid2 = np.einsum("ij,ij->j", q, q) - np.einsum("ij,ij->j", proj, proj)
    if np.all(resid2 <= 1e-12 * np.einsum("ij,ij->j", q, q)):
        return basis, linalg.solve_triangular(rb, proj)
    return q, None


def _block_draws(inf, d: DidData, draws: int, seed: int | None) -> BlockDraws:
    n = inf.shape[0]
    _, starts = cohort_blocks(d.cohort)
    ends = np.r_[starts[1:], n]
    csr = inf.tocsr()
    blocks, lifts, cells, rows = [], [], [], []
    lut = np.empty(inf.shape[1], np.int64)
    with one_blas_thread():
        for a, e in zip(starts, ends, strict=True):
            sub = csr[a:e]
            present = np.zeros(inf.shape[1], bool)
            present[sub.indices] = True
            cols = np.flatnonzero(present)
            lut[cols] = np.arange(len(cols))
            q = np.empty((e - a, len(cols) + 1))
            q[:, :-1] = sparse.csr_matrix(
                (sub.data, lut[sub.indices], sub.indptr), shape=(e - a, len(cols))
            ).toarray()
            q[:, -1] = d.agg_w[a:e]
            basis, coef = _compress(q, d, int(a), int(e))
            blocks.append((int(a), int(e), basis))
            lifts.append(sparse.identity(q.shape[1], format="csr") if coef is None else coef)
            cells.append(np.r_[cols, -1])
            rows.append(np.full(len(cols) + 1, a))
    z = block_multiplier_draws(blocks, n, draws, seed=seed)
    return BlockDraws(
        draws=np.hstack(z),
        lift=sparse.block_diag(lifts, format="csr"),
        cell=np.concatenate(cells),
        row=np.concatenate(rows),
    )


def cohort_blocks(cohort: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cohort values and first rows of a panel's IF rows, which are sorted by cohort
    (``np.unique(cohort, return_index=True)`` without sorting again)."""
    starts = np.r_[0, np.flatnonzero(cohort[1:] != cohort[:-1]) + 1]
    return cohort[starts], starts


def _cells(d: DidData, base_period: str, anticipation: int):
    """(g, t index, base index, post, base index of the cohort) for every cell, R's order."""
    tl = d.tlist
    start = 1 if base_period == "varying" else 0
    for g in d.glist:
        pre = np.nonzero(tl + anticipation < g)[0]
        pret_g = int(pre[-1])
        for tt in range(start, len(tl)):
            post = bool(g <= tl[tt])
            pret = pret_g if (post or base_period == "universal") else tt - 1
            yield g, tt, pret, post, pret_g


def control_threshold(d: DidData, tt, pret, anticipation: int):
    """Cohorts above this serve as not-yet-treated controls of a cell (t, base indices)."""
    return d.tlist[np.maximum(tt, pret)] + anticipation


def control_mask(cohort: np.ndarray, g, thr, control: str) -> np.ndarray:
    """Which cohorts are controls of cohort ``g``: never treated, or (``notyet``) treated
    after ``thr`` (from :func:`control_threshold`) and not ``g`` itself. Broadcasts."""
    return (cohort == 0) | ((control == "notyet") & (cohort > thr) & (cohort != g))


def closed_form_applies(method: str, fix_weights: str, intercept_only: bool, share: float) -> bool:
    """The one dispatch point between the closed form and the DRDID estimators.

    Without covariates (an intercept-only design) the propensity score is the constant
    treated share, so outcome regression, IPW and DR are all the same difference of
    weighted means (:func:`_mean_difference`); IPW/DR only while that share is below
    DRDID's trimming level, and not for ``fix_weights="varying"`` (a repeated-cross-
    section estimator per cell). Everything else runs the general estimator of
    :mod:`drdid`, which tests use as the oracle of the closed form.
    """
    return (
        intercept_only
        and fix_weights != "varying"
        and (method == "reg" or share < drdid.TRIM_LEVEL)
    )


def _mean_difference(pieces, n: int) -> float:
    """Difference of weighted means of the treated and control outcome changes.

    ``pieces``: (dy, w or None, treated) row groups of one 2x2 (w None: unit weights).
    Each ``dy`` is overwritten by its rows' influence values,
    ``n w (dy - mean_t) / S_t`` for treated and ``-n w (dy - mean_c) / S_c`` for control
    rows (S the summed weights of the group). Returns the ATT.
    """
    tot = {True: [0.0, 0.0], False: [0.0, 0.0]}  # weighted sum of dy, summed weights
    for dy, w, treated in pieces:
        s = tot[treated]
        s[0] += dy.sum() if w is None else w @ dy
        s[1] += len(dy) if w is None else w.sum()
    mean = {k: v[0] / v[1] for k, v in tot.items()}
    for dy, w, treated in pieces:
        dy -= mean[treated]
        dy *= (n if treated else -n) / tot[treated][1]
        if w is not None:
            dy *= w
    return mean[True] - mean[False]


def _treated_share(d, wcol, treat, ctrl) -> float:
    """Summed weight of the treated block over treated plus control blocks."""
    if d.W is None:
        nt = treat[1] - treat[0]
        return nt / (nt + sum(b - a for a, b in ctrl))
    w = d.W[:, wcol]
    st = w[treat[0] : treat[1]].sum()
    return st / (st + sum(w[a:b].sum() for a, b in ctrl))


def _ranges_idx(ranges):
    return np.concatenate([np.arange(a, b) for a, b in ranges]) if ranges else np.zeros(0, int)


def _weight_col(fix_weights, tt, pret, pret_g):
    early = min(tt, pret)
    return {"earlier": early, "base_period": pret_g, "first_period": 0, "varying": early}[
        fix_weights
    ]


def _share_key(d, fix_weights, tt, pret, pret_g, treat, ctrl):
    """Cells with one key share units, covariates and weights (so the propensity score)."""
    xk = min(tt, pret) if d.X is not None and len(d.X) > 1 else 0
    wcol = None if d.W is None else _weight_col(fix_weights, tt, pret, pret_g)
    return (treat, tuple(ctrl), xk, wcol)


class _SharedCells:
    """Runs a 2x2 estimator once for all cells of a key (one cohort and control set),
    on the matrix of their outcome changes; a failing batch falls back to single cells
    so that each one fails (and is reported) on its own."""

    def __init__(self, plan: dict):
        self.plan = plan  # key -> [(t index, base index), ...]
        self.done: dict = {}

    def estimate(self, d, method, key, tt, pret, idx, D, X, w):
        """(att, influence column of the ``idx`` rows) of one cell, from its key's batch."""
        if key not in self.done:
            pairs = self.plan.get(key, [(tt, pret)])
            ti, pi = np.array(pairs).T
            Yi = d.Y[idx]
            try:
                att, inf = drdid.PANEL[method](Yi[:, ti] - Yi[:, pi], D, X, w)
                self.done[key] = {p: (att[j], inf[:, j]) for j, p in enumerate(pairs)}
            except (BotrygtError, np.linalg.LinAlgError):
                self.done[key] = None
        got = None if self.done[key] is None else self.done[key].get((tt, pret))
        if got is None:
            return drdid.PANEL[method](d.Y[idx, tt] - d.Y[idx, pret], D, X, w)
        return got


def _panel_cell(d, method, fix_weights, tt, pret, pret_g, treat, ctrl, out, shared=None):
    """Estimate one panel cell; its influence values (rows of the sorted treat and
    control blocks, scaled to all n units) are written into ``out``. Returns the ATT."""
    n = d.Y.shape[0]
    early = min(tt, pret)
    wcol = _weight_col(fix_weights, tt, pret, pret_g)
    ranges = sorted([treat, *ctrl])
    X = None
    if d.X is not None:
        idx = _ranges_idx(ranges)
        X = d.X[early if len(d.X) > 1 else 0][idx]
        X = X[:, np.r_[True, np.any(X[:, 1:] != 0, axis=0)]]  # R's droplevels
    intercept_only = X is None or X.shape[1] == 1
    if closed_form_applies(
        method, fix_weights, intercept_only, _treated_share(d, wcol, treat, ctrl)
    ):
        yt, yp = d.Y[:, tt], d.Y[:, pret]
        w = None if d.W is None else d.W[:, wcol]
        pieces, pos = [], 0
        for a, b in ranges:  # the outcome changes, computed in place in ``out``
            dy = np.subtract(yt[a:b], yp[a:b], out=out[pos : pos + b - a])
            pieces.append((dy, None if w is None else w[a:b], (a, b) == treat))
            pos += b - a
        return _mean_difference(pieces, n)
    idx = _ranges_idx(ranges)
    n1 = len(idx)
    D = ((idx >= treat[0]) & (idx < treat[1])).astype(float)
    w = np.ones(n1) if d.W is None else d.W[idx, wcol]
    y1, y0 = d.Y[idx, tt], d.Y[idx, pret]
    if X is None:
        X = np.ones((n1, 1))
    if fix_weights == "varying":
        wpost = np.ones(n1) if d.W is None else d.W[idx, tt]
        wpre = np.ones(n1) if d.W is None else d.W[idx, pret]
        att, inf = drdid.RC[method](
            np.r_[y0, y1],
            np.r_[np.zeros(n1), np.ones(n1)],
            np.r_[D, D],
            np.vstack([X, X]),
            np.r_[wpre, wpost],
        )
        # the RC influence function is scaled to 2 * n1 rows: a unit's is the mean of its two
        inf = (inf[:n1] + inf[n1:]) / 2
    elif shared is None or d.X is None:
        att, inf = drdid.PANEL[method](y1 - y0, D, X, w)
    else:
        key = _share_key(d, fix_weights, tt, pret, pret_g, treat, ctrl)
        att, inf = shared.estimate(d, method, key, tt, pret, idx, D, X, w)
    np.multiply(inf, n / n1, out=out)
    return att


def _rc_cell(d, method, tt, pret, treated, control):
    rows = np.nonzero((treated | control) & ((d.t_idx == tt) | (d.t_idx == pret)))[0]
    n, n1 = len(d.cohort), len(rows)  # n: IF rows (observations, or units if unbalanced)
    D = treated[rows].astype(float)
    post = (d.t_idx[rows] == tt).astype(float)
    if (D * post).sum() == 0 or (D * (1 - post)).sum() == 0:
        raise _Skip("no treated observations in one of the two periods")
    if ((1 - D) * post).sum() == 0 or ((1 - D) * (1 - post)).sum() == 0:
        raise _Skip("no control observations in one of the two periods")
    X = d.Xrc[rows]
    X = X[:, np.r_[True, np.any(X[:, 1:] != 0, axis=0)]]
    att, inf = drdid.RC[method](d.y[rows], post, D, X, d.w[rows])
    return att, rows, inf * (n / n1)


#: dense entries per chunk when the Gram of the influence functions is accumulated
GRAM_CHUNK = 1 << 22
#: most IF columns (cells + cohorts) whose Gram is kept (2,048: 32 MB)
MAX_GRAM_COLUMNS = 2048


def cohort_columns(d: DidData) -> sparse.csc_matrix:
    """n x cohorts of ``d.glist``: each IF row's aggregation weight in its cohort's column.

    The estimated cohort shares add ``agg_w * coef[cohort]`` to every aggregate's
    influence function (R did's ``wif``), so these columns sit beside the cells' ones.
    """
    n = len(d.cohort)
    pos = np.searchsorted(d.glist, d.cohort)
    pos = np.minimum(pos, len(d.glist) - 1)
    rows = np.nonzero(d.glist[pos] == d.cohort)[0]
    return sparse.csc_matrix((d.agg_w[rows], (rows, pos[rows])), shape=(n, len(d.glist)))


def if_gram(inf: sparse.csc_matrix, d: DidData) -> np.ndarray:
    """S'S for S the cluster sums of the IF columns ``[inf, cohort_columns(d)]``.

    Every analytic variance of ATT(g,t) and its aggregates is a quadratic form in this
    (cells + cohorts)^2 matrix: an aggregate's IF is ``[inf, cohort_columns] @ B``, so
    its squared SE is ``diag(B' S'S B) / n^2`` with no n x k matrix. The IF rows fall
    in few sparsity patterns (cohort blocks), each a dense block summed by BLAS.
    """
    if inf.shape[0] * (inf.shape[1] + len(d.glist)) <= GRAM_CHUNK:
        # small (e.g. kommuner x quarters): one dense product
        z = np.hstack([inf.toarray(), cohort_columns(d).toarray()])
        s = np.asarray(cluster_sums(z, d.cluster))
        return s.T @ s
    if d.panel and d.cluster is None:
        gram = _panel_gram(inf, d)
        if gram is not None:
            return gram
    z = sparse.hstack([inf, cohort_columns(d)], format="csr")
    if d.cluster is not None:
        z = sparse.csr_matrix(cluster_sums(z, d.cluster))
    return _pattern_gram(z)


def _panel_gram(inf: sparse.csc_matrix, d: DidData) -> np.ndarray | None:
    """Gram of a panel's IF block by cohort block (units are sorted by cohort): a cell's
    values on a block it touches are one contiguous run of its stored column, so each
    block is gathered (in row chunks) without converting the matrix. None if some cell
    covers a block only in part (then the general pattern route is used)."""
    n, k = inf.shape
    p = k + len(d.glist)
    vals, starts = cohort_blocks(d.cohort)
    bounds = np.r_[starts, n]
    ptr, ind = inf.indptr, inf.indices
    at = bounds.astype(ind.dtype)  # searchsorted would cast each column's indices up
    # position of every block bound inside every column: (cells, blocks + 1)
    pos = np.vstack(
        [ptr[j] + np.searchsorted(ind[ptr[j] : ptr[j + 1]], at) for j in range(k)]
    ) if k else np.zeros((0, len(bounds)), np.int64)  # fmt: skip
    counts = np.diff(pos, axis=1)
    size = np.diff(bounds)
    if np.any((counts > 0) & (counts < size[None, :])):
        return None
    gram = np.zeros((p, p))
    gpos = np.searchsorted(d.glist, vals)
    with one_blas_thread():
        for b, (a, e) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            cols = np.nonzero(counts[:, b])[0]
            in_g = gpos[b] < len(d.glist) and d.glist[min(gpos[b], len(d.glist) - 1)] == vals[b]
            all_cols = np.r_[cols, k + gpos[b]] if in_g else cols
            if len(all_cols):
                g = _block_gram(inf.data, pos[cols, b], d, int(a), int(e), in_g)
                gram[np.ix_(all_cols, all_cols)] += g
    return gram


def _block_gram(data, first, d: DidData, a: int, e: int, in_g: bool) -> np.ndarray:
    """Q'Q of one cohort block: Q holds the block's run of each cell column (stored at
    ``data[first[j]:]``), plus the aggregation weights if the block is a cohort of glist.

    A wide block (the never-treated units touch every cell) is first tried on the
    basis of its outcomes and a constant (times the aggregation weight if weighted):
    without covariates every cell's IF there is a combination of them, and then
    Q'Q = P'P with P = basis' Q in orthonormal coordinates, a product far smaller than
    Q'Q. The basis is used only if it reproduces every column (as ``_compress``).
    """
    m = len(first) + in_g
    step = max(1, GRAM_CHUNK // m)

    def chunks():
        for r0 in range(a, e, step):
            r1 = min(e, r0 + step)
            q = np.empty((r1 - r0, m), order="F")  # column copies are memcpy
            for jj, f in enumerate(first + (r0 - a)):
                q[:, jj] = data[f : f + r1 - r0]
            if in_g:
                q[:, -1] = d.agg_w[r0:r1]
            yield r0 - a, r1 - a, q

    r = d.Y.shape[1] + 1
    if d.X is None and m > 2 * r and e - a > 4 * r:
        w = np.ones((e - a, 1)) if d.W is None else d.agg_w[a:e, None]
        qb, rb = np.linalg.qr(np.hstack([d.Y[a:e] * w, w]))
        diag = np.abs(np.diag(rb))
        if diag.min() > 1e-10 * diag.max():
            proj, norms = np.zeros((r, m)), np.zeros(m)
            for r0, r1, q in chunks():
                proj += qb[r0:r1].T @ q
                norms += np.einsum("ij,ij->j", q, q)
            if np.all(norms - np.einsum("ij,ij->j", proj, proj) <= 1e-12 * norms):
                return proj.T @ proj
    g = np.zeros((m, m))
    for _, _, q in chunks():
        g += q.T @ q
    return g


def _pattern_gram(z: sparse.csr_matrix) -> np.ndarray:
    """Z'Z of a sparse matrix, rows grouped by sparsity pattern (a hash of their column
    sets) and each group summed as dense row chunks by BLAS."""
    z.sum_duplicates()
    rows, p = z.shape
    gram = np.zeros((p, p))
    nnz = np.diff(z.indptr)
    nonempty = np.nonzero(nnz)[0]
    if len(nonempty) == 0:
        return gram
    rnd = np.random.default_rng(20).integers(1, 2**62, p)
    h = np.add.reduceat(rnd[z.indices], z.indptr[nonempty])  # wraps on overflow: a hash
    order = nonempty[np.argsort(h, kind="stable")]
    hs = np.sort(h, kind="stable")
    cuts = np.r_[0, np.nonzero(hs[1:] != hs[:-1])[0] + 1, len(hs)]
    lut = np.empty(p, np.int64)
    with one_blas_thread():
        for a, e in zip(cuts[:-1], cuts[1:], strict=True):
            width = int(nnz[order[a]])
            step = max(1, GRAM_CHUNK // max(width, 1))
            for r0 in range(a, e, step):
                sub = z[order[r0 : min(e, r0 + step)]]
                cols = np.unique(sub.indices)
                lut[cols] = np.arange(len(cols))
                q = sparse.csr_matrix(
                    (sub.data, lut[sub.indices], sub.indptr), shape=(sub.shape[0], len(cols))
                ).toarray()
                gram[np.ix_(cols, cols)] += q.T @ q
    return gram


class _Skip(Exception):
    pass


def _pretest(table: pd.DataFrame, cross_sums, n: int, n_cohorts: int) -> PreTest | None:
    ok = (table["group"] > table["time"]).to_numpy() & table["se"].notna().to_numpy()
    pre = np.nonzero(ok)[0]
    if len(pre) == 0:
        return None
    pick = np.zeros((len(table) + n_cohorts, len(pre)))
    pick[pre, np.arange(len(pre))] = 1.0
    V = cross_sums(pick) / n  # S'S / n of the pre-period cells, as inference.vcov
    if np.linalg.cond(V) > 1 / np.finfo(float).eps:
        return None
    a = table["att"].to_numpy()[pre]
    W = float(n * a @ np.linalg.solve(V, a))
    return PreTest(statistic=W, df=len(pre), p_value=float(stats.chi2.sf(W, len(pre))))


def att_gt(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covariates: list[str] | None = None,
    control: Control = "never",
    method: Method = "dr",
    weights: str | None = None,
    cluster: str | None = None,
    panel: bool = True,
    base_period: BasePeriod = "varying",
    anticipation: int = 0,
    alpha: float = DEFAULT_ALPHA,
    fix_weights: FixWeights = "earlier",
    allow_unbalanced: bool = False,
) -> ATTgtResult:
    """Estimate every ATT(g,t) with analytic influence-function SEs (R ``did::att_gt``).

    ``cohort`` is the first treated period (0 = never treated). ``control``: never
    treated or not yet treated (by t + anticipation). ``panel=False`` treats rows as
    repeated cross-sections (e.g. the citizen survey, with ``weights``). Time-varying
    panel weights: ``fix_weights`` "earlier" (R's default: the earlier period of each
    2x2), "base_period", "first_period" or "varying". ``cluster`` gives cluster-robust
    SEs (clusters must nest units). Covariates are taken from the earlier period of
    each 2x2; text/categorical ones become dummies. An unbalanced panel is balanced
    (units with gaps dropped, with a warning) unless ``allow_unbalanced=True``: then,
    as R's ``allow_unbalanced_panel``, the repeated-cross-section estimators run on
    the rows and influence functions are summed within units.
    """
    check("control", control, Control)
    check("method", method, Method)
    check("base_period", base_period, BasePeriod)
    check("fix_weights", fix_weights, FixWeights)
    if not panel and fix_weights in ("base_period", "first_period"):
        check_option("fix_weights (repeated cross-sections)", fix_weights, ("earlier", "varying"))
    if int(anticipation) != anticipation or anticipation < 0:
        check_option("anticipation", anticipation, ("an integer >= 0",))
    covariates = list(covariates or [])
    d = prepare(
        data,
        unit=unit,
        time=time,
        cohort=cohort,
        outcome=outcome,
        covariates=covariates,
        weights=weights,
        cluster=cluster,
        panel=panel,
        control=control,
        anticipation=anticipation,
        allow_unbalanced=allow_unbalanced,
    )
    table, inf = _estimate(d, control, method, base_period, anticipation, fix_weights)
    settings = dict(
        unit=unit,
        time=time,
        cohort=cohort,
        outcome=outcome,
        covariates=covariates,
        control=control,
        method=method,
        weights=weights,
        cluster=cluster,
        panel=panel,
        base_period=base_period,
        anticipation=anticipation,
        alpha=alpha,
        fix_weights=fix_weights,
        allow_unbalanced=allow_unbalanced,
    )
    return ATTgtResult(table=table, inf=inf, data=d, settings=settings)


def _estimate(d: DidData, control, method, base_period, anticipation, fix_weights, *, quiet=False):
    """Every ATT(g,t) cell of prepared data: the table and the sparse n x cells IF.

    ``quiet`` turns the per-cell "not estimable" warnings off (jackknife replicates).
    """
    cells = list(_cells(d, base_period, anticipation))
    n = len(d.cohort)
    if d.panel:
        inf, rows, failed = _panel_cells(d, cells, control, method, base_period, anticipation,
                                         fix_weights, quiet)  # fmt: skip
    else:
        inf, rows, failed = _rc_cells(d, cells, control, method, anticipation, quiet)
    table = pd.DataFrame(rows)
    table["se"] = _column_se(inf, d.cluster, n) if len(cells) else []
    table.loc[table["att"].isna(), "se"] = np.nan
    table = table[["group", "time", "base_period", "post", "att", "se", "n_treated", "n_control"]]
    table.attrs["not_estimable"] = failed
    return table, inf


def _column_se(inf: sparse.csc_matrix, cluster, n: int) -> np.ndarray:
    """Analytic SE of every column (as :func:`inference.analytic_se`), from the stored
    values without a squared copy of the matrix when there are no clusters."""
    if cluster is not None:
        return analytic_se(inf, cluster)
    ptr, data = inf.indptr, inf.data
    ss = np.array([data[a:b] @ data[a:b] for a, b in zip(ptr[:-1], ptr[1:], strict=True)])
    se = np.sqrt(ss) / n
    se[~(se > SE_FLOOR)] = np.nan
    return se


def _warn_cell(failed, quiet, g, t, exc):
    failed[(g, t)] = str(exc)
    if not quiet:
        warnings.warn(
            f"ATT(g={g:g}, t={t:g}) not estimable ({exc}); it is NaN", DidWarning, stacklevel=4
        )


def _panel_cells(d, cells, control, method, base_period, anticipation, fix_weights, quiet):
    """Panel cells written straight into the arrays of the sparse IF (units are sorted by
    cohort, so a cell's rows are its treated and control cohort blocks, in order)."""
    n = len(d.cohort)
    vals, starts = cohort_blocks(d.cohort)
    ends = np.r_[starts[1:], n]
    block = {v: (int(a), int(b)) for v, a, b in zip(vals, starts, ends, strict=True)}

    def control_blocks(g, tt, pret):
        is_ctrl = control_mask(vals, g, control_threshold(d, tt, pret, anticipation), control)
        return [block[v] for v in vals[is_ctrl]]

    plan = []
    for g, tt, pret, post, pret_g in cells:
        if base_period == "universal" and pret == tt:
            plan.append((g, tt, pret, post, pret_g, None, []))
        else:
            plan.append((g, tt, pret, post, pret_g, block[g], control_blocks(g, tt, pret)))
    lens = np.array([0 if p[5] is None else sum(b - a for a, b in [p[5], *p[6]]) for p in plan],
                    np.int64)  # fmt: skip
    indptr = np.r_[0, np.cumsum(lens)]
    idx_type = np.int32 if max(n, int(indptr[-1])) < 2**31 else np.int64
    data = np.empty(int(indptr[-1]))
    indices = np.empty(int(indptr[-1]), idx_type)
    arange = np.arange(n, dtype=idx_type)
    shared = None
    if d.X is not None and fix_weights != "varying":
        groups: dict = {}
        for _g, tt, pret, _, pret_g, treat, ctrl in plan:
            if treat is not None:
                key = _share_key(d, fix_weights, tt, pret, pret_g, treat, ctrl)
                groups.setdefault(key, []).append((tt, pret))
        shared = _SharedCells(groups)
    rows, failed = [], {}
    ok = np.ones(len(plan), bool)
    # one BLAS thread: many thin products (see inference.one_blas_thread)
    with one_blas_thread():
        for j, (g, tt, pret, post, pret_g, treat, ctrl) in enumerate(plan):
            rec = {"group": g, "time": d.tlist[tt], "base_period": d.tlist[pret], "post": post}
            if treat is None:  # universal base period: the base cell is 0 by definition
                rows.append({**rec, "att": 0.0, "n_treated": 0, "n_control": 0})
                continue
            seg = slice(int(indptr[j]), int(indptr[j + 1]))
            try:
                att = _panel_cell(d, method, fix_weights, tt, pret, pret_g, treat, ctrl,
                                  data[seg], shared)  # fmt: skip
            except (BotrygtError, np.linalg.LinAlgError) as exc:
                _warn_cell(failed, quiet, g, d.tlist[tt], exc)
                rows.append({**rec, "att": np.nan, "n_treated": 0, "n_control": 0})
                ok[j] = False
                continue
            pos = seg.start
            for a, b in sorted([treat, *ctrl]):
                indices[pos : pos + b - a] = arange[a:b]
                pos += b - a
            nt_ = treat[1] - treat[0]
            rows.append({**rec, "att": att, "n_treated": nt_, "n_control": int(lens[j]) - nt_})
    if not ok.all():  # failed cells keep no values
        keep = np.repeat(ok, lens)
        data, indices = data[keep], indices[keep]
        indptr = np.r_[0, np.cumsum(np.where(ok, lens, 0))]
    inf = sparse.csc_matrix((data, indices, indptr), shape=(n, len(cells)), copy=False)
    inf.has_sorted_indices = True  # every column's rows are built in increasing order
    return inf, rows, failed


def _rc_cells(d, cells, control, method, anticipation, quiet):
    """Repeated cross-section (and unbalanced panel) cells, one sparse column each."""
    n = len(d.cohort)
    cols_idx, cols_val, rows = [], [], []
    failed: dict = {}
    with one_blas_thread():
        for g, tt, pret, post, _ in cells:
            rec = {"group": g, "time": d.tlist[tt], "base_period": d.tlist[pret], "post": post}
            if pret == tt:  # universal base period: the base cell is 0 by definition
                rows.append({**rec, "att": 0.0, "n_treated": 0, "n_control": 0})
                cols_idx.append(np.zeros(0, np.int64))
                cols_val.append(np.zeros(0))
                continue
            try:
                rc = d.row_cohort
                treated = rc == g
                thr = control_threshold(d, tt, pret, anticipation)
                ctrl_m = control_mask(rc, g, thr, control)
                att, idx, col = _rc_cell(d, method, tt, pret, treated, ctrl_m)
                nt_ = int(treated[idx].sum())
                nc_ = len(idx) - nt_
                if d.row_unit is not None:  # unbalanced panel: one IF row per unit
                    col = np.bincount(d.row_unit[idx], weights=col, minlength=n)
                    idx = np.nonzero(col)[0]
                    col = col[idx]
            except (_Skip, BotrygtError, np.linalg.LinAlgError) as exc:
                _warn_cell(failed, quiet, g, d.tlist[tt], exc)
                rows.append({**rec, "att": np.nan, "n_treated": 0, "n_control": 0})
                cols_idx.append(np.zeros(0, np.int64))
                cols_val.append(np.zeros(0))
                continue
            cols_idx.append(idx)
            cols_val.append(col)
            rows.append({**rec, "att": att, "n_treated": nt_, "n_control": nc_})
    lens = np.fromiter((len(i) for i in cols_idx), np.int64, len(cols_idx))
    inf = sparse.csc_matrix(
        (np.concatenate(cols_val), np.concatenate(cols_idx), np.r_[0, np.cumsum(lens)]),
        shape=(n, len(cells)),
    )
    inf.has_sorted_indices = True  # every column's rows are built in increasing order
    return inf, rows, failed
