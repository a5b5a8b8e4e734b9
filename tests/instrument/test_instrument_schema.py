"""The response schema: synthetic files pass; mutated rows are quarantined with clear reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandera.errors import SchemaErrors

from botrygt_eval.errors import InputFileError
from botrygt_eval.instrument import load_instrument, response_schema
from botrygt_eval.io.quarantine import validate_rows
from botrygt_eval.simulate.responses import synthetic_responses


def _frame(year=2025, n=400, seed=11) -> pd.DataFrame:
    frame = synthetic_responses(year, n, seed)
    frame["source_row"] = np.arange(2, n + 2)
    return frame


@pytest.mark.parametrize("year", [2024, 2025])
def test_synthetic_responses_pass_their_schema(year):
    frame = _frame(year)
    response_schema(year).validate(frame, lazy=True)  # raises if anything fails
    result = validate_rows(frame, response_schema(year), source=f"responses_{year}.csv")
    assert result.n_quarantined == 0 and len(result.data) == len(frame)


def test_synthetic_responses_are_reproducible_and_exercise_routing():
    a, b = synthetic_responses(2025, 300, 5), synthetic_responses(2025, 300, 5)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(synthetic_responses(2025, 300, 6))
    asked = a["vict_burglary"].eq(1) | a["vict_attempt"].eq(1)
    assert a.loc[~asked, "vict_reported"].isna().all()
    assert a.loc[asked, "vict_reported"].notna().any()
    assert a["resp_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert a.isin([98]).any().any() and a.isin([99]).any().any()


def test_out_of_range_code_is_quarantined_naming_item_and_code():
    frame = _frame()
    frame.loc[3, "worry_burglary"] = 7
    frame.loc[9, "housing_type"] = 5
    result = validate_rows(frame, response_schema(2025), source="responses_2025.csv")
    assert result.n_quarantined == 2
    reasons = dict(zip(result.quarantined["source_row"], result.quarantined["reason"], strict=True))
    assert (
        "worry_burglary" in reasons[5] and "7" in reasons[5] and "1, 2, 3, 4, 98, 99" in reasons[5]
    )
    assert "housing_type" in reasons[11] and "5" in reasons[11]


def test_answer_where_routing_says_none_is_quarantined():
    frame = _frame()
    row = frame.index[(frame["vict_burglary"] == 2) & (frame["vict_attempt"] == 2)][0]
    frame.loc[row, "vict_reported"] = 1
    result = validate_rows(frame, response_schema(2025), source="responses_2025.csv")
    assert result.n_quarantined == 1
    reason = result.quarantined["reason"].iloc[0]
    assert "vict_reported is answered although routing says it is not asked" in reason
    assert "vict_burglary in {1} or vict_attempt in {1}" in reason


def test_dont_know_on_the_filter_means_not_asked():
    frame = _frame()
    row = frame.index[frame["vict_reported"].notna()][0]
    frame.loc[row, ["vict_burglary", "vict_attempt"]] = 98
    with pytest.raises(SchemaErrors, match="routing"):
        response_schema(2025).validate(frame, lazy=True)


def test_missing_required_item_is_quarantined():
    frame = _frame()
    frame.loc[0, "vict_attempt"] = np.nan
    result = validate_rows(frame, response_schema(2025), source="responses_2025.csv")
    assert result.n_quarantined == 1
    assert "vict_attempt is required but empty" in result.quarantined["reason"].iloc[0]
    assert "98 (Ved ikke)" in result.quarantined["reason"].iloc[0]


def test_skipped_optional_item_is_allowed():
    frame = _frame()
    frame.loc[0, "trust_kommune"] = np.nan
    assert validate_rows(frame, response_schema(2025), source="r.csv").n_quarantined == 0


def test_missing_item_column_fails_the_file():
    frame = _frame().drop(columns=["korps_visit"])
    with pytest.raises(InputFileError, match="korps_visit"):
        validate_rows(frame, response_schema(2025), source="responses_2025.csv")


def test_2024_answers_against_the_2025_schema_fail_on_the_recoded_scale():
    # 2024 worry_burglary had a code 5 ("Aldrig"); in 2025 code 5 does not exist.
    frame = _frame(2024)
    frame["year"] = 2025
    assert (frame["worry_burglary"] == 5).any()
    frame_2025 = frame.assign(korps_visit=np.nan)
    result = validate_rows(frame_2025, response_schema(2025), source="r.csv")
    bad = result.quarantined
    assert set(bad["worry_burglary"]) == {5.0}
    assert bad["reason"].str.contains("worry_burglary").all()


def test_wrong_year_and_duplicate_ids_are_row_errors():
    frame = _frame()
    frame.loc[1, "year"] = 2024
    frame.loc[2, "resp_id"] = frame.loc[3, "resp_id"]
    frame.loc[4, "resp_id"] = "not-an-id"
    result = validate_rows(frame, response_schema(2025), source="r.csv")
    assert result.n_quarantined == 3
    text = " ".join(result.quarantined["reason"])
    assert "year must be 2025" in text and "16 hex" in text


def test_schema_is_generated_from_the_bank():
    inst = load_instrument(2025)
    schema = response_schema(2025)
    assert set(inst.item_ids) <= set(schema.columns)
    assert schema.columns["prev_safe_payment"].description.startswith("codes 1, 2, 3, 98, 99")


def test_the_response_loader_accepts_the_schema_and_quarantines_rows(tmp_path):
    from botrygt_eval.io.responses import load_responses

    frame = synthetic_responses(2025, 300, 2)
    frame.loc[4, "worry_burglary"] = 7
    frame.loc[10, "trust_police"] = 98  # valid
    path = tmp_path / "responses_2025.csv"
    frame.to_csv(path, index=False)
    result = load_responses(path, schema=response_schema)  # a function year -> schema
    assert result.n_quarantined == 1
    assert result.quarantined["source_row"].tolist() == [6]
    assert "worry_burglary" in result.quarantined["reason"].iloc[0]
    assert len(result.data) == 299
    assert str(result.data["worry_burglary"].dtype) == "Int64"  # codes stay integers


def test_back_year_file_in_a_later_layout():
    frame = _frame(2025).assign(year=2019)
    schema = response_schema(2019, instrument_year=2025)
    assert validate_rows(frame, schema, source="responses_2019.csv").n_quarantined == 0
    result = validate_rows(frame, response_schema(2025), source="r.csv")
    assert result.n_quarantined == len(frame)  # wrong year everywhere


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exactly_the_mutated_rows_are_quarantined(seed):
    """Random rows get an impossible code, an answer against routing or a blank required item."""
    inst = load_instrument(2025)
    frame = _frame(seed=100 + seed)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(frame), size=30, replace=False)
    kinds = rng.integers(0, 3, size=rows.size)
    items = np.array(inst.item_ids)
    not_asked = ~(frame["vict_burglary"].eq(1) | frame["vict_attempt"].eq(1)).to_numpy()
    mutated = []
    for row, kind in zip(rows, kinds, strict=True):  # 30 edits to build the test data
        if kind == 0:
            frame.loc[row, items[rng.integers(len(items))]] = 50 + int(rng.integers(40))
        elif kind == 1 and not_asked[row]:
            frame.loc[row, "vict_reported"] = 2
        elif kind == 2:
            frame.loc[row, ["vict_burglary", "vict_attempt"][int(rng.integers(2))]] = np.nan
        else:
            continue
        mutated.append(int(frame.loc[row, "source_row"]))
    result = validate_rows(frame, response_schema(2025), source="r.csv")
    assert sorted(result.quarantined["source_row"]) == sorted(mutated)
    assert len(result.data) == len(frame) - len(mutated)
