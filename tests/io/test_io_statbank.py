"""StatBank loaders on exports in the exact StatBank format (tests/fixtures/statbank/)."""

from pathlib import Path

import pandas as pd
import pytest

from botrygt_eval.errors import InputFileError
from botrygt_eval.io.statbank import (
    classify_areas,
    load_folk1a,
    load_households,
    load_straf10,
    load_straf11,
    read_statbank,
)

FIX = Path(__file__).parents[1] / "fixtures" / "statbank"


def test_straf11_danish_and_english_give_the_same_tidy_frame():
    da = load_straf11(FIX / "STRAF11_da.csv")
    en = load_straf11(FIX / "STRAF11_en.csv")
    pd.testing.assert_frame_equal(da.data, en.data)
    assert list(da.data.columns) == [
        "kommune_kode",
        "year",
        "quarter",
        "offence_code",
        "burglaries",
    ]
    assert str(da.data["burglaries"].dtype) == "Int64"
    assert da.data["kommune_kode"].dtype == "int64"
    # København, Frederiksberg, Lyngby-Taarbæk, Aarhus x 2 quarters; only offence 1320.
    assert sorted(set(da.data["kommune_kode"])) == [101, 147, 173, 751]
    assert set(da.data["offence_code"]) == {1320}
    kbh = da.data.set_index(["kommune_kode", "quarter"])["burglaries"]
    assert kbh[(101, 1)] == 512 and kbh[(101, 2)] == 430 and kbh[(751, 2)] == 190
    assert pd.isna(kbh[(147, 2)])  # the '..' cell stays missing


def test_straf11_totals_christiansoe_and_other_offences_are_set_aside_with_notes():
    res = load_straf11(FIX / "STRAF11_da.csv")
    assert res.n_quarantined == 0
    assert "encoding: UTF-8 with BOM" in res.notes
    assert "dropped 12 national/regional total rows and 4 Christiansø rows" in res.notes
    assert any(n.startswith("dropped 8 rows for other offences than 1320") for n in res.notes)
    assert "1 missing value ('..' or empty) kept as missing" in res.notes
    # Every input line is accounted for: 32 data lines = 8 kept + 24 set aside.
    assert len(res.data) + res.n_dropped == 32
    assert res.dropped["raw"].str.startswith("Hele landet").sum() == 4
    assert "set aside" in res.message()


def test_straf10_windows_1252_is_detected_and_said():
    res = load_straf10(FIX / "STRAF10_cp1252.csv")
    assert res.notes[0].startswith("encoding: Windows-1252")
    got = res.data.set_index(["kommune_kode", "year"])["burglaries"]
    assert got[(173, 2023)] == 151 and got[(492, 2024)] == 6  # Lyngby-Taarbæk, Ærø decoded
    assert pd.isna(got[(169, 2024)])
    assert list(res.data.columns) == ["kommune_kode", "year", "offence_code", "burglaries"]
    assert "dropped 4 national/regional total rows and 2 Christiansø rows" in res.notes


def test_folk1a_danish_and_english_agree_and_drop_totals():
    da = load_folk1a(FIX / "FOLK1A_da.csv")
    en = load_folk1a(FIX / "FOLK1A_en.csv")
    pd.testing.assert_frame_equal(da.data, en.data)
    assert list(da.data.columns) == ["kommune_kode", "year", "quarter", "sex", "age", "population"]
    assert len(da.data) == 2 * 2 * 3  # 2 kommuner x 2 sexes x ages 0, 1, 105
    assert set(da.data["sex"]) == {"male", "female"}
    assert sorted(set(da.data["age"])) == [0, 1, 105]
    row = da.data.query("kommune_kode == 101 and sex == 'male' and age == 105")
    assert row["population"].item() == 3000 + 7 * 105
    assert (
        da.data.query("kommune_kode == 492 and sex == 'female' and age == 105")["population"]
        .isna()
        .all()
    )
    assert "dropped 8 total rows in KØN" in da.notes and "dropped 4 total rows in ALDER" in da.notes
    assert "dropped 8 total rows in SEX" in en.notes
    assert len(da.data) + da.n_dropped == 48


