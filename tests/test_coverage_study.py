"""Smoke run of analyses/coverage_study.py (3 replications) and checks of its true targets.

The 500-replication study itself runs by ``make coverage``, not in the test suite.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.did.att_gt import att_gt
from botrygt_eval.did.twfe import twfe

SCRIPT = Path(__file__).resolve().parents[1] / "analyses" / "coverage_study.py"


@pytest.fixture(scope="module")
def cs():
    spec = importlib.util.spec_from_file_location("coverage_study", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["coverage_study"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def draw(cs):
    return cs.simulate_draw(cs.study_config(), seed=7)


def test_smoke_run_writes_csv_and_report(cs, tmp_path):
    cs.main(["--reps", "3", "--seed", "11", "--out", str(tmp_path), "--quiet"])
    res = pd.read_csv(tmp_path / "coverage.csv")
    assert set(res["rep"]) == {0, 1, 2}
    assert set(res["seed"]) == {11, 12, 13}
    want = {"cs_simple", "cs_simple_boot", "cs_dynamic_avg", "twfe", "twfe_cr2", "ppml",
            "ppml_cr2", "ppml_cr3", "es_cr1_avg", "es_cr2_avg"}  # fmt: skip
    want |= {f"cs_dynamic_e{e}" for e in range(-4, 9)}
    want |= {f"es_{se}_e{e}" for se in ("cr1", "cr2") for e in range(-4, 9) if e != -1}
    want |= {"cs_simple_jk", "cs_jk_avg"} | {f"cs_jk_e{e}" for e in range(-4, 9)}
    want |= {"cs_band_joint", "cs_band_joint_jk"}
    want |= WILD
    assert set(res["quantity"]) == want
    assert (res.groupby("quantity").size() == 3).all()
    assert np.isfinite(res[["estimate", "se", "truth"]].to_numpy()).all()
    assert (res["se"] > 0).all()
    assert res.loc[~res["quantity"].str.contains("band_joint"), "noise_free"].notna().all()
    # the bootstrap row has the analytic row's estimate, only its SE differs
    by = res.set_index(["quantity", "rep"])
    np.testing.assert_array_equal(
        by.loc["cs_simple_boot", "estimate"], by.loc["cs_simple", "estimate"]
    )
    assert not np.array_equal(by.loc["cs_simple_boot", "se"], by.loc["cs_simple", "se"])
    # CR1 and CR2 rows share the estimate; CR2 rows carry finite Bell-McCaffrey df below
    # the 97 clusters' G - 1, CR1 rows none (normal interval)
    for a, b in (("twfe", "twfe_cr2"), ("ppml", "ppml_cr2"), ("es_cr1_e3", "es_cr2_e3"),
                 ("cs_simple", "cs_simple_jk"), ("cs_dynamic_e3", "cs_jk_e3")):  # fmt: skip
        np.testing.assert_allclose(by.loc[b, "estimate"], by.loc[a, "estimate"], rtol=1e-12)
        assert np.isinf(by.loc[a, "df"]).all() and (by.loc[b, "df"].between(1, 97)).all()
    report = (tmp_path / "coverage.md").read_text(encoding="utf-8")
    assert "replications: **3**" in report and "SIMULATED DATA" in report
    assert report.count("\n| ") == len(want) - 2  # header + a row per quantity but the 3 bands
    assert "bootstrap sup-t band" in report and "joint coverage" in report


WILD = {"twfe_wild", "ppml_wild", "es_band_joint_wild"}
WILD |= {f"es_wild_e{e}" for e in range(-4, 9) if e != -1}


def test_only_wild_runs_the_wild_rows_of_the_full_study(cs, tmp_path):
    """``--only-wild``: the wild rows alone, identical to the full study's (same seeds)."""
    cs.main(["--reps", "2", "--seed", "11", "--out", str(tmp_path), "--quiet", "--only-wild"])
    res = pd.read_csv(tmp_path / "coverage_wild.csv")
    assert set(res["quantity"]) == WILD and not (tmp_path / "coverage.csv").exists()
    full = pd.DataFrame(cs.replicate(cs.study_config(), 12, boot=0))
    a = res[res["seed"] == 12].set_index("quantity").sort_index()
    b = full[full["quantity"].isin(WILD)].set_index("quantity").sort_index()
    cols = ["estimate", "se", "truth", "noise_free", "ci_low", "ci_high", "crit"]
    np.testing.assert_allclose(a[cols].to_numpy(float), b[cols].to_numpy(float), rtol=1e-9)
    # wild rows carry their own (test-inversion) interval; the band rows a critical value
    own = a.drop(index="es_band_joint_wild")
    assert (own["ci_low"] < own["estimate"]).all() and (own["estimate"] < own["ci_high"]).all()
    assert a.loc["es_band_joint_wild", "crit"] > 1.96


