"""Reports on imperfect real data: each case renders, says what happened, and breaks nothing.

One small simulated workspace, edited the way real data go wrong (issue 18 §3).
"""

from __future__ import annotations

import pandas as pd
import pytest

from botrygt_eval.reports import render_report
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
