"""Repeated simulations: a truly beneficial activity is (almost) never dropped.

Small run for the test suite (14 replications, under a minute on an idle machine); the larger run is
``analyses/activities_power.py --sims 200``.
"""

from __future__ import annotations

import pytest

from botrygt_eval.activities.power import simulate_verdicts, verdict_rates
from botrygt_eval.simulate import SimulationConfig

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
