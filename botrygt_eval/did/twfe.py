"""Two-way fixed effects (TWFE) DiD and event study, by exact two-way demeaning.

``y_it = a_i + l_t + beta * D_it + e_it`` with unit and period effects. Under
staggered adoption with heterogeneous effects, beta is a weighted average of
2x2 comparisons some of which use already-treated units as controls
(Goodman-Bacon 2021, see :mod:`botrygt_eval.did.diagnostics`); report it next to
the Callaway-Sant'Anna estimates, not instead of them.

Standard errors are cluster-robust (by unit unless ``cluster`` names another
column, e.g. ``politikreds``), CR1 on the within-transformed data:
``V = G/(G-1) (N-1)/(N-k) (X'X)^-1 (sum_g X_g'e_g e_g'X_g) (X'X)^-1`` with k the number
of non-absorbed regressors (k = 1 for the DiD coefficient, so the factor is
G/(G-1)); absorbed fixed effects are not counted (linearmodels ``auto_df=False,
count_effects=False, group_debias=True, debiased=True``; pyfixest
``ssc(k_adj=True, k_fixef="none", G_adj=True)``). The effects are removed by the exact
two-way projection of :mod:`botrygt_eval.did._fe` and the covariance is computed here
(:func:`fit_panel_ols`); linearmodels ``PanelOLS`` is the tests' oracle. Confidence intervals and
p-values use the normal distribution; with few clusters (12 police districts)
they are too narrow, so prefer clustering by kommune (98) or read the
randomization-inference p-value of :mod:`botrygt_eval.did.diagnostics`.

``se="cr2"`` gives small-sample inference instead: the CR2 (Bell-McCaffrey) covariance
with the period and unit effects in the leverage and, per coefficient (and per linear
combination), a t interval with Bell-McCaffrey / Satterthwaite degrees of freedom
(:mod:`botrygt_eval.did.small_sample`; clubSandwich ``coef_test(vcov = "CR2",
test = "Satterthwaite")``). The event study uses it by default: with 25 partnership
kommuner a single event time rests on few effective clusters (docs/COVERAGE.md).
``se="jackknife"`` gives the cluster jackknife (CR3: exactly leave-one-cluster-out, CV3)
with a t(G - 1) interval.
``se="wild"`` gives the restricted wild cluster bootstrap (WCR, :mod:`botrygt_eval.did.wild`):
p-value and interval by test inversion of the CR1 t statistic, ``replications`` draws of
``weights_type`` weights (Rademacher enumerated when ``2^G <= replications``) with ``seed``; the
reported SE stays CR1. The event study adds a sup-t band over its single event times from the
same draws (columns ``band_low``, ``band_high``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse, stats

from botrygt_eval.did._fe import TwoWayFE, dense_codes
from botrygt_eval.did.small_sample import CR2Fit, cr2_fit
from botrygt_eval.did.wild import describe, draw_weights, linear_problem
from botrygt_eval.errors import ConfigError, EstimationError, InputFileError
from botrygt_eval.options import (
    DEFAULT_ALPHA,
    DEFAULT_SEED,
    DEFAULT_WILD_REPLICATIONS,
    EVENT_STUDY_SE,
    TWFE_SE,
    RegressionSE,
    Resolver,
    WeightsType,
)
from botrygt_eval.plots.did import plot_event_study
from botrygt_eval.results import ResultMixin

SE_CONVENTION = "CR1: G/(G-1) (N-1)/(N-k), absorbed fixed effects not counted"
SE_CONVENTION_CR2 = "CR2 (Bell-McCaffrey), t intervals with Bell-McCaffrey df"
SE_CONVENTION_CR3 = "CR3 (cluster jackknife), t intervals with G - 1 df"
WILD_LINEAR = "wild cluster bootstrap (WCR) of the CR1 t statistic"
#: a regressor with less than this share of its norm left after the effects is absorbed
_ABSORBED_TOL = 1e-5


# --------------------------------------------------------------------------- data
def prepare_panel(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    columns: list[str],
) -> tuple[pd.DataFrame, int]:
    """Check columns and keys; drop rows with a missing value in ``columns``.

    Returns the frame sorted by unit and time and the number of rows dropped.
    Duplicate unit-time rows are refused: they would silently double-weight a cell.
    """
    need = [unit, time, *columns]
    missing = [c for c in dict.fromkeys(need) if c not in data.columns]
    if missing:
        raise InputFileError(
            f"data lacks column(s) {', '.join(missing)}; available: {', '.join(map(str, data.columns))}"
        )
    df = data[list(dict.fromkeys(need))].copy()
    dup = df.duplicated([unit, time], keep=False)
    if dup.any():
        raise InputFileError(
            f"{int(dup.sum())} rows share a {unit} x {time} pair; a panel needs one row per unit "
            "and period (aggregate or remove the duplicates)"
        )
    if not pd.api.types.is_numeric_dtype(df[time]):
        raise InputFileError(
            f"time column {time!r} must be numeric (consecutive integers); "
            "use the 'period' column of build_panel"
        )
    keep = df[columns].notna().all(axis=1)
    df = df[keep].sort_values([unit, time]).reset_index(drop=True)
    if df.empty:
        raise EstimationError("no rows left after dropping missing values; check the columns")
    return df, int((~keep).sum())


def cluster_codes(df: pd.DataFrame, cluster: str | None, unit: str) -> tuple[np.ndarray, str]:
    """Integer cluster codes (default: the unit) and the name of the clustering variable."""
    name = unit if cluster is None else cluster
    if name not in df.columns:
        raise InputFileError(f"cluster column {name!r} is not in the data")
    codes, _ = pd.factorize(df[name], sort=True)
    if (codes < 0).any():
        raise InputFileError(f"cluster column {name!r} has missing values; fill or drop them")
    return codes.astype("int64"), name


#: The SE description results carry, by ``se`` option (``se="wild"``: set from its draws).
se_convention = Resolver(
    "se",
    RegressionSE,
    {"cr1": SE_CONVENTION, "cr2": SE_CONVENTION_CR2, "jackknife": SE_CONVENTION_CR3, "wild": ""},
)


def t_ci(est, se, alpha: float, dof=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interval and two-sided p-value: t(dof) if ``dof`` is given, else normal."""
    est, se = np.asarray(est, float), np.asarray(se, float)
    dist = stats.norm if dof is None else stats.t(np.asarray(dof, float))
    q = dist.ppf(1 - alpha / 2)
    return est - q * se, est + q * se, 2 * dist.sf(np.abs(est / se))