def test_panel_is_the_simulators_panel(cs, draw):
    p = draw.panel
    assert len(p) == 98 * 64 and p["kommune_kode"].is_monotonic_increasing
    cohorts = p.groupby("kommune_kode")["cohort"].first()
    assert (cohorts > 0).sum() == cs.study_config().n_partnerships
    # the treatment dummy switches on at the cohort and stays on (absorbing)
    on = p["period"] >= p["cohort"]
    assert (p["treated"] == ((p["cohort"] > 0) & on)).all()
    # log rate as build_panel defines it
    np.testing.assert_allclose(
        p["log_rate"], np.log((p["burglaries"] + 0.5) / p["households"] * 1000), rtol=1e-14
    )
    # activity effects are off: the true effect is the partnership ramp alone
    cfg = cs.study_config()
    e = (p["period"] - p["cohort"]).to_numpy()
    ramp = np.clip((e + 1) / cfg.buildup_quarters, 0, 1)
    want = np.where(p["cohort"] > 0, cfg.partnership_effect * ramp, 0.0)
    np.testing.assert_allclose(draw.effects.ravel(), want, atol=1e-15)


def test_cell_truth_matches_brute_force(cs):
    # with activity effects the truth varies by kommune: check the cohort means by a loop
    d = cs.simulate_draw(cs.study_config(with_activities=True), seed=3)
    assert not np.allclose(d.effects[d.cohort > 0], 0) and np.abs(d.effects).max() > 0.11
    groups = np.unique(d.cohort[d.cohort > 0])
    g = np.repeat(groups, 64)
    t = np.tile(np.arange(1, 65), len(groups))
    got = cs.cell_truth(d, g, t)
    want = [d.effects[d.cohort == gg, tt - 1].mean() for gg, tt in zip(g, t, strict=True)]
    np.testing.assert_allclose(got, want, atol=1e-15)


def test_aggregate_truths_closed_form(cs, draw):
    cfg = cs.study_config()
    res = att_gt(draw.panel, unit="kommune_kode", time="period", cohort="cohort",
                 outcome="log_rate", control="notyet", method="dr")  # fmt: skip
    truths = cs.cs_truths(draw, res.table)
    for e in range(-4, 9):
        want = cfg.partnership_effect * min(max(e + 1, 0) / cfg.buildup_quarters, 1)
        assert truths[f"cs_dynamic_e{e}"] == pytest.approx(want, abs=1e-15)
    # simple ATT = mean true effect over treated kommune-quarters (cohort-size weights)
    post = draw.panel["treated"].to_numpy() == 1
    assert truths["cs_simple"] == pytest.approx(draw.effects.ravel()[post].mean(), abs=1e-14)
    # and it is not the long-run effect: the build-up quarters pull it towards zero
    assert abs(truths["cs_simple"]) < abs(cfg.partnership_effect) - 1e-3


def test_noise_free_twfe_target_equals_twfe(cs, draw):
    for outcome in ("log_rate", "log_expected_rate"):
        got = cs.twfe_balanced(draw.panel, outcome)
        ref = twfe(draw.panel, unit="kommune_kode", time="period", treat="treated",
                   outcome=outcome).estimate  # fmt: skip
        assert got == pytest.approx(ref, rel=1e-10)


def test_summary_coverage_and_mc_se(cs):
    # two quantities, known outcomes: 3 of 4 covered for q1, 0 of 4 for q2
    rows = pd.DataFrame(
        {
            "quantity": ["q1"] * 4 + ["q2"] * 4,
            "estimator": ["Q1"] * 4 + ["Q2"] * 4,
            "estimate": [0.0, 0.1, -0.1, 0.5, 1.0, 1.0, 1.0, 1.0],
            "se": [0.1] * 8,
            "truth": [0.0] * 8,
            "noise_free": [0.0] * 4 + [0.5] * 4,
        }
    )
    s = cs.summarise(rows).set_index("quantity")
    assert s.loc["q1", "coverage"] == 0.75 and s.loc["q2", "coverage"] == 0.0
    assert s.loc["q1", "coverage_mc_se"] == pytest.approx(np.sqrt(0.75 * 0.25 / 4))
    assert s.loc["q2", "bias"] == pytest.approx(1.0) and s.loc["q2", "bias_noise_free"] == 0.5
    # SD is of the error; q2 has none, q1 has sd(0, .1, -.1, .5)
    assert s.loc["q2", "sd"] == 0.0
    assert s.loc["q1", "sd"] == pytest.approx(np.std([0.0, 0.1, -0.1, 0.5], ddof=1))
    assert s.loc["q1", "rmse"] == pytest.approx(np.sqrt((0.01 + 0.01 + 0.25) / 4))
    # a row with its own interval (wild bootstrap) is covered by that interval, not +/- 1.96 SE
    own = rows.assign(ci_low=[np.nan] * 4 + [-1.0, 0.5, -1.0, 0.0],
                      ci_high=[np.nan] * 4 + [1.0, 2.0, 0.0, 0.5])  # fmt: skip
    s2 = cs.summarise(own).set_index("quantity")
    assert s2.loc["q1", "coverage"] == 0.75 and s2.loc["q2", "coverage"] == 0.75


