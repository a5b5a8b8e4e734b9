"""``botrygt-eval activities`` on a small simulated workspace written to disk."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.simulate import SimulationConfig, simulate_workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("ws")
    cfg = SimulationConfig(survey_start_year=2023, write_frame=False, survey_min_n=20,
                           survey_fraction=0.0005)  # fmt: skip
    simulate_workspace(root, seed=3, config=cfg)
    return root


def test_cli_writes_decisions_and_kpis(workspace, tmp_path):
    out = tmp_path / "act.json"
    res = CliRunner().invoke(app, ["activities", "--data", str(workspace), "--json", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {"decisions", "effects", "kpis", "settings"} <= set(data)
    types = {d["activity_type"] for d in data["decisions"]}
    assert "bo_trygt_korps" in types
    for d in data["decisions"]:
        assert d["verdict"] in {"gentag", "ændr", "drop", "utilstrækkelig evidens"}
    assert len(data["kpis"]) == 25
    # the workspace has an article export: the media KPIs are in the KPI table
    articles = [k["media_burglary_articles"] for k in data["kpis"]]
    assert all(a is not None and a >= 0 for a in articles) and sum(articles) > 0
    assert "activity types" in res.output


def test_cli_help_has_example():
    res = CliRunner().invoke(app, ["activities", "--help"])
    assert res.exit_code == 0 and "Example: botrygt-eval activities" in res.output


def test_cli_missing_folder_is_a_user_error(tmp_path):
    import subprocess
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "botrygt_eval.cli", "activities", "--data", str(tmp_path / "nope"),
         "--json", str(tmp_path / "x.json")], capture_output=True, text=True,
    )  # fmt: skip
    assert res.returncode == 2
    assert "workspace folder not found" in res.stdout + res.stderr
    assert "Traceback" not in res.stderr
