"""Weight trimming with redistribution (R survey's ``trimWeights``).

Weights above ``upper`` (or below ``lower``) are set to the bound and the excess is
spread equally (additively) over the untouched weights, so the total is kept.
R's default (``strict=False``) makes one pass, which can push other weights above
the bound again; ``strict=True`` gives the limit of repeating that pass (R's
``strict=TRUE``), computed directly: the set of capped weights grows until the common
additive share no longer pushes any other weight outside.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from botrygt_eval.errors import ConfigError, ConvergenceError, check_option
from botrygt_eval.survey.design import Adjustment

if TYPE_CHECKING:
    from botrygt_eval.survey.design import SurveyDesign

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
    (our default) leaves every weight within the bounds.
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
        rng_txt = f"at most {up:,.6g}" if not np.isfinite(lo) else f"[{lo:,.6g}, {up:,.6g}]"
        raise ConfigError(
            f"cannot trim {n:,} weights summing to {total:,.6g} to {rng_txt}: the bounds "
            f"leave no room for the total (mean weight {total / n:,.6g}); widen the bounds"
        )
    first = (w > up) | (w < lo)
    if not strict:
        # R's single pass: cap, then spread the excess equally over the untouched weights
        excess = np.sum(w[w > up] - up) + np.sum(w[w < lo] - lo)
        out = np.clip(w, lo, up)
        if first.any():
            out[~first] += excess / (~first).sum()
        return TrimFit(out, float(up), float(lo), int(first.sum()), int(first.sum()), 1)
    # strict: the limit of repeating R's pass. The capped set only grows; the others get
    # one common additive shift c that keeps the total. Each round is vectorised.
    at_up, at_lo = w > up, w < lo
    passes = 0
    while True:
        passes += 1
        free = ~(at_up | at_lo)
        if not free.any():
            raise ConvergenceError("trimming leaves no weight free to take the excess")
        capped = (up * at_up.sum() if at_up.any() else 0.0) + (
            lo * at_lo.sum() if at_lo.any() else 0.0
        )
        c = (total - capped - w[free].sum()) / free.sum()
        new_up, new_lo = free & (w + c > up), free & (w + c < lo)
        if not (new_up.any() or new_lo.any()) or passes >= max_passes:
            break
        at_up |= new_up
        at_lo |= new_lo
    w = np.where(at_up, up, np.where(at_lo, lo, w + c))
    ever = at_up | at_lo
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
