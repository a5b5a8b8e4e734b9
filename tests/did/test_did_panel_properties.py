"""Property test: the Goodman-Bacon identity holds for any staggered design (balanced panel)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botrygt_eval.did.diagnostics import bacon_decomposition, randomization_inference
from tests.did.did_panel_helpers import staggered_panel


@settings(max_examples=40, deadline=None)
@given(
    n_periods=st.integers(4, 12),
    cohorts=st.sets(st.integers(0, 14), min_size=2, max_size=6),
    seed=st.integers(0, 10_000),
)
def test_bacon_identity_any_design(n_periods, cohorts, seed):
    cohorts = tuple(sorted(cohorts))
    df = staggered_panel(n_units=24, n_periods=n_periods, cohorts=cohorts, seed=seed,
                         effect=lambda g, e: np.sin(g + e))  # fmt: skip
    d = (df["cohort"] > 0) & (df["time"] >= df["cohort"])
    varies = d.groupby(df["unit"]).nunique().gt(1).any()
    if not varies:
        return  # no unit switches treatment within the window: nothing to decompose
    b = bacon_decomposition(df, unit="unit", time="time", cohort="cohort", outcome="y")
    assert b.weighted_sum == pytest.approx(b.twfe_estimate, abs=1e-10)
    assert b.table["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    ri = randomization_inference(df, unit="unit", time="time", cohort="cohort", outcome="y",
                                 n_perm=20, seed=seed)  # fmt: skip
    assert ri.estimate == pytest.approx(b.twfe_estimate, abs=1e-10)
