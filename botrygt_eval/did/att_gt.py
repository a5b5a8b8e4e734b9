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
from typing import Literal

import numpy as np
import pandas as pd
from scipy import linalg, sparse, stats

from botrygt_eval.did import drdid
from botrygt_eval.did._data import DidData, prepare
from botrygt_eval.did.inference import (
    analytic_se,
    block_multiplier_draws,
    one_blas_thread,
    vcov,
)
from botrygt_eval.errors import BotrygtError, DidWarning, check_option
from botrygt_eval.results import ResultMixin

Control = Literal["never", "notyet"]
Method = Literal["dr", "ipw", "reg", "dr_imp", "ipw_unnormalized"]
BasePeriod = Literal["varying", "universal"]
FixWeights = Literal["earlier", "base_period", "first_period", "varying"]


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
        return _pretest(self.table, self.inf, self.data.cluster)

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
        from botrygt_eval.plots.did import plot_att_gt

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
    _, starts = np.unique(d.cohort, return_index=True)
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


def _fast_panel(dy, D, w, n):
    """No-covariate panel estimate: reg, IPW and DR all reduce to weighted means."""
    wt, wc = w * D, w * (1 - D)
    St, Sc = wt.sum(), wc.sum()
    mt, mc = (wt @ dy) / St, (wc @ dy) / Sc
    return mt - mc, n * (wt * (dy - mt) / St - wc * (dy - mc) / Sc)


def _ranges_idx(ranges):
    return np.concatenate([np.arange(a, b) for a, b in ranges]) if ranges else np.zeros(0, int)


def _fast_slices(d, tt, pret, wcol, treat, ctrl):
    """Closed-form no-covariate cell on contiguous cohort blocks (no gathers)."""
    n = d.Y.shape[0]
    yt, yp = d.Y[:, tt], d.Y[:, pret]
    parts = []
    for ranges in ([treat], ctrl):
        dys = [yt[a:b] - yp[a:b] for a, b in ranges]
        if d.W is None:
            ws = None
            S = float(sum(b - a for a, b in ranges))
            m = sum(x.sum() for x in dys) / S
            vals = [(x - m) * (n / S) for x in dys]
        else:
            ws = [d.W[a:b, wcol] for a, b in ranges]
            S = float(sum(w.sum() for w in ws))
            m = sum(w @ x for w, x in zip(ws, dys, strict=True)) / S
            vals = [w * (x - m) * (n / S) for w, x in zip(ws, dys, strict=True)]
        parts.append((m, vals, S))
    (mt, vt, _), (mc, vc, _) = parts
    pieces = sorted(zip([treat, *ctrl], vt + [-v for v in vc], strict=True), key=lambda p: p[0][0])
    idx = _ranges_idx([p[0] for p in pieces])
    return mt - mc, idx, np.concatenate([p[1] for p in pieces])


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

    def lookup(self, key, tt, pret):
        """(att, rows, influence column) of a cell already estimated with its batch."""
        got = self.done.get(key)
        return None if got is None else got.get((tt, pret))

    def estimate(self, d, method, key, tt, pret, idx, D, X, w):
        if key not in self.done:
            pairs = self.plan.get(key, [(tt, pret)])
            ti, pi = np.array(pairs).T
            Yi = d.Y[idx]
            try:
                att, inf = drdid.PANEL[method](Yi[:, ti] - Yi[:, pi], D, X, w)
                inf *= d.Y.shape[0] / len(idx)
                self.done[key] = {p: (att[j], idx, inf[:, j]) for j, p in enumerate(pairs)}
            except (BotrygtError, np.linalg.LinAlgError):
                self.done[key] = None
        got = self.lookup(key, tt, pret)
        if got is None:
            att, inf = drdid.PANEL[method](d.Y[idx, tt] - d.Y[idx, pret], D, X, w)
            return att, idx, inf * (d.Y.shape[0] / len(idx))
        return got


