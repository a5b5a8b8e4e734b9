"""Platform exports of a known response file import back to exactly that file."""

from __future__ import annotations

import pandas as pd
import pytest

from botrygt_eval.errors import InputFileError
from botrygt_eval.instrument import load_instrument
from botrygt_eval.io.platforms import import_responses, write_responses
from botrygt_eval.simulate.responses import synthetic_responses
from botrygt_eval.simulate.writers import write_csv
from tests.io import platform_exports as px

N = 300


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """A valid responses_2025.csv (every code, 98/99, routing blanks) and its instrument."""
    inst = load_instrument(2025)
    frame = synthetic_responses(inst, N, seed=17, special_share=0.1, skip_share=0.05)
    path = write_csv(tmp_path_factory.mktemp("known") / "responses_2025.csv", frame)
    return inst, frame, path


LAYOUTS = {
    "odk": ("odk", "export.csv", px.write_odk),
    "kobo_da": ("kobo", "export.csv", px.write_kobo),
    "kobo_en_dot": (
        "kobo",
        "export.csv",
        lambda f, i, p: px.write_kobo(f, i, p, lang="en", sep="."),
    ),
    "surveyxact_csv": ("surveyxact", "export.csv", px.write_surveyxact_csv),
    "surveyxact_xml": ("surveyxact", "export.xml", px.write_surveyxact_xml),
    "spss": ("spss", "export.sav", px.write_spss),
    "stata": ("stata", "export.dta", px.write_stata),
    "stata_extended_missing": ("stata", "export.dta", px.write_stata_extended_missing),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_round_trip_is_byte_identical(layout, known, tmp_path):
    inst, frame, original = known
    platform, name, writer = LAYOUTS[layout]
    export = writer(frame, inst, tmp_path / name)
    result = import_responses(export, platform, 2025, quarantine_dir=tmp_path / "q")
    assert result.loaded.n_quarantined == 0, result.loaded.quarantined.head()
    out = write_responses(result, tmp_path / "responses_2025.csv")
    assert out.read_bytes() == original.read_bytes()
    assert len(result.data) == N
    # every physical row is accounted for: imported, quarantined or superseded
    assert len(result.data) + result.loaded.n_quarantined + len(result.superseded) == (
        result.n_input_rows
    )


def test_odk_meta_dropped_and_duplicate_superseded(known, tmp_path):
    inst, frame, _ = known
    export = px.write_odk(frame, inst, tmp_path / "odk.csv")
    result = import_responses(export, "odk", 2025)
    assert {"SubmissionDate", "KEY", "meta-instanceID", "start", "end"} <= set(result.meta_columns)
    # the earlier submission (last line of the file) lost to the later one
    assert len(result.superseded) == 1
    assert result.superseded.loc[0, "resp_id"] == frame.loc[0, "resp_id"]
    assert result.superseded.loc[0, "source_row"] == N + 2
    assert "superseded" in result.summary()


def test_surveyxact_free_text_set_aside_and_incomplete_loses(known, tmp_path):
    inst, frame, _ = known
    export = px.write_surveyxact_csv(frame, inst, tmp_path / "sx.csv")
    assert "ø".encode("iso-8859-1") in export.read_bytes()
    result = import_responses(export, "surveyxact", 2025)
    assert result.free_text_columns == ("kommentar",)
    assert "kommentar" not in result.data.columns
    assert {"respondentid", "statinternal_1", "closetime", "email"} <= set(result.meta_columns)
    assert result.superseded["complete"].tolist() == [False]
    out = write_responses(result, tmp_path / "responses_2025.csv")
    assert "Godt initiativ" not in out.read_text(encoding="utf-8")


def test_spss_file_codes_mapped_through_labels(known, tmp_path):
    inst, frame, _ = known
    export = px.write_spss(frame, inst, tmp_path / "x.sav")
    item = inst.items[3].id
    result = import_responses(export, "spss", 2025)
    assert (result.data[item] == 98).sum() == (frame[item] == 98).sum() > 0
    assert not result.data[item].isin([8, 9]).any()


def test_unmappable_value_quarantined_with_reason(known, tmp_path):
    inst, frame, _ = known
    export = px.write_kobo(frame, inst, tmp_path / "kobo.csv")
    text = export.read_text(encoding="utf-8").splitlines()
    col = text[0].split(";").index(f"grp_{inst.items[3].group}/{inst.items[3].id}")
    cells = text[5].split(";")
    cells[col] = "Måske"
    text[5] = ";".join(cells)
    export.write_text("\n".join(text) + "\n", encoding="utf-8")
    result = import_responses(export, "kobo", 2025, quarantine_dir=tmp_path / "q")
    q = result.loaded.quarantined
    assert len(q) == 1 and len(result.data) == N - 1
    assert len(result.data) + len(q) + len(result.superseded) == result.n_input_rows
    assert q.loc[0, "source_row"] == 6
    assert "'Måske' is not a code or label" in q.loc[0, "reason"]
    assert result.loaded.quarantine_path.exists()


def test_unknown_column_refused_unless_ignored(known, tmp_path):
    inst, frame, _ = known
    export = px.write_odk(frame, inst, tmp_path / "odk.csv")
    data = pd.read_csv(export, dtype=str, keep_default_na=False)
    data["weird_column"] = "x"
    data.to_csv(export, index=False)
    with pytest.raises(InputFileError, match="weird_column.*--ignore-columns"):
        import_responses(export, "odk", 2025)
    result = import_responses(export, "odk", 2025, ignore_columns=("weird_column",))
    assert len(result.data) == N


def test_missing_item_refused(known, tmp_path):
    inst, frame, _ = known
    path = px.write_odk(frame, inst, tmp_path / "odk.csv")
    data = pd.read_csv(path, dtype=str, keep_default_na=False)
    data = data.drop(columns=[c for c in data.columns if c.endswith(inst.items[-1].id)])
    data.to_csv(path, index=False)
    with pytest.raises(InputFileError, match=f"{inst.items[-1].id} are not in the export"):
        import_responses(path, "odk", 2025)


def test_wrong_year_quarantined(known, tmp_path):
    inst, frame, _ = known
    path = px.write_odk(frame.assign(year=2024), inst, tmp_path / "odk.csv")
    result = import_responses(path, "odk", 2025)
    assert len(result.data) == 0
    assert result.loaded.n_quarantined == N + 1
    assert "year '2024' is not 2025" in result.loaded.quarantined.loc[0, "reason"]


def test_cli_import_writes_file_quarantine_and_superseded(known, tmp_path):
    from typer.testing import CliRunner

    from botrygt_eval.cli import app

    inst, frame, original = known
    export = px.write_odk(frame, inst, tmp_path / "odk.csv")
    out = tmp_path / "survey" / "responses_2025.csv"
    args = ["responses", "import", str(export), "--from", "odk", "--year", "2025"]
    res = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes() == original.read_bytes()
    sup = pd.read_csv(tmp_path / "survey" / "quarantine" / "responses_2025.superseded.csv")
    assert sup["kept_row"].tolist() == [2]
    assert "dropped" in res.output and "SubmissionDate" in res.output


def test_cli_unknown_platform_is_a_message(known, tmp_path):
    import subprocess
    import sys

    inst, frame, _ = known
    export = px.write_odk(frame, inst, tmp_path / "odk.csv")
    res = subprocess.run(
        [sys.executable, "-m", "botrygt_eval.cli", "responses", "import", str(export),
         "--from", "qualtrics", "--year", "2025", "--out", str(tmp_path / "r.csv")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert res.returncode == 2
    assert "--from='qualtrics' is not a valid choice" in res.stderr
    assert "Traceback" not in res.stderr


def test_large_spss_file_round_trips(tmp_path):
    """16,000 cases (the size of a year's survey): pandas' to_numeric on pyreadstat's string
    column crashed the interpreter at this size, so string variables are never parsed as numbers."""
    inst = load_instrument(2025)
    frame = synthetic_responses(inst, 16_000, seed=5)
    original = write_csv(tmp_path / "responses_2025.csv", frame)
    export = px.write_spss(frame, inst, tmp_path / "big.sav")
    result = import_responses(export, "spss", 2025)
    out = write_responses(result, tmp_path / "out" / "responses_2025.csv")
    assert out.read_bytes() == original.read_bytes()


def test_kobo_xlsx_export_round_trips(known, tmp_path):
    inst, frame, original = known
    csv = px.write_kobo(frame, inst, tmp_path / "kobo.csv")
    xlsx = tmp_path / "kobo.xlsx"
    pd.read_csv(csv, sep=";", dtype=str, keep_default_na=False).to_excel(xlsx, index=False)
    result = import_responses(xlsx, "kobo", 2025)
    out = write_responses(result, tmp_path / "responses_2025.csv")
    assert out.read_bytes() == original.read_bytes()


def test_surveyxact_only_incomplete_session_is_kept_and_noted(known, tmp_path):
    inst, frame, _ = known
    export = px.write_surveyxact_csv(frame, inst, tmp_path / "sx.csv")
    data = pd.read_csv(export, sep=";", dtype=str, keep_default_na=False, encoding="iso-8859-1")
    data.loc[1, "closetime"] = ""  # respondent 2 never pressed 'finish'
    data.to_csv(export, sep=";", index=False, encoding="iso-8859-1")
    result = import_responses(export, "surveyxact", 2025)
    assert len(result.data) == N
    assert any("1 incomplete submission kept" in n for n in result.loaded.notes)


def test_instrument_year_for_a_form_of_another_year(tmp_path):
    """A 2025 collection made with the 2024 form imports with --instrument 2024 only."""
    inst24 = load_instrument(2024)
    frame = synthetic_responses(inst24, 50, seed=8).assign(year=2025)
    original = write_csv(tmp_path / "responses_2025.csv", frame)
    export = px.write_odk(frame, inst24, tmp_path / "odk.csv")
    with pytest.raises(InputFileError, match="--instrument"):
        import_responses(export, "odk", 2025)
    result = import_responses(export, "odk", 2025, instrument_year=2024)
    out = write_responses(result, tmp_path / "out" / "responses_2025.csv")
    assert out.read_bytes() == original.read_bytes()


def test_wrong_platform_for_file_type_names_the_right_one(known, tmp_path):
    inst, frame, _ = known
    export = px.write_spss(frame, inst, tmp_path / "x.sav")
    with pytest.raises(InputFileError, match="use --from spss"):
        import_responses(export, "odk", 2025)
