"""StatBank loaders on DST's real layouts (tests/fixtures/statbank_real/, see its README).

Every layout the API serves (CSV and BULK x Code/Value/CodeAndValue x da/en, and
JSON-stat) must give the same tidy frame as the Code-form CSV; BULK's left-out zero
cells come back as 0, ``..`` stays missing, and totals and ``Uoplyst kommune`` are
set aside by name. The web table download is refused with the API call to use.
"""

import itertools
from pathlib import Path

import pandas as pd
import pytest

from botrygt_eval.errors import InputFileError
from botrygt_eval.io.statbank import (
    api_url,
    load_folk1a,
    load_households,
    load_straf10,
    load_straf11,
)
from botrygt_eval.reference import to_kommune_kode

FIX = Path(__file__).parents[1] / "fixtures" / "statbank_real"
LOADERS = {
    "STRAF11": (load_straf11, ["kommune_kode", "year", "quarter"]),
    "STRAF10": (load_straf10, ["kommune_kode", "year"]),
    "FOLK1A": (load_folk1a, ["kommune_kode", "year", "quarter", "sex", "age"]),
    "FAM55N": (load_households, ["kommune_kode", "year"]),
}
LAYOUTS = [
    f"{fmt}_{pres}_{lang}.csv"
    for fmt, pres, lang in itertools.product(
        ["CSV", "BULK"], ["Code", "Value", "CodeAndValue"], ["da", "en"]
    )
] + ["JSONSTAT_da.json", "JSONSTAT_en.json"]


def _tidy(table: str, name: str) -> pd.DataFrame:
    loader, keys = LOADERS[table]
    # a BULK file is declared as such (bulk=True; the fetcher's sidecar does it too)
    res = loader(FIX / f"{table}_{name}", bulk=True if "BULK" in name else None)
    assert res.n_quarantined == 0, res.quarantined
    return res.data.sort_values(keys).reset_index(drop=True)


@pytest.mark.parametrize(("table", "layout"), list(itertools.product(LOADERS, LAYOUTS)))
def test_every_real_layout_gives_the_code_form_numbers(table, layout):
    reference = _tidy(table, "CSV_Code_da.csv")
    pd.testing.assert_frame_equal(_tidy(table, layout), reference)


def test_straf11_reference_numbers_zero_quarters_missing_and_set_aside():
    res = load_straf11(FIX / "STRAF11_CSV_Code_da.csv")
    got = res.data.set_index(["kommune_kode", "quarter"])["burglaries"]
    laesoe, fanoe, aeroe = (to_kommune_kode(n) for n in ("Læsø", "Fanø", "Ærø"))
    assert got[(101, 1)] == 512 and got[(101, 2)] == 430
    assert got[(laesoe, 1)] == 0 and got[(laesoe, 2)] == 1
    assert got[(fanoe, 1)] == 0 and pd.isna(got[(fanoe, 2)])
    assert got[(aeroe, 1)] == 2 and got[(aeroe, 2)] == 0
    assert sorted(set(res.data["kommune_kode"])) == sorted([101, laesoe, fanoe, aeroe])
    reasons = res.dropped["reason"].value_counts()
    assert (
        reasons["Uoplyst kommune (998): offences whose municipality is unknown, out of scope"] == 2
    )
    assert reasons["Christiansø (411) is not a municipality"] == 2
    assert "dropped 4 national/regional total rows and 2 Christiansø rows and 2 " in " ".join(
        res.notes
    )
    # 16 data lines: 8 loaded + 8 set aside; nothing to fill in a CSV.
    assert len(res.data) + res.n_dropped == 16
    assert not any(n.startswith("filled") for n in res.notes)