def _panel_cell(d, method, fix_weights, tt, pret, pret_g, treat, ctrl, shared=None):
    n = d.Y.shape[0]
    early = min(tt, pret)
    wcol = _weight_col(fix_weights, tt, pret, pret_g)
    if shared is not None:
        hit = shared.lookup(_share_key(d, fix_weights, tt, pret, pret_g, treat, ctrl), tt, pret)
        if hit is not None:
            return hit
    nt_ = treat[1] - treat[0]
    if d.X is None and fix_weights != "varying":
        if method == "reg":
            return _fast_slices(d, tt, pret, wcol, treat, ctrl)
        nc_ = sum(b - a for a, b in ctrl)
        if d.W is None and nt_ / (nt_ + nc_) < drdid.TRIM_LEVEL:
            return _fast_slices(d, tt, pret, wcol, treat, ctrl)
    idx = _ranges_idx(sorted([treat, *ctrl]))
    n1 = len(idx)
    D = ((idx >= treat[0]) & (idx < treat[1])).astype(float)
    w = np.ones(n1) if d.W is None else d.W[idx, wcol]
    y1, y0 = d.Y[idx, tt], d.Y[idx, pret]
    if d.X is None:
        X = np.ones((n1, 1))
    else:
        X = d.X[early if len(d.X) > 1 else 0][idx]
        X = X[:, np.r_[True, np.any(X[:, 1:] != 0, axis=0)]]  # R's droplevels
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
    elif X.shape[1] == 1 and (method == "reg" or np.sum(w * D) / np.sum(w) < drdid.TRIM_LEVEL):
        att, inf = _fast_panel(y1 - y0, D, w, n)
        return att, idx, inf
    else:
        if shared is None:
            att, inf = drdid.PANEL[method](y1 - y0, D, X, w)
        else:
            key = _share_key(d, fix_weights, tt, pret, pret_g, treat, ctrl)
            return shared.estimate(d, method, key, tt, pret, idx, D, X, w)
    return att, idx, inf * (n / n1)


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


class _Skip(Exception):
    pass


def _pretest(table: pd.DataFrame, inf, cluster) -> PreTest | None:
    ok = (table["group"] > table["time"]).to_numpy() & table["se"].notna().to_numpy()
    pre = np.nonzero(ok)[0]
    if len(pre) == 0:
        return None
    V = vcov(inf[:, pre].toarray(), cluster)
    if np.linalg.cond(V) > 1 / np.finfo(float).eps:
        return None
    a = table["att"].to_numpy()[pre]
    W = float(inf.shape[0] * a @ np.linalg.solve(V, a))
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
    alpha: float = 0.05,
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
    check_option("control", control, ("never", "notyet"))
    check_option("method", method, drdid.METHODS)
    check_option("base_period", base_period, ("varying", "universal"))
    check_option("fix_weights", fix_weights, ("earlier", "base_period", "first_period", "varying"))
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
    coh = d.cohort
    if d.panel:  # units are sorted by cohort: each cohort is a block [start, end)
        vals, starts = np.unique(coh, return_index=True)
        ends = np.r_[starts[1:], n]
        block = {v: (int(a), int(b)) for v, a, b in zip(vals, starts, ends, strict=True)}
    cols_idx, cols_val, rows = [], [], []
    failed: dict = {}  # (group, time) -> why the cell is NaN

    def control_blocks(g, tt, pret):
        is_ctrl = control_mask(vals, g, control_threshold(d, tt, pret, anticipation), control)
        return [block[v] for v in vals[is_ctrl]]

    shared = None
    if d.panel and d.X is not None and fix_weights != "varying":
        plan: dict = {}
        for g, tt, pret, _, pret_g in cells:
            if not (base_period == "universal" and pret == tt):
                key = _share_key(
                    d, fix_weights, tt, pret, pret_g, block[g], control_blocks(g, tt, pret)
                )
                plan.setdefault(key, []).append((tt, pret))
        shared = _SharedCells(plan)
    # one BLAS thread: many thin products (see inference.one_blas_thread)
    with one_blas_thread():
        for g, tt, pret, post, pret_g in cells:
            rec = {"group": g, "time": d.tlist[tt], "base_period": d.tlist[pret], "post": post}
            if base_period == "universal" and pret == tt:
                rows.append({**rec, "att": 0.0, "n_treated": 0, "n_control": 0})
                cols_idx.append(np.zeros(0, np.int64))
                cols_val.append(np.zeros(0))
                continue
            try:
                if d.panel:
                    treat = block[g]
                    ctrl = control_blocks(g, tt, pret)
                    nt_, nc_ = treat[1] - treat[0], sum(b - a for a, b in ctrl)
                    att, idx, col = _panel_cell(
                        d, method, fix_weights, tt, pret, pret_g, treat, ctrl, shared
                    )
                else:
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
                failed[(g, d.tlist[tt])] = str(exc)
                if not quiet:
                    warnings.warn(
                        f"ATT(g={g:g}, t={d.tlist[tt]:g}) not estimable ({exc}); it is NaN",
                        DidWarning,
                        stacklevel=3,
                    )
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
    table = pd.DataFrame(rows)
    table["se"] = analytic_se(inf, d.cluster) if len(cells) else []
    table.loc[table["att"].isna(), "se"] = np.nan
    table = table[["group", "time", "base_period", "post", "att", "se", "n_treated", "n_control"]]
    inf.has_sorted_indices = True  # every column's rows are built in increasing order
    table.attrs["not_estimable"] = failed
    return table, inf
