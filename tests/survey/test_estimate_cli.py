"""``estimate_table`` and the ``estimate`` CLI: contract keys, suppression, declared calibration."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.errors import ConfigError, MarginsError
from botrygt_eval.survey.design import SurveyDesign
from botrygt_eval.survey.estimators.table import declare_calibration, estimate_table, table_records

KEYS = ["variable", "domain", "estimate", "se", "ci_low", "ci_high", "n", "deff", "suppressed"]


def respondents(seed: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified sample by kommune (one small), with margins for kommune, sex, age band."""
    rng = np.random.default_rng(seed)
    sizes = {101: 60, 147: 50, 751: 45, 461: 40, 825: 6}
    pop = {101: 520_000, 147: 90_000, 751: 290_000, 461: 170_000, 825: 1_800}
    k = np.repeat(list(sizes), list(sizes.values()))
    n = len(k)
    d = pd.DataFrame(
        {
            "kommune_kode": k,
            "sex": rng.choice(["female", "male"], n, p=[0.6, 0.4]),
            "age_band": rng.choice(["18-29", "30-44", "45-59", "60-74", "75+"], n),
            "stratum_population": [float(pop[x]) for x in k],
        }
    )
    d["design_weight"] = d["stratum_population"] / d["kommune_kode"].map(sizes)
    d["fear_burglary"] = (rng.random(n) < 0.2 + 0.1 * (d["sex"] == "female")).astype(float)
    d.loc[rng.random(n) < 0.05, "fear_burglary"] = np.nan
    d["prevention_index"] = rng.integers(0, 6, n).astype(float)
    total = float(sum(pop.values()))
    m = pd.concat(
        [
            pd.DataFrame(
                {
                    "variable": "kommune_kode",
                    "level": list(map(str, pop)),
                    "total": list(pop.values()),
                }
            ),
            pd.DataFrame(
                {
                    "variable": "sex",
                    "level": ["female", "male"],
                    "total": [0.505 * total, 0.495 * total],
                }
            ),
            pd.DataFrame(
                {
                    "variable": "age_band",
                    "level": ["18-29", "30-44", "45-59", "60-74", "75+"],
                    "total": np.array([0.19, 0.24, 0.26, 0.21, 0.10]) * total,
                }
            ),
        ],
        ignore_index=True,
    )
    return d, m


@pytest.fixture(scope="module")
def calibrated():
    """Weights raked by the weighting module (calibrate(), raking link: GREG residuals)."""
    cal = pytest.importorskip("botrygt_eval.survey.calibrate")
    d, m = respondents()
    des = SurveyDesign.from_frame(
        d, weights="design_weight", strata="kommune_kode", fpc="stratum_population"
    )
    out = cal.calibrate(des, m, method="raking", tol=1e-12, maxit=200)
    return d.assign(weight=out.weights), m, out


def test_declared_calibration_gives_the_same_ses_as_the_calibrated_design(calibrated):
    d, m, cal_design = calibrated
    des = SurveyDesign.from_frame(
        d, weights="weight", strata="kommune_kode", fpc="stratum_population"
    )
    declared = declare_calibration(des, m, design_weight="design_weight")
    a = estimate_table(declared, ["fear_burglary", "prevention_index"], "kommune_kode")
    b = estimate_table(cal_design, ["fear_burglary", "prevention_index"], "kommune_kode")
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-8)
    plain = estimate_table(des, ["fear_burglary"], "kommune_kode")
    assert not np.allclose(plain["se"], a["se"][: len(plain)], rtol=1e-3)  # calibration matters


def test_estimate_table_suppresses_small_cells(calibrated):
    d, _, des = calibrated
    t = estimate_table(des, "fear_burglary", "kommune_kode", min_cell=10)
    small = t.set_index("kommune_kode").loc[825]
    assert small["suppressed"] and small["n"] <= 6 and np.isnan(small["estimate"])
    assert t.loc[~t["suppressed"], "estimate"].notna().all()
    kept = estimate_table(des, "fear_burglary", "kommune_kode", min_cell=10, blank_suppressed=False)
    assert np.isfinite(kept.set_index("kommune_kode").loc[825, "estimate"])
    recs = table_records(t)
    assert list(recs[0]) == KEYS
    assert recs[0]["domain"] == "kommune_kode=101"
    assert next(r for r in recs if r["domain"] == "kommune_kode=825")["estimate"] is None
    n_valid = d.groupby("kommune_kode")["fear_burglary"].count()
    assert dict(zip(t["kommune_kode"], t["n"], strict=True)) == n_valid.to_dict()


