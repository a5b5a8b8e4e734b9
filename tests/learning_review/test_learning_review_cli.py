"""``botrygt-eval figures learning-review``: files, exit codes, the SIMULEREDE DATA footer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.learning_review.charts import figure_chart, save
from botrygt_eval.learning_review.figures import recompute
from botrygt_eval.learning_review.timeseries import _number
from botrygt_eval.simulate.learning_review import write_projektleder_responses

REF = Path(__file__).parents[1] / "reference" / "laeringsopsamling"
PUBLISHED = pd.read_csv(REF / "published_figures.csv")
FIGURES = sorted(PUBLISHED["figure"].unique())


@pytest.fixture(scope="module")
def responses(tmp_path_factory) -> Path:
    return write_projektleder_responses(
        tmp_path_factory.mktemp("survey") / "projektleder_2025.csv", seed=7
    )


@pytest.fixture(scope="module")
def run(responses, tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    res = CliRunner().invoke(
        app, ["figures", "learning-review", "--responses", str(responses), "--out", str(out)]
    )
    return res, out


def test_reproduces_every_published_number(run):
    res, out = run
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "figures.csv")
    assert list(table.columns) == [
        "figure", "item", "category", "published_pct", "recomputed_pct", "n", "matches",
    ]  # fmt: skip
    merged = PUBLISHED.merge(table, on=["figure", "item", "category"], suffixes=("", "_out"))
    assert len(merged) == len(PUBLISHED)
    assert (merged["published_pct"] == merged["published_pct_out"]).all()
    assert merged["matches"].all()


def test_writes_a_png_and_svg_per_chart_and_the_time_series(run):
    _, out = run
    for stem in [*FIGURES, "tidsserier"]:
        assert (out / f"{stem}.png").stat().st_size > 5_000, stem
        assert (out / f"{stem}.svg").exists()
    svg = (out / "aendringer.svg").read_text(encoding="utf-8")
    assert "SIMULEREDE DATA" in svg  # detected from the simulator's marker column
    table = pd.read_csv(out / "figures.csv")
    (n,) = table.loc[table["figure"] == "aendringer", "n"].unique()  # one shared base
    assert f"n = {n}." in svg
    ts = pd.read_csv(REF / "time_series.csv", dtype={"year": str})
    text = (out / "tidsserier.svg").read_text(encoding="utf-8")
    for row in ts[ts["year"].str.fullmatch(r"\d{4}")].itertuples():
        assert _number(row.value, "da", False) in text, row


def test_real_flag_removes_the_footer_and_the_table_is_reproducible(responses, run, tmp_path):
    _, first = run
    res = CliRunner().invoke(
        app,
        ["figures", "learning-review", "--responses", str(responses), "--out", str(tmp_path), "--real"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "SIMULEREDE DATA" not in (tmp_path / "styrket.svg").read_text(encoding="utf-8")
    assert (tmp_path / "figures.csv").read_bytes() == (first / "figures.csv").read_bytes()


def test_charts_are_byte_reproducible(responses, tmp_path):
    result = recompute(pd.read_csv(responses))
    for sub in ("a", "b"):
        save(figure_chart(result, "styrket"), tmp_path / sub, "styrket")
    for name in ("styrket.png", "styrket.svg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def _tamper(responses: Path, path: Path) -> Path:
    frame = pd.read_csv(responses, dtype=str)
    hit = frame.index[frame["engagement_politi"].isin(["1", "2"])][:3]
    frame.loc[hit, "engagement_politi"] = "4"
    hit = frame.index[frame["akt_reaktionsplaner"] == "2"][:2]
    frame.loc[hit, "akt_reaktionsplaner"] = "1"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def test_tampered_file_exits_2_naming_every_item(responses, tmp_path):
    # through the installed entry point: the root prints the error without a traceback, exit 2
    tampered = _tamper(responses, tmp_path / "in" / "projektleder_2025.csv")
    out = tmp_path / "out"
    code = "from botrygt_eval.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", code, "figures", "learning-review", "--responses", str(tampered),
         "--out", str(out)],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "400"}, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "do not reproduce the published ones" in proc.stderr
    for name in (
        "engagement_politi",
        "Kolleger i politiet",
        "akt_reaktionsplaner",
        "Reaktionsplaner",
    ):
        assert name in proc.stderr, name
    table = pd.read_csv(out / "figures.csv")  # written before failing, for inspection
    assert set(table.loc[~table["matches"], "item"]) == {"Kolleger i politiet", "Reaktionsplaner"}


def test_recompute_names_the_tampered_items(responses, tmp_path):
    from botrygt_eval.learning_review.spec import load_spec

    frame = pd.read_csv(_tamper(responses, tmp_path / "projektleder_2025.csv"))
    result = recompute(frame, load_spec())
    assert set(result.mismatches["column"]) == {"engagement_politi", "akt_reaktionsplaner"}


def test_help_shows_examples():
    runner = CliRunner()
    for cmd in ("learning-review", "grim"):
        res = runner.invoke(app, ["figures", cmd, "--help"], env={"COLUMNS": "200"})
        assert res.exit_code == 0
        assert "Example: botrygt-eval figures" in res.output


def test_a_new_round_is_charted_without_comparison(responses, tmp_path):
    tampered = _tamper(responses, tmp_path / "in" / "projektleder_2025_ny_runde.csv")
    res = CliRunner().invoke(
        app,
        ["figures", "learning-review", "--responses", str(tampered), "--out", str(tmp_path / "o"),
         "--no-compare"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "o" / "figures.csv")
    assert table["published_pct"].isna().all() and table["matches"].isna().all()
    frame = pd.read_csv(tampered)
    row = table[table["item"] == "Kolleger i politiet"].iloc[0]
    answered = frame["engagement_politi"].notna()
    assert row["n"] == answered.sum()
    assert row["recomputed_pct"] == pytest.approx(
        100 * frame.loc[answered, "engagement_politi"].isin([1, 2]).mean(), abs=0.005
    )
    assert (tmp_path / "o" / "engagement.png").exists()