def test_households_code_and_name_cells_and_decimal_comma():
    res = load_households(FIX / "FAM55N_da.csv")
    assert res.data.to_dict("list") == {
        "kommune_kode": [101, 147, 751],
        "year": [2024, 2024, 2024],
        "households": [345678, 56789, 170321],
    }
    assert "dropped 2 national/regional total rows and 1 Christiansø row" in res.notes


def test_broken_rows_are_quarantined_with_their_reason_and_original_line(tmp_path):
    res = load_straf11(FIX / "broken_rows.csv", quarantine_dir=tmp_path)
    assert res.data["kommune_kode"].tolist() == [101]
    reasons = dict(zip(res.quarantined["source_row"], res.quarantined["reason"], strict=True))
    assert reasons[4].startswith("OMRÅDE 'Narnia' is not a municipality")
    assert reasons[5] == "burglaries: count is negative (value -3)"
    assert reasons[6] == reasons[7] == "duplicated key (kommune_kode, year, quarter)"
    assert reasons[8] == "TID '2024X1' is not a period like 2025K1, 2025Q1 or 2025"
    assert reasons[9] == "INDHOLD '1,5' is not a whole number"
    assert reasons[10] == "INDHOLD 'abc' is not a number"
    raw = dict(zip(res.quarantined["source_row"], res.quarantined["raw"], strict=True))
    assert raw[4] == "Narnia;1320 Indbrud i beboelser;2024K1;7"
    written = pd.read_csv(tmp_path / "broken_rows.quarantine.csv")
    assert written["source_row"].tolist() == [4, 5, 6, 7, 8, 9, 10]
    assert str(tmp_path) in res.message() and "7 quarantined" in res.message()
    assert res.dropped["source_row"].tolist() == [2, 11]  # national total, Christiansø
    assert len(res.data) + res.n_quarantined + res.n_dropped == 10


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("broken_missing_column.csv", r"column\(s\) OVERTRÆD/TYPE OF OFFENCE missing in STRAF11"),
        ("broken_binary.csv", r"the file is binary, not text"),
        ("broken_encoding.csv", r"cannot decode byte 0x81 at position 3 as UTF-8 or Windows-1252"),
        ("broken_mojibake.csv", r"double-encoded"),
        (
            "broken_wide.csv",
            r"not a StatBank CSV export.*periods as columns.*"
            r"https://api\.statbank\.dk/v1/data/STRAF11/BULK\?lang=da&valuePresentation=Code&",
        ),
        ("no_such_file.csv", r"file not found"),
    ],
)
def test_unusable_files_raise_one_message_naming_file_problem_and_fix(name, pattern):
    with pytest.raises(InputFileError, match=pattern) as info:
        load_straf11(FIX / name)
    assert name in str(info.value)


