"""The municipality table and its lookups, checked against the shared reference file."""

from pathlib import Path

import pandas as pd
import pytest

from botrygt_eval.errors import UnknownMunicipalityError
from botrygt_eval.reference import (
    kommune_codes,
    kommune_name,
    kommuner,
    politikreds_of,
    to_kommune_kode,
)

SHARED = Path(__file__).resolve().parent / "reference" / "denmark" / "kommuner.csv"


def test_package_data_equals_the_reference_file():
    ours = kommuner()
    ref = pd.read_csv(SHARED)
    pd.testing.assert_frame_equal(ours, ref, check_dtype=False)


def test_98_kommuner_5_regions_12_police_districts():
    df = kommuner()
    assert len(df) == 98
    assert df["kommune_kode"].is_unique
    assert df["region"].nunique() == 5
    assert df["politikreds"].nunique() == 12
    assert 411 not in kommune_codes()  # Christiansø is not a municipality


@pytest.mark.parametrize(
    "value, code",
    [
        (101, 101),
        ("101", 101),
        ("0101", 101),
        ("København", 101),
        ("københavn kommune", 101),
        ("Lyngby-Taarbæk", 173),
        ("Lyngby–Taarbæk", 173),
        ("Aarhus", 751),
        (" Aalborg ", 851),
        ("Copenhagen", 101),
    ],
)
def test_lookup_by_code_or_name(value, code):
    assert to_kommune_kode(value) == code


def test_every_name_round_trips():
    df = kommuner()
    assert [to_kommune_kode(n) for n in df["kommune"]] == df["kommune_kode"].tolist()


@pytest.mark.parametrize("value", ["Christiansø", "411", "999", "Atlantis", ""])
def test_unknown_values_raise_a_named_error(value):
    with pytest.raises(UnknownMunicipalityError) as info:
        to_kommune_kode(value)
    assert repr(value.strip()) in str(info.value)


def test_name_and_police_district():
    assert kommune_name("101") == "København"
    assert politikreds_of(751) == "Østjyllands Politi"
