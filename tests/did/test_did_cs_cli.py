"""``botrygt-eval did att-gt``: the JSON contract, numbers equal to R's, user errors exit 2."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from botrygt_eval.cli import app

REF = Path(__file__).parents[1] / "reference" / "did"
ARGS = ["--unit", "countyreal", "--time", "year", "--cohort", "first.treat", "--outcome", "lemp"]


def _run(tmp_path, *extra, data=None):
    out = tmp_path / "cs.json"
    res = CliRunner().invoke(
        app,
        [
            "did",
            "att-gt",
            "--data",
            str(data or REF / "mpdta.csv"),
            *ARGS,
            "--json",
            str(out),
            *extra,
        ],
    )
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text())


def test_json_contract_and_r_numbers(tmp_path):
    doc = _run(tmp_path, "--method", "dr", "--control", "never")
    assert set(doc) >= {"att_gt", "aggregates", "n_units", "n_obs"}
    assert set(doc["aggregates"]) == {"simple", "group", "dynamic", "calendar"}
    assert doc["n_units"] == 500 and doc["n_obs"] == 2500
    assert set(doc["att_gt"][0]) == {"group", "time", "att", "se"}
    ref = pd.read_csv(REF / "ref_aggte.csv").query("scenario == 'mpdta_nev_dr'")
    for typ, rows in ref.groupby("type"):
        agg = doc["aggregates"][typ]
        assert agg["att"] == pytest.approx(rows["overall_att"].iloc[0], abs=1e-6)
        assert agg["se"] == pytest.approx(rows["overall_se"].iloc[0], abs=1e-6)
        if typ != "simple":
            by = {b["egt"]: b for b in agg["by"]}
            for _, r in rows.iterrows():
                assert by[r.egt]["att"] == pytest.approx(r.att_egt, abs=1e-6)
    cells = {(c["group"], c["time"]): c for c in doc["att_gt"]}
    ra = pd.read_csv(REF / "ref_attgt.csv").query("scenario == 'mpdta_nev_dr'")
    for _, r in ra.iterrows():
        assert cells[(r.group, r.t)]["att"] == pytest.approx(r.att, abs=1e-6)


def test_bootstrap_bands_and_parquet(tmp_path):
    pq = tmp_path / "mpdta.parquet"
    try:
        pd.read_csv(REF / "mpdta.csv").to_parquet(pq)
    except ImportError:
        pytest.skip("no parquet engine")
    a = _run(tmp_path, "--bootstrap", "499", "--seed", "3", "--method", "reg", data=pq)
    b = _run(tmp_path, "--bootstrap", "499", "--seed", "3", "--method", "reg")
    assert a["aggregates"] == b["aggregates"]  # same seed, same numbers, either format
    dyn = a["aggregates"]["dynamic"]["by"]
    assert all(d["ci_low"] < d["att"] < d["ci_high"] for d in dyn)


def test_user_error_exits_2_without_traceback(tmp_path):
    exe = shutil.which("botrygt-eval") or str(Path(__file__).parents[2] / ".venv/bin/botrygt-eval")
    df = pd.read_csv(REF / "mpdta.csv")
    f = tmp_path / "treated.csv"
    df[df["first.treat"] > 0].to_csv(f, index=False)
    p = subprocess.run([exe, "did", "att-gt", "--data", str(f), *ARGS, "--json",
                        str(tmp_path / "x.json")], capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 2
    assert "notyet" in p.stderr and "Traceback" not in p.stderr


def test_allow_unbalanced_keeps_units(tmp_path):
    df = pd.read_csv(REF / "mpdta.csv")
    gappy = tmp_path / "gappy.csv"
    df.drop(index=[3, 40, 77]).to_csv(gappy, index=False)
    kept = _run(tmp_path, "--method", "reg", "--allow-unbalanced", data=gappy)
    balanced = _run(tmp_path, "--method", "reg", data=gappy)
    assert kept["n_units"] == 500 and balanced["n_units"] == 497


def test_jackknife_se_option(tmp_path):
    a = _run(tmp_path, "--method", "reg", "--control", "notyet")
    j = _run(tmp_path, "--method", "reg", "--control", "notyet", "--se", "jackknife")
    sa, sj = a["aggregates"]["simple"], j["aggregates"]["simple"]
    assert sa["se_type"] == "analytic" and sa["df"] is None
    assert sj["se_type"] == "jackknife" and sj["df"] == 499  # 500 counties
    assert sj["att"] == pytest.approx(sa["att"], abs=1e-12)
    # 500 clusters: CV3 is close to the analytic (HC0-type) SE, and a little larger
    assert 1.0 < sj["se"] / sa["se"] < 1.1
    half = sj["ci_high"] - sj["att"]
    assert half == pytest.approx(stats.t.ppf(0.975, 499) * sj["se"], rel=1e-9)
    assert not j["aggregates"]["dynamic"]["simultaneous_band"]
    b = _run(tmp_path, "--method", "reg", "--control", "notyet", "--se", "jackknife", "--band")
    dyn, k = b["aggregates"]["dynamic"], len(b["aggregates"]["dynamic"]["by"])
    assert dyn["simultaneous_band"] and k > 1
    crit = stats.t.ppf(1 - 0.05 / (2 * k), 499)
    assert all(r["ci_high"] - r["att"] == pytest.approx(crit * r["se"]) for r in dyn["by"])


def test_unknown_se_exits_2(tmp_path):
    exe = shutil.which("botrygt-eval") or str(Path(__file__).parents[2] / ".venv/bin/botrygt-eval")
    p = subprocess.run([exe, "did", "att-gt", "--data", str(REF / "mpdta.csv"), *ARGS, "--se",
                        "hc3", "--json", str(tmp_path / "x.json")], capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 2
    assert "jackknife" in p.stderr and "Traceback" not in p.stderr
