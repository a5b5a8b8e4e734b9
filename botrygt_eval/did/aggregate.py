"""Aggregate ATT(g,t) into simple, group, dynamic (event-study) and calendar effects.

Transcribes R ``did`` 2.5.1 ``aggte()`` (``compute.aggte``): aggregates are
weighted sums of ATT(g,t) with cohort-share weights; their influence functions
are the same weighted sums of the cell influence functions plus the term for the
estimated weights (``wif``). Nothing is re-estimated. Analytic SEs by default;
``se="bootstrap", replications=B`` uses the Rademacher multiplier bootstrap and gives
simultaneous (sup-t) bands over the by-rows.

As in R, ``max_e`` also limits the cells entering ``simple`` and ``group``, and
NaN cells are left out (R's ``na.rm = TRUE``) with a warning.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse, stats

from botrygt_eval.did.att_gt import ATTgtResult, cohort_columns
from botrygt_eval.did.inference import (
    SE_FLOOR,
    BootstrapResult,
    bootstrap_summary,
    multiplier_bootstrap,
    one_blas_thread,
)
from botrygt_eval.did.jackknife import jackknife_variance, replicates
from botrygt_eval.errors import (
    DidWarning,
    EstimationError,
    NoEstimableCellsError,
)
from botrygt_eval.options import (
    AGGREGATE_SE,
    DEFAULT_BOOTSTRAP_REPLICATIONS,
    DEFAULT_SEED,
    AggregateSE,
    AggType,
    check,
    check_replications,
)
from botrygt_eval.plots.did import plot_aggregate
from botrygt_eval.results import ResultMixin

_BY = {"simple": None, "group": "group", "dynamic": "event_time", "calendar": "time"}
_LABEL_DA = {
    "simple": "Samlet effekt",
    "group": "Effekt efter startår (kohorte)",
    "dynamic": "Effekt efter tid siden start",
    "calendar": "Effekt efter kalenderperiode",
}


@dataclass(frozen=True, eq=False)
class AggregateResult(ResultMixin):
    """An aggregated ATT with its by-rows (cohort, event time or period) and inference."""

    type: str
    overall_att: float
    overall_se: float
    by: pd.DataFrame  # egt, att, se (empty for simple)
    crit: float  # critical value for the by-rows: pointwise, sup-t (bootstrap) or Bonferroni
    alpha: float
    n_units: int
    bootstrap: BootstrapResult | None = None
    settings: dict = field(default_factory=dict)
    df: float | None = None  # t degrees of freedom of the intervals (jackknife: G - 1)
    # the IF is [res.inf, cohort_columns] @ if_coef: (cells + cohorts) x (len(by) + 1)
    if_coef: np.ndarray | None = field(default=None, repr=False)
    source: ATTgtResult | None = field(default=None, repr=False)

    @property
    def inf(self) -> np.ndarray:
        """Influence functions, n x (len(by) + 1): by-rows then overall (built on request;
        the SEs come from the Gram of the cell IFs and never need this dense matrix)."""
        return dense_if(self.source, self.if_coef)

    @property
    def simultaneous(self) -> bool:
        """Whether the by-rows' intervals form a simultaneous band (sup-t or Bonferroni)."""
        return self.bootstrap is not None or bool(self.settings.get("band"))

    def to_frame(self) -> pd.DataFrame:
        """Tidy rows: the overall effect first (egt NaN), then one row per egt."""
        q = 1 - self.alpha / 2
        z = stats.norm.ppf(q) if self.df is None else stats.t.ppf(q, self.df)
        over = pd.DataFrame(
            {
                "type": [self.type],
                "egt": [np.nan],
                "estimate": [self.overall_att],
                "se": [self.overall_se],
                "ci_low": [self.overall_att - z * self.overall_se],
                "ci_high": [self.overall_att + z * self.overall_se],
                "n": [self.n_units],
            }
        )
        if self.by.empty:
            return over
        b = self.by
        rows = pd.DataFrame(
            {
                "type": self.type,
                "egt": b["egt"].astype(float),
                "estimate": b["att"],
                "se": b["se"],
                "ci_low": b["att"] - self.crit * b["se"],
                "ci_high": b["att"] + self.crit * b["se"],
                "n": self.n_units,
            }
        )
        return pd.concat([over, rows], ignore_index=True)

    def summary(self) -> str:
        """Text summary: overall effect and the by-table with its band type."""
        level = f"{1 - self.alpha:.0%}"
        se_kind = "" if self.df is None else f"cluster jackknife, t({self.df:g})"
        if self.bootstrap is not None:
            band = f"simultaneous {level} band (bootstrap sup-t, {self.bootstrap.draws} draws)"
        elif self.simultaneous:
            rows = int(self.by["se"].notna().sum())
            band = f"simultaneous {level} band (Bonferroni over {rows} rows{'; ' + se_kind if se_kind else ''})"
        else:
            band = f"pointwise {level} intervals{' (' + se_kind + ')' if se_kind else ''}"
        over = self.to_frame().iloc[0]
        how = "" if self.df is None else f"; cluster jackknife, t({self.df:g})"
        lines = [
            f"Aggregated ATT ({self.type}): {self.overall_att:.4f} (SE {self.overall_se:.4f}, "
            f"{1 - self.alpha:.0%} CI {over['ci_low']:.4f} to {over['ci_high']:.4f}{how})",
        ]
        if not self.by.empty:
            lines.append(f"By {_BY[self.type]}, {band}, critical value {self.crit:.3f}:")
            lines.append(
                self.to_frame()
                .iloc[1:]
                .drop(columns=["type", "n"])
                .rename(columns={"egt": _BY[self.type]})
                .to_string(index=False, float_format=lambda v: f"{v:.4f}")
            )
        return "\n".join(lines)

    def _payload(self) -> dict:
        """One aggregation in the JSON of ``botrygt-eval did att-gt`` (by-rows keyed ``egt``)."""
        f = self.to_frame()
        over, by = f.iloc[0], f.iloc[1:]
        return {
            "att": self.overall_att,
            "se": self.overall_se,
            "ci_low": over["ci_low"],
            "ci_high": over["ci_high"],
            "se_type": "bootstrap" if self.bootstrap is not None else self.settings["se"],
            "simultaneous_band": self.simultaneous,
            "df": self.df,
            "by": [
                {"egt": e, "att": x, "se": s, "ci_low": lo, "ci_high": hi}
                for e, x, s, lo, hi in zip(
                    self.by["egt"] if not self.by.empty else [], by["estimate"], by["se"],
                    by["ci_low"], by["ci_high"], strict=True,
                )
            ],
        }  # fmt: skip

    def _draw(self, ax=None, **kwargs):
        """Event-study / group / calendar chart with its band; see :mod:`did.plots`."""

        return plot_aggregate(self, ax=ax, **kwargs)


