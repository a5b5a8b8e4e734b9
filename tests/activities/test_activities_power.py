"""Repeated simulations: a truly beneficial activity is (almost) never dropped.

Small run for the test suite (14 replications, under a minute on an idle machine); the larger run is
``analyses/activities_power.py --sims 200``.
"""

from __future__ import annotations

import pytest

from botrygt_eval.simulate import SimulationConfig
from botrygt_eval.simulate.activity_power import simulate_verdicts, verdict_rates

N_SIMS = 14


@pytest.mark.slow
def test_drop_rate_for_beneficial_type_at_most_five_percent():
    cfg = SimulationConfig()
    draws = simulate_verdicts(N_SIMS, seed=7000, config=cfg)
    rates = verdict_rates(draws, cfg).set_index("activity_type")
    korps = rates.loc["bo_trygt_korps"]
    assert korps["true_effect"] < 0
    assert korps["rate_drop"] <= 0.05
    # the estimate is unbiased within Monte Carlo error, and the SE matches the spread
    assert (
        abs(korps["mean_estimate"] - korps["true_effect"]) < 3 * korps["sd_estimate"] / N_SIMS**0.5
    )
    assert 0.6 < korps["mean_se"] / korps["sd_estimate"] < 1.5
    null = rates.loc[rates["true_effect"] == 0]
    assert (null["rate_repeat"] * N_SIMS).sum() <= 0.025 * N_SIMS * len(null)


def test_clopper_pearson_against_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    from botrygt_eval.simulate.activity_power import clopper_pearson

    for k, n in [(0, 50), (3, 2000), (14, 2000), (50, 50), (7, 11)]:
        lo, hi = proportion_confint(k, n, alpha=0.05, method="beta")
        assert clopper_pearson(k, n) == pytest.approx((lo, hi), rel=1e-9, abs=1e-12)


def test_error_rates_count_null_repeats_and_beneficial_drops():
    """Pooled counts over types and replications, by the simulator's true effects, with the
    Bonferroni bound alpha / (2 m) for the m types judged."""
    import numpy as np
    import pandas as pd

    from botrygt_eval.simulate.activity_power import error_rates

    cfg = SimulationConfig()
    types = sorted(cfg.activity_burglary_effects)
    beneficial = [t for t in types if cfg.activity_burglary_effects[t] < 0]
    rows = []
    for sim in range(4):
        for t in types:
            code = "insufficient"
            if t == types[0] and sim < 3:  # a null type (the first in order is null)
                code = "repeat"
            if t in beneficial and sim == 0:
                code = "drop"
            rows.append({"sim": sim, "activity_type": t, "estimate": 0.0, "verdict_code": code})
    draws = pd.DataFrame(rows)
    assert cfg.activity_burglary_effects[types[0]] == 0
    out = error_rates(draws, cfg).set_index("error")
    n_null = 4 * (len(types) - len(beneficial))
    assert out.at["null type called repeat", "count"] == 3
    assert out.at["null type called repeat", "type_replications"] == n_null
    assert out.at["null type called repeat", "rate"] == pytest.approx(3 / n_null)
    assert out.at["null type called repeat", "target"] == pytest.approx(0.05 / (2 * len(types)))
    assert out.at["beneficial type called drop", "count"] == len(beneficial)
    assert out.at["beneficial type called drop", "rate"] == pytest.approx(0.25)
    assert np.isclose(out.at["beneficial type called drop", "target"], 0.05)
    # the old CR1 normal interval on the same draws: below 0 only where estimate + z se < 0
    first = draws["activity_type"] == types[0]
    old = draws.assign(estimate=np.where(first, -1.0, 0.0), se_cr1=0.1, n_kommuner=20)
    row = error_rates(old, cfg).set_index("error").iloc[2]
    assert row["count"] == 4 and row["type_replications"] == n_null
    few = old.assign(n_kommuner=3)  # the kommune guard applies
    assert error_rates(few, cfg).iloc[2]["count"] == 0