def cr2_panel(
    fit: PanelFit,
    df: pd.DataFrame,
    *,
    regressors: list[str],
    clusters: np.ndarray,
    weights: str | None = None,
    jackknife: bool = False,
) -> CR2Fit:
    """CR2 pieces of a two-way FE (weighted) least-squares ``fit`` of :func:`fit_panel_ols`
    on ``df`` (unit and period effects in the leverage, through the fit's exact two-way
    projection). ``.vcov`` is the covariance, ``.df(contrasts)`` the Bell-McCaffrey
    degrees of freedom."""
    rows = fit.rows
    w = None if weights is None else df[weights].to_numpy(float)[rows]
    return cr2_fit(df[regressors].to_numpy(float)[rows], fit.resids.to_numpy(),
                   np.asarray(clusters)[rows], weights=w, fixed_effects=fit.fe,
                   jackknife=jackknife)  # fmt: skip


@dataclass(frozen=True)
class PanelFit:
    """A two-way FE (weighted) least-squares fit: what the CR2, CR3 and wild paths reuse.

    ``resids``: ``y - fitted`` with the unit and period effects (outcome scale), indexed
    by (unit, time) in the row order of the data; ``fe`` the exact two-way projection;
    ``rows`` the rows used (those without a missing value)."""

    params: pd.Series
    cov: pd.DataFrame
    resids: pd.Series
    fe: TwoWayFE
    rows: np.ndarray


