"""``honest_did``: HonestDiD sensitivity analysis for any event study."""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from botrygt_eval.did.aggregate import AggregateResult
from botrygt_eval.did.honest._deltas import rm_ci, sd_ci, sd_upper_bound_mpre
from botrygt_eval.did.honest._flci import optimal_flci
from botrygt_eval.did.honest.result import HonestResult
from botrygt_eval.did.inference import one_blas_thread
from botrygt_eval.did.twfe import EventStudyResult
from botrygt_eval.errors import ConfigError, EstimationError, check_option

Restriction = Literal["relative_magnitudes", "smoothness"]
RM_METHODS = ("C-LF", "Conditional")
BOUNDS = ("deviation from parallel trends", "deviation from linear trend")
SD_METHODS = ("FLCI", "Conditional", "C-F", "C-LF")
HYBRID = {"C-LF": "LF", "Conditional": "ARP", "C-F": "FLCI"}


def event_study_inputs(result, reference: int = -1):
    """``(beta, sigma, num_pre, num_post, event_times)`` from an EventStudyResult or a
    Callaway-Sant'Anna dynamic AggregateResult (reference period -1 left out).

    For the CS aggregate the covariance is ``IF'IF / n^2`` of the event-time influence
    functions (as HonestDiD's ``honest_did.AGGTEobj``), rescaled to the standard errors
    the aggregate reports (clustered, jackknife or bootstrap), so the correlations come
    from the influence functions and the variances from the chosen inference.
    """

    if isinstance(result, EventStudyResult):
        if result.reference != reference:
            raise ConfigError(f"the event study must use reference period {reference}")
        t = result.table
        times = [int(e) for e in t.loc[~t["binned"] & (t["event_time"] != reference),
                                       "event_time"]]  # fmt: skip
        beta, sigma = result.coef(times)
    elif isinstance(result, AggregateResult):
        if result.type != "dynamic":
            raise ConfigError(
                f"honest_did needs a dynamic (event-study) aggregate, not type={result.type!r}; "
                "use aggregate(res, type='dynamic')"
            )
        by = result.by.reset_index(drop=True)
        ref_rows = by[by["egt"] == reference]
        if len(ref_rows) and not (ref_rows["att"].fillna(0.0) == 0.0).all():
            raise ConfigError(
                f"the dynamic aggregate has a non-zero estimate at e = {reference}: it was "
                "estimated with a varying base period; rerun att_gt(..., "
                "base_period='universal') for honest_did (as HonestDiD requires)"
            )
        keep = (by["egt"] != reference).to_numpy()
        times = [int(e) for e in by.loc[keep, "egt"]]
        inf = result.inf[:, : len(by)][:, keep]
        n = inf.shape[0]
        sigma = inf.T @ inf / n**2
        se = by.loc[keep, "se"].to_numpy(float)
        if np.isfinite(se).all():
            s0 = np.sqrt(np.diag(sigma))
            ratio = np.where(s0 > 0, se / np.where(s0 > 0, s0, 1), 1.0)
            sigma = sigma * np.outer(ratio, ratio)
        beta = by.loc[keep, "att"].to_numpy(float)
    else:
        raise ConfigError(
            "honest_did takes beta and sigma, an EventStudyResult or a dynamic AggregateResult"
        )
    pre = [e for e in times if e < reference]
    post = [e for e in times if e > reference]
    if not pre or not post:
        raise EstimationError("need at least one pre-period (e < -1) and one post period (e >= 0)")
    if pre != list(range(min(pre), reference)) or post != list(range(0, max(post) + 1)):
        raise EstimationError(
            f"honest_did needs consecutive event times around {reference}; have {times}"
        )
    order = np.argsort(times)
    beta, sigma = np.asarray(beta)[order], np.asarray(sigma)[np.ix_(order, order)]
    return beta, sigma, len(pre), len(post), sorted(times)


def original_ci(beta, sigma, num_pre, num_post, l_vec=None, alpha=0.05) -> tuple[float, float]:
    """HonestDiD ``constructOriginalCS``: ``l'beta_post -/+ z se`` under parallel trends."""
    l_vec = _l_vec(l_vec, num_post)
    post = slice(num_pre, num_pre + num_post)
    se = float(np.sqrt(l_vec @ np.asarray(sigma)[post, post] @ l_vec))
    est = float(l_vec @ np.asarray(beta)[post])
    z = stats.norm.ppf(1 - alpha / 2)
    return est - z * se, est + z * se


