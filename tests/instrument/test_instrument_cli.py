"""`instrument build` writes every artefact for both languages; help shows an example."""

from __future__ import annotations

import pandas as pd
from pyxform.xls2xform import convert
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.instrument import load_instrument


def test_build_writes_all_artefacts(tmp_path):
    res = CliRunner().invoke(
        app,
        ["instrument", "build", "--year", "2025", "--out", str(tmp_path), "--kommune", "Aarhus"],
        env={"COLUMNS": "160"},
    )
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        [
            "borgerundersoegelse_2025_xlsform.xlsx",
            "questionnaire_2025_da.html",
            "questionnaire_2025_en.html",
            "codebook_2025.csv",
            "codebook_2025.html",
            "response_layout_2025.csv",
            "response_schema_2025.csv",
        ]
    )
    inst = load_instrument(2025)
    codebook = pd.read_csv(tmp_path / "codebook_2025.csv")
    assert list(codebook["variable"]) == list(inst.item_ids)
    assert (
        codebook.loc[codebook["variable"] == "vict_reported", "routing"].item()
        == "vict_burglary in {1} or vict_attempt in {1}"
    )
    assert (
        codebook.loc[codebook["variable"] == "worry_burglary", "outcome"].item()
        == "fear_burglary (1 if 1 or 2)"
    )
    assert codebook[["label_da", "label_en", "codes_da", "codes_en", "source"]].notna().all().all()
    layout = pd.read_csv(tmp_path / "response_layout_2025.csv")
    assert list(layout["column"]) == ["resp_id", "year", *inst.item_ids]
    assert (
        layout.loc[layout["column"] == "prev_safe_payment", "allowed_codes"].item() == "1,2,3,98,99"
    )
    assert convert(xlsform=str(tmp_path / "borgerundersoegelse_2025_xlsform.xlsx")).xform
    html = (tmp_path / "questionnaire_2025_da.html").read_text(encoding="utf-8")
    assert "Aarhus Kommune er dataansvarlig" in html
    codebook_html = (tmp_path / "codebook_2025.html").read_text(encoding="utf-8")
    assert (
        "<td>prev_nabohjaelp, prev_light_hedge, prev_secure_home, prev_safe_payment, prev_call_114</td>"
        in codebook_html
    )
    assert "built-in method" not in codebook_html


def test_build_is_reproducible(tmp_path):
    runner = CliRunner()
    for sub in ("a", "b"):
        res = runner.invoke(
            app, ["instrument", "build", "--year", "2024", "--out", str(tmp_path / sub)]
        )
        assert res.exit_code == 0, res.output
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_unknown_year_is_a_user_error(tmp_path):
    res = CliRunner().invoke(app, ["instrument", "build", "--year", "2019", "--out", str(tmp_path)])
    assert res.exit_code != 0
    assert "available years" in str(res.exception)


def test_help_shows_examples():
    runner = CliRunner()
    for cmd in ("build", "diff"):
        res = runner.invoke(app, ["instrument", cmd, "--help"], env={"COLUMNS": "200"})
        assert res.exit_code == 0
        assert f"Example: botrygt-eval instrument {cmd}" in res.output
