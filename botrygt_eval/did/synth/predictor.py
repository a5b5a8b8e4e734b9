"""Predictor-based synthetic control (Abadie & Gardeazabal 2003; Abadie, Diamond & Hainmueller 2010).

Beside the outcome-only synthetic control and synthetic DiD of
:mod:`botrygt_eval.did.synth.fit`, this matches the treated unit on *predictors*
(covariate means over chosen periods, plus pre-period outcome levels) with
Abadie's nested optimisation, as pysyncon's ``Synth`` (v1.6.0) and R's
``Synth::synth`` do:

* predictors: each of ``predictors`` averaged (``predictors_op``) over
  ``time_predictors_prior``; each ``special_predictors`` entry ``(variable,
  periods, op)`` aggregated over its own periods (R ``dataprep``'s
  ``special.predictors``). Missing values are skipped, as pandas and R's
  ``mean(na.rm = TRUE)`` do;
* each predictor row is divided by its standard deviation (ddof 1) across the
  treated unit and the donors;
* inner problem: for a diagonal V (non-negative, summing to 1), the donor
  weights W on the simplex minimising ``(X1 - X0 W)' V (X1 - X0 W)``, solved
  exactly by :func:`botrygt_eval.did.synth.simplex_qp.simplex_qp`;
* outer problem: V = diag(|x|)/sum|x| searched by ``scipy.optimize.minimize``
  (Nelder-Mead by default) from equal weights (``optim_initial="equal"``) or
  the regression-based start (``"ols"``: the squared coefficients of a
  regression of the pre-period outcomes on the scaled predictors, as R Synth
  and pysyncon), minimising the mean squared outcome gap over
  ``time_optimize_ssr``.

The outer problem is not convex and V is often not identified: many V give the
same W and the same loss (Klößner, Kaul, Pfeifer & Schieler 2018, *Swiss J.
Econ. Stat.* 154:2). The weights W, the loss and the gaps are the reproducible
results; the V found depends on the optimiser's path. Inference is the in-space
placebo test: every donor plays the treated unit against the other donors, and
the p-value is the rank of the treated unit's post/pre MSPE ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from botrygt_eval.did.synth.fit import METHOD_LABELS
from botrygt_eval.did.synth.simplex_qp import simplex_qp
from botrygt_eval.errors import ConfigError, EstimationError, InputFileError, check_option
from botrygt_eval.plots.synth import plot_synth
from botrygt_eval.results import ResultMixin

OptimInitial = Literal["equal", "ols"]
OPTIM_INITIALS: tuple[str, ...] = ("equal", "ols")
InnerSolver = Literal["exact", "slsqp"]
INNER_SOLVERS: tuple[str, ...] = ("exact", "slsqp")
OPTIM_METHODS: tuple[str, ...] = (
    "Nelder-Mead", "Powell", "CG", "BFGS", "L-BFGS-B", "TNC", "COBYLA", "trust-constr",
)  # fmt: skip
#: pysyncon's default outer options
DEFAULT_OPTIM_OPTIONS = {"maxiter": 1000}
METHOD_LABEL = "Syntetisk kontrol (prædiktorer)"


# --------------------------------------------------------------------------- predictors
@dataclass(frozen=True)
class PredictorSpec:
    """Which predictors, over which periods (R ``dataprep`` / pysyncon ``Dataprep``)."""

    predictors: tuple[str, ...] = ()
    predictors_op: str = "mean"
    time_predictors_prior: tuple = ()
    special_predictors: tuple[tuple[str, tuple, str], ...] = ()

    @property
    def names(self) -> list[str]:
        """Row labels: the predictor names, then ``special.<i>.<variable>`` (pysyncon's)."""
        return [*self.predictors] + [
            f"special.{i}.{v}" for i, (v, _, _) in enumerate(self.special_predictors, 1)
        ]


def _spec(predictors, predictors_op, time_predictors_prior, special_predictors) -> PredictorSpec:
    specials = []
    for s in special_predictors or ():
        if len(s) != 3:
            raise ConfigError(
                f"special predictor {s!r}: give (variable, periods, op), e.g. "
                "('gdpcap', range(1960, 1970), 'mean')"
            )
        var, periods, op = s
        periods = tuple(np.atleast_1d(list(periods) if not np.isscalar(periods) else [periods]))
        specials.append((str(var), periods, str(op)))
    preds = tuple(predictors or ())
    if preds and not time_predictors_prior:
        raise ConfigError("predictors are averaged over time_predictors_prior: give its periods")
    if not preds and not specials:
        raise ConfigError("no predictors: give predictors= and/or special_predictors=")
    return PredictorSpec(preds, predictors_op, tuple(time_predictors_prior or ()), tuple(specials))


def predictor_matrix(data: pd.DataFrame, unit: str, time: str, spec: PredictorSpec,
                     units: Sequence) -> pd.DataFrame:  # fmt: skip
    """Predictors (rows) by unit (columns), unscaled, in ``spec.names`` order."""
    rows = []
    if spec.predictors:
        sub = data[data[time].isin(spec.time_predictors_prior)]
        agg = sub.groupby(unit)[list(spec.predictors)].agg(spec.predictors_op)
        rows.append(agg.reindex(units).T)
    for i, (var, periods, op) in enumerate(spec.special_predictors, 1):
        sub = data[data[time].isin(periods)]
        # each unit's Series aggregated on its own (pandas' Series reduction), as pysyncon does:
        # groupby's cython mean sums differently and moves the last bit, which is enough to
        # send the outer Nelder-Mead elsewhere in ``inner="slsqp"`` mode
        s = sub.groupby(unit)[var].apply(lambda x, op=op: x.agg(op)).reindex(units)
        rows.append(s.rename(f"special.{i}.{var}").to_frame().T)
    X = pd.concat(rows, axis=0)
    X.index = spec.names
    return X


# --------------------------------------------------------------------------- the fit
@dataclass(frozen=True, eq=False)
class _Fit:
    w: np.ndarray
    v: np.ndarray
    loss_v: float
    loss_w: float
    nfev: int
    message: str


def _inner_exact(A0: np.ndarray, a1: np.ndarray, v: np.ndarray) -> np.ndarray:
    P = (A0 * v[:, None]).T @ A0
    q = A0.T @ (v * a1)
    return simplex_qp(P, q)


def _inner_slsqp(A0: np.ndarray, a1: np.ndarray, v: np.ndarray) -> np.ndarray:
    """pysyncon's inner solver, operation for operation (``VanillaOptimMixin.w_optimize``):
    SLSQP from equal weights, finite-difference gradients, ``maxiter=1000``. It stops at
    SLSQP's ``ftol=1e-6``, so it is slower and less exact than :func:`_inner_exact`; it exists to
    reproduce pysyncon's numbers, whose outer Nelder-Mead path depends on that inexactness."""
    n = A0.shape[1]
    V_mat = np.diag(v)
    P = A0.T @ V_mat @ A0
    q = a1.T @ V_mat @ A0
    res = optimize.minimize(
        lambda x: 0.5 * x.T @ P @ x - q.T @ x, x0=np.full(n, 1 / n), method="SLSQP",
        bounds=optimize.Bounds(lb=np.full(n, 0.0), ub=np.full(n, 1.0)),
        constraints=optimize.LinearConstraint(A=np.full(n, 1.0), lb=1.0, ub=1.0),
        options={"maxiter": 1000},
    )  # fmt: skip
    return res.x


def _loss_v(w: np.ndarray, Z0: np.ndarray, z1: np.ndarray) -> float:
    r = z1 - Z0 @ w
    return float(r.T @ r / len(Z0))


def _fit_one(X0: np.ndarray, x1: np.ndarray, Z0: np.ndarray, z1: np.ndarray, *, method: str,
             initial: str, options: dict, custom_v: np.ndarray | None,
             inner: str = "exact") -> _Fit:  # fmt: skip
    """Nested optimisation for one treated unit; ``X0 (k, J)``, ``Z0 (T, J)`` unscaled X."""
    X = np.column_stack([X0, x1])
    sd = pd.DataFrame(X).std(axis=1).to_numpy()  # pandas' ddof=1 sd, as pysyncon
    solve_w = _inner_slsqp if inner == "slsqp" else _inner_exact
    if np.any(~np.isfinite(sd)) or np.any(sd == 0):
        raise EstimationError(
            "a predictor has the same value for every unit (or is missing): it cannot be "
            "scaled by its standard deviation; drop it from predictors="
        )
    A0, a1 = X0 / sd[:, None], x1 / sd
    k = len(sd)
    if custom_v is not None:
        v = np.abs(np.asarray(custom_v, float))
        v = v / v.sum()
        w = solve_w(A0, a1, v)
        d = a1 - A0 @ w
        return _Fit(w, v, _loss_v(w, Z0, z1), float(d @ (v * d)), 0, "custom V")
    if initial == "equal":
        x0 = np.full(k, 1.0 / k)
    else:
        # regression of each unit's pre-period outcomes on an intercept and the scaled predictors
        Xr = np.column_stack([np.ones(X.shape[1]), np.column_stack([A0, a1]).T])
        Zr = np.column_stack([Z0, z1])
        beta, _, rank, _ = np.linalg.lstsq(Xr, Zr.T, rcond=None)
        if rank < Xr.shape[1]:
            raise EstimationError(
                "optim_initial='ols' needs more units than predictors and no collinear "
                "predictors; use optim_initial='equal'"
            )
        x0 = np.einsum("kt,kt->k", beta[1:], beta[1:])
        x0 = x0 / x0.sum()

    def objective(x: np.ndarray) -> float:
        return _loss_v(solve_w(A0, a1, np.abs(x) / np.sum(np.abs(x))), Z0, z1)

    res = optimize.minimize(objective, x0, method=method, options=dict(options))
    v = np.abs(res.x) / np.sum(np.abs(res.x))
    w = solve_w(A0, a1, v)
    d = a1 - A0 @ w
    return _Fit(w, v, _loss_v(w, Z0, z1), float(d @ (v * d)), int(res.nfev), str(res.message))


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class PredictorSynthResult(ResultMixin):
    """A predictor-based synthetic control fit for one treated unit, with its placebo test."""

    outcome: str
    treated: object
    donors: tuple
    treatment_time: object
    weights: pd.Series  # W by donor
    v: pd.Series  # diagonal of V by predictor
    X: pd.DataFrame  # predictors x units (treated first), unscaled
    Y: pd.DataFrame  # outcome, units x periods (treated first)
    time_optimize_ssr: tuple
    att_periods: tuple
    loss_v: float
    loss_w: float
    optim: dict
    alpha: float = 0.05
    placebo_gaps: pd.DataFrame | None = field(default=None, repr=False)  # periods x donors
    method: str = "sc_predictor"

    # --- paths
    @property
    def synthetic(self) -> pd.Series:
        """The synthetic unit's outcome per period: ``Y_donors' W``."""
        return self.Y.loc[list(self.donors)].T @ self.weights

    def gaps(self) -> pd.Series:
        """Treated minus synthetic outcome per period."""
        return (self.Y.loc[self.treated] - self.synthetic).rename("gap")

    def _pre_gaps(self) -> np.ndarray:
        return self.gaps().loc[list(self.time_optimize_ssr)].to_numpy(float)

    def mspe(self) -> float:
        """Mean squared gap over ``time_optimize_ssr`` (the outer loss)."""
        return float(np.mean(self._pre_gaps() ** 2))

    def mape(self) -> float:
        """Mean absolute gap over ``time_optimize_ssr``, relative to the treated outcome."""
        y = self.Y.loc[self.treated, list(self.time_optimize_ssr)].to_numpy(float)
        return float(np.mean(np.abs(self._pre_gaps() / y)))

    def mae(self) -> float:
        """Mean absolute gap over ``time_optimize_ssr``."""
        return float(np.mean(np.abs(self._pre_gaps())))

    # --- the effect
    @property
    def estimate(self) -> float:
        """ATT: the mean gap over ``att_periods``."""
        return float(self.gaps().loc[list(self.att_periods)].mean())

    @property
    def se(self) -> float:
        """sd(gaps, ddof=1)/sqrt(n) over ``att_periods`` (pysyncon's; ignores autocorrelation)."""
        g = self.gaps().loc[list(self.att_periods)].to_numpy(float)
        return float(np.std(g, ddof=1) / np.sqrt(len(g)))

    def rmspe_ratios(self) -> pd.Series:
        """Post/pre MSPE ratio per unit (treated and placebos), as pysyncon's ``pvalue``.

        Pre = periods up to and including ``treatment_time``, post = from it on
        (pysyncon counts the treatment period in both); each sum of squared gaps
        is divided by its number of periods.
        """
        if self.placebo_gaps is None:
            raise EstimationError("no placebo test was run: call with placebo=True")
        allg = pd.concat([self.placebo_gaps, self.gaps().rename(self.treated)], axis=1)
        times = allg.index.to_numpy()
        pre, post = times <= self.treatment_time, times >= self.treatment_time
        t, t0 = len(times), int(pre.sum())
        denom = (allg[pre] ** 2).sum(axis=0) / t0
        num = (allg[post] ** 2).sum(axis=0) / (t - t0)
        return (num / denom).rename("rmspe_ratio")

    @property
    def p_value(self) -> float:
        """Share of placebo units with a ratio at least the treated unit's, over all units.

        NaN unless every donor was a placebo (``placebo=True``)."""
        if self.placebo_gaps is None or self.placebo_gaps.shape[1] < len(self.donors):
            return float("nan")
        r = self.rmspe_ratios()
        treated = r.loc[self.treated]
        return float((r.drop(index=self.treated) >= treated).sum() / len(r))

    # --- tidy outputs
    def to_frame(self) -> pd.DataFrame:
        """One row: estimate, se, ci_low, ci_high, n (post periods), p_value, pre-period fit."""
        z = stats.norm.ppf(1 - self.alpha / 2)
        est, se = self.estimate, self.se
        return pd.DataFrame([{
            "term": "att", "estimate": est, "se": se, "ci_low": est - z * se,
            "ci_high": est + z * se, "n": len(self.att_periods), "n_donors": len(self.donors),
            "p_value": self.p_value, "mspe": self.mspe(), "method": self.method,
        }])  # fmt: skip

    def predictor_table(self) -> pd.DataFrame:
        """Per predictor: V, treated, synthetic (``X0 W``) and the donors' plain mean."""
        X0 = self.X[list(self.donors)]
        return pd.DataFrame({
            "V": self.v, "treated": self.X[self.treated], "synthetic": X0 @ self.weights,
            "sample mean": X0.mean(axis=1),
        })  # fmt: skip

    def trajectories(self) -> pd.DataFrame:
        """Treated, synthetic, gap and the placebo gaps' sd (gap_se) per period, for plots."""
        times = self.Y.columns.to_numpy()
        gse = (self.placebo_gaps.std(axis=1, ddof=0).reindex(times).to_numpy(float)
               if self.placebo_gaps is not None else np.full(len(times), self.se))  # fmt: skip
        return pd.DataFrame({
            "cohort": self.treatment_time, "time": times,
            "post": (times >= self.treatment_time).astype(int),
            "treated": self.Y.loc[self.treated].to_numpy(float),
            "synthetic": self.synthetic.to_numpy(float), "gap": self.gaps().to_numpy(float),
            "gap_se": gse,
        })  # fmt: skip

    def _payload(self) -> dict:
        lo, hi = self.to_frame().loc[0, ["ci_low", "ci_high"]]
        return {
            "method": self.method, "treated": str(self.treated), "estimate": self.estimate,
            "se": self.se, "ci_low": float(lo), "ci_high": float(hi), "alpha": self.alpha,
            "n_post_periods": len(self.att_periods), "p_value": self.p_value,
            "unit_weights": {str(k): float(v) for k, v in self.weights.items()},
            "predictor_weights": {str(k): float(v) for k, v in self.v.items()},
            "mspe": self.mspe(), "loss_w": self.loss_w, "optim": dict(self.optim),
        }  # fmt: skip

    def summary(self) -> str:
        f = self.to_frame().iloc[0]
        top = self.weights[self.weights > 1e-6].sort_values(ascending=False).head(5)
        lines = [
            f"{METHOD_LABEL} for {self.outcome}: {self.treated}, start {self.treatment_time}",
            f"  donors: {len(self.donors)}; predictors: {len(self.v)}; "
            f"outer optimiser {self.optim.get('method')} from {self.optim.get('initial')!r}, "
            f"{self.optim.get('nfev')} evaluations",
            f"  ATT {f.estimate:.6g}  se {f.se:.4g} (over {f.n} post periods)  "
            f"{100 * (1 - self.alpha):.0f}% CI [{f.ci_low:.6g}, {f.ci_high:.6g}]",
            f"  placebo p-value {f.p_value:.3f} ({self.placebo_gaps.shape[1]} in-space placebos)"
            if self.placebo_gaps is not None else "  no placebo test",
            f"  pre-period MSPE {self.mspe():.4g}, MAE {self.mae():.4g}",
            "  donor weights: " + ", ".join(f"{k} {w:.3f}" for k, w in top.items()),
            "  V is often not unique (many V give the same W): read W and the gaps, not V",
        ]  # fmt: skip
        return "\n".join(lines)

    @property
    def method_label(self) -> str:
        """The estimator's name for people."""
        return METHOD_LABELS[self.method]

    def _draw(self, *, lang: str = "da", **kwargs):
        """Treated vs synthetic and the gap with the placebo band; returns the Figure."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 1, figsize=(6.5, 6), sharex="col", squeeze=False,
                                 layout="constrained")  # fmt: skip
        plot_synth(self, axes=axes, lang=lang, **kwargs)
        return fig


# --------------------------------------------------------------------------- entry point
def synth_predictor(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    treated: object,
    treatment_time: object,
    controls: Sequence | None = None,
    predictors: Sequence[str] = (),
    predictors_op: str = "mean",
    time_predictors_prior: Sequence = (),
    special_predictors: Sequence = (),
    time_optimize_ssr: Sequence = (),
    att_periods: Sequence | None = None,
    optim_method: str = "Nelder-Mead",
    optim_initial: OptimInitial = "equal",
    optim_options: dict | None = None,
    custom_v: Sequence[float] | None = None,
    inner: InnerSolver = "exact",
    placebo: bool | Sequence = True,
    alpha: float = 0.05,
) -> PredictorSynthResult:
    """Predictor-based synthetic control for ``treated`` (see the module docstring).

    ``controls`` defaults to every other unit. ``time_optimize_ssr`` are the
    pre-periods whose outcome MSPE the outer search minimises;
    ``att_periods`` defaults to every period from ``treatment_time`` on.
    ``custom_v`` fixes V (only W is fitted). ``inner="exact"`` solves the inner QP
    exactly (active set); ``"slsqp"`` uses pysyncon's SLSQP call, slower and stopping
    at ``ftol=1e-6``, to reproduce pysyncon's numbers (its Nelder-Mead path, and so the
    local optimum it stops at, depends on that). With ``placebo=True`` every donor is
    refitted as if treated, against the other donors, with the same options (the
    p-value needs them all); a list of donors refits only those (their gaps only).
    """
    check_option("optim_initial", optim_initial, OPTIM_INITIALS)
    check_option("optim_method", optim_method, OPTIM_METHODS)
    check_option("inner", inner, INNER_SOLVERS)
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha={alpha} must be between 0 and 1, e.g. 0.05")
    need = [unit, time, outcome]
    spec = _spec(predictors, predictors_op, time_predictors_prior, special_predictors)
    need += [*spec.predictors, *(v for v, _, _ in spec.special_predictors)]
    missing = [c for c in dict.fromkeys(need) if c not in data.columns]
    if missing:
        raise InputFileError(
            f"data lacks column(s) {', '.join(missing)}; available: {', '.join(map(str, data.columns))}"
        )
    if data.duplicated([unit, time]).any():
        raise EstimationError(f"several rows share a {unit} x {time} pair: give one row each")
    all_units = list(pd.unique(data[unit]))
    if treated not in all_units:
        raise ConfigError(f"treated unit {treated!r} is not in column {unit!r}")
    donors = [u for u in (controls if controls is not None else all_units) if u != treated]
    absent = [u for u in donors if u not in all_units]
    if absent:
        raise ConfigError(f"control unit(s) {', '.join(map(str, absent))} are not in {unit!r}")
    if len(donors) < 2:
        raise EstimationError("a synthetic control needs at least two donors (controls=)")
    Y = data.pivot(index=unit, columns=time, values=outcome).sort_index(axis=1)
    Y = Y.loc[[treated, *donors]]
    ssr = tuple(time_optimize_ssr)
    if not ssr or any(t not in Y.columns for t in ssr):
        raise ConfigError("time_optimize_ssr must list pre-periods present in the data")
    if Y[list(ssr)].isna().any().any():
        raise EstimationError(f"{outcome} is missing in some time_optimize_ssr period; "
                              "choose periods where every unit has it")  # fmt: skip
    times = Y.columns.to_numpy()
    att = tuple(att_periods) if att_periods is not None else tuple(times[times >= treatment_time])
    if not att:
        raise ConfigError(f"no period from treatment_time={treatment_time!r} on in the data")
    X = predictor_matrix(data, unit, time, spec, [treated, *donors])
    if X.isna().any().any():
        bad = X.index[X.isna().any(axis=1)].tolist()
        raise EstimationError(f"predictor(s) {', '.join(bad)} missing for some unit in their "
                              "periods; change the periods or drop them")  # fmt: skip
    options = {**DEFAULT_OPTIM_OPTIONS, **(optim_options or {})}
    cv = None if custom_v is None else np.asarray(custom_v, float)
    if cv is not None and (cv.shape != (len(X),) or (cv < 0).any() or cv.sum() <= 0):
        raise ConfigError(f"custom_v needs {len(X)} non-negative values (one per predictor)")
    kw = dict(method=optim_method, initial=optim_initial, options=options, custom_v=cv,
              inner=inner)  # fmt: skip
    Xa, Za = X.to_numpy(float), Y[list(ssr)].to_numpy(float).T  # (k, units), (T, units)
    fit = _fit_one(Xa[:, 1:], Xa[:, 0], Za[:, 1:], Za[:, 0], **kw)
    gaps_placebo = None
    if placebo is True:
        placebo_units = list(donors)
    elif placebo is False or placebo is None:
        placebo_units = []
    else:
        placebo_units = list(placebo)
        unknown = [u for u in placebo_units if u not in donors]
        if unknown:
            raise ConfigError(f"placebo unit(s) {', '.join(map(str, unknown))} are not donors")
    if placebo_units:
        Yall = Y.to_numpy(float)
        cols = {}
        for j, d in enumerate(donors, 1):
            if d not in placebo_units:
                continue
            others = [i for i in range(1, len(donors) + 1) if i != j]
            pf = _fit_one(Xa[:, others], Xa[:, j], Za[:, others], Za[:, j], **kw)
            cols[d] = Yall[j] - pf.w @ Yall[others]
        gaps_placebo = pd.DataFrame(cols, index=pd.Index(times, name=time))
    return PredictorSynthResult(
        outcome=outcome, treated=treated, donors=tuple(donors), treatment_time=treatment_time,
        weights=pd.Series(fit.w, index=pd.Index(donors, name=unit), name="weight"),
        v=pd.Series(fit.v, index=X.index, name="V"), X=X, Y=Y, time_optimize_ssr=ssr,
        att_periods=att, loss_v=fit.loss_v, loss_w=fit.loss_w,
        optim={"method": optim_method if cv is None else "custom V", "initial": optim_initial,
               "inner": inner, "options": options, "nfev": fit.nfev, "message": fit.message},
        alpha=alpha, placebo_gaps=gaps_placebo,
    )  # fmt: skip
