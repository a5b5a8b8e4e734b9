"""Weight trimming with redistribution (R survey's ``trimWeights``).

Weights above ``upper`` (or below ``lower``) are set to the bound and the excess is
spread equally (additively) over the untouched weights, so the total is kept.
R's default (``strict=False``) makes one pass, which can push other weights above
the bound again; ``strict=True`` repeats the pass until no weight is outside.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from botrygt_eval.errors import ConfigError, ConvergenceError, check_option

if TYPE_CHECKING:
    from botrygt_eval.weighting.design import SurveyDesign

RelativeTo = Literal["absolute", "median", "mean"]
RELATIVE_TO: tuple[str, ...] = ("absolute", "median", "mean")


@dataclass(frozen=True)
class TrimFit:
    """Trimmed weights and what happened."""

    weights: np.ndarray
    upper: float
    lower: float
    n_trimmed: int  # rows outside the bounds in the input weights
    n_trimmed_total: int  # rows set to a bound in any pass
    passes: int


def bound_value(weights: np.ndarray, value: float | None, relative_to: RelativeTo) -> float:
    """An absolute bound from ``value`` (absolute, or a multiple of the median/mean weight)."""
    check_option("relative_to", relative_to, RELATIVE_TO)
    if value is None:
        return np.nan
    if relative_to == "median":
        return float(value) * float(np.median(weights))
    if relative_to == "mean":
        return float(value) * float(np.mean(weights))
    return float(value)


def trim_weights(
    weights: np.ndarray,
    upper: float | None = None,
    lower: float | None = None,
    *,
    relative_to: RelativeTo = "absolute",
    strict: bool = True,
    max_passes: int = 1000,
) -> TrimFit:
    """Trim weights to ``[lower, upper]`` keeping their sum.

    ``relative_to="median"`` (or ``"mean"``) reads the bounds as multiples of the median
    (mean) input weight. ``strict=False`` is R's one-pass default; ``strict=True``
    (our default) repeats until every weight is within the bounds.
    """
    w = np.asarray(weights, dtype=float).copy()
    up = bound_value(w, upper, relative_to)
    lo = bound_value(w, lower, relative_to)
    up = np.inf if np.isnan(up) else up
    lo = -np.inf if np.isnan(lo) else lo
    if not lo < up:
        raise ConfigError(f"trimming bounds lower={lo:g} and upper={up:g}: lower must be < upper")
    n, total = len(w), w.sum()
    if up * n < total or lo * n > total:
        raise ConfigError(
            f"cannot trim {n:,} weights summing to {total:,.6g} to [{lo:g}, {up:g}]: the bounds "
            f"leave no room for the total (mean weight {total / n:.6g}); widen the bounds"
        )
    first = (w > up) | (w < lo)
    ever = np.zeros(n, dtype=bool)
    passes = 0
    outside = first
    while outside.any():
        if passes >= (max_passes if strict else 1):
            if strict:
                raise ConvergenceError(
                    f"trimming did not settle in {max_passes} passes; widen the bounds"
                )
            break
        passes += 1
        ever |= outside
        excess = np.sum(w[w > up] - up) + np.sum(w[w < lo] - lo)
        w = np.clip(w, lo, up)
        inside = ~outside
        w[inside] += excess / inside.sum()
        outside = (w > up) | (w < lo)
    return TrimFit(w, float(up), float(lo), int(first.sum()), int(ever.sum()), passes)


def trim(
    design: SurveyDesign,
    upper: float | None = None,
    lower: float | None = None,
    *,
    relative_to: RelativeTo = "absolute",
    strict: bool = True,
) -> SurveyDesign:
    """A new design with trimmed weights and a ``trim`` Adjustment (no variance term, as R)."""
    from botrygt_eval.weighting.design import Adjustment

    fit = trim_weights(design.weights, upper, lower, relative_to=relative_to, strict=strict)
    details = {
        "upper": fit.upper,
        "lower": fit.lower,
        "relative_to": relative_to,
        "strict": strict,
        "n_trimmed": fit.n_trimmed,
        "n_trimmed_total": fit.n_trimmed_total,
        "passes": fit.passes,
        "max_weight_after": float(fit.weights.max()),
    }
    return design.with_weights(fit.weights, Adjustment(kind="trim", X=None, details=details))
