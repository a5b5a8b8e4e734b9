"""Reports on imperfect real data: each case renders, says what happened, and breaks nothing.

One small simulated workspace, edited the way real data go wrong (issue 18 §3).
"""

from __future__ import annotations

import pandas as pd
import pytest

from botrygt_eval.reports.render import render_report
from botrygt_eval.simulate import simulate_workspace
from botrygt_eval.simulate.config import SimulationConfig

SMALL = SimulationConfig(
    population_total=400_000, households_total=190_000, survey_min_n=40, survey_fraction=0.001
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = tmp_path_factory.mktemp("imperfect") / "workspace"
    simulate_workspace(ws, seed=7, config=SMALL)
    return ws


def test_a_partnership_signed_after_the_data_end_is_too_new_to_measure(workspace, tmp_path):
    path = workspace / "registers" / "partnerships.csv"
    part = pd.read_csv(path, dtype=str)
    never = {"101", "147", "151", "153", "155", "157", "159", "161", "163", "165"}
    new = next(k for k in sorted(never) if k not in set(part["kommune_kode"]))
    row = part.iloc[[0]].copy()
    row["kommune_kode"], row["signed_date"], row["end_date"] = new, "2030-03-01", ""
    pd.concat([part, row]).to_csv(path, index=False)
    r = render_report("kommune", workspace, tmp_path, kommune=int(new), seed=3)
    html = r.html.read_text(encoding="utf-8")
    assert "for nyt til at måle" in html and "1. marts 2030" in html


def test_killing_a_batch_ends_its_workers_and_kernels(workspace, tmp_path):
    """SIGKILL the process running ``render_kommuner``: its worker processes and their
    kernels end too, within seconds (nothing keeps running after the parent)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil")
    code = ("from botrygt_eval.reports.render import render_kommuner\n"
            f"render_kommuner({str(workspace)!r}, {str(tmp_path)!r}, [101, 147, 151, 153, 155], "
            "jobs=2)\n")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    parent = psutil.Process(proc.pid)
    deadline = time.time() + 120
    kids = []
    while time.time() < deadline:
        kids = parent.children(recursive=True)
        if sum("ipykernel" in " ".join(k.cmdline()) for k in kids if k.is_running()) >= 1:
            break
        time.sleep(0.5)
    assert any("ipykernel" in " ".join(k.cmdline()) for k in kids), "no kernel started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    def alive(p):
        try:
            return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.time() + 30
    while time.time() < deadline and any(alive(k) for k in kids):
        time.sleep(0.5)
    assert not [k.cmdline()[:3] for k in kids if alive(k)]


def test_a_quarantined_partnership_line_is_named_in_the_report_and_on_the_console(
    workspace, tmp_path, caplog
):
    """København's partnership line with an impossible date: the national and the
    København report say it is left out and why, naming the line; the console names the
    file to correct."""
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(workspace, ws)
    path = ws / "registers" / "partnerships.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("101,"))
    fields = lines[row].split(",")
    fields[1] = "2019-13-01"
    lines[row] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with caplog.at_level("WARNING"):
        r = render_report("kommune", ws, tmp_path / "out", kommune=101, seed=3)
    html = r.html.read_text(encoding="utf-8")
    assert "sat i karantæne" in html and f"linje {row + 1} i registers/partnerships.csv" in html
    assert str(ws) not in html
    assert any(str(path) in m and "København" in m for m in caplog.messages)
