"""Register loaders: partnerships, activities, Nabohjælp (tests/fixtures/registers/)."""

from pathlib import Path

import pandas as pd
import pytest

from botrygt_eval.errors import InputFileError
from botrygt_eval.io.registers import load_activities, load_nabohjaelp, load_partnerships

FIX = Path(__file__).parents[1] / "fixtures" / "registers"


def _reasons(res):
    return dict(zip(res.quarantined["source_row"], res.quarantined["reason"], strict=True))


def test_partnerships_iso_and_danish_excel_give_the_same_frame():
    iso = load_partnerships(FIX / "partnerships.csv")
    excel = load_partnerships(FIX / "partnerships_excel_da.csv")
    pd.testing.assert_frame_equal(iso.data, excel.data)
    assert any("Danish Excel" in n for n in excel.notes)
    data = iso.data
    assert data["kommune_kode"].tolist() == [101, 751, 173, 173]  # name mapped to 173
    assert data["signed_date"].iloc[1] == pd.Timestamp("2018-11-15")
    assert pd.isna(data["end_date"].iloc[0])  # open-ended
    assert data["burglary_target_pct"].iloc[1] == -20.5
    assert pd.isna(data["fear_target_pct"].iloc[1])
    assert str(data["nabohjaelp_target"].dtype) == "Int64"


def test_partnerships_broken_rows(tmp_path):
    res = load_partnerships(FIX / "partnerships_broken.csv", quarantine_dir=tmp_path)
    assert res.data["kommune_kode"].tolist() == [101]
    r = _reasons(res)
    assert r[3].startswith("kommune_kode: '999' is not one of the 98 municipality codes")
    assert r[4] == "end_date is before signed_date"
    assert r[5] == "signed_date '2019-13-45' is not a date (use YYYY-MM-DD)"
    assert r[6] == "nabohjaelp_target: count is negative (value -5)"
    assert r[7] == r[8] and r[7].startswith("overlaps another partnership of the same kommune")
    assert r[9] == "baseline_year is after the year the partnership was signed"
    assert (tmp_path / "partnerships_broken.quarantine.csv").is_file()
    assert res.quarantined["raw"].iloc[0] == "999,2019-03-01,,2018,-25,5000,15"


def test_consecutive_partnerships_of_one_kommune_are_fine(tmp_path):
    path = tmp_path / "partnerships.csv"
    path.write_text(
        "kommune_kode,signed_date,end_date,baseline_year,burglary_target_pct,nabohjaelp_target,"
        "fear_target_pct\n101,2019-01-01,2020-12-31,2018,-20,10,\n101,2021-01-01,,2020,-10,10,\n"
        "101,2020-06-01,2020-07-01,2019,-10,10,\n"
    )
    res = load_partnerships(path)
    # The third lies inside the first: both are quarantined, the second is kept.
    assert res.data["signed_date"].tolist() == [pd.Timestamp("2021-01-01")]
    assert res.quarantined["source_row"].tolist() == [2, 4]


def test_activities_normalise_spellings_and_keep_empty_reach_and_cost():
    res = load_activities(FIX / "activities.csv")
    assert res.n_quarantined == 0
    assert res.data["activity_type"].tolist() == [
        "kampagne",
        "tryghedsvandring",
        "borgermoede",
        "bo_trygt_korps",
        "nabohjaelp_rekruttering",
    ]
    assert res.data["kommune_kode"].tolist()[2] == 751  # "Aarhus"
    assert pd.isna(res.data["reach"].iloc[2]) and pd.isna(res.data["cost_dkk"].iloc[1])
    assert res.data["cost_dkk"].iloc[0] == 120000.5


def test_activities_broken_rows():
    res = load_activities(FIX / "activities_broken.csv")
    r = _reasons(res)
    assert r[2] == r[6] == "duplicated key (activity_id)"
    assert r[3].startswith("activity_type: activity_type is not in the vocabulary (kampagne,")
    assert r[3].endswith("(value 'yoga')")
    assert r[4] == "end_date is before start_date"
    assert r[5] == "start_date is empty"
    assert r[7] == "reach: count is negative (value -1)"
    assert len(res.data) == 0


def test_nabohjaelp_good_and_broken():
    good = load_nabohjaelp(FIX / "nabohjaelp.csv")
    assert good.data.to_dict("list") == {
        "kommune_kode": [101, 101, 751],
        "year": [2023, 2024, 2024],
        "members": [4100, 4650, 2010],
    }
    r = _reasons(load_nabohjaelp(FIX / "nabohjaelp_broken.csv"))
    assert r[2] == r[3] == "duplicated key (kommune_kode, year)"
    assert r[4] == "members: count is negative (value -3)"
    assert r[5].startswith("kommune_kode: 'Narnia' is not the name of a Danish municipality")
    assert r[6] == "year '24x' is not a number"


def test_missing_column_names_the_file_the_column_and_the_fix():
    with pytest.raises(InputFileError) as info:
        load_nabohjaelp(FIX / "nabohjaelp_missing_column.csv")
    text = str(info.value)
    assert "nabohjaelp_missing_column.csv" in text
    assert "required column(s) kommune_kode missing" in text
    assert "found: kommune, year, members" in text and "rename or add them" in text


def test_extra_columns_are_ignored_with_a_note(tmp_path):
    path = tmp_path / "nabohjaelp.csv"
    path.write_text("kommune_kode,year,members,comment\n101,2024,5,ok\n")
    res = load_nabohjaelp(path)
    assert "ignored extra column(s): comment" in res.notes
    assert list(res.data.columns) == ["kommune_kode", "year", "members"]


def test_a_line_with_too_many_fields_is_quarantined_not_the_whole_file(tmp_path):
    path = tmp_path / "nabohjaelp.csv"
    path.write_text("kommune_kode,year,members\n101,2023,5\n101,2024,1,5\n751,2024,7\n")
    res = load_nabohjaelp(path)
    assert res.data["members"].tolist() == [5, 7]
    assert res.quarantined["source_row"].tolist() == [3]
    assert (
        res.quarantined["reason"].iloc[0].startswith("the line has 4 fields but the header has 3")
    )
    assert res.quarantined["raw"].iloc[0] == "101,2024,1,5"


def test_a_stale_quarantine_file_is_removed_when_the_data_are_clean(tmp_path):
    qdir = tmp_path / "q"
    path = tmp_path / "nabohjaelp.csv"
    path.write_text("kommune_kode,year,members\n101,2023,-5\n")
    assert load_nabohjaelp(path, quarantine_dir=qdir).quarantine_path.is_file()
    path.write_text("kommune_kode,year,members\n101,2023,5\n")
    res = load_nabohjaelp(path, quarantine_dir=qdir)
    assert res.quarantine_path is None and not (qdir / "nabohjaelp.quarantine.csv").exists()
