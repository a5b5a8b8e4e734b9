"""The pandera schemas on their own: what passes, and the message each check gives."""

import pandas as pd
import pytest
from pandera.errors import SchemaErrors

from botrygt_eval.io import schemas


def _errors(schema, frame) -> set[str]:
    with pytest.raises(SchemaErrors) as info:
        schema.validate(frame, lazy=True)
    return set(info.value.failure_cases["check"].astype(str))


def test_burglaries_quarterly():
    good = pd.DataFrame(
        {
            "kommune_kode": [101, 101],
            "year": [2024, 2024],
            "quarter": [1, 2],
            "offence_code": [1320, 1320],
            "burglaries": pd.array([5, None], dtype="Int64"),
        }
    )
    schemas.BURGLARIES_QUARTERLY.validate(good)
    bad = good.assign(kommune_kode=[411, 101], quarter=[1, 5], burglaries=[-1, 0])
    assert _errors(schemas.BURGLARIES_QUARTERLY, bad) == {
        "not one of the 98 municipality codes",
        "quarter must be 1-4",
        "count is negative",
    }
    dup = good.assign(quarter=[1, 1])
    assert "multiple_fields_uniqueness" in _errors(schemas.BURGLARIES_QUARTERLY, dup)


def test_partnerships_cross_column_checks():
    frame = pd.DataFrame(
        {
            "kommune_kode": [101, 751],
            "signed_date": pd.to_datetime(["2019-03-01", "2020-01-01"]),
            "end_date": pd.to_datetime([None, "2019-01-01"]),
            "baseline_year": [2018, 2021],
            "burglary_target_pct": [-25.0, -10.0],
            "nabohjaelp_target": pd.array([100, None], dtype="Int64"),
            "fear_target_pct": [15.0, None],
        }
    )
    assert _errors(schemas.PARTNERSHIPS, frame) == {
        "end_date is before signed_date",
        "baseline_year is after the year the partnership was signed",
    }
    schemas.PARTNERSHIPS.validate(frame.iloc[:1])


def test_survey_sample_weights_and_age_bands():
    frame = pd.DataFrame(
        {
            "resp_id": ["0a1b2c3d4e5f6071", "1b2c3d4e5f607182"],
            "year": [2025, 2025],
            "kommune_kode": [101, 101],
            "sex": ["male", "female"],
            "age": [29, 30],
            "age_band": ["18-29", "18-29"],
            "incl_prob": [0.01, 0.01],
            "design_weight": [100.0, 90.0],
            "stratum_population": [5000, 5000],
            "responded": [1, 0],
        }
    )
    assert _errors(schemas.SURVEY_SAMPLE, frame) == {
        "age_band does not match age",
        "design_weight is not 1/incl_prob",
    }
    schemas.SURVEY_SAMPLE.validate(frame.iloc[:1])


def test_default_response_schema_requires_its_items():
    schema = schemas.response_schema(["worry_burglary"])
    frame = pd.DataFrame(
        {"resp_id": ["0a1b2c3d4e5f6071"], "year": [2025], "worry_burglary": pd.array([98])}
    )
    schema.validate(frame)
    with pytest.raises(SchemaErrors):
        schema.validate(frame.drop(columns="worry_burglary"), lazy=True)
    assert schemas.ACTIVITY_TYPES[0] == "kampagne" and len(schemas.ACTIVITY_TYPES) == 11


def test_rounded_weights_pass_but_wrong_ones_do_not():
    frame = pd.DataFrame(
        {
            "resp_id": ["0a1b2c3d4e5f6071", "1b2c3d4e5f607182"],
            "year": [2025, 2025],
            "kommune_kode": [101, 101],
            "sex": ["male", "female"],
            "age": [40, 41],
            "age_band": ["30-44", "30-44"],
            "incl_prob": [0.0033333, 0.0033333],  # 1/300 written with 5 significant digits
            "design_weight": [300.0, 301.0],
            "stratum_population": [5000, 5000],
            "responded": [1, 0],
        }
    )
    with pytest.raises(SchemaErrors) as info:
        schemas.SURVEY_SAMPLE.validate(frame, lazy=True)
    assert info.value.failure_cases["index"].dropna().unique().tolist() == [1]
