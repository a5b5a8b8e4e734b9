"""Derived outcomes follow the definitions in docs/DATA_FORMATS.md, driven by the bank."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.errors import InputFileError
from botrygt_eval.instrument import derive_outcomes, load_instrument
from botrygt_eval.simulate.responses import synthetic_responses

NA = np.nan


def _base(n: int, year: int = 2025) -> pd.DataFrame:
    """n rows of valid answers: every item at its first substantive code."""
    inst = load_instrument(year)
    frame = pd.DataFrame({"resp_id": [f"{k:016x}" for k in range(n)], "year": year})
    for item in inst.items:
        frame[item.id] = float(item.substantive_codes[0])
    return frame


def test_indicators_by_hand():
    # DATA_FORMATS: fear_burglary = worry in {1,2}; unsafe_home = safe_home_dark in {3,4};
    # missing when the item is 98, 99 or empty.
    codes = [1, 2, 3, 4, 98, 99, NA]
    frame = _base(len(codes)).assign(
        worry_burglary=codes,
        safe_home_dark=codes,
        vict_burglary=[1, 2, 98, 99, NA, 1, 2],
        prev_nabohjaelp=[1, 2, 98, 99, NA, 1, 2],
    )
    out = derive_outcomes(frame, 2025)
    np.testing.assert_array_equal(out["fear_burglary"], [1, 1, 0, 0, NA, NA, NA])
    np.testing.assert_array_equal(out["unsafe_home"], [0, 0, 1, 1, NA, NA, NA])
    np.testing.assert_array_equal(out["victim_burglary"], [1, 0, NA, NA, NA, 1, 0])
    np.testing.assert_array_equal(out["nabohjaelper"], [1, 0, NA, NA, NA, 1, 0])
    assert list(out.columns[: frame.shape[1]]) == list(frame.columns)  # input kept as is


def test_prevention_index_counts_the_five_pieces_of_advice():
    frame = _base(5)
    advice = [
        "prev_nabohjaelp",
        "prev_light_hedge",
        "prev_secure_home",
        "prev_safe_payment",
        "prev_call_114",
    ]
    frame[advice] = np.array(
        [
            [1, 1, 1, 1, 1],  # all five -> 5
            [2, 2, 2, 2, 2],  # none -> 0
            [1, 2, 1, 3, 1],  # 3 = has not bought second-hand: not followed -> 3
            [1, 1, 1, 1, 98],  # one "ved ikke" -> missing
            [1, 1, NA, 1, 1],  # one skipped -> missing
        ],
        dtype=float,
    )
    out = derive_outcomes(frame, 2025)
    np.testing.assert_array_equal(out["prevention_index"], [5, 0, 3, NA, NA])


def test_2024_definition_uses_the_2024_scale():
    # 2024: 5-point frequency scale, fear_burglary = "meget ofte" or "ofte" (codes 1, 2).
    frame = _base(6, 2024).assign(worry_burglary=[1, 2, 3, 4, 5, 98])
    out = derive_outcomes(frame, 2024)
    np.testing.assert_array_equal(out["fear_burglary"], [1, 1, 0, 0, 0, NA])
    with pytest.raises(InputFileError, match="korps_visit|worry"):
        # the 2025 bank needs no korps_visit for outcomes, but a missing outcome item is refused
        derive_outcomes(frame.drop(columns=["worry_burglary"]), 2025)


def test_outcomes_on_synthetic_responses_are_in_range():
    out = derive_outcomes(synthetic_responses(2025, 500, 3), 2025)
    for name in ("fear_burglary", "unsafe_home", "nabohjaelper", "victim_burglary"):
        assert set(out[name].dropna().unique()) <= {0.0, 1.0}
        assert out[name].notna().mean() > 0.8
    assert set(out["prevention_index"].dropna().unique()) <= set(range(6))
    # the index equals the sum of its parts where all five are substantive
    parts = out[
        [
            "prev_nabohjaelp",
            "prev_light_hedge",
            "prev_secure_home",
            "prev_safe_payment",
            "prev_call_114",
        ]
    ]
    ok = parts.isin([1, 2, 3]).all(axis=1)
    np.testing.assert_array_equal(out.loc[ok, "prevention_index"], (parts[ok] == 1).sum(axis=1))
    assert out.loc[~ok, "prevention_index"].isna().all()