def test_missing_indhold_and_unexpected_columns(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("OMRÅDE;OVERTRÆD;TID;ANTAL\n101;1320;2024K1;4\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no INDHOLD column"):
        load_straf11(path)
    path.write_text("OMRÅDE;OVERTRÆD;ENHED;TID;INDHOLD\n101;1320;A;2024K1;4\n101;1320;B;2024K1;4\n")
    with pytest.raises(InputFileError, match=r"unexpected column\(s\) ENHED"):
        load_straf11(path)
    # A column with one value only (e.g. a unit) is harmless and ignored.
    path.write_text("OMRÅDE;OVERTRÆD;ENHED;TID;INDHOLD\n101;1320;Antal;2024K1;4\n")
    assert load_straf11(path).data["burglaries"].tolist() == [4]


def test_period_of_the_wrong_kind_is_quarantined(tmp_path):
    path = tmp_path / "STRAF10.csv"
    path.write_text("OMRÅDE;OVERTRÆD;TID;INDHOLD\n101;1320;2024K1;4\n101;1320;2024;9\n")
    res = load_straf10(path)
    assert res.data["burglaries"].tolist() == [9]
    assert res.quarantined["reason"].tolist() == ["TID '2024K1' is a quarter; STRAF10 needs years"]


def test_no_burglary_rows_at_all_is_a_file_error(tmp_path):
    path = tmp_path / "STRAF11.csv"
    path.write_text("OMRÅDE;OVERTRÆD;TID;INDHOLD\n101;1310 Indbrud i forretninger;2024K1;4\n")
    with pytest.raises(InputFileError, match="no rows for offence 1320"):
        load_straf11(path)


def test_folk1a_without_marital_total_is_a_file_error(tmp_path):
    path = tmp_path / "FOLK1A.csv"
    path.write_text(
        "OMRÅDE;KØN;ALDER;CIVILSTAND;TID;INDHOLD\n101;Mænd;5 år;Ugift;2024K1;4\n"
        "101;Mænd;5 år;Gift/separeret;2024K1;0\n"
    )
    with pytest.raises(InputFileError, match="CIVILSTAND = I alt"):
        load_folk1a(path)


def test_folk1a_age_groups_and_unknown_sex_are_quarantined(tmp_path):
    path = tmp_path / "FOLK1A.csv"
    path.write_text(
        "OMRÅDE;KØN;ALDER;CIVILSTAND;TID;INDHOLD\n101;Mænd;0-4 år;I alt;2024K1;4\n"
        "101;Ukendt;5 år;I alt;2024K1;4\n101;Kvinder;5 år;I alt;2024K1;7\n"
        "101;Kvinder;5 år;Ugift;2024K1;3\n"
    )
    res = load_folk1a(path)
    assert res.data["population"].tolist() == [7]
    assert res.quarantined["reason"].tolist() == [
        "ALDER '0-4 år' is not a single year of age like '42 år' or '42 years'",
        "KØN 'Ukendt' is not Mænd/Kvinder (Men/Women)",
    ]
    assert "dropped 1 row by marital status (CIVILSTAND total used)" in res.notes


def test_area_classification():
    values = pd.Series(
        [
            "Hele landet",
            "All Denmark",
            "000",
            "081",
            "Region Sjælland",
            "Region Zealand",
            "Capital Region of Denmark",
            "Landsdel Østjylland",
            "04",
            "411",
            "Christiansø",
            "101 København",
            "Copenhagen",
            "0101",
            "Lyngby-Taarbæk",
            "Narnia",
            "999",
        ]
    )
    kinds, codes = classify_areas(values)
    assert kinds.tolist() == (
        ["national"] * 3 + ["region"] * 6 + ["christiansoe"] * 2 + ["kommune"] * 4 + ["unknown"] * 2
    )
    assert codes.tolist()[11:15] == [101, 101, 101, 173]


def test_read_statbank_reports_language_and_headings():
    da = read_statbank(FIX / "STRAF11_da.csv")
    en = read_statbank(FIX / "STRAF11_en.csv")
    assert (da.language, en.language) == ("da", "en")
    assert da.headings["area"] == "OMRÅDE" and en.headings["offence"] == "TYPE OF OFFENCE"
    assert {"area", "offence", "time", "value", "source_row"} == set(da.frame.columns)


def test_a_line_with_too_many_fields_is_quarantined(tmp_path):
    path = tmp_path / "STRAF11.csv"
    path.write_text(
        "OMRÅDE;OVERTRÆD;TID;INDHOLD\n101;1320;2024K1;4\n101;1320;2024K2;4;7\nAarhus;1320;2024K1;9\n"
    )
    res = load_straf11(path)
    assert res.data["burglaries"].tolist() == [4, 9]
    assert res.quarantined["source_row"].tolist() == [3]
    assert "5 fields but the header has 4" in res.quarantined["reason"].iloc[0]


def test_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "STRAF11.csv"
    empty.write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(InputFileError, match="the file is empty"):
        load_straf11(empty)
    header = tmp_path / "FAM55N.csv"
    header.write_text("OMRÅDE;TID;INDHOLD\n")
    res = load_households(header)
    assert res.data.empty and list(res.data.columns) == ["kommune_kode", "year", "households"]
