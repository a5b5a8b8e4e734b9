"""The demo keeps the person-level sample apart: ``out/mikrodata/sampling/`` with a README.

The shareable ``out/sampling/`` holds only the allocation report (aggregates per kommune).
"""

from __future__ import annotations

import pandas as pd

from botrygt_eval.demo import DemoContext, _sample
from botrygt_eval.privacy.guard import scan_tree
from botrygt_eval.simulate import simulate_workspace
from botrygt_eval.simulate.config import SimulationConfig

SMALL = SimulationConfig(
    population_total=400_000, households_total=190_000, survey_min_n=40, survey_fraction=0.001
)


def test_demo_sample_goes_to_the_microdata_folder(tmp_path):
    ws = tmp_path / "out" / "workspace"
    simulate_workspace(ws, seed=5, config=SMALL)
    ctx = DemoContext(out=tmp_path / "out", seed=5)
    ctx.produced["workspace"] = ws
    _sample(ctx)
    sample = tmp_path / "out" / "mikrodata" / "sampling" / "sample_2026.csv"
    frame = pd.read_csv(sample, dtype={"resp_id": str})
    assert {"resp_id", "kommune_kode", "sex", "age"} <= set(frame.columns) and len(frame) > 1000
    readme = (tmp_path / "out" / "mikrodata" / "README.txt").read_text(encoding="utf-8")
    assert "PERSONOPLYSNINGER" in readme and "Do not share" in readme
    shared = sorted(p.name for p in (tmp_path / "out" / "sampling").iterdir())
    assert shared == ["allocation_2026.csv"]  # aggregates only: one row per kommune
    alloc = pd.read_csv(tmp_path / "out" / "sampling" / "allocation_2026.csv")
    assert "resp_id" not in alloc.columns and alloc["kommune_kode"].is_unique
    listed = {str(p.relative_to(ctx.out)) for _, p in ctx.outputs}
    assert "mikrodata/sampling/sample_2026.csv" in listed
    assert scan_tree(tmp_path / "out") == []
