"""Empirical-Bayes shrinkage of small-area rates (so one burglary does not make a hotspot).

Burglaries: Poisson-gamma (Clayton & Kaldor 1987). ``y_i ~ Poisson(n_i * theta_i)`` with
``n_i`` households and ``theta_i ~ Gamma(shape a, rate b)``; the posterior is
``Gamma(a + y_i, b + n_i)``, whose mean ``(a + y_i) / (b + n_i)`` pulls a cell's raw rate
``y_i / n_i`` towards the prior mean ``a / b`` the more, the fewer households it has.
The prior is estimated by the method of moments of Marshall (1991): ``m = sum y / sum n``,
``s2 = sum n_i (r_i - m)^2 / sum n``, between-cell variance ``A = max(s2 - m / nbar, 0)``,
``a = m^2 / A``, ``b = m / A`` (``A = 0``: every cell gets the kommune rate).

Nabohjælp coverage: beta-binomial, ``x_i ~ Binomial(n_i, p_i)``, ``p_i ~ Beta(alpha, beta)``
with moments matched the same way; posterior ``Beta(alpha + x_i, beta + n_i - x_i)``.

The gap index is the posterior probability that a cell's burglary rate is above the
median cell rate and its coverage below the median coverage (independent posteriors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from botrygt_eval.errors import EstimationError

_LARGE = 1e12  # a prior with (almost) no between-cell variance


@dataclass(frozen=True)
class GammaPrior:
    """Gamma(shape, rate) prior of the rate per household, and how it was found."""

    shape: float
    rate: float
    method: str = "moments (Marshall 1991)"

    @property
    def mean(self) -> float:
        return self.shape / self.rate


@dataclass(frozen=True)
class BetaPrior:
    """Beta(alpha, beta) prior of the share of households that are members."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


def _check(counts: np.ndarray, exposure: np.ndarray, what: str) -> None:
    if counts.shape != exposure.shape:
        raise EstimationError(f"{what}: counts and households must have the same length")
    if (exposure < 0).any() or (counts < 0).any() or not np.isfinite(exposure).all():
        raise EstimationError(f"{what}: counts and households must be finite and non-negative")
    if exposure.sum() <= 0:
        raise EstimationError(f"{what}: no households in any cell; nothing to estimate a rate on")


def gamma_prior(counts, households) -> GammaPrior:
    """Method-of-moments Poisson-gamma prior over cells with households (Marshall 1991)."""
    y = np.asarray(counts, dtype=float)
    n = np.asarray(households, dtype=float)
    _check(y, n, "burglary shrinkage")
    use = n > 0
    y, n = y[use], n[use]
    m = y.sum() / n.sum()
    if m <= 0:
        return GammaPrior(shape=_LARGE * 1e-12, rate=_LARGE)  # no burglaries: rate ~ 0
    r = y / n
    s2 = (n * (r - m) ** 2).sum() / n.sum()
    between = s2 - m / n.mean()
    if between <= m * m / _LARGE:
        return GammaPrior(shape=m * _LARGE, rate=_LARGE)
    return GammaPrior(shape=m * m / between, rate=m / between)


def shrink_rates(counts, households, prior: GammaPrior | None = None, level: float = 0.9):
    """Posterior mean and equal-tailed interval of each cell's rate per household.

    Returns ``(mean, low, high, prior)``; cells without households get the prior.
    """
    y = np.asarray(counts, dtype=float)
    n = np.asarray(households, dtype=float)
    prior = prior or gamma_prior(y, n)
    a, b = prior.shape + y, prior.rate + n
    tail = (1 - level) / 2
    low = stats.gamma.ppf(tail, a, scale=1 / b)
    high = stats.gamma.ppf(1 - tail, a, scale=1 / b)
    return a / b, low, high, prior


def prob_rate_above(counts, households, threshold: float, prior: GammaPrior) -> np.ndarray:
    """Posterior probability that each cell's rate per household exceeds ``threshold``."""
    a = prior.shape + np.asarray(counts, dtype=float)
    b = prior.rate + np.asarray(households, dtype=float)
    return stats.gamma.sf(threshold, a, scale=1 / b)


def beta_prior(members, households) -> BetaPrior:
    """Method-of-moments beta-binomial prior of coverage over cells with households."""
    x = np.asarray(members, dtype=float)
    n = np.asarray(households, dtype=float)
    _check(x, n, "coverage shrinkage")
    use = n > 0
    x, n = np.minimum(x[use], n[use]), n[use]
    p = x.sum() / n.sum()
    if p <= 0 or p >= 1:
        p = float(np.clip(p, 1e-6, 1 - 1e-6))
        return BetaPrior(alpha=p * _LARGE, beta=(1 - p) * _LARGE)
    s2 = (n * (x / n - p) ** 2).sum() / n.sum()
    between = s2 - p * (1 - p) / n.mean()
    if between <= 1e-12:
        return BetaPrior(alpha=p * _LARGE, beta=(1 - p) * _LARGE)
    total = max(p * (1 - p) / between - 1, 1e-6)  # alpha + beta
    return BetaPrior(alpha=p * total, beta=(1 - p) * total)


def prob_coverage_below(members, households, threshold: float, prior: BetaPrior) -> np.ndarray:
    """Posterior probability that each cell's coverage share is below ``threshold``."""
    x = np.asarray(members, dtype=float)
    n = np.asarray(households, dtype=float)
    x = np.minimum(x, n)
    return stats.beta.cdf(threshold, prior.alpha + x, prior.beta + n - x)


def coverage_shrunk(members, households, prior: BetaPrior | None = None) -> np.ndarray:
    """Posterior mean coverage share per cell."""
    x = np.asarray(members, dtype=float)
    n = np.asarray(households, dtype=float)
    prior = prior or beta_prior(x, n)
    x = np.minimum(x, n)
    return (prior.alpha + x) / (prior.alpha + prior.beta + n)


def gap_index(burglaries, members, households) -> dict[str, np.ndarray]:
    """Posterior P(rate above the median cell AND coverage below the median cell).

    The medians are those of the cells' posterior means (cells with households), held
    fixed. Returns the index and its two factors, each a probability per cell.
    """
    y = np.asarray(burglaries, dtype=float)
    x = np.asarray(members, dtype=float)
    n = np.asarray(households, dtype=float)
    rate, _, _, gprior = shrink_rates(y, n)
    bprior = beta_prior(x, n)
    cov = coverage_shrunk(x, n, bprior)
    use = n > 0
    p_high = prob_rate_above(y, n, float(np.median(rate[use])), gprior)
    p_low = prob_coverage_below(x, n, float(np.median(cov[use])), bprior)
    gap = np.where(use, p_high * p_low, np.nan)
    return {"gap_index": gap, "p_high_burglary": p_high, "p_low_coverage": p_low}
