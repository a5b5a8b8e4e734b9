"""One municipality's own effect: synthetic DiD, synthetic control and DiD.

Implements Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021, AER),
"Synthetic Difference-in-Differences", exactly as the R package synthdid 0.0.9
(R/synthdid.R, R/solver.R, R/vcov.R) does, with all three estimators on the
same footing: a block of ``N0`` donors x ``T0`` pre-periods, treated units in
the remaining rows, post-periods in the remaining columns, and the estimate

    tau = (mean_treated - omega' Y_donors) (mean_post - lambda' Y_pre).

* ``sdid``: unit weights omega with an intercept and ridge penalty
  ``zeta_omega = (N_tr T_post)^(1/4) sigma``; time weights lambda with an
  intercept and ``zeta_lambda = 1e-6 sigma``; sigma = sd of the first
  differences of the donors' pre-period outcomes. Frank-Wolfe with
  ``min_decrease = 1e-5 sigma``, 100 iterations, sparsification (weights <=
  max/4 dropped), up to 10,000 more iterations.
* ``sc``: synthetic control: omega without intercept, ``zeta_omega = 1e-6 sigma``,
  no time weights (lambda = 0).
* ``did``: uniform omega and lambda (plain two-by-two DiD on the block).

Inference (``se=``), as in the paper and package:

* ``"placebo"`` (Algorithm 4): donors are re-assigned as pseudo-treated and the
  estimator re-run on donors only; the SE is the spread of those placebo
  estimates. The only option with one treated unit. With one treated unit and
  ``replications=None`` every donor is the placebo once (deterministic);
  otherwise ``replications`` random draws (seeded). Assumes the treated
  unit's noise resembles the donors' (homoskedasticity across units).
* ``"jackknife"`` (Algorithm 3): leave one unit out with the weights fixed;
  needs at least two treated units; conservative, not recommended for ``sc``.
* ``"bootstrap"`` (Algorithm 2): resample units with replacement and re-fit
  the weights; needs many treated units to be reliable.

Staggered adoption (the paper's appendix): one block per adoption period
(cohort) with never-treated donors, combined with weights proportional to the
number of treated unit-periods ``N_a * T_post,a``. Units that adopt later are
never donors. Donor pools can be restricted with ``donors=``: a list of units or
a function ``f(panel, kommuner, treated_units) -> units``; see
:func:`same_region`, :func:`similar_level`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from botrygt_eval import reference
from botrygt_eval.did.synth.weights import WeightProblem, solve_weights
from botrygt_eval.errors import (
    DidDataError,
    DroppedUnitsWarning,
    EstimationError,
    InputFileError,
    check_option,
)
from botrygt_eval.options import (
    DEFAULT_ALPHA,
    DEFAULT_SEED,
    DEFAULT_SYNTH_REPLICATIONS,
    SYNTH_SE,
    SynthMethod,
    SynthSE,
    check,
    check_alpha,
    check_replications,
    choices,
)
from botrygt_eval.plots.synth import plot_synth
from botrygt_eval.results import ResultMixin

Method = SynthMethod
METHODS: tuple[str, ...] = choices(SynthMethod)
METHOD_LABELS = {
    "sc_predictor": "Syntetisk kontrol (prædiktorer)",
    "sdid": "Syntetisk DiD",
    "sc": "Syntetisk kontrol",
    "did": "Difference-in-differences",
}
#: R's default number of bootstrap / random placebo replications.
DEFAULT_REPLICATIONS = DEFAULT_SYNTH_REPLICATIONS


# --------------------------------------------------------------------------- tuning
@dataclass(frozen=True)
class Tuning:
    """The regularisation of one block, fixed once and reused by every replication."""

    noise_level: float
    zeta_omega: float
    zeta_lambda: float
    min_decrease: float


def noise_level(y_donors_pre: np.ndarray) -> float:
    """sd (n-1) of all first differences of the donors' pre-period outcomes."""
    d = np.diff(np.asarray(y_donors_pre, float), axis=1).ravel()
    return float(np.std(d, ddof=1)) if d.size > 1 else 0.0


def tuning(Y: np.ndarray, n0: int, t0: int, method: str) -> Tuning:
    """synthdid's defaults for ``Y`` (donors in rows ``:n0``, pre-periods in columns ``:t0``)."""
    sigma = noise_level(Y[:n0, :t0])
    n1, t1 = Y.shape[0] - n0, Y.shape[1] - t0
    eta_omega = 1e-6 if method == "sc" else (n1 * t1) ** 0.25
    return Tuning(sigma, eta_omega * sigma, 1e-6 * sigma, 1e-5 * sigma)


