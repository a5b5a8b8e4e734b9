"""End to end on the synthetic Denmark: a partnership kommune's planted effect is recovered.

``botrygt_eval.simulate`` plants a partnership effect on the log burglary rate of
log(0.9) built up linearly over four quarters (truth.json, ``effects`` and
``timing``). Synthetic DiD for one kommune, with placebo inference over all
never-partnership donors, must cover the average true effect over its post-periods.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def denmark(tmp_path_factory):
    from botrygt_eval.io import load_households, load_partnerships, load_straf11
    from botrygt_eval.panel.build import build_panel
    from botrygt_eval.simulate import simulate_workspace

    root = tmp_path_factory.mktemp("denmark")
    simulate_workspace(root, seed=2018)
    panel = build_panel(
        load_straf11(root / "statbank" / "STRAF11.csv").data,
        load_households(root / "statbank" / "FAM55N.csv").data,
        partnerships=load_partnerships(root / "registers" / "partnerships.csv").data,
    )
    truth = json.loads((root / "truth.json").read_text(encoding="utf-8"))
    return panel, truth


def _true_average_effect(truth, kommune, last_period):
    eff = truth["effects"]
    part = {p["kommune_kode"]: p for p in truth["partnerships"]}[kommune]
    g = part["cohort_period"]
    q = np.arange(g, last_period + 1)
    ramp = np.minimum((q - g + 1) / eff["partnership_burglary_buildup_quarters"], 1.0)
    return g, float(eff["partnership_burglary_log_rate_ratio"] * ramp.mean())


@pytest.mark.parametrize("kommune", [101, 167])  # København and an early partner (2019)
def test_one_kommune_effect_is_covered(denmark, kommune):
    from botrygt_eval.did.synth.fit import synth_did

    panel, truth = denmark
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kommuner with a hidden cell are dropped, with a warning
        res = synth_did(panel, unit="kommune_kode", time="period", outcome="log_rate",
                        treat="treated", method="sdid", target=kommune)  # fmt: skip
    g, truth_avg = _true_average_effect(truth, kommune, int(panel["period"].max()))
    assert res.cohorts[0].cohort == g  # the panel's timing agrees with the simulator's
    assert res.n_treated == 1
    donors = set(res.cohorts[0].donors)
    partners = {p["kommune_kode"] for p in truth["partnerships"]}
    assert not donors & partners  # never-partnership donors only
    assert res.replications == len(donors)  # placebo over every donor
    lo, hi = res.ci
    assert lo < truth_avg < hi
    assert res.weights_frame()["kommune"].str.len().min() > 0
