"""Poisson pseudo-maximum likelihood (PPML) DiD for counts, with unit and period effects.

``E[y_it] = exp(log(exposure_it) + a_i + l_t + beta * D_it)``: ``beta`` is the log
rate ratio of the partnership, ``exp(beta) - 1`` the proportional change in the
burglary rate. PPML is consistent whenever the conditional mean is right, whatever
the variance (Santos Silva & Tenreyro 2006), and keeps quarters with zero counts
that a log-rate OLS has to patch with ``log(y + 0.5)``.

Fitted by IRLS with ``log(exposure)`` as offset; each step solves the two-way
fixed-effects weighted least squares exactly (:func:`two_way_wls`, on the two-way projection
of :mod:`botrygt_eval.did._fe`), so no dense dummy matrix is formed.
Units (or periods) whose outcome is zero throughout
have no finite fixed effect and carry no information on ``beta``; they are dropped
and counted, as pyfixest ``fepois`` does.

Standard errors are cluster-robust (by unit unless ``cluster`` is given), CR1:
``V = G/(G-1) (N-1)/(N-k) H^-1 (sum_g s_g s_g') H^-1`` with ``H = X' diag(mu) X``,
``s_g`` the cluster sums of the scores ``x_i (y_i - mu_i)`` and k the number of
non-fixed-effect regressors; this equals pyfixest
``fepois(..., vcov={"CRV1": cluster}, ssc=ssc(k_adj=True, k_fixef="none", G_adj=True))``.

``se="wild"`` (the default of :func:`ppml`) is the Kline-Santos score bootstrap
(:mod:`botrygt_eval.did.wild`): its intervals covered 93.2 % in the coverage study, the
only PPML option inside 93-97 %.
``se="cr2"`` (the default of :func:`ppml_event_study`) applies CR2 with Bell-McCaffrey degrees of freedom
(:mod:`botrygt_eval.did.small_sample`) to the IRLS problem at convergence: working
weights ``mu``, working residuals ``(y - mu) / mu`` (so the unadjusted meat is the score
sum above), unit and period effects in the leverage, and a negative-binomial working
variance ``Var(y) = mu + kappa mu^2`` (``target = 1 + kappa mu`` for the weighted
errors) with ``kappa`` the moment estimate ``max(0, sum((y - mu)^2 - mu) / sum mu^2)``;
``kappa = 0`` is the Poisson working model. PPML weights kommuner by their expected
counts, so a few large partnership kommuner carry the fit; with overdispersed counts
their share of the variance is larger still, which the Poisson working model misses.
In the coverage study (500 simulated Denmarks) CR1 normal intervals covered 88.0 %, CR2
with the Poisson working model 92.0 % (300 draws), CR2 with this working model 97.6 %
(slightly conservative; docs/COVERAGE.md). ``se="jackknife"``: the one-step cluster jackknife
(CR3 on the same IRLS problem, ``(G - 1)/G``, t(G - 1) interval), 91.8 % there.
``se="cr1"`` keeps the pyfixest-matched CR1 with a normal interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from botrygt_eval.did._fe import TwoWayFE, two_way_wls
from botrygt_eval.did.small_sample import CR2Fit, cr2_fit
from botrygt_eval.did.twfe import (
    SE_CONVENTION_CR3,
    CoefficientResult,
    EventStudyResult,
    _event_counts,
    cluster_codes,
    event_table,
    prepare_panel,
    t_ci,
    wald_test,
    with_event_dummies,
)
from botrygt_eval.did.wild import (
    describe,
    draw_weights,
    invert,
    score_components,
    score_test,
)
from botrygt_eval.errors import ConvergenceError, EstimationError, InputFileError
from botrygt_eval.options import (
    DEFAULT_ALPHA,
    DEFAULT_SEED,
    DEFAULT_WILD_REPLICATIONS,
    PPML_EVENT_STUDY_SE,
    PPML_SE,
    RegressionSE,
    WeightsType,
    check,
)

SE_CONVENTION = "CR1: G/(G-1) (N-1)/(N-k), fixed effects not counted"
WILD_SCORE = "score bootstrap (Kline-Santos, null imposed) of the score t statistic"
SE_CONVENTION_CR2_NB = (
    "CR2 (Bell-McCaffrey) with a negative-binomial working variance, t intervals with "
    "Bell-McCaffrey df"
)


def _drop_all_zero(
    df: pd.DataFrame, unit: str, time: str, outcome: str
) -> tuple[pd.DataFrame, int]:
    """Drop units and periods whose outcome sums to zero (repeat until none is left)."""
    if (df[outcome] < 0).any():
        raise InputFileError(f"outcome {outcome!r} has negative values; PPML needs counts (>= 0)")
    n0 = len(df)
    while True:
        zu = df.groupby(unit)[outcome].transform("sum") <= 0
        zt = df.groupby(time)[outcome].transform("sum") <= 0
        bad = zu | zt
        if not bad.any():
            if df.empty:
                raise EstimationError(f"{outcome!r} is zero everywhere; nothing to estimate")
            return df.reset_index(drop=True), n0 - len(df)
        df = df[~bad]


def overdispersion(y: np.ndarray, mu: np.ndarray) -> float:
    """Moment estimate of ``kappa`` in ``Var(y) = mu + kappa mu^2`` (0 if underdispersed)."""
    return max(0.0, float(np.sum((y - mu) ** 2 - mu) / np.sum(mu**2)))


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2 * np.sum(ylogy - (y - mu)))


def _fit(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    regressors: list[str],
    offset: str | None,
    clusters: np.ndarray,
    tol: float,
    maxiter: int = 100,
    se: RegressionSE = "cr1",
) -> tuple[np.ndarray, np.ndarray, CR2Fit | None]:
    """Coefficients, covariance (CR1, or CR2 with its fit) of ``regressors`` in a Poisson
    model with two-way FE.

    IRLS (working weights mu, working response eta - offset + (y - mu)/mu), each step an
    exact two-way-FE weighted least squares (:func:`two_way_wls`); stops when the
    relative change in deviance, |dev - dev_old| / (0.1 + |dev|), is below ``tol``
    (R ``glm``'s criterion). The sandwich uses the regressors residualised on the
    fixed effects in the final weights, which is the regressor block of the inverse
    of the full Hessian.
    """
    y = df[outcome].to_numpy(float)
    if (y < 0).any():
        raise InputFileError(f"outcome {outcome!r} has negative values; PPML needs counts (>= 0)")
    ui, _ = pd.factorize(df[unit], sort=True)
    ti, _ = pd.factorize(df[time], sort=True)
    n, k = len(df), len(regressors)
    x = df[regressors].to_numpy(float)
    off = np.zeros(n)
    if offset is not None:
        expo = df[offset].to_numpy(float)
        if (expo <= 0).any():
            raise InputFileError(f"offset column {offset!r} must be positive (it is logged)")
        off = np.log(expo)
    beta, mu, xr = _irls(y, x, off, ui, ti, tol, maxiter)
    hess = xr.T @ (xr * mu[:, None])
    try:
        bread = np.linalg.inv(hess)
    except np.linalg.LinAlgError as exc:
        raise EstimationError("PPML Hessian is singular: a regressor is absorbed") from exc
    if se == "wild":
        return beta[:, 0], bread, (y, x, off, ui, ti)
    if se != "cr1":  # CR2 / CR3 on the IRLS problem at convergence (module docstring)
        target = None if se == "jackknife" else 1 + overdispersion(y, mu) * mu
        fit = cr2_fit(xr, (y - mu) / mu, clusters, weights=mu, fixed_effects=[ui, ti],
                      target=target, jackknife=se == "jackknife")  # fmt: skip
        return beta[:, 0], fit.vcov, fit
    g = int(clusters.max()) + 1
    sg = np.zeros((g, k))
    np.add.at(sg, clusters, xr * (y - mu)[:, None])
    scale = g / (g - 1) * (n - 1) / (n - k)
    return beta[:, 0], scale * bread @ (sg.T @ sg) @ bread, None


def _irls(y, x, off, ui, ti, tol, maxiter=100, mu=None):
    """Poisson IRLS with two-way fixed effects: ``(beta (k x 1), mu, x residualised on the
    fixed effects with weights mu)``. ``mu``: a starting value (default ``(y + mean) / 2``)."""
    n = len(y)
    mu = (y + y.mean()) / 2 if mu is None else mu
    eta = np.log(mu)
    dev_old = np.inf
    layout = TwoWayFE(ui, ti, mu)  # its codes' part is reused by every step
    try:
        for _ in range(maxiter):
            z = eta - off + (y - mu) / mu
            beta, alpha, gamma = two_way_wls(mu, ui, ti, x, z, like=layout)
            eta = off + x @ beta[:, 0] + alpha[ui, 0] + gamma[ti, 0]
            mu = np.exp(eta)
            dev = _deviance(y, mu)
            if abs(dev - dev_old) / (0.1 + abs(dev)) < tol:
                break
            dev_old = dev
        else:
            raise ConvergenceError(
                f"PPML did not converge in {maxiter} iterations; check for units or regressors "
                "that perfectly predict zero counts"
            )
        # regressors residualised on the fixed effects (weights mu)
        _, a_x, g_x = two_way_wls(mu, ui, ti, np.zeros((n, 0)), x, like=layout)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            "PPML normal equations are singular: a regressor is collinear with the fixed "
            "effects or with another regressor (drop or bin event-time dummies)"
        ) from exc
    return beta, mu, x - a_x[ui] - g_x[ti]


@dataclass(frozen=True)
class ScoreBootstrap:
    """Kline-Santos score bootstrap of one PPML coefficient (null imposed, no re-fitting
    per draw; :mod:`botrygt_eval.did.wild`). ``pvalue(theta0)`` re-fits the model with
    ``theta0 x_j`` in the offset."""

    problem: tuple  # y, x, offset, unit codes, time codes
    clusters: np.ndarray
    draws: object
    j: int
    tol: float

    def pvalue(self, theta0: float = 0.0) -> float:
        y, x, off, ui, ti = self.problem
        _, mu, _ = _irls(y, np.delete(x, self.j, axis=1), off + theta0 * x[:, self.j], ui, ti,
                         self.tol)  # fmt: skip
        _, a_x, g_x = two_way_wls(mu, ui, ti, np.zeros((len(y), 0)), x)
        c = score_components(x - a_x[ui] - g_x[ti], y, mu, self.clusters, self.j)
        return score_test(c, self.draws)

    def ci(self, estimate: float, se: float, alpha: float) -> tuple[float, float]:
        return invert(self.pvalue, estimate, se, alpha, rtol=1e-4)


def _score_band(problem, beta, clusters, draws, cols, alpha, tol) -> float:
    """Sup-t critical value over ``cols`` from the unperturbed-fit score bootstrap."""
    y, x, off, ui, ti = problem
    _, mu, xr = _irls(y, x, off, ui, ti, tol)
    hinv = np.linalg.inv(xr.T @ (xr * mu[:, None]))[cols]  # q x k
    g = int(clusters.max()) + 1
    ind = sparse.csr_matrix((np.ones(len(y)), (clusters, np.arange(len(y)))), shape=(g, len(y)))
    c = np.asarray(ind @ ((xr @ hinv.T) * (y - mu)[:, None])).T  # q x G
    cv = c[:, :, None] * draws.v[None]
    tstar = cv.sum(1) / np.sqrt(np.sum(cv * cv, 1))
    return float(np.quantile(np.max(np.abs(tstar), 0), 1 - alpha))


@dataclass(frozen=True, kw_only=True)
class PoissonResult(CoefficientResult):
    """PPML DiD: log rate ratio with cluster-robust SE, and its rate-ratio form."""

    offset: str | None
    n_dropped_zero: int = 0
    se_convention: str = SE_CONVENTION

    @property
    def rate_ratio(self) -> float:
        return float(np.exp(self.estimate))

    def to_frame(self) -> pd.DataFrame:
        """``term, estimate, se, ci_low, ci_high, n`` plus ``rate_ratio, rr_ci_low, rr_ci_high``."""
        return pd.DataFrame(
            [{**self._row(), "rate_ratio": self.rate_ratio,
              "rr_ci_low": float(np.exp(self.ci_low)), "rr_ci_high": float(np.exp(self.ci_high))}]
        )  # fmt: skip

    def summary(self) -> str:
        off = f" with offset log({self.offset})" if self.offset else ""
        lines = [
            f"PPML DiD: {self.outcome} on {self.treat}, unit and period fixed effects{off}",
            self._estimate_line("log rate ratio"),
            f"  rate ratio {self.rate_ratio:.4f} ({100 * (self.rate_ratio - 1):+.1f} %), "
            f"CI [{np.exp(self.ci_low):.4f}, {np.exp(self.ci_high):.4f}]",
            self._size_line(),
        ]
        if self.n_dropped_zero:
            lines.append(f"  {self.n_dropped_zero} rows of all-zero units/periods dropped")
        if self.n_dropped:
            lines.append(f"  {self.n_dropped} rows with missing values dropped")
        return "\n".join(lines)

    def _payload(self) -> dict:
        lo, hi = np.exp(self.ci_low), np.exp(self.ci_high)
        return {**super()._payload(), "rate_ratio": self.rate_ratio, "rr_ci_low": lo,
                "rr_ci_high": hi, "offset": self.offset}  # fmt: skip


def ppml(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    treat: str,
    outcome: str,
    offset: str | None = None,
    cluster: str | None = None,
    alpha: float = DEFAULT_ALPHA,
    tol: float = 1e-12,
    se: RegressionSE = PPML_SE,
    replications: int = DEFAULT_WILD_REPLICATIONS,
    weights_type: WeightsType = "rademacher",
    seed: int = DEFAULT_SEED,
) -> PoissonResult:
    """PPML DiD of the 0/1 column ``treat`` on the count ``outcome``.

    ``offset`` names the exposure column (households or population); its log
    enters with coefficient 1, so ``beta`` is the effect on the rate. ``se``: ``"wild"``
    (default: Kline-Santos score bootstrap with the null imposed, ``replications`` draws of
    ``weights_type`` weights, ``seed``; p-value and interval by test inversion, SE CR1; the
    only PPML option whose intervals covered 93-97 % in the coverage study), ``"cr2"`` (t
    interval with Bell-McCaffrey df; conservative), ``"jackknife"`` (one-step cluster jackknife,
    t(G - 1)) or ``"cr1"`` (pyfixest's CR1, normal interval); see the module docstring.
    """
    check("se", se, RegressionSE)
    cols = [outcome, treat] + ([offset] if offset else []) + ([cluster] if cluster else [])
    df, n_dropped = prepare_panel(data, unit=unit, time=time, columns=cols)
    df, n_zero = _drop_all_zero(df, unit, time, outcome)
    clusters, cname = cluster_codes(df, cluster, unit)
    b, v, fit = _fit(df, unit=unit, time=time, outcome=outcome, regressors=[treat],
                     offset=offset, clusters=clusters, tol=tol, se="cr1" if se == "wild" else se)  # fmt: skip
    est, s = float(b[0]), float(np.sqrt(v[0, 0]))
    dof = inference = None
    conv = _convention(fit)
    if se == "wild":
        _, _, problem = _fit(df, unit=unit, time=time, outcome=outcome, regressors=[treat],
                             offset=offset, clusters=clusters, tol=tol, se="wild")  # fmt: skip
        draws = draw_weights(int(clusters.max()) + 1, replications, weights_type, seed)
        sb = ScoreBootstrap(problem, clusters, draws, 0, tol)
        (lo, hi), p = sb.ci(est, s, alpha), sb.pvalue(0.0)
        inference = {"method": "score bootstrap (Kline-Santos, null imposed)", **draws.describe()}
        conv = describe(WILD_SCORE, draws, alpha)
    else:
        dof = None if fit is None else float(fit.df(np.ones((1, 1)))[0])
        lo, hi, p = t_ci(est, s, alpha, dof)
    return PoissonResult(
        estimate=est, se=s, ci_low=float(lo), ci_high=float(hi), p_value=float(p),
        n_obs=len(df), n_units=int(df[unit].nunique()), n_periods=int(df[time].nunique()),
        n_clusters=int(clusters.max() + 1), cluster=cname, outcome=outcome, treat=treat,
        offset=offset, alpha=alpha, n_dropped=n_dropped, n_dropped_zero=n_zero, df=dof,
        se_convention=conv, inference=inference,
    )  # fmt: skip


def ppml_event_study(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    offset: str | None = None,
    leads: int | None = None,
    lags: int | None = None,
    reference: int = -1,
    bin_endpoints: bool = True,
    cluster: str | None = None,
    alpha: float = DEFAULT_ALPHA,
    tol: float = 1e-12,
    se: RegressionSE = PPML_EVENT_STUDY_SE,
    replications: int = DEFAULT_WILD_REPLICATIONS,
    weights_type: WeightsType = "rademacher",
    seed: int = DEFAULT_SEED,
) -> EventStudyResult:
    """Event-study PPML: log rate ratios by event time relative to ``reference``.

    Same event-time coding as :func:`botrygt_eval.did.twfe.event_study`; ``se`` as in
    :func:`ppml`. ``se="wild"``: per event time the score bootstrap p-value of ``beta_e = 0``
    (``p_value`` column) and interval by test inversion (one restricted fit per trial value,
    so it takes seconds per event time), and a sup-t band (``band_low``, ``band_high``) over
    the single event times from the same draws of the unrestricted scores.
    """
    check("se", se, RegressionSE)
    cols = [outcome, cohort] + ([offset] if offset else []) + ([cluster] if cluster else [])
    df, n_dropped = prepare_panel(data, unit=unit, time=time, columns=cols)
    df, n_zero = _drop_all_zero(df, unit, time, outcome)
    df, names, times, leads_, lags_ = with_event_dummies(
        df, unit=unit, time=time, cohort=cohort, leads=leads, lags=lags, reference=reference,
        bin_endpoints=bin_endpoints,
    )  # fmt: skip
    clusters, cname = cluster_codes(df, cluster, unit)
    wild = se == "wild"
    est, v, fit = _fit(df, unit=unit, time=time, outcome=outcome, regressors=names,
                       offset=offset, clusters=clusters, tol=tol, se="cr1" if wild else se)  # fmt: skip
    dof = None if fit is None else fit.df(np.eye(len(names)))
    counts, binned = _event_counts(df, time, cohort, leads_, lags_, bin_endpoints)
    table = event_table(est, v, times, reference, counts, binned, alpha, dof)
    settings = _settings(leads_, lags_, bin_endpoints, offset, n_dropped, n_zero, fit)
    if wild:
        _, _, problem = _fit(df, unit=unit, time=time, outcome=outcome, regressors=names,
                             offset=offset, clusters=clusters, tol=tol, se="wild")  # fmt: skip
        draws = draw_weights(int(clusters.max()) + 1, replications, weights_type, seed)
        t = table.set_index("event_time")
        t["p_value"] = np.nan
        for j, e in enumerate(times):
            sb = ScoreBootstrap(problem, clusters, draws, j, tol)
            t.loc[e, ["ci_low", "ci_high"]] = sb.ci(float(est[j]), float(t.loc[e, "se"]), alpha)
            t.loc[e, "p_value"] = sb.pvalue(0.0)
        single = [j for j, e in enumerate(times) if e not in binned]
        crit = _score_band(problem, est, clusters, draws, single, alpha, tol) if single else np.nan
        n, g = len(df), int(clusters.max()) + 1
        se0 = t["se"] / np.sqrt(g / (g - 1) * (n - 1) / (n - len(names)))  # CR0: the draws' scale
        rows = [times[j] for j in single]
        t["band_low"] = t["band_high"] = np.nan
        t.loc[rows, "band_low"] = t.loc[rows, "estimate"] - crit * se0[rows]
        t.loc[rows, "band_high"] = t.loc[rows, "estimate"] + crit * se0[rows]
        table = t.reset_index()
        settings["se_convention"] = describe(WILD_SCORE, draws, alpha)
        settings["inference"] = {"method": "score bootstrap (Kline-Santos, null imposed)",
                                 "band": "sup-t (unrestricted scores)", "band_crit": crit,
                                 **draws.describe()}  # fmt: skip
    pre = [i for i, e in enumerate(times) if e < 0]
    return EventStudyResult(
        table=table, vcov=v, event_times=tuple(times), reference=reference,
        pretrend=wald_test(est[pre], v[np.ix_(pre, pre)]), n_obs=len(df),
        n_units=int(df[unit].nunique()), n_clusters=int(clusters.max() + 1), cluster=cname,
        outcome=outcome, model="PPML", alpha=alpha, settings=settings,
        cr2=fit,
    )  # fmt: skip


def _convention(fit: CR2Fit | None) -> str:
    if fit is None:
        return SE_CONVENTION
    return SE_CONVENTION_CR3 if fit.jackknife else SE_CONVENTION_CR2_NB


def _settings(leads, lags, bin_endpoints, offset, n_dropped, n_zero, fit) -> dict:
    conv = _convention(fit)
    return {"leads": leads, "lags": lags, "bin_endpoints": bin_endpoints, "offset": offset,
            "n_dropped": n_dropped, "n_dropped_zero": n_zero, "se_convention": conv}  # fmt: skip


__all__ = ["PoissonResult", "ppml", "ppml_event_study"]