def _sum_normalize(w: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Row-wise w / sum(w); uniform over the valid entries when a row sums to zero."""
    w = np.where(valid, w, 0.0)
    s = w.sum(axis=1, keepdims=True)
    uniform = valid / np.maximum(valid.sum(axis=1, keepdims=True), 1)
    return np.where(s > 0, w / np.where(s > 0, s, 1.0), uniform)


# --------------------------------------------------------------------------- block fit
def fit_block(
    Y: np.ndarray,
    ctrl_idx: np.ndarray,
    tr_idx: np.ndarray,
    t0: int,
    method: str,
    tune: Tuning,
    *,
    ctrl_valid: np.ndarray | None = None,
    tr_valid: np.ndarray | None = None,
    omega0: np.ndarray | None = None,
    lambda0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit a batch of blocks that share ``Y`` (units x periods) and ``t0``.

    Row ``r`` of ``ctrl_idx`` / ``tr_idx`` lists the rows of ``Y`` used as donors /
    treated in problem ``r`` (repeats allowed: bootstrap); ``*_valid`` mark padding.
    Returns ``(tau (B,), omega (B, m), lambda (B, t0))``.
    """
    ctrl_idx = np.atleast_2d(ctrl_idx)
    tr_idx = np.atleast_2d(tr_idx)
    nb, m = ctrl_idx.shape
    cv = np.ones(ctrl_idx.shape, bool) if ctrl_valid is None else np.asarray(ctrl_valid, bool)
    tv = np.ones(tr_idx.shape, bool) if tr_valid is None else np.asarray(tr_valid, bool)
    yc = np.where(cv[:, :, None], Y[ctrl_idx], 0.0)  # (B, m, T)
    tw = tv / tv.sum(axis=1, keepdims=True)
    ytr = np.einsum("rq,rqt->rt", tw, Y[tr_idx])  # treated mean path (B, T)
    yc_pre, yc_post = yc[:, :, :t0], yc[:, :, t0:].mean(axis=2)
    ytr_pre, ytr_post = ytr[:, :t0], ytr[:, t0:].mean(axis=1)

    problems, lam, omega = [], None, None
    if method == "did":
        lam = np.full((nb, t0), 1.0 / t0)
        omega = _sum_normalize(np.ones((nb, m)), cv)
    elif method == "sc":
        lam = np.zeros((nb, t0))
    else:
        lam0 = np.full((nb, t0), 1.0 / t0) if lambda0 is None else np.asarray(lambda0, float)
        problems.append(WeightProblem(
            np.concatenate([yc_pre, yc_post[:, :, None]], axis=2), lam0,
            zeta=tune.zeta_lambda, intercept=True, min_decrease=tune.min_decrease, row_valid=cv,
        ))  # fmt: skip
    if method != "did":
        om0 = _sum_normalize(np.ones((nb, m)) if omega0 is None else omega0, cv)
        problems.append(WeightProblem(
            np.concatenate([yc_pre.transpose(0, 2, 1), ytr_pre[:, :, None]], axis=2), om0,
            zeta=tune.zeta_omega, intercept=(method == "sdid"), min_decrease=tune.min_decrease,
            col_valid=cv,
        ))  # fmt: skip
        solved = solve_weights(problems)
        omega = solved[-1]
        if method == "sdid":
            lam = solved[0]
    tau = (ytr_post - np.einsum("rt,rt->r", ytr_pre, lam)) - (
        np.einsum("rm,rm->r", omega, yc_post) - np.einsum("rm,rmt,rt->r", omega, yc_pre, lam)
    )
    return tau, omega, lam


# --------------------------------------------------------------------------- matrix API
@dataclass(frozen=True, eq=False)
class MatrixFit:
    """A fit on a matrix ``Y`` with donors in rows ``:n0`` and pre-periods in columns ``:t0``."""

    method: str
    estimate: float
    omega: np.ndarray
    lambda_: np.ndarray
    tuning: Tuning
    n0: int
    t0: int


def estimate_matrix(Y: np.ndarray, n0: int, t0: int, method: Method = "sdid") -> MatrixFit:
    """synthdid's ``synthdid_estimate`` / ``sc_estimate`` / ``did_estimate`` on a matrix."""
    check_option("method", method, METHODS)
    Y = np.asarray(Y, float)
    n, t = Y.shape
    if not (0 < n0 < n and 1 < t0 < t):
        raise EstimationError(
            f"need at least one donor and one treated row (n0={n0} of {n}) and at least two "
            f"pre-periods and one post-period (t0={t0} of {t})"
        )
    tune = tuning(Y, n0, t0, method)
    tau, om, lam = fit_block(Y, np.arange(n0), np.arange(n0, n), t0, method, tune)
    return MatrixFit(method, float(tau[0]), om[0], lam[0], tune, n0, t0)


def synthdid_estimate(Y: np.ndarray, n0: int, t0: int) -> float:
    """Synthetic DiD estimate (R ``synthdid_estimate`` with its defaults)."""
    return estimate_matrix(Y, n0, t0, "sdid").estimate


def sc_estimate(Y: np.ndarray, n0: int, t0: int) -> float:
    """Synthetic control estimate (R ``sc_estimate`` with its defaults)."""
    return estimate_matrix(Y, n0, t0, "sc").estimate


def did_estimate(Y: np.ndarray, n0: int, t0: int) -> float:
    """Plain DiD estimate on the block (R ``did_estimate``)."""
    return estimate_matrix(Y, n0, t0, "did").estimate


# --------------------------------------------------------------------------- donor pools
DonorSpec = Sequence | Callable[[pd.DataFrame, pd.DataFrame, list], Sequence] | None


def same_region(panel: pd.DataFrame, kommuner: pd.DataFrame, treated: list) -> list:
    """Donor filter: municipalities in the same region as (any of) the treated ones."""
    region = kommuner.set_index("kommune_kode")["region_kode"]
    wanted = set(region.reindex(treated).dropna())
    return [int(k) for k, r in region.items() if r in wanted]


def similar_level(column: str, ratio: float = 1.5) -> Callable:
    """Donor filter factory: mean of ``column`` (e.g. households, rate) within a factor ``ratio``.

    The mean is taken over the whole panel for each unit; a donor is kept when
    ``1/ratio <= donor_mean / treated_mean <= ratio`` for some treated unit.
    """

    def _filter(panel: pd.DataFrame, kommuner: pd.DataFrame, treated: list) -> list:
        if column not in panel.columns:
            raise InputFileError(f"similar_level: column {column!r} is not in the panel")
        unit_col = panel.attrs.get("synth_unit", "kommune_kode")
        means = panel.groupby(unit_col)[column].mean()
        ref = means.reindex(treated).to_numpy(float)
        r = means.to_numpy(float)[:, None] / ref[None, :]
        keep = ((r >= 1 / ratio) & (r <= ratio)).any(axis=1)
        return list(means.index[keep])

    return _filter


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class CohortFit:
    """One adoption cohort's block: donors (rows first) and treated units, all periods."""

    cohort: object
    times: np.ndarray
    t0: int
    donors: tuple
    treated: tuple
    Y: np.ndarray
    estimate: float
    omega: np.ndarray
    lambda_: np.ndarray
    tuning: Tuning
    weight: float
    gap_se: np.ndarray | None = None

    @property
    def n_post(self) -> int:
        return len(self.times) - self.t0

    def trajectories(self) -> pd.DataFrame:
        """Treated mean, synthetic unit (aligned by the time weights) and their gap, per period."""
        n0 = len(self.donors)
        treated = self.Y[n0:].mean(axis=0)
        synth = self.omega @ self.Y[:n0]
        offset = float(self.lambda_ @ (treated[: self.t0] - synth[: self.t0]))
        synthetic = synth + offset
        gap = treated - synthetic
        post = np.arange(len(self.times)) >= self.t0
        return pd.DataFrame({
            "cohort": self.cohort, "time": self.times, "post": post.astype(int),
            "treated": treated, "synthetic": synthetic, "gap": gap,
            "gap_se": self.gap_se if self.gap_se is not None else np.nan,
        })  # fmt: skip

    @property
    def pre_rmse(self) -> float:
        """RMSE of the pre-period gap (after the intercept the estimator allows)."""
        g = self.trajectories()["gap"].to_numpy()[: self.t0]
        return float(np.sqrt(np.mean(g**2)))


def _unit_label(u: object) -> str:
    """A unit's name for people: the kommune's name when the unit is a kommune code."""
    try:
        return str(reference.kommune_name(int(u)))
    except Exception:  # not a kommune code: show the unit as given
        return str(u)


@dataclass(frozen=True, eq=False)
class SynthResult(ResultMixin):
    """Synthetic DiD / SC / DiD for one municipality (or cohorts), with inference and diagnostics."""

    method: str
    outcome: str
    estimate: float
    se: float
    alpha: float
    inference: str
    replications: int
    seed: int | None
    cohorts: tuple[CohortFit, ...]
    replicate_estimates: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()
    #: per-cohort SEs from the same replications (NaN where undefined)
    cohort_se: tuple[float, ...] = ()

    # --- tidy outputs
    @property
    def ci(self) -> tuple[float, float]:
        z = stats.norm.ppf(1 - self.alpha / 2)
        return self.estimate - z * self.se, self.estimate + z * self.se

    @property
    def n_treated(self) -> int:
        return sum(len(c.treated) for c in self.cohorts)

    def to_frame(self) -> pd.DataFrame:
        """One row per cohort plus the combined estimate: estimate, se, ci_low, ci_high, n."""
        z = stats.norm.ppf(1 - self.alpha / 2)
        rows = []
        multi = len(self.cohorts) > 1
        for a, c in enumerate(self.cohorts):
            se = self.cohort_se[a] if len(self.cohort_se) else np.nan
            rows.append({"term": f"cohort {c.cohort}", "cohort": c.cohort, "estimate": c.estimate,
                         "se": se, "ci_low": c.estimate - z * se, "ci_high": c.estimate + z * se,
                         "n": len(c.treated), "weight": c.weight, "pre_rmse": c.pre_rmse})  # fmt: skip
        lo, hi = self.ci
        total = {"term": "att", "cohort": None, "estimate": self.estimate, "se": self.se,
                 "ci_low": lo, "ci_high": hi, "n": self.n_treated, "weight": 1.0,
                 "pre_rmse": self.cohorts[0].pre_rmse if not multi else np.nan}  # fmt: skip
        if not multi:
            return pd.DataFrame([total]).assign(method=self.method)
        return pd.DataFrame([*rows, total]).assign(method=self.method)

    @property
    def unit_weights(self) -> pd.Series:
        """Donor weights (cohort weights combined), indexed by unit, largest first."""
        acc: dict = {}
        for c in self.cohorts:
            for u, w in zip(c.donors, c.omega, strict=True):
                acc[u] = acc.get(u, 0.0) + c.weight * float(w)
        s = pd.Series(acc, name="weight", dtype=float)
        s.index.name = "unit"
        return s.sort_values(ascending=False, kind="stable")

    @property
    def time_weights(self) -> pd.Series:
        """Pre-period weights (cohort weights combined), indexed by period."""
        acc: dict = {}
        for c in self.cohorts:
            for t, w in zip(c.times[: c.t0], c.lambda_, strict=True):
                acc[t] = acc.get(t, 0.0) + c.weight * float(w)
        s = pd.Series(acc, name="weight", dtype=float).sort_index()
        s.index.name = "time"
        return s

    def weights_frame(self, min_weight: float = 0.0) -> pd.DataFrame:
        """Donor weights with municipality names (``kommune``), for a report table."""
        w = self.unit_weights
        w = w[w > min_weight]
        return pd.DataFrame({"unit": w.index, "kommune": [_unit_label(u) for u in w.index],
                             "weight": w.to_numpy()})  # fmt: skip

    def trajectories(self) -> pd.DataFrame:
        """Treated vs synthetic per period and cohort (see :meth:`CohortFit.trajectories`)."""
        parts = []
        for k, c in enumerate(self.cohorts):
            t = c.trajectories()
            se = self.cohort_se[k] if len(self.cohort_se) else self.se
            parts.append(t.assign(gap_se=t["gap_se"].fillna(se)))
        return pd.concat(parts, ignore_index=True)

    def _payload(self) -> dict:
        """The JSON of ``botrygt-eval did synth``."""
        lo, hi = self.ci
        return {
            "method": self.method, "estimate": self.estimate, "se": self.se,
            "ci_low": lo, "ci_high": hi, "inference": self.inference,
            "replications": self.replications, "seed": self.seed, "alpha": self.alpha,
            "unit_weights": {str(k): float(v) for k, v in self.unit_weights.items()},
            "time_weights": {str(k): float(v) for k, v in self.time_weights.items()},
            "cohorts": [{"cohort": c.cohort, "estimate": c.estimate, "weight": c.weight,
                         "n_treated": len(c.treated), "n_donors": len(c.donors),
                         "treated": list(c.treated), "pre_rmse": c.pre_rmse}
                        for c in self.cohorts],
            "notes": list(self.notes),
        }  # fmt: skip

    @property
    def method_label(self) -> str:
        """The estimator's name for people (e.g. "Synthetic DiD")."""
        return METHOD_LABELS.get(self.method, self.method)

    def summary(self) -> str:
        lo, hi = self.ci
        c0 = self.cohorts[0]
        lines = [
            f"{METHOD_LABELS[self.method]} ({self.method}) for {self.outcome}",
            f"  treated units: {self.n_treated} in {len(self.cohorts)} cohort(s); "
            f"donors: {len(c0.donors)}; periods: {len(c0.times)}",
            f"  estimate {self.estimate:.6g}  se {self.se:.4g} ({self.inference}, "
            f"{self.replications} replications)  {100 * (1 - self.alpha):.0f}% CI "
            f"[{lo:.6g}, {hi:.6g}]",
        ]
        for k, c in enumerate(self.cohorts):
            se = f", se {self.cohort_se[k]:.4g}" if len(self.cohort_se) else ""
            lines.append(f"  cohort {c.cohort}: estimate {c.estimate:.6g}{se}, weight "
                         f"{c.weight:.3f}, pre-period RMSE {c.pre_rmse:.4g}")  # fmt: skip
        top = self.weights_frame(0.0).head(5)
        if len(top):
            lines.append(
                "  largest donor weights: "
                + ", ".join(
                    f"{k} {w:.3f}" for k, w in zip(top["kommune"], top["weight"], strict=True)
                )
            )
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def _draw(self, **kwargs):
        """Treated vs synthetic trajectories and the gap with its band (Danish labels)."""

        return plot_synth(self, **kwargs)


# --------------------------------------------------------------------------- panel input
@dataclass(frozen=True, eq=False)
class _Design:
    Y: np.ndarray  # donors first, then treated units ordered by cohort
    times: np.ndarray
    units: np.ndarray
    n0: int
    cohort_t0: tuple[int, ...]  # per cohort: index of its first treated period
    cohort_rows: tuple[np.ndarray, ...]  # per cohort: rows of Y
    notes: tuple[str, ...]


def _prepare(
    data: pd.DataFrame,
    unit: str,
    time: str,
    outcome: str,
    treat: str,
    donors: DonorSpec,
    target: object = None,
) -> _Design:
    need = [unit, time, outcome, treat]
    missing = [c for c in dict.fromkeys(need) if c not in data.columns]
    if missing:
        raise InputFileError(
            f"data lacks column(s) {', '.join(missing)}; available: {', '.join(map(str, data.columns))}"
        )
    df = data[need].copy()
    if df[[unit, time]].isna().any().any():
        raise DidDataError(f"{unit}/{time} have missing values; every row needs both")
    if df.duplicated([unit, time]).any():
        n = int(df.duplicated([unit, time], keep=False).sum())
        raise DidDataError(
            f"{n} rows share a {unit} x {time} pair; synthetic DiD needs one row per unit and "
            "period (aggregate or remove the duplicates)"
        )
    tr = pd.to_numeric(df[treat], errors="coerce")
    if not tr.dropna().isin([0, 1]).all():
        raise DidDataError(
            f"--treat column {treat!r} must be 0/1 (1 = treated unit in a treated period)"
        )
    df[treat] = tr
    notes: list[str] = []
    Yw = df.pivot(index=unit, columns=time, values=outcome).sort_index(axis=1)
    Ww = df.pivot(index=unit, columns=time, values=treat).reindex_like(Yw)
    incomplete = Yw.isna().any(axis=1) | Ww.isna().any(axis=1)
    if incomplete.any():
        dropped = list(Yw.index[incomplete])
        msg = (f"{len(dropped)} unit(s) left out for a missing {outcome} or {treat} in some "
               f"period (a balanced panel is needed): {', '.join(map(str, dropped[:10]))}")  # fmt: skip
        warnings.warn(msg, DroppedUnitsWarning, stacklevel=3)
        notes.append(msg)
        Yw, Ww = Yw[~incomplete], Ww[~incomplete]
    if target is not None:
        wanted = list(target) if isinstance(target, list | tuple | set | np.ndarray) else [target]
        ever_any = Ww.to_numpy(int).any(axis=1)
        missing_t = [t for t in wanted if t not in set(Yw.index[ever_any])]
        if missing_t:
            raise DidDataError(
                f"target unit(s) {', '.join(map(str, missing_t))} are not treated in {treat!r} "
                "(or were left out for missing values); pick units with a partnership"
            )
        other = ever_any & ~np.isin(Yw.index.to_numpy(), wanted)
        if other.any():
            notes.append(f"{int(other.sum())} other treated unit(s) left out (target: "
                         f"{', '.join(map(str, wanted))}); they are never donors")  # fmt: skip
            Yw, Ww = Yw[~other], Ww[~other]
    W = Ww.to_numpy(int)
    if (np.diff(W, axis=1) < 0).any():
        bad = list(Ww.index[(np.diff(W, axis=1) < 0).any(axis=1)])
        raise DidDataError(
            f"treatment switches off for {', '.join(map(str, bad[:10]))}; synthetic DiD needs "
            f"{treat!r} to stay 1 once it starts (use after_end='absorbing' in build_panel)"
        )
    ever = W.any(axis=1)
    first = np.where(ever, W.argmax(axis=1), -1)
    always = ever & (first < 2)
    if always.any():
        msg = (f"{int(always.sum())} treated unit(s) left out: treated from the first or second "
               f"period, too few pre-periods: {', '.join(map(str, Ww.index[always][:10]))}")  # fmt: skip
        warnings.warn(msg, DroppedUnitsWarning, stacklevel=3)
        notes.append(msg)
    units = Yw.index.to_numpy()
    donor_mask = ~ever
    if donors is not None:
        treated_units = list(units[ever & ~always])
        if callable(donors):
            frame = data.copy()
            frame.attrs["synth_unit"] = unit
            allowed = set(donors(frame, reference.kommuner(), treated_units))
        else:
            allowed = set(donors)
        donor_mask &= np.isin(units, list(allowed))
        notes.append(f"donor pool restricted to {int(donor_mask.sum())} of {int((~ever).sum())} "
                     "never-treated units")  # fmt: skip
    use = ever & ~always
    if not use.any():
        raise EstimationError(
            f"no treated unit with pre-periods: {treat!r} is never 1 after period 2"
        )
    if donor_mask.sum() < 2:
        raise EstimationError(
            f"only {int(donor_mask.sum())} donor(s) (never-treated units in the pool); "
            "a synthetic comparison needs at least two: widen the donor pool"
        )
    cohorts = np.unique(first[use])
    rows_tr = np.concatenate([np.flatnonzero(use & (first == g)) for g in cohorts])
    order = np.concatenate([np.flatnonzero(donor_mask), rows_tr])
    Y = Yw.to_numpy(float)[order]
    n0 = int(donor_mask.sum())
    sizes = [int((use & (first == g)).sum()) for g in cohorts]
    starts = n0 + np.concatenate([[0], np.cumsum(sizes)[:-1]])
    cohort_rows = tuple(np.arange(s, s + k) for s, k in zip(starts, sizes, strict=True))
    return _Design(Y, Yw.columns.to_numpy(), units[order], n0, tuple(int(g) for g in cohorts),
                   cohort_rows, tuple(notes))  # fmt: skip


# --------------------------------------------------------------------------- inference
def _aggregate(taus: np.ndarray, n_tr: np.ndarray, n_post: np.ndarray) -> np.ndarray:
    """Combine cohort estimates ``taus (B, A)`` with weights N_a T_post,a (zero if N_a = 0)."""
    w = n_tr * n_post[None, :]
    return np.einsum("ra,ra->r", np.nan_to_num(taus), w) / w.sum(axis=1)


def _each_left_out(n: int) -> np.ndarray:
    """Row j: ``[j, 0, ..., j-1, j+1, ..., n-1]`` (unit j first, then the others in order)."""
    others = np.tile(np.arange(n - 1), (n, 1))
    others += others >= np.arange(n)[:, None]
    return np.column_stack([np.arange(n), others])


def _placebo(des: _Design, fits: list[CohortFit], method: str, reps: int | None, rng) -> tuple:
    n0 = des.n0
    sizes = np.array([len(r) for r in des.cohort_rows])
    n_tr = int(sizes.sum())
    if n0 <= n_tr:
        raise EstimationError(
            f"placebo inference needs more donors ({n0}) than treated units ({n_tr}); "
            "use se='jackknife' or widen the donor pool"
        )
    if reps is None and n_tr == 1:
        perm = _each_left_out(n0)
    else:
        reps = DEFAULT_REPLICATIONS if reps is None else reps
        perm = rng.permuted(np.tile(np.arange(n0), (reps, 1)), axis=1)
    nb = perm.shape[0]
    ctrl = perm[:, n_tr:]
    taus = np.empty((nb, len(fits)))
    gap_se = []
    start = 0
    for a, fit in enumerate(fits):
        tr = perm[:, start : start + sizes[a]]
        start += sizes[a]
        tau, om, lam = fit_block(des.Y, ctrl, tr, fit.t0, method, fit.tuning,
                                 omega0=fit.omega[ctrl], lambda0=np.tile(fit.lambda_, (nb, 1)))  # fmt: skip
        taus[:, a] = tau
        # placebo gap paths, for the per-period band of the plot
        ytr = des.Y[tr].mean(axis=1)
        synth = np.einsum("rm,rmt->rt", om, des.Y[ctrl])
        off = np.einsum("rt,rt->r", lam, (ytr - synth)[:, : fit.t0])
        gap_se.append(np.std(ytr - synth - off[:, None], axis=0))
    post = np.array([f.n_post for f in fits])
    est = _aggregate(taus, np.tile(sizes, (nb, 1)), post)
    return est, taus, gap_se


def _jackknife(des: _Design, fits: list[CohortFit]) -> np.ndarray:
    """Fixed-weight leave-one-unit-out estimates (Algorithm 3), in closed form."""
    n0 = des.n0
    n_units = des.Y.shape[0]
    n_a = len(fits)
    taus = np.empty((n_units, n_a))
    n_tr = np.zeros((n_units, n_a))
    for a, (fit, rows) in enumerate(zip(fits, des.cohort_rows, strict=True)):
        post_w = np.r_[-fit.lambda_, np.full(fit.n_post, 1.0 / fit.n_post)]
        u = des.Y @ post_w  # each unit's post mean minus its time-weighted pre mean
        om = fit.omega
        ctrl_term = om @ u[:n0]
        u_tr = u[rows]
        # leave out a donor: renormalise omega (uniform if nothing is left)
        rest = 1.0 - om
        with np.errstate(invalid="ignore", divide="ignore"):
            drop_ctrl = np.where(rest > 1e-15, (ctrl_term - om * u[:n0]) / rest, np.nan)
        taus[:n0, a] = u_tr.mean() - drop_ctrl
        n_tr[:, a] = len(rows)
        # leave out a treated unit of this cohort
        taus[n0:, a] = u_tr.mean() - ctrl_term
        if len(rows) > 1:
            taus[rows, a] = (u_tr.sum() - u_tr) / (len(rows) - 1) - ctrl_term
        else:
            taus[rows, a] = np.nan
        n_tr[rows, a] = len(rows) - 1
    post = np.array([f.n_post for f in fits])
    return _aggregate(taus, n_tr, post), taus


def _bootstrap(des: _Design, fits: list[CohortFit], method: str, reps: int, rng) -> np.ndarray:
    n = des.Y.shape[0]
    n0 = des.n0
    cohort_of = np.full(n, -1)
    for a, rows in enumerate(des.cohort_rows):
        cohort_of[rows] = a
    draws = np.empty((0, n), int)
    while len(draws) < reps:  # Algorithm 2 redraws samples without donors or treated units
        d = np.sort(rng.integers(0, n, size=(reps, n)), axis=1)
        ok = (d < n0).any(axis=1) & (d >= n0).any(axis=1)
        draws = np.vstack([draws, d[ok]])
    draws = draws[:reps]
    is_ctrl = draws < n0
    taus = np.full((reps, len(fits)), np.nan)
    n_tr = np.zeros((reps, len(fits)))
    for a, fit in enumerate(fits):
        in_a = cohort_of[draws] == a
        n_tr[:, a] = in_a.sum(axis=1)
        ok = n_tr[:, a] > 0
        if not ok.any():
            continue
        om0 = np.where(is_ctrl[ok], fit.omega[np.minimum(draws[ok], n0 - 1)], 0.0)
        tau, _, _ = fit_block(des.Y, draws[ok], draws[ok], fit.t0, method, fit.tuning,
                              ctrl_valid=is_ctrl[ok], tr_valid=in_a[ok], omega0=om0,
                              lambda0=np.tile(fit.lambda_, (int(ok.sum()), 1)))  # fmt: skip
        taus[ok, a] = tau
    post = np.array([f.n_post for f in fits])
    return _aggregate(taus, n_tr, post), taus


# --------------------------------------------------------------------------- entry point
def synth_did(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    treat: str,
    method: SynthMethod = "sdid",
    se: SynthSE = SYNTH_SE,
    replications: int | None = None,
    seed: int = DEFAULT_SEED,
    donors: DonorSpec = None,
    target: object = None,
    alpha: float = DEFAULT_ALPHA,
) -> SynthResult:
    """Synthetic DiD (or SC, or DiD) for the treated units of a long panel.

    ``treat`` is 1 for a treated unit in its treated periods (staying 1 once on).
    Units never treated (and allowed by ``donors``) are the donors; units with
    ``treat`` = 1 in the first two periods are left out with a warning.
    ``replications=None`` means every donor once as placebo (one treated unit)
    or 200 draws. ``target`` (a unit or a list) analyses only those treated units,
    e.g. one municipality for its own report; other treated units are dropped.
    ``se`` (placebo, jackknife, bootstrap or none): see the module docstring for when each
    is valid.
    """
    check("method", method, SynthMethod)
    check("se", se, SynthSE)
    check_replications(replications)
    check_alpha(alpha)
    inference = se
    des = _prepare(data, unit, time, outcome, treat, donors, target)
    n0 = des.n0
    fits = []
    n_post = np.array([len(des.times) - t0 for t0 in des.cohort_t0], float)
    sizes = np.array([len(r) for r in des.cohort_rows], float)
    cw = sizes * n_post / (sizes * n_post).sum()
    for a, (t0, rows) in enumerate(zip(des.cohort_t0, des.cohort_rows, strict=True)):
        Yb = np.vstack([des.Y[:n0], des.Y[rows]])
        tune = tuning(Yb, n0, t0, method)
        tau, om, lam = fit_block(des.Y, np.arange(n0), rows, t0, method, tune)
        fits.append(CohortFit(
            cohort=des.times[t0].item() if hasattr(des.times[t0], "item") else des.times[t0],
            times=des.times, t0=t0, donors=tuple(u.item() if hasattr(u, "item") else u
                                                 for u in des.units[:n0]),
            treated=tuple(u.item() if hasattr(u, "item") else u for u in des.units[rows]),
            Y=Yb, estimate=float(tau[0]), omega=om[0], lambda_=lam[0], tuning=tune,
            weight=float(cw[a]),
        ))  # fmt: skip
    estimate = float(cw @ np.array([f.estimate for f in fits]))
    rng = np.random.default_rng(seed)
    reps, taus = np.array([]), np.empty((0, len(fits)))
    notes = list(des.notes)
    if inference == "placebo":
        reps, taus, gap_se = _placebo(des, fits, method, replications, rng)
        fits = [_with_gap_se(f, g) for f, g in zip(fits, gap_se, strict=True)]
    elif inference == "jackknife":
        if sizes.sum() < 2:
            raise EstimationError(
                "the jackknife needs at least two treated units; with one treated "
                "municipality use se='placebo'"
            )
        reps, taus = _jackknife(des, fits)
        if method == "sc":
            notes.append("the jackknife is not recommended for synthetic control (paper, sec. 5)")
    elif inference == "bootstrap":
        if sizes.sum() < 2:
            raise EstimationError(
                "the bootstrap needs several treated units; with one treated municipality "
                "use se='placebo'"
            )
        reps, taus = _bootstrap(des, fits, method, replications or DEFAULT_REPLICATIONS, rng)
    se = _se(reps, inference)
    # a cohort missing from a bootstrap sample has no estimate there: use the others
    cohort_se = tuple(
        _se(col[~np.isnan(col)] if inference == "bootstrap" else col, inference)
        for col in taus.T
    ) if len(fits) > 1 and len(taus) else ()  # fmt: skip
    if inference != "none" and not np.isfinite(se):
        notes.append(
            f"the {inference} SE is undefined here (e.g. a single donor carries all weight)"
        )
    return SynthResult(
        method=method, outcome=outcome, estimate=estimate, se=se, alpha=alpha,
        inference=inference, replications=int(len(reps)),
        seed=seed if inference in ("placebo", "bootstrap") else None,
        cohorts=tuple(fits), replicate_estimates=np.asarray(reps, float), notes=tuple(notes),
        cohort_se=cohort_se,
    )  # fmt: skip


def _se(reps: np.ndarray, inference: str) -> float:
    if inference == "none" or len(reps) == 0:
        return math.nan
    if np.isnan(reps).any():
        return math.nan
    n = len(reps)
    if inference == "jackknife":  # sqrt((n-1)/n * sum (u - mean)^2)
        return float(np.sqrt((n - 1) / n * np.sum((reps - reps.mean()) ** 2)))
    return float(np.std(reps, ddof=0))  # sqrt((R-1)/R) * sd, as synthdid


def _with_gap_se(fit: CohortFit, gap_se: np.ndarray) -> CohortFit:
    from dataclasses import replace

    return replace(fit, gap_se=gap_se)


def leave_one_donor_out(result: SynthResult, min_weight: float = 0.0) -> pd.DataFrame:
    """Re-estimate without each donor whose weight exceeds ``min_weight`` (weights re-fitted).

    The tuning (zeta, stopping rule) of the full fit is kept, so a change in the
    estimate comes from the donor, not the regularisation. Columns: ``unit,
    kommune, weight, estimate, change``.
    """
    w = result.unit_weights
    drop = list(w.index[w > min_weight])
    if not drop:
        return pd.DataFrame(columns=["unit", "kommune", "weight", "estimate", "change"])
    est = np.zeros(len(drop))
    total_w = np.zeros(len(drop))
    for c in result.cohorts:
        n0 = len(c.donors)
        pos = {u: i for i, u in enumerate(c.donors)}
        ctrl = _each_left_out(n0)[[pos[u] for u in drop], 1:]
        tr = np.tile(np.arange(n0, c.Y.shape[0]), (len(drop), 1))
        tau, _, _ = fit_block(c.Y, ctrl, tr, c.t0, result.method, c.tuning)
        est += c.weight * tau
        total_w += c.weight
    est /= total_w
    return pd.DataFrame({
        "unit": drop, "kommune": [_unit_label(u) for u in drop], "weight": w[drop].to_numpy(),
        "estimate": est, "change": est - result.estimate,
    })  # fmt: skip


@dataclass(frozen=True, eq=False)
class SynthBatch(ResultMixin):
    """One synthetic DiD per treated unit (each kommune's own effect), for a batch report."""

    results: dict

    def to_frame(self) -> pd.DataFrame:
        """One row per treated unit: ``unit, kommune, cohort, estimate, se, ci_low, ci_high, n,
        pre_rmse, n_donors, method``."""
        rows = []
        for u, r in self.results.items():
            lo, hi = r.ci
            c = r.cohorts[0]
            rows.append({"unit": u, "kommune": _unit_label(u), "cohort": c.cohort,
                         "estimate": r.estimate, "se": r.se, "ci_low": lo, "ci_high": hi,
                         "n": r.n_treated, "pre_rmse": c.pre_rmse, "n_donors": len(c.donors),
                         "method": r.method})  # fmt: skip
        return pd.DataFrame(rows)

    def summary(self) -> str:
        f = self.to_frame()
        lines = [f"{len(f)} treated unit(s), each against its own synthetic comparison"]
        lines += [f"  {r.kommune} ({r.cohort}): {r.estimate:.4g} [{r.ci_low:.4g}, {r.ci_high:.4g}]"
                  for r in f.itertuples()]  # fmt: skip
        return "\n".join(lines)


def synth_each(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    treat: str,
    targets: Sequence | None = None,
    **kwargs,
) -> SynthBatch:
    """:func:`synth_did` for every treated unit on its own (``target=``), e.g. every
    partnership kommune for the batch report. ``targets`` defaults to all treated units;
    other options (method, inference, donors, seed, ...) are passed on unchanged."""
    if targets is None:
        treated = pd.to_numeric(data[treat], errors="coerce") == 1
        targets = sorted(data.loc[treated, unit].unique())
    results = {}
    for t in targets:
        u = t.item() if hasattr(t, "item") else t
        results[u] = synth_did(data, unit=unit, time=time, outcome=outcome, treat=treat,
                               target=u, **kwargs)  # fmt: skip
    return SynthBatch(results)
