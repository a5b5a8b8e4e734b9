"""Row-level validation: bad rows are quarantined with a reason, never lost."""

import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botrygt_eval.errors import InputFileError
from botrygt_eval.io.quarantine import validate_rows

SCHEMA = pa.DataFrameSchema(
    {
        "kommune_kode": pa.Column(int, coerce=True),
        "count": pa.Column(int, pa.Check.ge(0), coerce=True),
    },
    unique=["kommune_kode"],
)


def _frame(counts, codes=None):
    codes = codes if codes is not None else list(range(len(counts)))
    return pd.DataFrame(
        {"kommune_kode": codes, "count": counts, "source_row": range(2, len(counts) + 2)}
    )


def test_negative_and_non_numeric_rows_are_quarantined_with_reasons(tmp_path):
    res = validate_rows(
        _frame(["3", "-1", "x", "4"]), SCHEMA, source="f.csv", quarantine_dir=tmp_path
    )
    assert res.data["count"].tolist() == [3, 4]
    reasons = dict(zip(res.quarantined["source_row"], res.quarantined["reason"], strict=True))
    assert "greater_than_or_equal_to(0)" in reasons[3]
    assert "coerce_dtype" in reasons[4]
    written = pd.read_csv(tmp_path / "f.quarantine.csv")
    assert written["source_row"].tolist() == [3, 4]
    assert "2 quarantined" in res.message()


def test_duplicated_keys_quarantine_every_copy():
    res = validate_rows(_frame([1, 2, 3], codes=[7, 7, 8]), SCHEMA, source="f.csv")
    assert res.data["kommune_kode"].tolist() == [8]
    assert res.quarantined["source_row"].tolist() == [2, 3]


def test_missing_column_is_a_file_error_naming_the_file_and_column():
    with pytest.raises(InputFileError, match=r"f\.csv: required column\(s\) count"):
        validate_rows(
            pd.DataFrame({"kommune_kode": [1], "source_row": [2]}), SCHEMA, source="f.csv"
        )


def test_nothing_is_written_without_a_quarantine_dir(tmp_path):
    res = validate_rows(_frame([-1]), SCHEMA, source="f.csv")
    assert res.quarantine_path is None and res.n_quarantined == 1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.integers(-5, 50), st.just("bad")), min_size=1, max_size=40))
def test_no_row_is_lost(counts):
    res = validate_rows(_frame(counts), SCHEMA, source="f.csv")
    assert len(res.data) + len(res.quarantined) == len(counts)
    assert sorted(res.data["source_row"].tolist() + res.quarantined["source_row"].tolist()) == list(
        range(2, len(counts) + 2)
    )
