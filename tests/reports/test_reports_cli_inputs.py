"""``botrygt-eval report`` refuses inputs that would render a wrong or half-empty report."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.errors import ReportError


@pytest.fixture()
def workspace(tmp_path):
    survey = tmp_path / "ws" / "survey"
    survey.mkdir(parents=True)
    for y in (2019, 2020, 2022):
        (survey / f"responses_{y}.csv").write_text("resp_id,year\n")
    return tmp_path / "ws"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["national", "--year", "2030"], "no survey for 2030"),
        (["national", "--year", "2030"], "use --year 2022"),
        (["kommune", "--kommune", "101", "--year", "2021"], "use --year 2020"),
        (["kommune", "--all", "--year", "2015"], "use --year 2019"),
        (["national", "--year", "2022", "--survey-estimates", "nofile.csv"], "nofile.csv: file not found"),
        (["national", "--year", "2022", "--effects", "nofile.csv"], "(--effects)"),
        (["kommune", "--kommune", "101", "--year", "2022", "--survey-estimates", "x.csv"],
         "x.csv: file not found"),
    ],
)  # fmt: skip
def test_bad_report_inputs_fail_with_the_fix(workspace, tmp_path, args, message):
    res = CliRunner().invoke(app, ["report", *args, "--data", str(workspace), "--out",
                                   str(tmp_path / "out")])  # fmt: skip
    assert isinstance(res.exception, ReportError), res.output
    assert message in str(res.exception)
    assert not (tmp_path / "out").exists()


def test_missing_workspace_is_named(tmp_path):
    res = CliRunner().invoke(app, ["report", "national", "--data", str(tmp_path / "none"),
                                   "--out", str(tmp_path / "out")])  # fmt: skip
    assert isinstance(res.exception, ReportError) and "workspace folder does not exist" in str(
        res.exception
    )


def test_the_command_exits_2_with_one_line(workspace, tmp_path):
    res = subprocess.run([sys.executable, "-m", "botrygt_eval.cli", "report", "national",
                          "--year", "2030", "--data", str(workspace), "--out", str(tmp_path)],
                         capture_output=True, text=True)  # fmt: skip
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "no survey for 2030" in " ".join(res.stderr.split())