def _absorbed(xs: np.ndarray, x_raw: np.ndarray, names: list[str]) -> list[str]:
    """Regressors absorbed by the effects or collinear with other regressors after them.

    As linearmodels' ``check_absorbed``: column by column, the share of the column (scaled
    by its norm before the effects were removed) left after projecting out the effects
    and the earlier columns, absorbed if below 1e-5 (the Cholesky factor of the scaled
    Gram matrix holds those shares on its diagonal)."""
    norm = np.linalg.norm(x_raw, axis=0)
    scaled = xs / np.where(norm > 0, norm, 1.0)
    g = scaled.T @ scaled
    try:  # the usual case: all shares well above the tolerance
        if np.all(np.abs(np.diag(np.linalg.cholesky(g))) >= _ABSORBED_TOL):
            return []
    except np.linalg.LinAlgError:
        pass
    bad = []
    for j in range(len(names)):  # Cholesky without pivoting, skipping absorbed columns
        piv = g[j, j]
        if not np.sqrt(max(piv, 0.0)) >= _ABSORBED_TOL:
            bad.append(names[j])
            g[j, :] = g[:, j] = 0.0
            continue
        g[j + 1 :, j + 1 :] -= np.outer(g[j + 1 :, j], g[j, j + 1 :]) / piv
    return bad


def fit_panel_ols(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    regressors: list[str],
    clusters: np.ndarray,
    weights: str | None = None,
) -> tuple[pd.Series, pd.DataFrame, PanelFit]:
    """(Weighted) least squares with unit and time effects and CR1 clustered covariance.

    The effects are removed by the exact two-way projection of :mod:`botrygt_eval.did._fe`
    (no dummies, no iteration); the covariance is the CR1 of the module docstring, computed
    here: ``G/(G-1) (N-1)/(N-k) M (sum_g s_g s_g') M`` with ``M = (X~'W X~)^-1`` and
    ``s_g`` the cluster sums of ``w x~ e``. This is linearmodels ``PanelOLS(...,
    entity_effects=True, time_effects=True, weights=w).fit(cov_type="clustered",
    group_debias=True, debiased=True, auto_df=False, count_effects=False)``, which the
    tests use as the oracle. Rows with a missing outcome, regressor or weight are left
    out, as PanelOLS does.
    """
    cols = [outcome, *regressors] + ([weights] if weights is not None else [])
    vals = df[cols].to_numpy(float)
    rows = np.flatnonzero(np.isfinite(vals).all(axis=1))
    if len(rows) < len(df):
        vals = vals[rows]
    y, x = vals[:, 0], vals[:, 1 : 1 + len(regressors)]
    w = vals[:, -1] if weights is not None else None
    n, k = x.shape
    fe = TwoWayFE(df[unit].to_numpy()[rows], df[time].to_numpy()[rows], w)
    within = fe.residualize(np.column_stack([y, x]))
    sw = np.ones(n) if w is None else np.sqrt(w)
    ys, xs = within[:, 0] * sw, within[:, 1:] * sw[:, None]
    absorbed = _absorbed(xs, x * sw[:, None], list(regressors))
    if absorbed or n - k <= 0:
        what = (
            f"{', '.join(absorbed)} absorbed by the unit and period effects or collinear "
            "with the other regressors" if absorbed else "no residual degrees of freedom"
        )  # fmt: skip
        raise EstimationError(
            f"TWFE cannot be estimated: {what}. A treatment that never varies within units and "
            "periods, or an event study without never-treated units and without binning, is "
            "not identified; bin the endpoints or add never-treated units"
        )
    bread = np.linalg.inv(xs.T @ xs)
    beta = bread @ (xs.T @ ys)
    es = ys - xs @ beta
    codes, g = dense_codes(np.asarray(clusters)[rows])
    if g < 2:
        raise EstimationError(
            "clustered standard errors need at least two clusters; cluster by the unit"
        )
    ind = sparse.csr_matrix((es, (codes, np.arange(n))), shape=(g, n))
    sg = ind @ xs  # cluster sums of the weighted scores
    v = g / (g - 1) * (n - 1) / (n - k) * (bread @ (sg.T @ sg) @ bread)
    v = (v + v.T) / 2
    params = pd.Series(beta, index=list(regressors), name="parameter")
    cov = pd.DataFrame(v, index=list(regressors), columns=list(regressors))
    index = pd.MultiIndex.from_arrays([df[unit].to_numpy()[rows], df[time].to_numpy()[rows]],
                                      names=[unit, time])  # fmt: skip
    resids = pd.Series(within[:, 0] - within[:, 1:] @ beta, index=index, name="resids")
    return params, cov, PanelFit(params=params, cov=cov, resids=resids, fe=fe, rows=rows)


