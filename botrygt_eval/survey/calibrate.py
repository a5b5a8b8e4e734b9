"""Calibration of survey weights to population margins.

Four routes, as in R's ``survey``:

* :func:`poststratify` — one categorical variable, closed form (``postStratify``).
* :func:`rake` — iterative proportional fitting on several categorical margins
  (``rake``). It works on the weighted *cell* table: rows are collapsed to the unique
  combinations of the margin variables with ``np.bincount``, the cell table is raked,
  and the cell factors are mapped back to rows. That is what makes a million rows fast.
* :func:`calibrate` — generalised raking on a model matrix (``calibrate``): ``linear``
  (GREG, chi-square distance, closed form), bounded ``logit`` and exponential
  ``raking`` (Newton on the Lagrange multipliers, as R's ``grake``).

The array functions (``rake_cells``, ``rake_weights``, ``calibrate_weights``) do the
numerics; the design functions wrap them and return a new ``SurveyDesign`` with an
``Adjustment`` record so the variance can account for the calibration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from botrygt_eval.errors import (
    ConfigError,
    ConvergenceError,
    DesignError,
    MarginsError,
    check_option,
)
from botrygt_eval.options import WeightMethod, choices
from botrygt_eval.survey.design import Adjustment
from botrygt_eval.survey.margins import (
    Margins,
    dummy_matrix,
    dummy_targets,
    encode,
    parse_margins,
)

CalFun = WeightMethod
CALFUNS: tuple[str, ...] = choices(WeightMethod)
StopRule = Literal["margins", "r_rake"]
STOP_RULES: tuple[str, ...] = ("margins", "r_rake")


# --------------------------------------------------------------------------- raking


@dataclass(frozen=True)
class RakeFit:
    """Result of raking: row weights plus how the iteration went."""

    weights: np.ndarray
    iterations: int
    max_rel_error: float
    converged: bool
    n_cells: int
    #: per margin: the row weights right after that margin's step in the last sweep
    margin_weights: tuple[np.ndarray, ...] = ()


def rake_cells(
    cell_weights: np.ndarray,
    cell_codes: list[np.ndarray],
    targets: list[np.ndarray],
    *,
    tol: float = 1e-10,
    maxit: int = 1000,
    stop: StopRule = "margins",
    epsilon: float = 1.0,
    names: list[str] | None = None,
    raise_on_failure: bool = True,
    return_sweep: bool = False,
) -> tuple:
    """Rake a weighted cell table to the margin totals; return the cell factors g.

    ``cell_codes[j]`` gives each cell's level of margin j, ``targets[j]`` the totals.
    ``stop="margins"`` stops when the largest relative margin error is below ``tol``.
    ``stop="r_rake"`` copies R's ``rake()`` rule: stop when no cell total moved by
    ``epsilon`` or more in the last sweep (``epsilon < 1`` is relative to the starting
    sum of weights); R's defaults are ``maxit=10, epsilon=1``.
    Returns ``(g, sweeps, max_rel_error, converged)``, plus with ``return_sweep`` the
    cell factors after each margin's step in the last sweep (R keeps those weights for
    its raking variance).
    """
    check_option("stop", stop, STOP_RULES)
    g = np.ones_like(cell_weights, dtype=float)
    ks = [len(t) for t in targets]
    ep = epsilon * cell_weights.sum() if epsilon < 1 else epsilon
    safe_targets = [np.where(t > 0, t, 1.0) for t in targets]
    old = cell_weights.copy()

    def errors(cur_w: np.ndarray) -> tuple[float, int]:
        worst, where = 0.0, 0
        for j, (c, t, st) in enumerate(zip(cell_codes, targets, safe_targets, strict=True)):
            cur = np.bincount(c, weights=cur_w, minlength=ks[j])
            e = np.max(np.abs(cur - t) / st)
            if e > worst:
                worst, where = float(e), j
        return worst, where

    it, converged, err, worst_j = 0, False, np.inf, 0
    sweep_g: list[np.ndarray] = []
    while it < maxit:
        it += 1
        sweep_g = []
        for c, t, k in zip(cell_codes, targets, ks, strict=True):
            cur = np.bincount(c, weights=cell_weights * g, minlength=k)
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(cur > 0, t / cur, 0.0)
            g = g * f[c]
            sweep_g.append(g)
        new = cell_weights * g
        if stop == "r_rake":
            if np.max(np.abs(new - old)) < ep:
                converged = True
                break
            old = new
        else:
            err, worst_j = errors(new)
            if err < tol:
                converged = True
                break
    if stop == "r_rake" or not converged:
        err, worst_j = errors(cell_weights * g)
    if not converged and raise_on_failure:
        name = names[worst_j] if names else f"margin {worst_j}"
        raise ConvergenceError(
            f"raking did not converge in {maxit} sweeps: margin {name!r} is still off by "
            f"{err:.3g} (relative); check that the margins are attainable (no level with "
            "a zero total next to respondents, no structural zeros) or raise maxit"
        )
    if return_sweep:
        return g, it, err, converged, sweep_g
    return g, it, err, converged


def cell_index(codes: list[np.ndarray], ks: list[int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Collapse rows to cells: (row -> cell id, per margin the level code of each cell)."""
    size = int(np.prod(ks, dtype=np.float64))
    if size <= 50_000_000:
        combined = np.zeros(len(codes[0]), dtype=np.int64)
        for c, k in zip(codes, ks, strict=True):
            combined *= k
            combined += c
        present = np.zeros(size, dtype=bool)
        present[combined] = True
        cells = np.flatnonzero(present)
        lookup = np.cumsum(present) - 1
        row_cell = lookup[combined]
        cell_codes, rem = [], cells
        for k in reversed(ks):
            cell_codes.append(rem % k)
            rem = rem // k
        return row_cell, cell_codes[::-1]
    stacked = np.column_stack(codes)
    uniq, row_cell = np.unique(stacked, axis=0, return_inverse=True)
    return row_cell.ravel(), [uniq[:, j] for j in range(len(codes))]