def test_cli_writes_the_contract(tmp_path, calibrated):
    d, m, des = calibrated
    resp, marg, out = tmp_path / "w.csv", tmp_path / "m.csv", tmp_path / "e.json"
    d.to_csv(resp, index=False)
    m.to_csv(marg, index=False)
    args = [
        "estimate", "--responses", str(resp), "--weight", "weight", "--strata", "kommune_kode",
        "--fpc", "stratum_population", "--calibrated-on", str(marg), "--design-weight",
        "design_weight", "--vars", "fear_burglary,prevention_index", "--by", "kommune_kode",
        "--json", str(out),
    ]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    recs = json.loads(out.read_text())
    assert len(recs) == 10 and all(list(r) == KEYS for r in recs)
    ours = pd.DataFrame(recs)
    ref = estimate_table(des, ["fear_burglary", "prevention_index"], "kommune_kode")
    np.testing.assert_allclose(ours["se"].astype(float), ref["se"], rtol=1e-8)
    overall = tmp_path / "o.json"
    args = [
        "estimate",
        "--responses",
        str(resp),
        "--weight",
        "weight",
        "--vars",
        "fear_burglary",
        "--json",
        str(overall),
    ]
    assert CliRunner().invoke(app, args).exit_code == 0
    (rec,) = json.loads(overall.read_text())
    assert rec["domain"] is None and 0 <= rec["ci_low"] < rec["estimate"] < rec["ci_high"] <= 1


def test_cli_refuses_half_a_calibration_and_mismatched_margins(tmp_path, calibrated):
    d, m, _ = calibrated
    resp, marg = tmp_path / "w.csv", tmp_path / "m.csv"
    d.to_csv(resp, index=False)
    base = [
        "estimate",
        "--responses",
        str(resp),
        "--weight",
        "weight",
        "--vars",
        "fear_burglary",
        "--json",
        str(tmp_path / "x.json"),
    ]
    res = CliRunner().invoke(app, [*base, "--design-weight", "design_weight"])
    assert isinstance(res.exception, ConfigError) and "go together" in str(res.exception)
    m.loc[m["level"] == "825", "level"] = "999"
    m.to_csv(marg, index=False)
    res = CliRunner().invoke(
        app, [*base, "--calibrated-on", str(marg), "--design-weight", "design_weight"]
    )
    assert isinstance(res.exception, MarginsError) and "825" in str(res.exception)


def test_cli_derives_outcomes_from_item_codes(tmp_path):
    synth = pytest.importorskip("botrygt_eval.simulate.responses")
    r = synth.synthetic_responses(2025, 300, seed=2)
    r["kommune_kode"] = np.where(np.arange(300) < 150, 101, 147)
    r["w"] = np.where(r["kommune_kode"] == 101, 3000.0, 600.0)
    f = tmp_path / "r.csv"
    r.to_csv(f, index=False)
    out = tmp_path / "o.json"
    args = [
        "estimate",
        "--responses",
        str(f),
        "--weight",
        "w",
        "--strata",
        "kommune_kode",
        "--vars",
        "fear_burglary",
        "--by",
        "kommune_kode",
        "--json",
        str(out),
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    recs = json.loads(out.read_text())
    worry = r["worry_burglary"]
    valid = worry.isin([1, 2, 3, 4])
    n101 = int((valid & (r["kommune_kode"] == 101)).sum())
    assert recs[0]["n"] == n101
    p = float(worry[valid & (r["kommune_kode"] == 101)].isin([1, 2]).mean())
    assert recs[0]["estimate"] == pytest.approx(p, rel=1e-12)  # equal weights within kommune


def test_cli_help_has_example():
    res = CliRunner().invoke(app, ["estimate", "--help"])
    assert res.exit_code == 0 and "Example: botrygt-eval estimate" in res.output


def test_domain_values_read_the_json_labels_back_to_the_domains_own_values(calibrated):
    """In memory the table carries each domain's value (``kommune_kode``); read back from
    the JSON records, the label gives the same values (also for a two-column domain)."""
    from botrygt_eval.survey.estimators.table import domain_values

    d, _, des = calibrated
    t = estimate_table(des, "fear_burglary", "kommune_kode", min_cell=0)
    back = pd.DataFrame(table_records(t))
    assert domain_values(back["domain"], "kommune_kode").astype(int).tolist() == list(
        t["kommune_kode"]
    )
    two = estimate_table(des, "fear_burglary", ["sex", "kommune_kode"], min_cell=0)
    labels = pd.DataFrame(table_records(two))["domain"]
    assert domain_values(labels, "kommune_kode").astype(int).tolist() == list(two["kommune_kode"])
    assert domain_values(labels, "sex").tolist() == list(two["sex"])
    assert domain_values(pd.Series(["101", "Aarhus"]), "kommune_kode").tolist() == ["101", "Aarhus"]