# --------------------------------------------------------------------------- TWFE
@dataclass(frozen=True, kw_only=True)
class CoefficientResult(ResultMixin):
    """One DiD coefficient with its cluster-robust SE, interval, sizes and settings.

    Shared by the TWFE and PPML results; each adds its own settings and SE convention.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_obs: int
    n_units: int
    n_periods: int
    n_clusters: int
    cluster: str
    outcome: str
    treat: str
    alpha: float
    n_dropped: int = 0
    df: float | None = None  # t degrees of freedom of the interval (None: normal)
    inference: dict | None = None  # se="wild": method, draws, weights_type, seed, enumerated

    def _row(self) -> dict:
        return {"term": self.treat, "estimate": self.estimate, "se": self.se,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "n": self.n_obs}  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """One row: ``term, estimate, se, ci_low, ci_high, n``."""
        return pd.DataFrame([self._row()])

    def _estimate_line(self, label: str) -> str:
        lvl = int(round(100 * (1 - self.alpha)))
        dist = "" if self.df is None else f" (t, {self.df:.1f} df)"
        return (
            f"  {label} {self.estimate:.6g}  SE {self.se:.6g}  {lvl}% CI{dist} "
            f"[{self.ci_low:.6g}, {self.ci_high:.6g}]  p = {self.p_value:.4g}"
        )

    def _size_line(self) -> str:
        return (
            f"  {self.n_obs} observations, {self.n_units} units, {self.n_periods} periods; SE "
            f"clustered by {self.cluster} ({self.n_clusters} clusters, {self.se_convention})"
        )

    def _payload(self) -> dict:
        """The JSON contract of ``botrygt-eval did twfe`` (and of PPML)."""
        return {
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n_obs": self.n_obs,
            "n_units": self.n_units,
            "cluster": self.cluster,
            "df": self.df,  # t degrees of freedom under se="cr2"/"jackknife"; None = normal interval
            "p_value": self.p_value,
            "inference": self.inference,  # se="wild": how the bootstrap was run; else None
        }


@dataclass(frozen=True, kw_only=True)
class TWFEResult(CoefficientResult):
    """A TWFE DiD coefficient with its cluster-robust SE and settings."""

    weights: str | None
    se_convention: str = SE_CONVENTION

    def summary(self) -> str:
        lines = [
            f"TWFE DiD: {self.outcome} on {self.treat} with unit and period fixed effects",
            self._estimate_line("estimate"),
            self._size_line(),
        ]
        if self.weights:
            lines.append(f"  weighted by {self.weights}")
        if self.n_dropped:
            lines.append(f"  {self.n_dropped} rows with missing values dropped")
        return "\n".join(lines)


def twfe(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    treat: str,
    outcome: str,
    weights: str | None = None,
    cluster: str | None = None,
    alpha: float = DEFAULT_ALPHA,
    se: RegressionSE = TWFE_SE,
    replications: int = DEFAULT_WILD_REPLICATIONS,
    weights_type: WeightsType = "rademacher",
    seed: int = DEFAULT_SEED,
) -> TWFEResult:
    """TWFE DiD coefficient of the 0/1 column ``treat`` on ``outcome``.

    Rows with a missing outcome, treatment or weight are dropped (and counted);
    unbalanced panels are fine. ``cluster`` defaults to ``unit``. ``se="cr1"``
    (default; R fixest / pyfixest convention, normal interval), ``"cr2"`` (CR2 with a
    Bell-McCaffrey t interval, for few or unevenly informative clusters), ``"jackknife"``
    (cluster jackknife, CR3, with a t(G - 1) interval) or ``"wild"`` (restricted wild cluster
    bootstrap with ``replications`` draws of ``weights_type`` ("rademacher" | "webb") weights
    and ``seed``; p-value and interval by test inversion, SE CR1; :mod:`botrygt_eval.did.wild`).
    """
    conv = se_convention(se)  # refuses an unknown se, listing the allowed ones
    cols = [outcome, treat] + ([weights] if weights else []) + ([cluster] if cluster else [])
    df, n_dropped = prepare_panel(data, unit=unit, time=time, columns=cols)
    if weights is not None and (df[weights] <= 0).any():
        raise InputFileError(f"weights column {weights!r} has zero or negative values")
    clusters, cname = cluster_codes(df, cluster, unit)
    params, cov, res = fit_panel_ols(
        df, unit=unit, time=time, outcome=outcome, regressors=[treat],
        clusters=clusters, weights=weights,
    )  # fmt: skip
    est = float(params[treat])
    dof = inference = None
    if se == "wild":
        prob, draws = _wild_problem(df, unit, time, outcome, [treat], clusters, weights,
                                    replications, weights_type, seed)  # fmt: skip
        test = prob.restricted(0, draws)
        s = float(np.sqrt(cov.loc[treat, treat]))
        (lo, hi), p = test.ci(alpha), test.pvalue(0.0)
        inference = {"method": "WCR", **draws.describe()}
        conv = describe(WILD_LINEAR, draws, alpha)
    elif se != "cr1":
        fit = cr2_panel(res, df, regressors=[treat], clusters=clusters, weights=weights,
                        jackknife=se == "jackknife")  # fmt: skip
        s, dof = float(np.sqrt(fit.vcov[0, 0])), float(fit.df(np.ones((1, 1)))[0])
    else:
        s = float(np.sqrt(cov.loc[treat, treat]))
    if se != "wild":
        lo, hi, p = t_ci(est, s, alpha, dof)
    return TWFEResult(
        estimate=est, se=s, ci_low=float(lo), ci_high=float(hi), p_value=float(p),
        n_obs=len(df), n_units=int(df[unit].nunique()), n_periods=int(df[time].nunique()),
        n_clusters=int(clusters.max() + 1), cluster=cname, outcome=outcome, treat=treat,
        weights=weights, alpha=alpha, n_dropped=n_dropped, df=dof,
        se_convention=conv, inference=inference,
    )  # fmt: skip


def _wild_problem(df, unit, time, outcome, regressors, clusters, weights, replications,
                  weights_type, seed):  # fmt: skip
    """The partialled-out problem and the draw matrix of a ``se="wild"`` fit."""
    ui, _ = pd.factorize(df[unit], sort=True)
    ti, _ = pd.factorize(df[time], sort=True)
    w = None if weights is None else df[weights].to_numpy(float)
    prob = linear_problem(df[regressors].to_numpy(float), df[outcome].to_numpy(float),
                          clusters, ui, ti, w)  # fmt: skip
    return prob, draw_weights(prob.n_clusters, replications, weights_type, seed)


# --------------------------------------------------------------------------- event study
def event_name(e: int) -> str:
    """Column name of the event-time dummy ``e`` (``event_m2``, ``event_p0``)."""
    return f"event_m{-e}" if e < 0 else f"event_p{e}"


def event_time_dummies(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    leads: int | None,
    lags: int | None,
    reference: int,
    bin_endpoints: bool,
) -> tuple[pd.DataFrame, np.ndarray, list[int]]:
    """Event-time dummies for treated units (cohort > 0; 0 = never treated).

    Returns (dummies, keep mask, event times in column order). With
    ``bin_endpoints`` the first lead collects every ``e <= -leads`` and the last lag
    every ``e >= lags``; otherwise treated observations outside
    ``[-leads, lags]`` are dropped (``keep`` is False for them).
    """
    if (df.groupby(unit)[cohort].nunique() > 1).any():
        raise InputFileError(
            f"{cohort!r} changes within a unit; the cohort (first treated period) must be constant"
        )
    g = df[cohort].to_numpy()
    treated = g > 0
    e = np.where(treated, df[time].to_numpy() - g, 0).astype("int64")
    if not treated.any():
        raise EstimationError(f"no treated units ({cohort} > 0): an event study needs some")
    e_min, e_max = int(e[treated].min()), int(e[treated].max())
    leads = -e_min if leads is None else int(leads)
    lags = e_max if lags is None else int(lags)
    if leads < 1 or lags < 0:
        raise ConfigError("leads must be >= 1 and lags >= 0 (e.g. leads=8, lags=12)")
    if not -leads <= reference <= lags:
        raise ConfigError(
            f"reference={reference} is outside the window [-{leads}, {lags}]; pick a period in it "
            "(usually -1, the last period before treatment)"
        )
    keep = np.ones(len(df), dtype=bool)
    if bin_endpoints:
        e_b = np.clip(e, -leads, lags)
    else:
        e_b = e
        keep = ~treated | ((e >= -leads) & (e <= lags))
    times = [k for k in range(-leads, lags + 1) if k != reference]
    seen = set(np.unique(e_b[treated & keep]).tolist())
    empty = [k for k in times if k not in seen]
    if empty:
        raise ConfigError(
            f"no treated observations at event time(s) {empty}; the data cover "
            f"{e_min}..{e_max}: choose leads <= {-e_min} and lags <= {e_max}"
        )
    hit = treated[:, None] & (e_b[:, None] == np.asarray(times)[None, :])
    dummies = pd.DataFrame(
        hit.astype(float), index=df.index, columns=[event_name(k) for k in times]
    )
    return dummies, keep, times


def with_event_dummies(df, *, unit, time, cohort, leads, lags, reference, bin_endpoints):
    """The panel with its event-time dummies (rows outside the window dropped), the dummies'
    names and event times, and the leads and lags the data actually have (TWFE and PPML)."""
    dummies, keep, times = event_time_dummies(
        df, unit=unit, time=time, cohort=cohort, leads=leads, lags=lags, reference=reference,
        bin_endpoints=bin_endpoints,
    )  # fmt: skip
    out = pd.concat([df, dummies], axis=1)[keep].reset_index(drop=True)
    leads_, lags_ = -min(times[0], reference), max(times[-1], reference)
    return out, list(dummies.columns), times, leads_, lags_


def wald_test(b: np.ndarray, v: np.ndarray) -> dict[str, float]:
    """Joint chi-squared test that all of ``b`` are zero given covariance ``v``."""
    q = len(b)
    if q == 0:
        return {"stat": np.nan, "df": 0, "p_value": np.nan}
    w = float(b @ np.linalg.solve(v, b))
    return {"stat": w, "df": q, "p_value": float(stats.chi2.sf(w, q))}


@dataclass(frozen=True)
class EventStudyResult(ResultMixin):
    """Event-study coefficients relative to a reference period, with a pre-trend test.

    ``table``: ``event_time, estimate, se, ci_low, ci_high, n, binned`` for every
    event time including the reference (estimate 0, se NaN). ``vcov`` is the
    covariance of the estimated coefficients in the order of ``event_times``.
    ``pretrend`` is the joint Wald test of all leads (e < 0, reference excluded).
    With CR2 standard errors (``cr2`` set) the table has a ``df`` column and intervals
    are t(df) with Bell-McCaffrey df; the pre-trend test stays a chi-squared Wald test
    on the CR2 covariance.
    """

    table: pd.DataFrame
    vcov: np.ndarray
    event_times: tuple[int, ...]
    reference: int
    pretrend: dict[str, float]
    n_obs: int
    n_units: int
    n_clusters: int
    cluster: str
    outcome: str
    model: str = "TWFE"
    alpha: float = 0.05
    settings: dict = field(default_factory=dict)
    cr2: CR2Fit | None = field(default=None, repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: ``event_time, estimate, se, ci_low, ci_high, n, binned`` (+ ``df``)."""
        return self.table.copy()

    def coef(self, event_times: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients and covariance for the given event times (none the reference)."""
        pos = [self.event_times.index(e) for e in event_times]
        est = self.table.set_index("event_time").loc[event_times, "estimate"].to_numpy()
        return est, self.vcov[np.ix_(pos, pos)]

    def combination(self, event_times: list[int], weights=None) -> dict[str, float]:
        """``sum_e w_e beta_e`` over ``event_times`` (default weights: the mean) with SE
        and interval; with CR2 also its Bell-McCaffrey ``df`` (t interval)."""
        b, v = self.coef(event_times)
        a = np.full(len(b), 1 / len(b)) if weights is None else np.asarray(weights, float)
        est, se = float(a @ b), float(np.sqrt(a @ v @ a))
        dof = None
        if self.cr2 is not None:
            c = np.zeros(len(self.event_times))
            c[[self.event_times.index(e) for e in event_times]] = a
            dof = float(self.cr2.df(c[None, :])[0])
        lo, hi, _ = t_ci(est, se, self.alpha, dof)
        out = {"estimate": est, "se": se, "ci_low": float(lo), "ci_high": float(hi)}
        return out if dof is None else {**out, "df": dof}

    def average_post(self) -> dict[str, float]:
        """Equal-weight average of the single-period post coefficients (e >= 0, a binned
        last lag left out) with its SE (and df under CR2)."""
        binned = set(self.table.loc[self.table["binned"], "event_time"].tolist())
        post = [e for e in self.event_times if e >= 0 and e not in binned]
        if not post:
            return {"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
        return self.combination(post)

    def _payload(self) -> dict:
        return {"coefficients": self.table, "reference": self.reference, "pretrend": self.pretrend,
                "average_post": self.average_post(),
                "inference": self.settings.get("inference")}  # fmt: skip

    def summary(self) -> str:
        lines = [
            f"Event study ({self.model}) of {self.outcome}; reference period e = {self.reference}",
            f"  {self.n_obs} observations, {self.n_units} units; SE clustered by {self.cluster} "
            f"({self.n_clusters} clusters)",
            self.table.to_string(index=False, float_format=lambda x: f"{x:.5g}"),
            f"  pre-trend Wald test: chi2({self.pretrend['df']}) = {self.pretrend['stat']:.4g}, "
            f"p = {self.pretrend['p_value']:.4g}",
        ]
        ap = self.average_post()
        lines.append(f"  average post effect {ap['estimate']:.5g} (SE {ap['se']:.5g})")
        inf = self.settings.get("inference")
        if inf:
            lines.append(
                f"  intervals: {self.settings['se_convention']}; band_low/band_high: "
                f"simultaneous {100 * (1 - self.alpha):g}% sup-t band (critical value "
                f"{inf['band_crit']:.3f})"
            )
        return "\n".join(lines)

    def _draw(self, ax=None, **kwargs):
        """Event-study chart with pointwise confidence intervals."""

        return plot_event_study(self, ax=ax, **kwargs)


def event_table(
    est: np.ndarray,
    cov: np.ndarray,
    times: list[int],
    reference: int,
    counts: dict[int, int],
    binned: set[int],
    alpha: float,
    dof: np.ndarray | None = None,
) -> pd.DataFrame:
    """Tidy event-study table, reference row included (estimate 0, se NaN); with ``dof``
    (CR2) t intervals and a ``df`` column."""
    se = np.sqrt(np.diag(cov))
    lo, hi, _ = t_ci(est, se, alpha, dof)
    t = pd.DataFrame({"event_time": times, "estimate": est, "se": se, "ci_low": lo, "ci_high": hi})
    ref = pd.DataFrame([{"event_time": reference, "estimate": 0.0, "se": np.nan,
                         "ci_low": np.nan, "ci_high": np.nan}])  # fmt: skip
    t = pd.concat([t, ref], ignore_index=True).sort_values("event_time").reset_index(drop=True)
    t["n"] = t["event_time"].map(counts).fillna(0).astype("int64")
    t["binned"] = t["event_time"].isin(binned)
    if dof is not None:
        t["df"] = t["event_time"].map(dict(zip(times, np.asarray(dof, float), strict=True)))
    return t


def wild_event_table(table, prob, draws, times, binned, alpha) -> tuple[pd.DataFrame, float]:
    """Replace the intervals of an event-study table by WCR test inversion, add the
    bootstrap p-value of ``beta_e = 0`` and the sup-t band over the single event times."""
    t = table.set_index("event_time")
    t["p_value"] = np.nan
    for j, e in enumerate(times):
        test = prob.restricted(j, draws)
        t.loc[e, ["ci_low", "ci_high"]] = test.ci(alpha)
        t.loc[e, "p_value"] = test.pvalue(0.0)
    single = [j for j, e in enumerate(times) if e not in binned]
    crit = prob.sup_t(single, draws, alpha) if single else np.nan
    t["band_low"] = t["band_high"] = np.nan
    rows = [times[j] for j in single]
    t.loc[rows, "band_low"] = t.loc[rows, "estimate"] - crit * t.loc[rows, "se"]
    t.loc[rows, "band_high"] = t.loc[rows, "estimate"] + crit * t.loc[rows, "se"]
    return t.reset_index(), float(crit)


def _event_counts(df, time, cohort, leads, lags, bin_endpoints) -> tuple[dict, set]:
    g = df[cohort].to_numpy()
    e = (df[time].to_numpy() - g)[g > 0]
    binned = set()
    if bin_endpoints:
        if (e < -leads).any():
            binned.add(-leads)
        if (e > lags).any():
            binned.add(lags)
        e = np.clip(e, -leads, lags)
    vals, cnt = np.unique(e, return_counts=True)
    return dict(zip(vals.tolist(), cnt.tolist(), strict=True)), binned


def event_study(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    leads: int | None = None,
    lags: int | None = None,
    reference: int = -1,
    bin_endpoints: bool = True,
    weights: str | None = None,
    cluster: str | None = None,
    alpha: float = DEFAULT_ALPHA,
    se: RegressionSE = EVENT_STUDY_SE,
    replications: int = DEFAULT_WILD_REPLICATIONS,
    weights_type: WeightsType = "rademacher",
    seed: int = DEFAULT_SEED,
) -> EventStudyResult:
    """Dynamic TWFE: event-time dummies e = time - cohort for treated units.

    ``cohort`` is the first treated period (0 = never treated, on the scale of
    ``time``). ``leads``/``lags`` default to the full range seen in the data;
    with ``bin_endpoints`` the outer dummies collect everything beyond them.
    Without never-treated units, a fully dynamic specification is not identified
    (bin the endpoints or drop a second lead). Under heterogeneous effects the
    lead/lag coefficients are contaminated by other periods' effects (Sun & Abraham
    2021); compare with the Callaway-Sant'Anna dynamic aggregation. ``se``: as in
    :func:`twfe`, but CR2 by default: a single event time rests on few treated units,
    and in the coverage study CR1 normal intervals for them were too short
    (docs/COVERAGE.md). ``se="wild"``: per event time the restricted wild cluster bootstrap
    (p-value of ``beta_e = 0`` in a ``p_value`` column, interval by test inversion) and a
    sup-t band over the single (not binned) event times from the same draws
    (``band_low``, ``band_high``); ``replications``, ``weights_type``, ``seed`` as in :func:`twfe`.
    """
    conv = se_convention(se)  # refuses an unknown se, listing the allowed ones
    cols = [outcome, cohort] + ([weights] if weights else []) + ([cluster] if cluster else [])
    df, n_dropped = prepare_panel(data, unit=unit, time=time, columns=cols)
    df, names, times, leads_, lags_ = with_event_dummies(
        df, unit=unit, time=time, cohort=cohort, leads=leads, lags=lags, reference=reference,
        bin_endpoints=bin_endpoints,
    )  # fmt: skip
    clusters, cname = cluster_codes(df, cluster, unit)
    params, cov, res = fit_panel_ols(
        df, unit=unit, time=time, outcome=outcome, regressors=names,
        clusters=clusters, weights=weights,
    )  # fmt: skip
    est = params[names].to_numpy()
    fit = dof = None
    if se not in ("cr1", "wild"):
        fit = cr2_panel(res, df, regressors=names, clusters=clusters, weights=weights,
                        jackknife=se == "jackknife")  # fmt: skip
        v, dof = fit.vcov, fit.df(np.eye(len(names)))
    else:
        v = cov.loc[names, names].to_numpy()
    counts, binned = _event_counts(df, time, cohort, leads_, lags_, bin_endpoints)
    table = event_table(est, v, times, reference, counts, binned, alpha, dof)
    extra = {}
    if se == "wild":
        prob, draws = _wild_problem(df, unit, time, outcome, names, clusters, weights,
                                    replications, weights_type, seed)  # fmt: skip
        table, crit = wild_event_table(table, prob, draws, times, binned, alpha)
        conv = describe(WILD_LINEAR, draws, alpha)
        extra = {"inference": {"method": "WCR", "band": "sup-t (WCU draws)",
                               "band_crit": crit, **draws.describe()}}  # fmt: skip
    pre = [i for i, e in enumerate(times) if e < 0]
    pretrend = wald_test(est[pre], v[np.ix_(pre, pre)])
    return EventStudyResult(
        table=table, vcov=v, event_times=tuple(times), reference=reference, pretrend=pretrend,
        n_obs=len(df), n_units=int(df[unit].nunique()), n_clusters=int(clusters.max() + 1),
        cluster=cname, outcome=outcome, alpha=alpha,
        settings={"leads": leads_, "lags": lags_, "bin_endpoints": bin_endpoints,
                  "weights": weights, "n_dropped": n_dropped,
                  "se_convention": conv, **extra},
        cr2=fit,
    )  # fmt: skip
