"""Rendering a report writes nothing outside ``--out``, and an interrupted batch leaks no kernel files.

The render runs in a child process whose HOME and TMPDIR are empty folders and whose
environment has none of the variables (IPYTHONDIR, MPLCONFIGDIR, XDG_*, JUPYTER_*)
that would move the defaults elsewhere: left to their defaults, IPython writes
``~/.ipython/profile_default/history.sqlite``, matplotlib ``~/.cache/matplotlib`` and
jupyter the kernel's connection file (with its HMAC key). Both folders must still be
empty afterwards, no hidden working folder may remain in the output, and the kernel
must not have run over TCP.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from botrygt_eval.privacy.sandbox import SANDBOX_PREFIX
from botrygt_eval.simulate import simulate_workspace
from botrygt_eval.simulate.config import SimulationConfig
from botrygt_eval.simulate.learning_review import write_projektleder_responses

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SMALL = SimulationConfig(
    population_total=400_000, households_total=190_000, survey_min_n=40, survey_fraction=0.001
)
TCP_WARNING = "Kernel is running over TCP without encryption"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = tmp_path_factory.mktemp("privacy_render") / "workspace"
    simulate_workspace(ws, seed=5, config=SMALL)
    write_projektleder_responses(ws / "survey" / "projektleder_2025.csv", 5)
    return ws


def clean_env(tmp_path: Path) -> tuple[dict, Path, Path]:
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TMPDIR": str(tmp),
           "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}  # fmt: skip
    return env, home, tmp


def everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_report_render_writes_nothing_outside_out(workspace, tmp_path):
    env, home, tmp = clean_env(tmp_path)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "botrygt_eval.cli", "report", "learning-review",
           "--data", str(workspace), "--out", str(out)]  # fmt: skip
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert (out / "learning_review" / "learning_review.html").exists()
    assert everything_under(home) == []
    assert everything_under(tmp) == []
    assert TCP_WARNING not in res.stderr + res.stdout
    assert not list(out.glob(f"{SANDBOX_PREFIX}*"))  # the working folder is removed
    assert not list(out.rglob("history.sqlite")) and not list(out.rglob("kernel-*.json"))


def interrupt_once_a_kernel_runs(cmd, env, out, pause: float = 0.0, **popen) -> bytes:
    """Start ``cmd`` in its own session, wait for a kernel connection file under ``out``'s
    working folder, wait ``pause`` s more, press Ctrl-C (SIGINT to the group); its output."""
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, **popen)  # fmt: skip
    try:
        deadline, found = time.monotonic() + 300, []
        while time.monotonic() < deadline and not found and proc.poll() is None:
            found = list(out.glob(f"{SANDBOX_PREFIX}*/runtime/kernel-*.json"))
            time.sleep(0.2)
        assert found, "the kernel connection file should be in the output's working folder"
        time.sleep(pause)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal
        log, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:  # pragma: no cover - only when the clean-up hangs
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0  # it was interrupted
    return log


def test_interrupted_batch_leaves_no_kernel_files(workspace, tmp_path):
    env, home, tmp = clean_env(tmp_path)
    out = tmp_path / "out"
    script = (
        "import sys\nfrom botrygt_eval.reports.render import render_kommuner\n"
        "if __name__ == '__main__':\n"
        "    render_kommuner(sys.argv[1], sys.argv[2], [101, 147, 151], jobs=1, seed=3)\n"
    )
    (tmp_path / "batch.py").write_text(script)
    cmd = [sys.executable, str(tmp_path / "batch.py"), str(workspace), str(out)]
    log = interrupt_once_a_kernel_runs(cmd, env, out, cwd=tmp_path)
    assert not list(out.glob(f"{SANDBOX_PREFIX}*")), everything_under(out)
    assert everything_under(home) == [] and everything_under(tmp) == []
    assert TCP_WARNING not in log.decode(errors="replace")


def test_interrupted_single_report_leaves_no_kernel_files(workspace, tmp_path):
    env, home, tmp = clean_env(tmp_path)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "botrygt_eval.cli", "report", "national",
           "--data", str(workspace), "--out", str(out)]  # fmt: skip
    log = interrupt_once_a_kernel_runs(cmd, env, out, pause=2)  # the kernel runs a cell
    assert not list(out.glob(f"{SANDBOX_PREFIX}*")), everything_under(out)
    assert everything_under(home) == [] and everything_under(tmp) == []
    assert TCP_WARNING not in log.decode(errors="replace")