def rake_weights(
    data: pd.DataFrame,
    weights: np.ndarray,
    margins: pd.DataFrame | Margins,
    *,
    tol: float = 1e-10,
    maxit: int = 1000,
    stop: StopRule = "margins",
    epsilon: float = 1.0,
    keep_margin_weights: bool = False,
) -> RakeFit:
    """Rake row weights to categorical margins (fast path; no design object needed)."""
    m = margins if isinstance(margins, Margins) else parse_margins(margins)
    w = _check_weights(weights, len(data))
    codes = encode(data, m)
    ks = [len(m.levels[v]) for v in m.variables]
    row_cell, cell_codes = cell_index([codes[v] for v in m.variables], ks)
    cell_w = np.bincount(row_cell, weights=w)
    g, it, err, ok, sweep = rake_cells(
        cell_w,
        cell_codes,
        [m.totals[v] for v in m.variables],
        tol=tol,
        maxit=maxit,
        stop=stop,
        epsilon=epsilon,
        names=list(m.variables),
        return_sweep=True,
    )
    if keep_margin_weights:
        mw = tuple(w * gj[row_cell] for gj in sweep)
    else:
        mw = ()
    return RakeFit(w * g[row_cell], it, err, ok, len(cell_w), mw)


def _check_weights(weights, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ConfigError(f"weights have shape {w.shape}; expected one weight per row ({n})")
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        raise DesignError(
            f"{int(bad.sum()):,} input weights are zero, negative or missing; calibration "
            "needs positive weights (fix the design weights first)"
        )
    return w


# ----------------------------------------------------------------- calibration (grake)


@dataclass(frozen=True)
class CalibrationFit:
    """Result of generalised raking: g-factors and the iteration record."""

    g: np.ndarray
    iterations: int
    max_rel_misfit: float
    converged: bool


def _calfun(calfun: str, bounds: tuple[float, float]):
    """Inverse distance function F(u) and its derivative, as in R's survey ``cal.*``."""
    lo, up = bounds
    if calfun == "linear":
        if np.isfinite(lo) or np.isfinite(up):
            return (
                lambda u: np.clip(1.0 + u, lo, up),
                lambda u: ((u < up - 1) & (u > lo - 1)).astype(float),
            )
        return (lambda u: 1.0 + u, lambda u: np.ones_like(u))
    if calfun == "raking":
        return (np.exp, np.exp)
    a = (up - lo) / ((up - 1.0) * (1.0 - lo))

    def f(u):
        e = np.exp(u * a)
        return (lo * (up - 1.0) + up * (1.0 - lo) * e) / (up - 1.0 + (1.0 - lo) * e)

    def df(u):
        e = np.exp(u * a)
        return (up - lo) ** 2 * e / (up - 1.0 + (1.0 - lo) * e) ** 2

    return f, df


def calibrate_weights(
    X: np.ndarray,
    d: np.ndarray,
    totals: np.ndarray,
    *,
    calfun: CalFun = "linear",
    bounds: tuple[float, float] | None = None,
    tol: float = 1e-10,
    maxit: int = 100,
    names: list[str] | None = None,
) -> CalibrationFit:
    """g-factors so that ``X.T @ (d * g)`` equals ``totals`` (Deville & Särndal 1992).

    ``linear`` without bounds is the closed-form GREG: g = 1 + X (X'DX)^+ (T - X'd).
    Otherwise Newton steps on the Lagrange multipliers, with step halving when g
    leaves its domain, until every |misfit| / (1 + |total|) is below ``tol`` (R's rule).
    ``bounds=(L, U)`` bound g (required for ``logit``, with L < 1 < U).
    """
    check_option("calfun", calfun, CALFUNS)
    X = np.asarray(X, dtype=float)
    d = np.asarray(d, dtype=float)
    totals = np.asarray(totals, dtype=float)
    if X.ndim != 2 or X.shape[0] != d.shape[0] or X.shape[1] != totals.shape[0]:
        raise ConfigError(
            f"X is {X.shape}, d has {d.shape[0]} rows and there are {totals.shape[0]} totals; "
            "X must be n x p with one total per column"
        )
    if bounds is None:
        bounds = (-np.inf, np.inf)
    lo, up = float(bounds[0]), float(bounds[1])
    if not lo < 1.0 < up:
        raise ConfigError(f"bounds=({lo}, {up}) must satisfy L < 1 < U (they bound g = w/d)")
    if calfun == "logit" and not (np.isfinite(lo) and np.isfinite(up)):
        raise ConfigError("logit calibration needs finite bounds, e.g. bounds=(0.5, 2)")
    names = names or [f"column {j}" for j in range(X.shape[1])]
    scale = 1.0 + np.abs(totals)

    if calfun == "linear" and not (np.isfinite(lo) or np.isfinite(up)):
        T = (X * d[:, None]).T @ X
        lam = np.linalg.pinv(T, rcond=256 * np.finfo(float).eps) @ (totals - X.T @ d)
        g = 1.0 + X @ lam
        mis = np.abs(totals - X.T @ (d * g)) / scale
        worst = float(mis.max())
        if worst > max(tol, 1e-7):
            raise MarginsError(
                f"linear calibration cannot reach the total of {names[int(mis.argmax())]!r} "
                f"(relative misfit {worst:.3g}); the calibration variables are collinear or "
                "a level has no respondents"
            )
        return CalibrationFit(g, 1, worst, True)

    F, dF = _calfun(calfun, (lo, up))

    def state(eta_):
        with np.errstate(over="ignore", invalid="ignore"):
            xeta_ = X @ eta_
            g_, deriv_ = F(xeta_), dF(xeta_)
            rel_ = (totals - X.T @ (g_ * d)) / scale
            obj_ = float(rel_ @ rel_)
        ok = np.isfinite(g_).all() and np.isfinite(deriv_).all() and np.isfinite(obj_)
        return g_, deriv_, rel_, (obj_ if ok else np.inf)

    eta = np.zeros(X.shape[1])
    g, deriv, rel, obj = state(eta)
    it = 0
    while True:
        if np.all(np.abs(rel) < tol):
            return CalibrationFit(g, it, float(np.max(np.abs(rel))), True)
        if it >= maxit:
            break
        it += 1
        # Newton step on the Lagrange multipliers (R's grake), halved while it does not
        # reduce the misfit (a full step can overshoot far from the solution)
        T = (X * (d * deriv)[:, None]).T @ X
        deta = np.linalg.pinv(T, rcond=256 * np.finfo(float).eps) @ (rel * scale)
        for _ in range(60):
            g_new, deriv_new, rel_new, obj_new = state(eta + deta)
            if obj_new < obj or not np.isfinite(obj):
                break
            deta = deta / 2
        if not np.isfinite(obj_new):
            break
        eta, g, deriv, rel, obj = eta + deta, g_new, deriv_new, rel_new, obj_new
    misfit = np.abs(rel)
    worst = float(np.nanmax(misfit)) if np.isfinite(misfit).any() else np.inf
    j = int(np.nanargmax(misfit)) if np.isfinite(misfit).any() else 0
    hint = " or widen the bounds" if np.isfinite([lo, up]).any() else ""
    raise ConvergenceError(
        f"{calfun} calibration did not converge in {it} iterations: the total of "
        f"{names[j]!r} is still off by {worst:.3g} (relative to 1 + total); check that "
        f"the totals are attainable{hint}, or raise maxit"
    )


# ------------------------------------------------------------------ post-stratification


def poststratify_weights(
    data: pd.DataFrame, weights: np.ndarray, margins: pd.DataFrame | Margins
) -> np.ndarray:
    """Post-stratified weights: w * N_c / sum_c(w) in each cell of one margin variable."""
    m = margins if isinstance(margins, Margins) else parse_margins(margins)
    if len(m.variables) != 1:
        raise ConfigError(
            f"post-stratification takes one variable, got {list(m.variables)}; cross them into "
            "one cell variable or use rake()"
        )
    v = m.variables[0]
    w = _check_weights(weights, len(data))
    c = encode(data, m)[v]
    cur = np.bincount(c, weights=w, minlength=len(m.levels[v]))
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(cur > 0, m.totals[v] / cur, 0.0)
    return w * f[c]


# ------------------------------------------------------------------ design wrappers


def _margins_for(margins, variables) -> Margins:
    if isinstance(margins, Margins):
        return margins if variables is None else parse_margins(margins.to_frame(), variables)
    return parse_margins(margins, variables)


def poststratify(design, margins: pd.DataFrame | Margins, variable: str | None = None):
    """A post-stratified design (R ``postStratify``); X = the cell dummies."""

    m = _margins_for(margins, None if variable is None else [variable])
    new_w = poststratify_weights(design.data, design.weights, m)
    codes = encode(design.data, m)
    X = dummy_matrix(codes, m, full=True)
    details = {
        "method": "poststratify",
        "margins": m.to_frame(),
        "columns": [f"{m.variables[0]}={lev}" for lev in m.levels[m.variables[0]]],
        "weights_after": new_w,
        # R's postStratify keeps the input weights (oldweights) for the variance.
        "regression_weights": np.asarray(design.weights, dtype=float),
    }
    return design.with_weights(new_w, Adjustment(kind="poststratify", X=X, details=details))


def rake(
    design,
    margins: pd.DataFrame | Margins,
    *,
    variables: list[str] | None = None,
    tol: float = 1e-10,
    maxit: int = 1000,
    stop: StopRule = "margins",
    epsilon: float = 1.0,
):
    """A raked design (R ``rake``); X = intercept + dummies of every margin.

    For the variance, R's ``rake`` residualises influence values by *unweighted*
    backfitting on the margins, scaled by the raked weights: recorded here as
    ``regression_weights`` = 1 and ``weights_after`` = the raked weights.
    ``stop="r_rake", maxit=10, epsilon=1`` reproduces R's default stopping rule.
    """

    m = _margins_for(margins, variables)
    fit = rake_weights(
        design.data,
        design.weights,
        m,
        tol=tol,
        maxit=maxit,
        stop=stop,
        epsilon=epsilon,
        keep_margin_weights=True,
    )
    codes = encode(design.data, m)
    X = dummy_matrix(codes, m, full=False)
    _, columns = dummy_targets(m)
    details = {
        "method": "raking",
        "margins": m.to_frame(),
        "columns": columns,
        "iterations": fit.iterations,
        "max_rel_error": fit.max_rel_error,
        "converged": fit.converged,
        "stop": stop,
        "tol": tol,
        "n_cells": fit.n_cells,
        # R's svyrecvar backfits 10 sweeps over the margins, each with the weights right
        # after that margin's step in the last raking sweep (identical to the projection on
        # X at convergence; needed to match R exactly when R's default rule stops early)
        "backfit": tuple(
            (codes[v], mw) for v, mw in zip(m.variables, fit.margin_weights, strict=True)
        ),
        "weights_after": fit.weights,
        "regression_weights": np.ones(len(fit.weights)),
    }
    return design.with_weights(fit.weights, Adjustment(kind="rake", X=X, details=details))


def calibration_matrix(
    data: pd.DataFrame,
    margins: pd.DataFrame | Margins | None,
    numeric_totals: dict[str, float] | None = None,
    population: float | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Model matrix, totals and column names for ``calibrate``.

    Columns: intercept (the population), the dummies of every categorical margin level
    but the first (R's ``~a + b``), then each numeric variable with its population total.
    """
    numeric_totals = dict(numeric_totals or {})
    if margins is not None:
        m = _margins_for(margins, None)
        codes = encode(data, m)
        X = dummy_matrix(codes, m, full=False)
        totals, names = dummy_targets(m)
        if population is not None and abs(population - m.population) > 1e-8 * population:
            raise MarginsError(
                f"population={population:,.0f} but the margins sum to {m.population:,.0f}; "
                "they must describe the same population"
            )
    else:
        if population is None:
            raise ConfigError("give categorical margins or the population size")
        X = np.ones((len(data), 1))
        totals, names = np.array([float(population)]), ["(Intercept)"]
    for v, t in numeric_totals.items():
        if v not in data.columns:
            raise MarginsError(f"the data have no column {v!r} for its numeric total")
        x = pd.to_numeric(data[v], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(x).all():
            raise MarginsError(
                f"{int((~np.isfinite(x)).sum()):,} rows have no numeric value of {v!r}; impute "
                "or drop them before calibrating"
            )
        X = np.column_stack([X, x])
        totals = np.append(totals, float(t))
        names.append(v)
    return X, totals, names


def calibrate(
    design,
    margins: pd.DataFrame | Margins | None,
    *,
    method: CalFun = "linear",
    bounds: tuple[float, float] | None = None,
    numeric_totals: dict[str, float] | None = None,
    population: float | None = None,
    tol: float = 1e-10,
    maxit: int = 100,
):
    """A calibrated design (R ``calibrate``): linear (GREG), bounded logit or raking.

    ``bounds`` bound g = w_new / w_old. For the variance R residualises on X by a
    regression weighted by the *input* weights, scaled by the calibrated weights:
    recorded as ``regression_weights`` = input weights and ``weights_after``.
    """

    check_option("method", method, CALFUNS)
    X, totals, names = calibration_matrix(design.data, margins, numeric_totals, population)
    d = _check_weights(design.weights, design.n)
    fit = calibrate_weights(
        X, d, totals, calfun=method, bounds=bounds, tol=tol, maxit=maxit, names=names
    )
    new_w = d * fit.g
    if not (new_w > 0).all():
        raise DesignError(
            f"{method} calibration gives {int((new_w <= 0).sum()):,} zero or negative weights; "
            "use method='logit' with bounds (e.g. bounds=(0.3, 3)) to keep weights positive"
        )
    details = {
        "method": method,
        "columns": names,
        "totals": dict(zip(names, totals.tolist(), strict=True)),
        "bounds": bounds,
        "iterations": fit.iterations,
        "max_rel_error": fit.max_rel_misfit,
        "converged": fit.converged,
        "g_range": (float(fit.g.min()), float(fit.g.max())),
        "weights_after": new_w,
        "regression_weights": d,
    }
    kind = "rake" if method == "raking" else method
    return design.with_weights(new_w, Adjustment(kind=kind, X=X, details=details))
