"""Simulated staggered-adoption panels with known effects, for the panel/TWFE/PPML tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def staggered_panel(
    n_units: int = 60,
    n_periods: int = 12,
    cohorts: tuple[int, ...] = (0, 5, 8, 10),
    effect=1.0,
    noise: float = 1.0,
    seed: int = 0,
    trend_by_cohort: dict | None = None,
) -> pd.DataFrame:
    """Balanced panel ``unit, time (1..T), cohort (0 = never), treat, y, cluster, truth``.

    ``effect`` is a number (homogeneous) or ``f(cohort, event_time) -> effect``.
    ``trend_by_cohort`` adds a linear trend ``slope * time`` to units of a cohort
    (a violation of parallel trends).
    """
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(1, n_units + 1), n_periods)
    time = np.tile(np.arange(1, n_periods + 1), n_units)
    g_unit = rng.choice(np.asarray(cohorts), size=n_units)
    g = g_unit[unit - 1]
    treat = ((g > 0) & (time >= g)).astype(int)
    e = time - g
    if callable(effect):
        tau = np.where(treat == 1, np.vectorize(effect)(g, e), 0.0)
    else:
        tau = effect * treat
    y = (
        rng.normal(0, 1, n_units)[unit - 1]
        + rng.normal(0, 1, n_periods)[time - 1]
        + tau
        + noise * rng.normal(size=n_units * n_periods)
    )
    if trend_by_cohort:
        for c, slope in trend_by_cohort.items():
            y = y + np.where(g == c, slope * time, 0.0)
    return pd.DataFrame(
        {
            "unit": unit,
            "time": time,
            "cohort": g,
            "treat": treat,
            "y": y,
            "cluster": (unit - 1) % 7,
            "truth": tau,
        }  # fmt: skip
    )


def count_panel(n_units=98, n_periods=64, effect=-0.2, seed=0, n_cohorts=8) -> pd.DataFrame:
    """Poisson counts with unit/period effects, exposure and a multiplicative effect exp(effect)."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(1, n_units + 1), n_periods)
    time = np.tile(np.arange(1, n_periods + 1), n_units)
    starts = np.concatenate(
        [[0], np.linspace(n_periods // 3, n_periods - 4, n_cohorts).astype(int)]
    )
    g_unit = rng.choice(starts, size=n_units)
    g = g_unit[unit - 1]
    treat = ((g > 0) & (time >= g)).astype(int)
    households = np.round(np.exp(rng.normal(10, 0.8, n_units)))[unit - 1]
    log_mu = (
        np.log(households / 1000)
        + rng.normal(1.0, 0.3, n_units)[unit - 1]
        - 0.01 * time
        + 0.1 * np.sin(time / 3)
        + effect * treat
    )
    y = rng.poisson(np.exp(log_mu))
    return pd.DataFrame(
        {
            "unit": unit,
            "time": time,
            "cohort": g,
            "treat": treat,
            "y": y,
            "households": households,
            "politikreds": (unit - 1) % 12,
        }  # fmt: skip
    )
