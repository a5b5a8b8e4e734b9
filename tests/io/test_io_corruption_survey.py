"""Corruptions specific to the survey files and the CLI readers (issue 16).

Answer codes outside the year's codebook, label columns, a workbook whose rows
continue on a second sheet, an unclosed quote in a large file, header-only
required tables, and zero-padded codes through ``weight`` and ``estimate``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.errors import InputFileError
from botrygt_eval.instrument.bank import load_instrument
from botrygt_eval.io import registers
from botrygt_eval.io.responses import ITEM_BANK, load_margins, load_responses
from botrygt_eval.io.workspace import load_workspace

FIX = Path(__file__).parents[1] / "fixtures" / "corruption"
RESPONSES = FIX / "survey__responses_2025.csv"


def _clean_responses(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    path = tmp_path / "responses_2025.csv"
    path.write_bytes(RESPONSES.read_bytes())
    return path, pd.read_csv(path, dtype=str, keep_default_na=False)


def test_an_answer_code_outside_the_codebook_is_quarantined(tmp_path):
    path, frame = _clean_responses(tmp_path)
    assert load_instrument(2025).allowed_codes("vict_burglary") == (1, 2, 98, 99)
    frame.loc[4, "vict_burglary"] = "7"  # a 7 in a yes/no item, line 6 of the file
    frame.to_csv(path, index=False)
    res = load_responses(path, schema=ITEM_BANK)
    assert res.quarantined["source_row"].tolist() == [6]
    reason = res.quarantined["reason"].iloc[0]
    assert "vict_burglary" in reason and "2025 codebook" in reason
    assert len(res.data) == len(frame) - 1
    # the default (no schema) only checks integer codes: the 7 loads there
    assert load_responses(path).n_quarantined == 0


def test_the_workspace_validates_answers_against_the_item_bank(tmp_path):
    survey = tmp_path / "survey"
    survey.mkdir()
    path, frame = _clean_responses(survey)
    frame.loc[2, "worry_burglary"] = "7"
    frame.to_csv(path, index=False)
    ws = load_workspace(tmp_path)
    (report,) = ws.reports
    assert report.quarantined["source_row"].tolist() == [4]
    assert "worry_burglary" in report.quarantined["reason"].iloc[0]


def test_a_label_column_is_recoded_through_the_codebook(tmp_path):
    path, frame = _clean_responses(tmp_path)
    clean = load_responses(path, schema=ITEM_BANK).data
    labels = {"1": "Ja", "2": "Nej", "98": "Ved ikke", "99": "Ønsker ikke at svare"}
    choices = {c.code: c.label["da"] for c in load_instrument(2025).all_choices("vict_burglary")}
    assert all(choices[int(k)] == v for k, v in labels.items())  # the labels of the codebook
    frame["vict_burglary"] = frame["vict_burglary"].map(labels).fillna("")
    frame.to_csv(path, index=False)
    res = load_responses(path, schema=ITEM_BANK)
    assert res.n_quarantined == 0
    pd.testing.assert_frame_equal(res.data, clean)
    assert any("recoded answer labels" in n for n in res.notes)


def test_a_text_column_is_refused_once_pointing_to_responses_import(tmp_path):
    path, frame = _clean_responses(tmp_path)
    frame["vict_burglary"] = "måske"
    frame.to_csv(path, index=False)
    with pytest.raises(InputFileError, match="vict_burglary hold text") as info:
        load_responses(path, schema=ITEM_BANK)
    assert "botrygt-eval responses import" in str(info.value) and str(path) in str(info.value)


def test_rows_continuing_on_a_second_sheet_are_read(tmp_path):
    csv_path, frame = _clean_responses(tmp_path)
    clean = load_responses(csv_path).data
    book = tmp_path / "responses_2025.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as xl:
        frame.iloc[:12].to_excel(xl, sheet_name="Ark1", index=False)
        frame.iloc[12:].to_excel(xl, sheet_name="Ark2", index=False)
    res = load_responses(book)
    pd.testing.assert_frame_equal(res.data, clean)
    assert res.lines == len(frame) and res.adds_up
    assert any("'Ark2' continues the table: its row 2 is source_row 14" in n for n in res.notes)


def test_a_sheet_with_other_headings_is_refused_not_skipped(tmp_path):
    _, frame = _clean_responses(tmp_path)
    book = tmp_path / "responses_2025.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as xl:
        frame.to_excel(xl, sheet_name="Data", index=False)
        pd.DataFrame({"note": ["exported 2025-11-02"]}).to_excel(xl, sheet_name="Info", index=False)
    with pytest.raises(InputFileError, match="sheet 'Info' has other headings"):
        load_responses(book)


def test_an_unclosed_quote_in_a_large_file_quarantines_one_line(tmp_path):
    """Before: '_csv.Error: field larger than field limit' (a traceback)."""
    path = tmp_path / "responses_2025.csv"
    rows = [f"{i:016x},2025,{1 + i % 4}" for i in range(12_000)]  # ~300,000 characters
    rows[5] = rows[5].replace(",2025", ',"2025')
    path.write_text("resp_id,year,worry_burglary\n" + "\n".join(rows) + "\n")
    res = load_responses(path)
    assert res.quarantined["source_row"].tolist() == [7]
    assert res.quarantined["reason"].iloc[0].startswith("unbalanced quote")
    assert len(res.data) == len(rows) - 1 and res.adds_up


def test_thousands_in_a_danish_margins_file_and_an_ambiguous_total(tmp_path):
    path = tmp_path / "margins_2025.csv"
    path.write_text(
        "variable;level;total\nkommune_kode;101;524.192\nkommune_kode;147;83098\n"
        "sex;female;1,000\nsex;male;2.500,5\n"
    )
    res = load_margins(path)
    assert res.data["total"].tolist() == [524192.0, 83098.0, 2500.5]
    assert res.quarantined["source_row"].tolist() == [4]
    assert "ambiguous" in res.quarantined["reason"].iloc[0]


def test_a_header_only_activity_log_is_refused_by_the_activities_command(tmp_path):
    for rel in ("statbank__STRAF11.csv", "statbank__FAM55N.csv", "registers__partnerships.csv"):
        folder, name = rel.split("__")
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_bytes((FIX / rel).read_bytes())
    (tmp_path / "registers" / "activities.csv").write_text(
        ",".join(registers.ACTIVITY_COLUMNS) + "\n"
    )
    res = CliRunner().invoke(app, ["activities", "--data", str(tmp_path), "--json", "o.json"])
    assert isinstance(res.exception, InputFileError)  # main() prints it and exits 2
    assert "activities.csv: the file holds only its header" in str(res.exception)


# --- codes stay text through the CLI readers -----------------------------------------------


def _regions(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(8)
    regions = np.repeat(["081", "082", "083"], 40)
    resp = pd.DataFrame(
        {
            "resp_id": [f"{i:016x}" for i in range(len(regions))],
            "region": regions,
            "design_weight": 50.0,
            "worried": (rng.random(len(regions)) < 0.3).astype(float),
        }
    )
    margins = pd.DataFrame(
        {
            "variable": "region",
            "level": ["081", "082", "083"],
            "total": [2000.0, 3000.0, 1000.0],
        }
    )
    r, m = tmp_path / "responses.csv", tmp_path / "margins.csv"
    resp.to_csv(r, index=False)
    margins.to_csv(m, index=False)
    return r, m


def test_weight_and_estimate_keep_081_as_081(tmp_path):
    r, m = _regions(tmp_path)
    out, est = tmp_path / "weighted.csv", tmp_path / "est.json"
    args = ["weight", "--responses", str(r), "--margins", str(m)]
    args += ["--design-weight", "design_weight", "--out", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    weighted = pd.read_csv(out, dtype=str)
    assert sorted(weighted["region"].unique()) == ["081", "082", "083"]
    totals = weighted.astype({"weight": float}).groupby("region")["weight"].sum()
    np.testing.assert_allclose(totals.to_numpy(), [2000.0, 3000.0, 1000.0])
    args = ["estimate", "--responses", str(out), "--weight", "weight", "--vars", "worried"]
    args += ["--by", "region", "--json", str(est)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    domains = {rec["domain"] for rec in json.loads(est.read_text())}
    assert domains == {"region=081", "region=082", "region=083"}


def test_read_table_turns_only_lossless_columns_into_numbers(tmp_path):
    from botrygt_eval.cli.sample import read_table

    path = tmp_path / "t.csv"
    path.write_text(
        "resp_id,region,kommune_kode,w,flag,note\n"
        "0001,081,101,1.5,True,a\n0002,082,147,NA,False,\n0003,,751,2,True,c\n"
    )
    t = read_table(path)
    assert t["resp_id"].tolist() == ["0001", "0002", "0003"]
    assert t["region"].tolist()[:2] == ["081", "082"] and pd.isna(t["region"].iloc[2])
    assert t["kommune_kode"].dtype.kind == "i" and t["kommune_kode"].tolist() == [101, 147, 751]
    assert t["w"].dtype.kind == "f" and np.isnan(t["w"].iloc[1])
    assert t["flag"].tolist() == [True, False, True]
    assert t["note"].iloc[0] == "a"


def test_well_formed_quoting_loads_and_counts_fields_outside_quotes(tmp_path):
    """A ';' inside a quoted value is not a separator; '""' inside quotes is one quote."""
    from botrygt_eval.io._common import read_delimited

    text = 'a;b;c\n"1";"";"x;y"\n"";"2";"3";""\n"1";"2";"3";"q"\n"a""b";2;3\n'
    frame, blank, bad = read_delimited(text, ";", tmp_path / "f.csv", "test")
    assert frame["source_row"].tolist() == [2, 3, 5]
    assert frame["c"].tolist() == ["x;y", "3", "3"] and frame["a"].tolist() == ["1", "", 'a"b']
    assert bad["source_row"].tolist() == [4] and "too many fields" in bad["reason"].iloc[0]
    assert blank == 0 and bad.attrs["physical_data_lines"] == 4


def test_xlsx_and_sav_account_for_every_row(tmp_path):
    import pyreadstat

    csv_path, frame = _clean_responses(tmp_path)
    clean = load_responses(csv_path).data
    codes = frame.copy()
    for col in frame.columns[1:]:
        codes[col] = pd.to_numeric(frame[col].replace("", None), errors="raise")
    codes = codes.astype({c: float for c in frame.columns[1:]})
    codes.loc[3, "worry_burglary"] = 7.5  # not a whole code: quarantined (row 5 / case 4)
    blank = pd.DataFrame([[np.nan] * len(codes.columns)], columns=codes.columns)
    with_blank = pd.concat([codes.iloc[:10], blank, codes.iloc[10:]], ignore_index=True)
    book = tmp_path / "responses_2025.xlsx"
    with_blank.to_excel(book, index=False, engine="openpyxl")
    res = load_responses(book)
    assert res.lines == len(with_blank) and res.adds_up
    assert res.quarantined["source_row"].tolist() == [5]
    assert res.dropped["source_row"].tolist() == [12]  # Excel row 12: the empty row
    pd.testing.assert_frame_equal(res.data, clean.drop(index=3).reset_index(drop=True))
    sav = tmp_path / "responses_2025.sav"
    pyreadstat.write_sav(codes, str(sav))
    res = load_responses(sav)
    assert res.lines == len(codes) and res.adds_up
    assert res.quarantined["source_row"].tolist() == [4]  # SPSS case number
    header_only = tmp_path / "h" / "responses_2025.xlsx"
    header_only.parent.mkdir()
    codes.iloc[:0].to_excel(header_only, index=False, engine="openpyxl")
    res = load_responses(header_only)
    assert res.lines == 0 and "only the header" in res.message()
