"""``botrygt-eval did synth``: JSON contract and user errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app

from .test_did_synth_properties import factor_panel


@pytest.fixture
def panel_csv(tmp_path):
    path = tmp_path / "panel.csv"
    factor_panel(seed=21, effect=-1.0).to_csv(path, index=False)
    return path


def _args(path, out, *extra):
    return ["did", "synth", "--data", str(path), "--unit", "unit", "--time", "time",
            "--treat", "d", "--outcome", "y", "--json", str(out), *extra]  # fmt: skip


@pytest.mark.parametrize("method", ["sdid", "sc", "did"])
def test_json_contract(panel_csv, tmp_path, method):
    out = tmp_path / "synth.json"
    result = CliRunner().invoke(app, _args(panel_csv, out, "--method", method, "--placebo", "20",
                                           "--seed", "1"))  # fmt: skip
    assert result.exit_code == 0, result.output
    d = json.loads(out.read_text(encoding="utf-8"))
    assert d["method"] == method
    assert isinstance(d["estimate"], float) and d["se"] > 0
    assert d["replications"] == 20
    assert sum(d["unit_weights"].values()) == pytest.approx(1.0)
    # synthetic control has no time weights (lambda = 0, as synthdid's sc_estimate)
    assert sum(d["time_weights"].values()) == pytest.approx(0.0 if method == "sc" else 1.0)
    assert "1" not in d["unit_weights"]  # the treated unit is no donor


def test_target_option(tmp_path):
    path = tmp_path / "panel.csv"
    factor_panel(seed=22, treated=(1, 2), effect=-1.0).to_csv(path, index=False)
    out = tmp_path / "t.json"
    result = CliRunner().invoke(app, _args(path, out, "--method", "did", "--target", "2"))
    assert result.exit_code == 0, result.output
    d = json.loads(out.read_text(encoding="utf-8"))
    assert d["cohorts"][0]["treated"] == [2] and "1" not in d["unit_weights"]


def test_same_seed_same_file(panel_csv, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for out in (a, b):
        CliRunner().invoke(app, _args(panel_csv, out, "--method", "did", "--placebo", "15",
                                      "--seed", "7"))  # fmt: skip
    assert a.read_bytes() == b.read_bytes()


def test_bad_method_is_a_user_error(panel_csv, tmp_path):
    # refused by the parser (exit 2) with the choices listed, before the data are read
    args = _args(panel_csv, tmp_path / "x.json", "--method", "abc")
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "'abc' is not one of 'sdid', 'sc', 'did'" in result.output


def test_missing_column_exits_2_without_traceback(panel_csv, tmp_path):
    cmd = [sys.executable, "-c", "from botrygt_eval.cli import main; main()",
           *_args(panel_csv, tmp_path / "x.json")]  # fmt: skip
    cmd[cmd.index("--outcome") + 1] = "nope"
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "nope" in proc.stderr and "Traceback" not in proc.stderr