def _wif_coef(pos, pg, att, member, nbins):
    """R did's ``wif()`` term per cohort: the estimated-share part of an aggregate's
    influence function is ``w_ind * coef[gpos]`` (its constant parts cancel).

    ``pos``, ``pg`` and ``att`` describe candidate cells (cohort position, share, ATT);
    ``member`` (cells x k, bool) says which cells each of k weighted means averages.
    Returns (nbins + 1) x k with a zero last row (units in no cohort).
    """
    m = member.astype(float)
    s = pg @ m
    pa = (pg * att) @ m
    onehot = np.zeros((nbins + 1, len(pos)))
    onehot[pos, np.arange(len(pos))] = 1.0
    coef = (onehot @ (m * att[:, None]) - (onehot @ m) * (pa / s)) / s
    coef[-1] = 0.0
    return coef


def _no_cells_message(tab: pd.DataFrame, shown: int = 5) -> str:
    """Which ATT(g,t) cells failed and why (the reasons att_gt recorded), grouped by reason."""
    reasons = tab.attrs.get("not_estimable", {})
    by_reason: dict = {}
    for g, t in zip(tab["group"], tab["time"], strict=True):
        by_reason.setdefault(reasons.get((g, t), "reason not recorded"), []).append(
            f"(g={g:g}, t={t:g})"
        )
    parts = []
    for why, cells in by_reason.items():
        more = f" and {len(cells) - shown} more" if len(cells) > shown else ""
        parts.append(f"{', '.join(cells[:shown])}{more}: {why}")
    return (
        f"all {len(tab)} ATT(g,t) cells are NaN, so there is nothing to aggregate. "
        + "; ".join(parts)
        + ". Fix the cause above (e.g. method='reg' or fewer covariates for a propensity-"
        "score failure, control='notyet' when there are no never-treated units) and rerun "
        "att_gt"
    )


