"""Simulated staggered panels with a known ATT(g,t), for the Callaway-Sant'Anna tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def cs_panel(
    n_units: int = 2000,
    n_periods: int = 6,
    cohorts: tuple[int, ...] = (0, 3, 4, 5),
    probs: tuple[float, ...] | None = None,
    seed: int = 0,
    covariate_trend: float = 0.0,
) -> pd.DataFrame:
    """Balanced panel ``unit, time (1..T), cohort, x, y, w, cluster, truth``.

    ATT(g,t) = (t - g + 1) * (1 + g / 10) for t >= g, else 0. With
    ``covariate_trend`` the untreated trend depends on ``x`` and ``x`` differs by
    cohort, so unconditional parallel trends fail but conditional ones hold.
    """
    rng = np.random.default_rng(seed)
    g = rng.choice(np.asarray(cohorts), size=n_units, p=probs)
    x = rng.normal(size=n_units) + 0.5 * (g > 0)
    alpha = rng.normal(size=n_units) + x
    t = np.arange(1, n_periods + 1)
    G, T = np.meshgrid(g, t, indexing="ij")
    X = np.repeat(x[:, None], n_periods, axis=1)
    truth = np.where((G > 0) & (T >= G), (T - G + 1) * (1 + G / 10), 0.0)
    y = (
        alpha[:, None]
        + 0.3 * T
        + covariate_trend * X * T
        + truth
        + rng.normal(scale=1.0, size=(n_units, n_periods))
    )
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(1, n_units + 1), n_periods),
            "time": T.ravel(),
            "cohort": G.ravel(),
            "x": X.ravel(),
            "y": y.ravel(),
            "w": np.repeat(rng.uniform(0.5, 2.0, n_units), n_periods),
            "cluster": np.repeat(rng.integers(0, 40, n_units), n_periods),
            "truth": truth.ravel(),
        }
    )


def true_att(g: float, t: float) -> float:
    """The ATT(g,t) built into :func:`cs_panel`."""
    return (t - g + 1) * (1 + g / 10) if t >= g else 0.0
