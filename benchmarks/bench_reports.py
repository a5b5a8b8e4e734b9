"""Reports: the national report plus all 98 kommune reports (target: under 60 s on 2 cores).

Setup simulates the default synthetic Denmark once and prepares the shared inputs
(survey estimates, panels) once; the timed call renders the national report and the
98 kommune reports in one batch (two worker processes, one reused kernel and client each;
the national report first, so the other worker renders kommune reports meanwhile) with
``force=True``, so nothing is skipped. No peer: papermill is the tool itself.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from harness import Case

from botrygt_eval.reference import kommuner
from botrygt_eval.reports.inputs import prepare_inputs
from botrygt_eval.reports.render import render_kommuner


def _setup():
    from botrygt_eval.simulate import simulate_workspace
    from botrygt_eval.simulate.learning_review import write_projektleder_responses

    root = Path(tempfile.mkdtemp(prefix="bench_reports_"))
    ws = root / "workspace"
    simulate_workspace(ws, seed=2018)
    write_projektleder_responses(ws / "survey" / "projektleder_2025.csv", 2018)
    prepare_inputs(ws, root / "reports" / "_inputs")
    return ws, root / "reports"


def _all(args):
    ws, out = args
    codes = [int(k) for k in kommuner()["kommune_kode"]]
    outcomes = render_kommuner(ws, out, codes, cache=out / "_inputs", jobs=2, force=True,
                               national=True)  # fmt: skip
    failed = [o for o in outcomes if o.status == "failed"]
    assert not failed, failed[:3]
    return outcomes


CASES = [
    Case(
        "reports: national + 98 kommune reports (2 processes)",
        _setup,
        _all,
        repeat=1,
        note="target < 60 s on 2 cores; papermill + HTML export per report",
    )
]
