"""Reports on imperfect real data: each case renders, says what happened, and breaks nothing.

One small simulated workspace, edited the way real data go wrong (issue 18 §3).
"""

from __future__ import annotations

from pathlib import Path

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


def _visible(html: str) -> str:
    import html as entities
    import re

    return entities.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_a_kommune_without_respondents_and_a_missing_year_are_said_and_nothing_else_moves(
    workspace, tmp_path
):
    """Frederiksberg (147) has no respondents in 2023 and the 2021 survey is gone: the batch
    renders every kommune, Frederiksberg's report and the national one say both in words,
    another kommune's 2023 estimates are exactly those of the full workspace, and 2021 is a
    gap rather than a bridged line (issue 18 §3)."""
    import shutil

    from botrygt_eval.reports.inputs import read_inputs
    from botrygt_eval.reports.render import render_kommuner

    ws = tmp_path / "ws"
    shutil.copytree(workspace, ws)
    sample = pd.read_csv(ws / "survey" / "sample_2023.csv", dtype=str)
    gone = set(sample.loc[sample["kommune_kode"].astype(int) == 147, "resp_id"])
    path = ws / "survey" / "responses_2023.csv"
    resp = pd.read_csv(path, dtype=str)
    assert resp["resp_id"].isin(gone).any()
    resp.loc[~resp["resp_id"].isin(gone)].to_csv(path, index=False)
    for name in ("responses", "sample", "margins"):
        (ws / "survey" / f"{name}_2021.csv").unlink()

    outcomes = render_kommuner(ws, tmp_path / "out", [147, 101], jobs=1, seed=3)
    assert [o.status for o in outcomes] == ["ok", "ok"], [o.error for o in outcomes]
    national = render_report("national", ws, tmp_path / "out", seed=3)
    frb = _visible((tmp_path / "out" / "kommune_147" / "kommune_147.html").read_text("utf-8"))
    kbh = _visible((tmp_path / "out" / "kommune_101" / "kommune_101.html").read_text("utf-8"))
    nat = _visible(national.html.read_text(encoding="utf-8"))
    missing = "Borgerundersøgelsen mangler for 2021"
    nobody = "I 2023 svarede ingen i Frederiksberg"
    assert missing in frb and nobody in frb
    assert missing in nat and nobody in nat
    assert missing in kbh and nobody not in kbh

    est = read_inputs(tmp_path / "out" / "_inputs")["survey_estimates"]
    assert (
        2021 not in set(est["year"])
        and not ((est["year"] == 2023) & (est["kommune_kode"] == 147)).any()
    )
    full = tmp_path / "full"
    from botrygt_eval.reports.inputs import prepare_inputs

    ref = read_inputs(Path(prepare_inputs(workspace, full)["survey_estimates"]).parent)
    ref = ref["survey_estimates"]
    ours = est.loc[(est["year"] == 2024) & (est["kommune_kode"] == 101)].reset_index(drop=True)
    theirs = ref.loc[(ref["year"] == 2024) & (ref["kommune_kode"] == 101)].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, theirs)  # other years untouched by the edits


def test_reports_of_simulated_data_say_so_without_readme_or_truth(workspace, tmp_path):
    """The banner comes from the data's own ``simulated`` marker, not from README.md or
    truth.json: delete both and the report still says SIMULEREDE DATA (issue 18 §3)."""
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(workspace, ws)
    (ws / "README.md").unlink()
    (ws / "truth.json").unlink()
    r = render_report("learning-review", ws, tmp_path / "out", seed=3)
    assert "SIMULEREDE DATA" in r.html.read_text(encoding="utf-8")