def _l_vec(l_vec, num_post) -> np.ndarray:
    if l_vec is None:
        out = np.zeros(num_post)
        out[0] = 1.0
        return out
    out = np.asarray(l_vec, float).ravel()
    if len(out) != num_post:
        raise ConfigError(f"l_vec has {len(out)} weights but there are {num_post} post periods")
    return out


def honest_did(
    beta,
    sigma=None,
    num_pre: int | None = None,
    num_post: int | None = None,
    *,
    restriction: Restriction = "relative_magnitudes",
    m_grid=None,
    bound: str = "deviation from parallel trends",
    l_vec=None,
    method: str | None = None,
    alpha: float = 0.05,
    monotonicity: Literal["increasing", "decreasing"] | None = None,
    bias_direction: Literal["positive", "negative"] | None = None,
    grid_points: int = 1000,
    grid_lb: float | None = None,
    grid_ub: float | None = None,
    seed: int = 0,
) -> HonestResult:
    """Robust confidence sets for ``theta = l'tau_post`` under restrictions on the bias.

    ``beta`` (pre-period coefficients oldest first, reference -1 left out, then the post
    periods) and ``sigma``, with ``num_pre``/``num_post``; or pass an EventStudyResult or a
    dynamic AggregateResult as ``beta`` alone. ``l_vec`` weights the post periods
    (default: the first). ``m_grid`` holds M (smoothness: bound on the change in slope of
    the bias between consecutive periods) or Mbar (relative magnitudes: post-period
    changes at most Mbar times the largest pre-period change).

    Methods (HonestDiD's): relative magnitudes "C-LF" (conditional-least-favourable
    hybrid, default) or "Conditional"; smoothness "FLCI" (default without sign or shape
    restrictions), "Conditional", "C-F" (conditional-FLCI hybrid, default with them) or
    "C-LF". ``monotonicity`` / ``bias_direction`` add Delta^SDI/SDD, SDPB/SDNB, RMI/RMD,
    RMPB/RMNB. ``bound="deviation from linear trend"`` (relative magnitudes only) bounds
    post-period second differences by Mbar times the largest pre-period one (Delta^SDRM).
    Test-inversion methods test ``grid_points`` values of theta (1000 by
    default, as HonestDiD) and report the smallest and largest accepted one; ``seed``
    seeds the simulated critical values exactly as R's ``set.seed``.
    """

    with one_blas_thread():  # tiny matrices: threads only add overhead (10x in the FLCI)
        return _honest_did(
            beta, sigma, num_pre, num_post, restriction=restriction, m_grid=m_grid, bound=bound,
            l_vec=l_vec, method=method, alpha=alpha, monotonicity=monotonicity,
            bias_direction=bias_direction, grid_points=grid_points, grid_lb=grid_lb,
            grid_ub=grid_ub, seed=seed,
        )  # fmt: skip