def _members(sets, n_cells):
    member = np.zeros((n_cells, len(sets)), bool)
    for j, idx in enumerate(sets):
        member[idx, j] = True
    return member


def aggregate(
    res: ATTgtResult,
    type: AggType = "simple",
    *,
    min_e: float | None = None,
    max_e: float | None = None,
    balance_e: int | None = None,
    se: AggregateSE = AGGREGATE_SE,
    replications: int | None = None,
    seed: int = DEFAULT_SEED,
    alpha: float | None = None,
    band: bool = False,
) -> AggregateResult:
    """Aggregate ATT(g,t) as R ``did::aggte(type=...)``.

    ``se="analytic"`` (R's influence-function SEs). ``se="bootstrap"``: the Rademacher
    multiplier bootstrap with ``replications`` draws (default 1,000, R's ``biters``) and
    ``seed``, with a sup-t band over the by-rows. ``se="jackknife"``: leave-one-cluster-out (CV3) SEs with t(G - 1) intervals, for
    few treated kommuner per cohort, where the analytic and bootstrap SEs (R's) are
    too small; see :mod:`botrygt_eval.did.jackknife`. ``band=True`` (without the
    bootstrap): a simultaneous Bonferroni band over the by-rows, ``alpha / (2 k)`` tails
    of the normal or, with the jackknife, the t(G - 1) distribution. With few treated
    kommuner the bootstrap's sup-t band is too narrow (docs/COVERAGE.md).
    """
    check("type", type, AggType)
    check("se", se, AggregateSE)
    if replications is not None and se != "bootstrap":
        raise EstimationError(
            f"replications={replications} is for se='bootstrap'; se={se!r} draws nothing"
        )
    if band and se == "bootstrap":
        raise EstimationError(
            "the bootstrap's band is already simultaneous (sup-t); band=True is the Bonferroni "
            "band for analytic or jackknife SEs"
        )
    check_replications(replications)
    bootstrap = (replications or DEFAULT_BOOTSTRAP_REPLICATIONS) if se == "bootstrap" else None
    alpha = res.settings["alpha"] if alpha is None else alpha
    min_e = -np.inf if min_e is None else min_e
    max_e = np.inf if max_e is None else max_e
    d = res.data
    tab = res.table
    ok = tab["att"].notna().to_numpy()
    if not ok.any():
        raise NoEstimableCellsError(_no_cells_message(tab))
    if not ok.all():
        warnings.warn(
            f"{int((~ok).sum())} ATT(g,t) cell(s) are NaN and left out of the aggregation "
            "(R's na.rm = TRUE)",
            DidWarning,
            stacklevel=2,
        )
    group = tab["group"].to_numpy(float)[ok]
    t = tab["time"].to_numpy(float)[ok]
    att = tab["att"].to_numpy(float)[ok]
    w_ind, cohort = d.agg_w, d.cohort
    glist = np.unique(group)
    gpos = np.searchsorted(glist, cohort)
    gpos[(gpos == len(glist)) | (glist[np.minimum(gpos, len(glist) - 1)] != cohort)] = len(glist)
    pg_g = np.bincount(gpos, weights=w_ind, minlength=len(glist) + 1)[:-1] / len(w_ind)
    cpos = np.searchsorted(glist, group)  # each cell's cohort position
    pg = pg_g[cpos]
    nbins = len(glist)

    def means(member):
        """Cohort-share weights (cells x k) of weighted means over each column's cells."""
        wts = member * pg[:, None]
        return wts / wts.sum(axis=0)

    by_vals: list = []
    if type == "simple":
        keep = np.nonzero((group <= t) & (t <= group + max_e))[0]
        if len(keep) == 0:
            raise EstimationError("no post-treatment ATT(g,t) to aggregate")
        member = _members([keep], len(att))
        W_all = means(member)  # cells x k: IF = inf @ W_all + w_ind * A_all[gpos]
        A_all = _wif_coef(cpos, pg, att, member, nbins)
        over_att = float(W_all[:, 0] @ att)
        by_att = np.array([])
        overall = None
    else:
        if type == "group":
            by_vals = list(glist)
            sets = [np.nonzero((group == g) & (g <= t) & (t <= group + max_e))[0] for g in glist]
            use_wif = False
        elif type == "dynamic":
            e_all = t - group
            eseq = np.unique(e_all)
            incl = np.ones(len(att), bool)
            if balance_e is not None:
                tmax, tmin = d.tlist[-1], d.tlist[0]
                eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - tmax + tmin)]
                incl = (tmax - group) >= balance_e
            eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
            by_vals = list(eseq)
            sets = [np.nonzero((e_all == e) & incl)[0] for e in eseq]
            use_wif = True
        else:  # calendar
            tl = np.unique(t)
            by_vals = list(tl[tl >= group.min()])
            sets = [np.nonzero((t == t1) & (group <= t))[0] for t1 in by_vals]
            use_wif = True
        keep_by = [i for i, s in enumerate(sets) if len(s)]
        by_vals = [by_vals[i] for i in keep_by]
        sets = [sets[i] for i in keep_by]
        if not sets:
            raise EstimationError(f"no ATT(g,t) cells for a '{type}' aggregation with these limits")
        member = _members(sets, len(att))
        Wm = means(member)
        by_att = att @ Wm
        if use_wif:
            A_by = _wif_coef(cpos, pg, att, member, nbins)
        else:
            A_by = np.zeros((nbins + 1, len(sets)))
        if type == "group":
            by_att = np.array([att[s].mean() for s in sets])
            sel = pg_g[keep_by]
            sel_w = sel / sel.sum()
            over_att = float(by_att @ sel_w)
            W_over = Wm @ sel_w
            overall = np.asarray(keep_by)  # cohort-share weighted mean of the by-rows
            A_over = (
                A_by @ sel_w
                + _wif_coef(np.asarray(keep_by), sel, by_att, np.ones((len(sets), 1), bool), nbins)[
                    :, 0
                ]
            )
        else:
            pos = np.ones(len(sets), bool) if type == "calendar" else np.array(by_vals) >= 0
            if not pos.any():
                raise EstimationError("no event time >= 0 within min_e/max_e to average")
            over_att = float(by_att[pos].mean())
            overall = pos  # plain mean of these by-rows
            W_over = Wm[:, pos].mean(axis=1)
            A_over = A_by[:, pos].mean(axis=1)
        W_all = np.column_stack([Wm, W_over])
        A_all = np.column_stack([A_by, A_over])
    # the influence functions of the by-rows then the overall effect are
    # [res.inf, cohort_columns] @ coef: cells' weights, then the estimated-share terms
    n_cells = res.inf.shape[1]
    coef = np.zeros((n_cells + len(d.glist), W_all.shape[1]))
    coef[np.nonzero(ok)[0]] = W_all
    coef[n_cells + np.searchsorted(d.glist, glist)] = A_all[:-1]
    k_by = W_all.shape[1] - 1
    se_all = gram_se(res, coef) if bootstrap is None and se == "analytic" else None
    crit = stats.norm.ppf(1 - alpha / 2)
    df = None
    if se == "jackknife":
        theta = np.r_[by_att, over_att]
        reps = replicates(res)
        rep_w = reps.cohort_w[:, np.searchsorted(d.glist, glist)]
        thetas = _replicate_thetas(type, reps.att[:, ok], rep_w, cpos, member, overall)
        se_all = np.sqrt(jackknife_variance(thetas, theta))
        undefined = int(np.isnan(se_all).sum())
        se_all[~(se_all > SE_FLOOR)] = np.nan  # as analytic_se (e.g. the universal base)
        if undefined:
            warnings.warn(
                f"{undefined} jackknife SE(s) are NaN: some leave-one-cluster-"
                "out replicate cannot estimate them (they rest on a single cluster)",
                DidWarning,
                stacklevel=2,
            )
        df = float(reps.n_clusters - 1)
        crit = stats.t.ppf(1 - alpha / 2, df)
    if band and k_by:
        k = max(int(np.isfinite(se_all[:-1]).sum()), 1)
        q = 1 - alpha / (2 * k)
        crit = stats.norm.ppf(q) if df is None else stats.t.ppf(q, df)
    boot = None
    if bootstrap is not None:
        band = np.r_[np.ones(k_by, bool), False] if k_by else None
        blocks = res.block_draws(int(bootstrap), seed)
        if blocks is None:
            boot = multiplier_bootstrap(
                dense_if(res, coef),
                int(bootstrap),
                seed=seed,
                cluster=d.cluster,
                alpha=alpha,
                band=band,
            )
        else:
            # the same multipliers through the cached per-block draws (no pass over n x B)
            block_coef = coef[np.maximum(blocks.cell, 0)]
            wcol = blocks.cell < 0
            block_coef[wcol] = A_all[gpos[blocks.row[wcol]]]
            with one_blas_thread():
                out = blocks.draws @ (blocks.lift @ block_coef)
            boot = bootstrap_summary(out, seed=seed, alpha=alpha, band=band)
        se_all = boot.se
        if k_by and np.isfinite(boot.crit) and boot.crit >= crit:
            crit = boot.crit
    by = pd.DataFrame({"egt": by_vals, "att": by_att, "se": se_all[:-1]})
    return AggregateResult(
        type=type,
        overall_att=over_att,
        overall_se=float(se_all[-1]),
        by=by,
        crit=float(crit),
        alpha=alpha,
        n_units=d.n_units,
        bootstrap=boot,
        settings=dict(
            min_e=min_e,
            max_e=max_e,
            balance_e=balance_e,
            se=se,
            replications=bootstrap,
            seed=seed,
            band=band,
        ),
        df=df,
        if_coef=coef,
        source=res,
    )