def test_with_activities_changes_only_the_effects(cs):
    base = cs.study_config()
    act = cs.study_config(with_activities=True)
    assert (
        dataclasses.replace(act, activity_burglary_effects=base.activity_burglary_effects) == base
    )


def test_log_transform_bias_exact(cs):
    from scipy.special import digamma, gammaln

    size = 60.0
    mu = np.array([0.2, 1.0, 4.0, 25.0, 150.0, 2500.0])
    got = cs.log_transform_bias(mu, size, chunk=2)
    # full sum over 0..20000 with the NB pmf written out (no window)
    y = np.arange(20_000)[None, :]
    m = mu[:, None]
    logpmf = (gammaln(y + size) - gammaln(size) - gammaln(y + 1)
              + size * np.log(size / (size + m)) + y * np.log(m / (size + m)))  # fmt: skip
    want = (np.exp(logpmf) * np.log(y + 0.5)).sum(axis=1) - np.log(mu)
    np.testing.assert_allclose(got, want, atol=1e-10)
    # large mu: log(Y/mu) -> log of a Gamma(size, 1/size) variable, mean digamma(size) - log(size)
    assert got[-1] == pytest.approx(digamma(size) - np.log(size), abs=2e-6)
    # the +0.5 offset nearly cancels the first-order Jensen term, but not for small counts
    assert got[1] > 0.1 and abs(got[3] - got[-1]) < 1e-3


def test_diagnostics_mode(cs, tmp_path):
    cs.main(["--diagnostics", "1", "--seed", "3", "--out", str(tmp_path)])
    d = pd.read_csv(tmp_path / "coverage_diagnostics.csv")
    assert len(d) == 1 and d["seed"].iloc[0] == 3
    row = d.iloc[0]
    # influence values of 98 kommuner: effective df between 1 and 98, shares in [0, 1]
    assert 1 <= row["cs_simple_df_eff"] <= 98
    assert 0 <= row["never_treated_var_share"] <= 1
    # small control kommuner have positive log-transform gaps that shrink less over time:
    # the log-rate DiD estimators are pushed away from zero (more negative), never toward it
    assert row["cs_simple_log_bias"] < 0 and row["twfe_log_bias"] < 0
    assert not (tmp_path / "coverage.csv").exists()


def test_in_memory_panel_equals_the_workspace_route(cs, tmp_path):
    """Same seed: the study's panel = simulate_workspace -> loaders -> build_panel."""
    from botrygt_eval.io import registers, statbank
    from botrygt_eval.panel.build import build_panel
    from botrygt_eval.simulate import simulate_workspace

    cfg = dataclasses.replace(cs.study_config(), survey_fraction=0.0005, survey_min_n=20)
    simulate_workspace(tmp_path, seed=5, config=cfg)
    b = statbank.load_straf11(tmp_path / "statbank" / "STRAF11.csv").data
    h = statbank.load_households(tmp_path / "statbank" / "FAM55N.csv").data
    p = registers.load_partnerships(tmp_path / "registers" / "partnerships.csv").data
    ws = build_panel(b, h, None, p)
    mine = cs.simulate_draw(cfg, seed=5).panel
    assert len(ws) == len(mine)
    for col in ("kommune_kode", "period", "cohort", "treated", "households"):
        np.testing.assert_array_equal(ws[col].to_numpy(), mine[col].to_numpy(), err_msg=col)
    seen = ws["observed"].to_numpy() == 1  # the workspace hides a few cells as '..'
    assert 0 < (~seen).sum() <= 3
    np.testing.assert_array_equal(ws["burglaries"].to_numpy()[seen], mine["burglaries"][seen])
    np.testing.assert_allclose(ws["log_rate"].to_numpy()[seen], mine["log_rate"][seen], rtol=1e-13)
