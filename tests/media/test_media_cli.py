"""``botrygt-eval media`` on a synthetic corpus written to disk."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.simulate.media import simulate_media
from botrygt_eval.simulate.writers import write_csv


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("ws")
    partners = pd.DataFrame({"kommune_kode": [851], "signed_date": ["2018-03-01"]})
    corpus = simulate_media(2018, partners=partners, partner_weight=40)
    write_csv(root / "media/articles.csv", corpus.articles)
    write_csv(root / "media/hand_coded.csv", corpus.hand_coded)
    return root, corpus


def test_cli_writes_series_rules_kappa_and_figure(workspace, tmp_path):
    root, corpus = workspace
    out = tmp_path / "m"
    res = CliRunner().invoke(
        app, ["media", "--data", str(root), "--out", str(out), "--kommune", "Aalborg"]
    )
    assert res.exit_code == 0, res.output
    for name in ("media_series.csv", "media_rules.csv", "media_summary.json", "media_kappa.json",
                 "media_series.png"):  # fmt: skip
        assert (out / name).is_file(), name
    series = pd.read_csv(out / "media_series.csv")
    assert set(series["scope"]) == {"national", "kommune"}
    assert set(series["kommune_kode"].dropna().astype(int)) == {851}
    nat = series[series["scope"] == "national"]
    assert nat["n_articles"].sum() == len(corpus.articles)
    aalborg = series[series["scope"] == "kommune"]
    assert (~aalborg["suppressed"]).any()  # the partner gets enough coverage to show
    kappa = json.loads((out / "media_kappa.json").read_text(encoding="utf-8"))
    assert 0.8 <= kappa["constructive"]["kappa"] < 1
    summary = json.loads((out / "media_summary.json").read_text(encoding="utf-8"))
    assert summary["n_articles"] == len(corpus.articles) and summary["dictionary_version"] == "1"
    for path in out.glob("*.*"):  # aggregates only: no article text in any output
        if path.suffix in (".csv", ".json"):
            assert "SYNTETISK ARTIKEL" not in path.read_text(encoding="utf-8")


def test_cli_without_media_folder_says_what_to_do(tmp_path):
    res = CliRunner().invoke(app, ["media", "--data", str(tmp_path), "--out", str(tmp_path / "o")])
    assert res.exit_code != 0
    assert "media/articles.csv" in str(res.exception) or "media/articles.csv" in res.output


def test_cli_help_has_example():
    res = CliRunner().invoke(app, ["media", "--help"])
    assert res.exit_code == 0 and "Example: botrygt-eval media" in res.output