def gram_se(res: ATTgtResult, coef: np.ndarray) -> np.ndarray:
    """Analytic SEs of the weighted sums ``[res.inf, cohort_columns] @ coef`` from the
    cluster-summed Gram (:meth:`ATTgtResult.cross_sums`): sqrt(diag(coef' S'S coef)) / n,
    as :func:`analytic_se` on the dense influence functions; tiny or undefined ones
    become NaN (R's NA)."""
    ss = np.diag(res.cross_sums(coef)).copy()
    se = np.sqrt(np.maximum(ss, 0.0)) / res.inf.shape[0]
    se[~(se > SE_FLOOR)] = np.nan
    return se


def dense_if(res: ATTgtResult, coef: np.ndarray) -> np.ndarray:
    """The n x k influence functions ``[res.inf, cohort_columns] @ coef`` (for the general
    multiplier bootstrap and users; the analytic SEs do without them)."""
    n_cells = res.inf.shape[1]
    # a sparse product: each cell enters one or two columns, so coef is mostly zeros
    out = (res.inf @ sparse.csc_matrix(coef[:n_cells])).toarray()
    out += (cohort_columns(res.data) @ sparse.csc_matrix(coef[n_cells:])).toarray()
    return out


def _replicate_thetas(type, att, cohort_w, cpos, member, overall) -> np.ndarray:
    """Each jackknife replicate's by-rows and overall effect (R x (k + 1)), weighted as
    ``aggregate`` weights the full sample: cohort shares recomputed per replicate, cells
    a replicate cannot estimate (its cohort left out) carry no weight."""
    P = np.where(np.isnan(att), 0.0, cohort_w[:, cpos])
    A = np.nan_to_num(att)
    m = member.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        by = ((P * A) @ m) / (P @ m)
    if type == "simple":
        return by
    if type == "group":
        sel = cohort_w[:, overall]
        by_w = np.where(sel == 0, 0.0, by)
        over = (by_w * sel).sum(axis=1) / sel.sum(axis=1)
    else:
        over = by[:, overall].mean(axis=1)
    return np.column_stack([by, over])
