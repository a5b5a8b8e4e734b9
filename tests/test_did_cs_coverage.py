"""The coverage-study driver (the full 500-simulation run is `python -m botrygt_eval.did.coverage`)."""

from __future__ import annotations

import numpy as np

from botrygt_eval.did.coverage import (
    Design,
    coverage_study,
    simulate_panel,
    summarise,
    twfe_estimate,
)


def test_simulated_truth_and_twfe():
    d = Design(noise=1e-9)
    df, truth = simulate_panel(d, seed=3)
    assert truth[df["treat"].to_numpy() == 0].max() == 0
    assert truth.min() >= d.effect - 1e-12
    # without noise TWFE returns a weighted average of effects (between min and max ... or not:
    # negative weights can push it outside); here it is finite and of the right sign
    assert np.isfinite(twfe_estimate(df))


def test_noise_free_cs_recovers_truth_exactly():
    res = coverage_study(2, seed=5, design=Design(noise=1e-9))
    for k in ("simple", "e0", "e3", "e7"):
        np.testing.assert_allclose(res[k], res[f"{k}_truth"], atol=1e-6)
    s = summarise(res)
    assert list(s["quantity"]) == ["CS simple", "CS e0", "CS e3", "CS e7", "naive TWFE"]
