"""Repeated simulations: how often each verdict comes out for each activity type.

:func:`verdict_rates` draws ``n_sims`` synthetic Denmarks (seeds ``seed, seed + 1, ...``),
evaluates the activities in each and returns, per type, its true effect and the share of
replications with each verdict, with the mean estimate, SE and MDE. Used by the slow test
and by ``analyses/activities_power.py`` for larger runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from botrygt_eval.activities.evaluate import evaluate_activities
from botrygt_eval.activities.rule import DecisionRule
from botrygt_eval.activities.simulated import simulated_activity_workspace
from botrygt_eval.simulate import SimulationConfig

CODES = ["repeat", "change", "drop", "insufficient"]


def simulate_verdicts(
    n_sims: int,
    seed: int = 1,
    config: SimulationConfig | None = None,
    rule: DecisionRule | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """One row per replication and activity type: ``sim, activity_type, estimate, se, mde,
    verdict_code``."""
    config = config or SimulationConfig()
    frames = []
    for i in range(n_sims):  # each replication is a whole simulated Denmark
        ws = simulated_activity_workspace(seed + i, config)
        d = evaluate_activities(ws, rule=rule).decisions
        frames.append(d[["activity_type", "estimate", "se", "mde", "verdict_code"]].assign(sim=i))
        if progress:
            progress(i + 1)
    return pd.concat(frames, ignore_index=True)


def verdict_rates(draws: pd.DataFrame, config: SimulationConfig | None = None) -> pd.DataFrame:
    """Per type: true effect, mean estimate/SE/MDE, and the share of each verdict."""
    config = config or SimulationConfig()
    shares = pd.crosstab(draws["activity_type"], draws["verdict_code"], normalize="index")
    shares = shares.reindex(columns=CODES, fill_value=0.0).add_prefix("rate_")
    means = draws.groupby("activity_type")[["estimate", "se", "mde"]].mean().add_prefix("mean_")
    out = means.join(shares).reset_index()
    out.insert(1, "true_effect", out["activity_type"].map(config.activity_burglary_effects))
    out["n_sims"] = draws["sim"].nunique()
    out["sd_estimate"] = out["activity_type"].map(draws.groupby("activity_type")["estimate"].std())
    out["true_effect"] = out["true_effect"].fillna(np.nan)
    return out