def _honest_did(beta, sigma, num_pre, num_post, *, restriction, m_grid, bound, l_vec, method,
                alpha, monotonicity, bias_direction, grid_points, grid_lb, grid_ub, seed):  # fmt: skip
    if sigma is None:
        beta, sigma, num_pre, num_post, _ = event_study_inputs(beta)
    beta = np.asarray(beta, float).ravel()
    sigma = np.asarray(sigma, float)
    if num_pre is None or num_post is None:
        raise ConfigError("give num_pre and num_post with beta and sigma")
    if sigma.shape != (len(beta), len(beta)) or num_pre + num_post != len(beta):
        raise ConfigError(
            f"beta has {len(beta)} entries, sigma is {sigma.shape} and num_pre + num_post = "
            f"{num_pre + num_post}: they must agree"
        )
    if num_pre < 1 or num_post < 1:
        raise ConfigError("need num_pre >= 1 and num_post >= 1")
    if not np.allclose(sigma, sigma.T, rtol=1e-8, atol=0):
        raise ConfigError("sigma must be symmetric")
    if np.linalg.eigvalsh((sigma + sigma.T) / 2).min() < -1e-12 * np.abs(sigma).max():
        raise ConfigError("sigma must be positive semi-definite")
    check_option("restriction", restriction, ("relative_magnitudes", "smoothness"))
    if monotonicity is not None and bias_direction is not None:
        raise ConfigError("give either monotonicity or bias_direction, not both")
    if monotonicity is not None:
        check_option("monotonicity", monotonicity, ("increasing", "decreasing"))
    if bias_direction is not None:
        check_option("bias_direction", bias_direction, ("positive", "negative"))
    if not 0 < alpha < 1:
        raise ConfigError("alpha must be in (0, 1), e.g. 0.05")
    l_vec = _l_vec(l_vec, num_post)
    extra = None
    if monotonicity is not None:
        extra = ("monotone", monotonicity)
    elif bias_direction is not None:
        extra = ("sign", bias_direction)

    check_option("bound", bound, BOUNDS)
    if bound != "deviation from parallel trends" and restriction != "relative_magnitudes":
        raise ConfigError("bound applies to restriction='relative_magnitudes' only")
    if restriction == "relative_magnitudes":
        method = "C-LF" if method is None else method
        check_option("method", method, RM_METHODS)
        linear = bound == "deviation from linear trend"
        if num_pre < (2 if linear else 1):
            raise ConfigError(
                "bound='deviation from linear trend' needs at least two pre-periods"
                if linear else "relative magnitudes need at least one pre-period"
            )  # fmt: skip
        grid = np.linspace(0, 2, 10) if m_grid is None else np.asarray(m_grid, float)
        delta = ("DeltaSDRM" if linear else "DeltaRM") + _suffix(extra)
        rows = []
        for mb in grid:
            lb, ub = rm_ci(beta, sigma, num_pre, num_post, l_vec, float(mb), alpha,
                           HYBRID[method], grid_points, grid_lb, grid_ub, extra, seed,
                           linear_trend=linear)  # fmt: skip
            rows.append((float(mb), lb, ub))
    else:
        method = ("FLCI" if extra is None else "C-F") if method is None else method
        check_option("method", method, SD_METHODS)
        if m_grid is None:
            top = (np.sqrt(sigma[0, 0]) if num_pre == 1
                   else sd_upper_bound_mpre(beta, sigma, num_pre, 0.05))  # fmt: skip
            grid = np.linspace(0, top, 10)
        else:
            grid = np.asarray(m_grid, float)
        delta = "DeltaSD" + _suffix(extra)
        if method == "FLCI" and extra is not None:
            warnings.warn(
                "method='FLCI' ignores the sign/monotonicity restriction (as HonestDiD); "
                "use 'C-F' or 'C-LF' to impose it",
                UserWarning,
                stacklevel=2,
            )
        rows = []
        for m in grid:
            if method == "FLCI":
                lb, ub = optimal_flci(sigma, num_pre, num_post, l_vec, float(m), alpha,
                                      seed).interval(beta)  # fmt: skip
            else:
                lb, ub = sd_ci(beta, sigma, num_pre, num_post, l_vec, float(m), alpha,
                               HYBRID[method], grid_points, grid_lb, grid_ub, extra, seed)  # fmt: skip
            rows.append((float(m), lb, ub))
    if (np.asarray(grid) < 0).any():
        raise ConfigError("M / Mbar values must be >= 0")
    table = pd.DataFrame(rows, columns=["m", "lb", "ub"]).assign(method=method, delta=delta)
    empty = table.loc[table["lb"].isna(), "m"].tolist()
    if empty:
        warnings.warn(
            f"no value of theta on the test grid is accepted at M = {empty}: the data reject "
            f"{delta} at these values (or the grid misses the set: give grid_lb/grid_ub); "
            "lb and ub are NaN there",
            UserWarning,
            stacklevel=3,
        )
    table = table[["m", "lb", "ub", "method", "delta"]]
    orig = original_ci(beta, sigma, num_pre, num_post, l_vec, alpha)
    post = slice(num_pre, num_pre + num_post)
    return HonestResult(
        table=table,
        original=orig,
        estimate=float(l_vec @ beta[post]),
        se=float(np.sqrt(l_vec @ sigma[post, post] @ l_vec)),
        restriction=restriction,
        delta=delta,
        method=method,
        l_vec=l_vec,
        num_pre=int(num_pre),
        num_post=int(num_post),
        alpha=alpha,
        breakdown=_breakdown(table),
        solver=honest_did,
        settings=dict(
            grid_points=grid_points,
            grid_lb=grid_lb,
            grid_ub=grid_ub,
            seed=seed,
            monotonicity=monotonicity,
            bias_direction=bias_direction,
            bound=bound,
            inputs=(beta, sigma, int(num_pre), int(num_post)),
        ),
    )


def _suffix(extra) -> str:
    if extra is None:
        return ""
    kind, d = extra
    if kind == "monotone":
        return "I" if d == "increasing" else "D"
    return "PB" if d == "positive" else "NB"


def _breakdown(table: pd.DataFrame) -> float:
    """Largest grid M up to which every robust interval excludes zero."""
    t = table.sort_values("m")
    excl = ((t["lb"] > 0) | (t["ub"] < 0)).to_numpy()
    if not len(excl) or not excl[0]:
        return float("nan")
    first_bad = np.flatnonzero(~excl)
    idx = len(excl) - 1 if not len(first_bad) else first_bad[0] - 1
    return float(t["m"].iloc[idx])