def test_bulk_zero_cells_are_filled_and_said_in_the_notes():
    res = load_straf11(FIX / "STRAF11_BULK_Code_da.csv", bulk=True)
    # BULK left out Læsø K1, Fanø K1, Ærø K2 (and Christiansø, which is set aside anyway).
    filled = [n for n in res.notes if n.startswith("filled")]
    assert filled and filled[0].startswith("filled 3 absent cells (kommune_kode x year/quarter)")
    assert "BULK" in filled[0] and "'..' cells stay missing" in filled[0]
    lines = len((FIX / "STRAF11_BULK_Code_da.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert len(res.data) - 3 + res.n_dropped + res.n_quarantined == lines


def test_folk1a_age_total_is_set_aside_not_quarantined():
    for name in ("CSV_Value_da.csv", "CSV_Value_en.csv", "CSV_CodeAndValue_da.csv"):
        res = load_folk1a(FIX / f"FOLK1A_{name}")
        assert res.n_quarantined == 0
        assert any(n.startswith("dropped 4 total rows in ALDER") for n in res.notes), res.notes
    res = load_folk1a(FIX / "FOLK1A_CSV_Code_da.csv")
    row = res.data.query("kommune_kode == 101 and sex == 'female' and age == 125")
    assert row["population"].isna().all()  # '..' stays missing
    laesoe = to_kommune_kode("Læsø")
    assert res.data.query(f"kommune_kode == {laesoe} and age == 125")["population"].sum() == 0
    assert len(res.data) == 2 * 2 * 3


def test_fam55n_is_summed_over_household_variables_and_noted():
    res = load_households(FIX / "FAM55N_CSV_Code_da.csv")
    got = res.data.set_index("kommune_kode")["households"]
    assert got[101] == 190000 + 30678 + 125000
    assert got[to_kommune_kode("Læsø")] == 420 + 12 + 610
    assert list(got.index) == [101, to_kommune_kode("Læsø")]
    note = next(n for n in res.notes if n.startswith("summed households over"))
    assert "HUSTYP x HUSSTØR x ANTBORNH" in note
    assert len(res.data) + res.n_dropped == 32  # every line: loaded, or added into a loaded line
    assert (
        res.dropped["reason"].str.startswith("added into the household count on line").sum() == 14
    )


def test_fam55n_sum_with_a_missing_part_is_missing(tmp_path):
    path = tmp_path / "FAM55N.csv"
    path.write_text(
        "OMRÅDE;HUSTYP;TID;INDHOLD\n101;1;2024;5\n101;2;2024;..\n147;1;2024;3\n147;2;2024;4\n"
    )
    res = load_households(path)
    got = res.data.set_index("kommune_kode")["households"]
    assert pd.isna(got[101]) and got[147] == 7
    assert "1 sum missing because a part is '..'" in res.notes


@pytest.mark.parametrize("table", list(LOADERS))
def test_web_pivot_download_is_refused_with_the_exact_api_call(table):
    loader, _ = LOADERS[table]
    with pytest.raises(InputFileError) as info:
        loader(FIX / f"{table}_web_pivot.csv")
    message = str(info.value)
    assert f"{table}_web_pivot.csv" in message and "periods as columns" in message
    assert api_url(table) in message
    assert api_url(table).startswith(f"https://api.statbank.dk/v1/data/{table}/BULK?lang=da&")


def test_api_url_selects_what_the_loaders_need():
    assert api_url("STRAF11") == (
        "https://api.statbank.dk/v1/data/STRAF11/BULK?lang=da&valuePresentation=Code"
        "&OMR%C3%85DE=*&OVERTR%C3%86D=1320&Tid=*"
    )
    assert "CIVILSTAND=TOT" in api_url("FOLK1A") and "K%C3%98N=1,2" in api_url("FOLK1A")


def test_code_and_value_kommune_everywhere():
    assert to_kommune_kode("101 København") == 101
    assert to_kommune_kode("851 Aalborg") == 851
    with pytest.raises(Exception, match="code 101 is not 'Aarhus'"):
        to_kommune_kode("101 Aarhus")


def test_zero_fill_does_not_guess_cells_a_quarantined_line_may_hold(tmp_path):
    path = tmp_path / "STRAF11.csv"
    path.write_text(
        "OMRÅDE;OVERTRÆD;TID;INDHOLD\n101;1320;2024K1;5\n101;1320;2024K2;6\n"
        "147;1320;2024K1;3\n147;1320;2024X2;4\n751;1320;2024K2;9\n"
    )
    res = load_straf11(path, bulk=True)
    got = res.data.set_index(["kommune_kode", "quarter"])["burglaries"]
    assert got[(751, 1)] == 0  # left out: filled
    assert (147, 2) not in got.index  # the bad line 5 may be Frederiksberg K2: not guessed
    assert "1 absent cell not filled with 0 because a quarantined line may hold them" in res.notes


def test_code_and_value_kommune_in_registers_and_sample(tmp_path):
    from botrygt_eval.io.registers import load_nabohjaelp
    from botrygt_eval.io.responses import load_sample

    reg = tmp_path / "nabohjaelp.csv"
    reg.write_text("kommune_kode,year,members\n101 København,2024,4650\n751 Aarhus,2024,3000\n")
    res = load_nabohjaelp(reg)
    assert res.n_quarantined == 0 and res.data["kommune_kode"].tolist() == [101, 751]
    sample = (Path(__file__).parents[1] / "fixtures" / "survey" / "sample_2025.csv").read_text()
    path = tmp_path / "sample_2025.csv"
    path.write_text(sample.replace(",101,", ",101 København,"))
    plain = load_sample(Path(__file__).parents[1] / "fixtures" / "survey" / "sample_2025.csv")
    coded = load_sample(path)
    assert coded.n_quarantined == plain.n_quarantined
    pd.testing.assert_frame_equal(coded.data, plain.data)


def test_absent_cells_are_filled_only_when_the_file_is_known_to_be_bulk(tmp_path):
    bulk = (FIX / "STRAF11_BULK_Code_da.csv").read_bytes()
    path = tmp_path / "STRAF11.csv"
    path.write_bytes(bulk)
    res = load_straf11(path)  # nothing says BULK: a CSV with lost lines must not become zeros
    assert len(res.data) == 5
    assert any(
        n.startswith("3 absent cells (kommune_kode x year/quarter) left absent") for n in res.notes
    )
    (tmp_path / "STRAF11.json").write_text('{"request": {"format": "BULK"}}', encoding="utf-8")
    res = load_straf11(path)  # the sidecar of 'fetch statbank' says BULK
    assert len(res.data) == 8
    assert (
        "StatBank BULK format (from the sidecar STRAF11.json): cells whose value is 0 are absent"
        in res.notes
    )
    assert load_straf11(path, bulk=False).data.shape[0] == 5


def test_jsonstat_1x_bundle_and_sparse_values_read_alike(tmp_path):
    import json

    doc = json.loads((FIX / "STRAF11_JSONSTAT_da.json").read_text(encoding="utf-8"))
    dims = dict(doc["dimension"], id=doc["id"], size=doc["size"])
    bundle = {"dataset": {"label": doc["label"], "dimension": dims, "value": doc["value"]}}
    (tmp_path / "v1.json").write_text(json.dumps(bundle), encoding="utf-8")
    # object form: a position left out is null (JSON-stat 2.0), like ".."
    sparse = dict(doc, value={str(i): v for i, v in enumerate(doc["value"]) if v is not None})
    (tmp_path / "sparse.json").write_text(json.dumps(sparse), encoding="utf-8")
    ref = _tidy("STRAF11", "CSV_Code_da.csv")
    for name in ("v1.json", "sparse.json"):
        res = load_straf11(tmp_path / name)
        got = res.data.sort_values(["kommune_kode", "year", "quarter"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, ref)


def test_broken_jsonstat_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "STRAF11.json"
    path.write_text(
        '{"version": "2.0", "class": "dataset", "id": ["A"], "size": [2],'
        ' "dimension": {"A": {"category": {"index": ["1", "2"]}}}, "value": [1]}'
    )
    with pytest.raises(InputFileError, match="JSON-stat has 1 values but its dimensions give 2"):
        load_straf11(path)
    path.write_text('{"rows": []}')
    with pytest.raises(InputFileError, match="JSON but not a JSON-stat dataset"):
        load_straf11(path)
