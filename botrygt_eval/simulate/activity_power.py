"""Repeated simulations: how often each verdict comes out for each activity type.

:func:`verdict_rates` draws ``n_sims`` synthetic Denmarks (seeds ``seed, seed + 1, ...``),
evaluates the activities in each and returns, per type, its true effect and the share of
replications with each verdict, with the mean estimate, SE and MDE. :func:`error_rates`
pools the two error rates the rule promises to bound (a null type called "repeat", a
beneficial type called "drop") over types and replications, with Clopper-Pearson
intervals. Used by the slow test and by ``analyses/activities_power.py`` for larger runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from botrygt_eval.activities.evaluate import evaluate_activities
from botrygt_eval.activities.rule import DecisionRule
from botrygt_eval.simulate import SimulationConfig
from botrygt_eval.simulate.activities import simulated_activity_workspace

CODES = ["repeat", "change", "drop", "insufficient"]


def simulate_verdicts(
    n_sims: int,
    seed: int = 1,
    config: SimulationConfig | None = None,
    rule: DecisionRule | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """One row per replication and activity type: ``sim, seed, activity_type, n_kommuner,
    estimate, se, df, mde, verdict_code, se_cr1`` (``se``: CR2, ``se_cr1``: CR1, for
    comparing the two on the same draws)."""
    config = config or SimulationConfig()
    frames = []
    for i in range(n_sims):  # each replication is a whole simulated Denmark
        ws = simulated_activity_workspace(seed + i, config)
        ev = evaluate_activities(ws, rule=rule)
        d = ev.decisions
        cols = ["activity_type", "n_kommuner", "estimate", "se", "df", "mde", "verdict_code"]
        e = ev.effects.loc[ev.effects["outcome"] == "burglary_log_rate"]
        se_cr1 = d["activity_type"].map(e.set_index("activity_type")["se_cr1"])
        frames.append(d[cols].assign(se_cr1=se_cr1, sim=i, seed=seed + i))
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


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact two-sided interval for a binomial proportion ``k / n``."""
    a = 1 - level
    lo = stats.beta.ppf(a / 2, k, n - k + 1) if k > 0 else 0.0
    hi = stats.beta.ppf(1 - a / 2, k + 1, n - k) if k < n else 1.0
    return float(lo), float(hi)


def error_rates(
    draws: pd.DataFrame, config: SimulationConfig | None = None, rule: DecisionRule | None = None
) -> pd.DataFrame:
    """The rule's two error rates pooled over types and replications, with Clopper-Pearson
    95 % intervals and the rule's per-type bound: null types (true effect 0) called
    "repeat" (bound ``alpha / (2 m)`` with Bonferroni over ``m`` types, one-sided) and
    beneficial types (true effect < 0) called "drop" (the issue's bound: 5 %). With a
    ``se_cr1`` column, a third row counts null types whose CR1 normal interval lies below 0
    (the inference before CR2, on the same draws; the kommune guard applied, the activity
    count and the Nabohjælp branch not)."""
    config = config or SimulationConfig()
    rule = rule or DecisionRule()
    truth = draws["activity_type"].map(config.activity_burglary_effects).fillna(0.0)
    m = draws.groupby("sim")["estimate"].apply(lambda e: int(e.notna().sum())).median()
    bound = rule.alpha / (2 * (m if rule.adjust == "bonferroni" else 1))
    rows = []
    for name, types, code, target in (
        ("null type called repeat", truth == 0, "repeat", bound),
        ("beneficial type called drop", truth < 0, "drop", 0.05),
    ):
        k = int((draws.loc[types, "verdict_code"] == code).sum())
        n = int(types.sum())
        lo, hi = clopper_pearson(k, n) if n else (np.nan, np.nan)
        rows.append({"error": name, "count": k, "type_replications": n,
                     "rate": k / n if n else np.nan, "ci_low": lo, "ci_high": hi,
                     "target": target})  # fmt: skip
    if "se_cr1" in draws.columns:  # the old inference on the same draws, for comparison
        z = rule.z(int(m))
        below = (draws["estimate"] + z * draws["se_cr1"] < 0) & (
            draws["n_kommuner"] >= rule.min_kommuner
        )
        null = truth == 0
        k, n = int((below & null).sum()), int(null.sum())
        lo, hi = clopper_pearson(k, n) if n else (np.nan, np.nan)
        rows.append({"error": "null type, CR1 normal interval below 0 (old inference)",
                     "count": k, "type_replications": n, "rate": k / n if n else np.nan,
                     "ci_low": lo, "ci_high": hi, "target": bound})  # fmt: skip
    return pd.DataFrame(rows).assign(n_sims=draws["sim"].nunique())
