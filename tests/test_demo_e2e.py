"""End to end: `botrygt-eval demo` runs every stage on the synthetic Denmark and writes its outputs."""

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from botrygt_eval import SIMULATED_BANNER


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(  # a relative --out, as `make demo` passes it
        [sys.executable, "-m", "botrygt_eval.cli", "demo", "--out", "out", "--seed", "7"],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return cwd / "out", proc.stdout


@pytest.mark.slow
def test_demo_writes_every_stage_and_marks_it_simulated(demo_out):
    out, stdout = demo_out
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["data_source"] == SIMULATED_BANNER
    for entry in manifest["outputs"]:
        assert (out / entry["path"]).exists(), entry
    for table in [
        "survey/survey_estimates.csv",
        "did/partnership_effects.csv",
        "loaded/workspace_summary.csv",
    ]:
        frame = pd.read_csv(out / table)
        assert (frame["data_source"] == SIMULATED_BANNER).all(), table
    assert "SIMULEREDE DATA" in stdout


@pytest.mark.slow
def test_demo_loads_with_nothing_quarantined(demo_out):
    out, _ = demo_out
    log = (out / "loaded" / "load_log.md").read_text(encoding="utf-8")
    assert "rows loaded" in log
    assert re.search(r"\d quarantined", log) is None, log
    assert not (out / "loaded" / "quarantine").exists()


@pytest.mark.slow
def test_demo_estimates_carry_uncertainty_and_recover_the_survey_truth(demo_out):
    out, _ = demo_out
    est = pd.read_csv(out / "survey" / "survey_estimates.csv")
    shown = est[~est["suppressed"]]
    assert shown[["estimate", "se", "ci_low", "ci_high", "n"]].notna().all().all()
    truth = json.loads((out / "workspace" / "truth.json").read_text(encoding="utf-8"))
    national = est[est["kommune_kode"].isna() & (est["variable"] == "fear_burglary")]
    for _, row in national.iterrows():
        true = truth["fear_share_national"][str(int(row["year"]))]
        # a 99.9 % interval around the design-based estimate must hold the simulated truth
        assert abs(row["estimate"] - true) < 3.3 * row["se"], (row["year"], row["estimate"], true)


@pytest.mark.slow
def test_demo_effects_table_has_intervals_for_every_estimator(demo_out):
    out, _ = demo_out
    eff = pd.read_csv(out / "did" / "partnership_effects.csv")
    assert set(eff["outcome"]) >= {"log_rate", "burglaries", "fear_burglary", "nabohjaelper"}
    assert (eff["ci_low"] < eff["estimate"]).all() and (eff["estimate"] < eff["ci_high"]).all()
    assert (eff["se"] > 0).all() and (eff["n_units"] >= 90).all()


@pytest.mark.slow
def test_demo_kommune_report_shows_its_local_maps(demo_out):
    """The demo's municipality report is a partnership kommune with geocoded data, so the
    report has the local-monitoring section and lokal/<kode>/ has the suppressed maps."""
    out, _ = demo_out
    (folder,) = list((out / "lokal").iterdir())
    cells = pd.read_csv(folder / "celler.csv")
    assert (cells.loc[~cells["suppressed"], "burglaries"] >= 5).all()
    assert {"kort_indbrud.png", "kort_nabohjaelp.png", "naergentagelse.png"} <= {
        p.name for p in folder.iterdir()
    }
    html = (out / "reports" / f"kommune_{folder.name}").glob("*.html")
    assert "Lokal overvågning" in next(html).read_text(encoding="utf-8")
