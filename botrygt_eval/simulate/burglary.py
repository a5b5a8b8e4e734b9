"""Quarterly burglaries of dwellings per kommune: the log-linear mean and the counts.

``mu[k, t] = households[k, year(t)] * exp(alpha_k + beta_k (year - mid) + season_q
+ national_t + break_t + partnership_kt + activities_kt)``, with the national level
calibrated per year so that the expected national total equals the anchor; the
counts are negative binomial (gamma-Poisson with size ``nb_size``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from botrygt_eval.simulate._random import stream
from botrygt_eval.simulate.config import SimulationConfig
from botrygt_eval.simulate.population import Population

NORDSJAELLAND = (157, 159, 173, 190, 201, 210, 217, 219, 223, 230, 240, 260, 270)
OESTJYLLAND = (615, 706, 707, 710, 727, 730, 740, 746, 751, 766)
ISLANDS = (400, 492, 563, 741, 825)
REGION_EFFECT = {1084: 0.30, 1085: 0.12, 1082: 0.0, 1083: -0.10, 1081: -0.15}
#: the big cities get a fixed effect instead of a random one (their share of the total is known)
CITY_EFFECT = {101: 0.0, 147: 0.0, 751: 0.15, 851: -0.05, 461: 0.0}


@dataclass(frozen=True)
class BaseRates:
    """Kommune fixed effects (log rate per household) and linear trends (per year)."""

    alpha: np.ndarray
    beta: np.ndarray
    mid_year: float

    def pre_rate(self, config: SimulationConfig, before: int) -> np.ndarray:
        """Relative expected rate per household, averaged over the years before ``before``."""
        years = np.arange(config.start_year, before, dtype=float)
        return np.exp(self.alpha[:, None] + self.beta[:, None] * (years - self.mid_year)).mean(
            axis=1
        )


def base_rates(pop: Population, config: SimulationConfig, seed: int) -> BaseRates:
    """Draw the kommune fixed effects and trends (higher in Nordsjælland/Østjylland, low on islands)."""
    rng = stream(seed, "burglary-rates")
    codes = pop.codes
    region = pop.kommuner["region_kode"].map(REGION_EFFECT).to_numpy(dtype=float)
    alpha = (
        region
        + 0.30 * np.isin(codes, NORDSJAELLAND)
        + 0.20 * np.isin(codes, OESTJYLLAND)
        - 0.70 * np.isin(codes, ISLANDS)
        + rng.normal(0, config.kommune_sd, size=len(codes))
    )
    city = np.isin(codes, list(CITY_EFFECT))
    alpha[city] = region[city] + np.array([CITY_EFFECT[c] for c in codes[city]])
    beta = rng.normal(0, config.trend_sd, size=len(codes))
    return BaseRates(
        alpha=alpha, beta=beta - beta.mean(), mid_year=(config.start_year + config.end_year) / 2
    )


@dataclass(frozen=True)
class Burglaries:
    """Expected and drawn counts (K, Q), and the national calibration per year."""

    expected: np.ndarray
    counts: np.ndarray
    counterfactual: np.ndarray  # expected without partnership and activity effects
    national_level: np.ndarray  # log national level per quarter


def quarter_years(config: SimulationConfig) -> tuple[np.ndarray, np.ndarray]:
    """Year and quarter (1-4) of each quarter index."""
    t = np.arange(config.n_quarters)
    return config.start_year + t // 4, t % 4 + 1


def simulate_burglaries(
    pop: Population,
    rates: BaseRates,
    effects: np.ndarray,
    config: SimulationConfig,
    seed: int,
) -> Burglaries:
    """Counts given the log effects ``effects`` (K, Q) of partnerships and activities."""
    rng = stream(seed, "burglary-counts")
    year, quarter = quarter_years(config)
    yi = year - config.start_year
    season = np.log(np.asarray(config.seasonal, dtype=float) / np.mean(config.seasonal))
    brk = np.where(year >= config.recording_break_year, np.log(config.recording_break), 0.0)
    targets = np.array([config.national_totals[y] for y in config.years], dtype=float)
    # smooth national path through the annual anchors, then exact per-year calibration
    mid = np.arange(len(config.years)) + 0.5
    t_frac = yi + (quarter - 0.5) / 4
    smooth = np.interp(t_frac, mid, np.log(targets))
    log_base = (
        np.log(pop.households[:, yi])
        + rates.alpha[:, None]
        + rates.beta[:, None] * (year[None, :] - rates.mid_year)
        + season[quarter - 1][None, :]
        + smooth[None, :]
        + brk[None, :]
    )
    observed_scale = np.exp(log_base + effects)
    per_year = np.bincount(
        np.repeat(yi[None, :], len(pop.codes), axis=0).ravel(),
        weights=observed_scale.ravel(),
        minlength=len(config.years),
    )
    calib = np.log(targets / per_year)
    level = smooth + calib[yi]
    expected = np.exp(log_base + calib[yi][None, :] + effects)
    counterfactual = np.exp(log_base + calib[yi][None, :])
    shape = config.nb_size
    lam = expected * rng.gamma(shape, 1 / shape, size=expected.shape)
    counts = rng.poisson(lam).astype(np.int64)
    return Burglaries(expected, counts, counterfactual, level + brk)
