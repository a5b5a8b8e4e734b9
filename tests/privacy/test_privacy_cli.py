"""Commands with --out write nothing outside it: matplotlib's and Jupyter's caches and
temporary files go to a hidden folder under --out, removed at the end."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from botrygt_eval.cli import _out_folder
from botrygt_eval.simulate import simulate_workspace
from botrygt_eval.simulate.config import SimulationConfig


def test_out_folder_is_read_from_the_arguments():
    assert _out_folder(["map", "--data", "ws", "--out", "o"]) == "o"
    assert _out_folder(["media", "--out=x/y"]) == "x/y"
    assert _out_folder(["instrument", "diff", "2024", "2025"]) is None


@pytest.mark.parametrize("command", [["map", "--kommune", "101", "--png"], ["media"]])
def test_a_command_leaves_home_and_tmpdir_empty(tmp_path, command):
    ws = tmp_path / "ws"
    simulate_workspace(ws, seed=3, config=SimulationConfig(population_total=300_000,
                       households_total=140_000, write_frame=False))  # fmt: skip
    home, tmp, out = tmp_path / "home", tmp_path / "tmp", tmp_path / "out"
    home.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "IPYTHONDIR")}  # fmt: skip
    env.update(HOME=str(home), TMPDIR=str(tmp))
    res = subprocess.run([sys.executable, "-m", "botrygt_eval.cli", *command, "--data", str(ws),
                          "--out", str(out)], env=env, capture_output=True, text=True)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    assert not any(home.iterdir()) and not any(tmp.iterdir())
    assert not [p for p in out.iterdir() if p.name.startswith(".botrygt_kernel_")]
