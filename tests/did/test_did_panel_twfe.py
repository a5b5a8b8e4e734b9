"""TWFE and event study: equal to a hand-coded dummy OLS and to pyfixest; known effects."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.did.diagnostics import bacon_decomposition
from botrygt_eval.did.twfe import event_study, twfe
from botrygt_eval.errors import ConfigError, EstimationError, InputFileError
from tests.did.did_panel_helpers import staggered_panel

pf = pytest.importorskip("pyfixest")
SSC = {"k_adj": True, "k_fixef": "none", "G_adj": True}


def dummy_ols(df, outcome, regressors, cluster, weights=None):
    """OLS of y on regressors + full unit and time dummies; CR1 SE (G/(G-1)(N-1)/(N-k))."""
    u = pd.get_dummies(df["unit"], dtype=float).to_numpy()
    t = pd.get_dummies(df["time"], dtype=float).to_numpy()[:, 1:]
    x = np.column_stack([df[regressors].to_numpy(float), u, t])
    y = df[outcome].to_numpy(float)
    w = np.ones(len(y)) if weights is None else df[weights].to_numpy(float)
    xw = x * w[:, None]
    bread = np.linalg.inv(x.T @ xw)
    b = bread @ (xw.T @ y)
    e = y - x @ b
    codes = pd.factorize(df[cluster])[0]
    g = codes.max() + 1
    s = np.zeros((g, x.shape[1]))
    np.add.at(s, codes, xw * e[:, None])
    v = bread @ s.T @ s @ bread
    n, k = len(y), len(regressors)
    v *= g / (g - 1) * (n - 1) / (n - k)
    return b[:k], np.sqrt(np.diag(v)[:k])


@pytest.fixture(scope="module")
def panel():
    df = staggered_panel(n_units=50, n_periods=10, cohorts=(0, 4, 6, 8), effect=0.7, seed=3)
    df["w"] = 1 + (df["unit"] % 5) / 4
    return df


@pytest.mark.parametrize("cluster", [None, "cluster"])
@pytest.mark.parametrize("weights", [None, "w"])
def test_twfe_equals_dummy_ols_and_pyfixest(panel, cluster, weights):
    r = twfe(panel, unit="unit", time="time", treat="treat", outcome="y", cluster=cluster,
             weights=weights)  # fmt: skip
    b, se = dummy_ols(panel, "y", ["treat"], cluster or "unit", weights)
    assert r.estimate == pytest.approx(b[0], abs=1e-10)
    assert r.se == pytest.approx(se[0], abs=1e-10)
    f = pf.feols("y ~ treat | unit + time", data=panel, weights=weights,
                 vcov={"CRV1": cluster or "unit"}, ssc=pf.ssc(**SSC))  # fmt: skip
    assert r.estimate == pytest.approx(f.coef().iloc[0], abs=1e-8)
    assert r.se == pytest.approx(f.se().iloc[0], abs=1e-8)
    assert r.n_obs == len(panel) and r.n_units == 50
    assert r.n_clusters == (7 if cluster else 50)
    assert r.ci_low < r.estimate < r.ci_high


def test_twfe_unbalanced_matches_pyfixest(panel):
    rng = np.random.default_rng(1)
    df = panel.copy()
    df.loc[rng.choice(len(df), 40, replace=False), "y"] = np.nan
    df = df.drop(index=rng.choice(len(df), 30, replace=False))
    r = twfe(df, unit="unit", time="time", treat="treat", outcome="y")
    assert r.n_dropped == df["y"].isna().sum()
    ok = df.dropna(subset=["y"])
    b, se = dummy_ols(ok, "y", ["treat"], "unit")
    assert r.estimate == pytest.approx(b[0], abs=1e-8)
    assert r.se == pytest.approx(se[0], abs=1e-8)


def test_twfe_recovers_homogeneous_effect():
    df = staggered_panel(n_units=400, n_periods=12, effect=-0.5, noise=0.5, seed=11)
    r = twfe(df, unit="unit", time="time", treat="treat", outcome="y")
    assert abs(r.estimate + 0.5) < 4 * r.se and r.se < 0.05
    es = event_study(df, unit="unit", time="time", cohort="cohort", outcome="y", leads=4, lags=3)
    post = es.table[es.table["event_time"] >= 0]
    assert (np.abs(post["estimate"] + 0.5) < 4 * post["se"]).all()
    assert es.pretrend["p_value"] > 0.001


def test_naive_twfe_biased_under_staggered_heterogeneous_effects():
    """Effects growing with exposure and no never-treated units: TWFE misses the ATT badly."""
    df = staggered_panel(n_units=300, n_periods=12, cohorts=(3, 7, 11), seed=5, noise=0.3,
                         effect=lambda g, e: 0.5 * (e + 1))  # fmt: skip
    true_att = df.loc[df["treat"] == 1, "truth"].mean()
    r = twfe(df, unit="unit", time="time", treat="treat", outcome="y")
    assert true_att > 1.5
    assert abs(r.estimate - true_att) > 10 * r.se  # not sampling noise
    assert r.estimate < 0.5 * true_att
    bacon = bacon_decomposition(df, unit="unit", time="time", cohort="cohort", outcome="y")
    bt = bacon.by_type().set_index("type")
    assert bt.loc["later_vs_earlier_treated", "estimate"] < 0  # the forbidden comparisons


def test_event_study_equals_dummy_ols_and_pyfixest(panel):
    es = event_study(panel, unit="unit", time="time", cohort="cohort", outcome="y", leads=3,
                     lags=2, cluster="cluster", se="cr1")  # fmt: skip
    t = es.table.set_index("event_time")
    assert t.loc[-1, "estimate"] == 0 and np.isnan(t.loc[-1, "se"])
    assert t.loc[-3, "binned"] and t.loc[2, "binned"] and not t.loc[0, "binned"]
    d = panel.copy()
    e = np.where(d["cohort"] > 0, d["time"] - d["cohort"], -99)
    names = []
    for k in (-3, -2, 0, 1, 2):
        hit = (e == k) | ((k == -3) & (e < -3) & (e > -99)) | ((k == 2) & (e > 2))
        d[f"d{k}"] = hit.astype(float)
        names.append(f"d{k}")
    b, se = dummy_ols(d, "y", names, "cluster")
    est = t.drop(index=-1)
    np.testing.assert_allclose(est["estimate"], b, atol=1e-10)
    np.testing.assert_allclose(est["se"], se, atol=1e-10)
    d["evt"] = np.where(d["cohort"] > 0, np.clip(d["time"] - d["cohort"], -3, 2), -1)
    f = pf.feols("y ~ i(evt, ref=-1) | unit + time", data=d, vcov={"CRV1": "cluster"},
                 ssc=pf.ssc(**SSC))  # fmt: skip
    np.testing.assert_allclose(est["estimate"], f.coef().to_numpy(), atol=1e-8)
    np.testing.assert_allclose(est["se"], f.se().to_numpy(), atol=1e-8)
    # Wald statistic of the leads, by hand from the returned covariance
    bpre = est.loc[[-3, -2], "estimate"].to_numpy()
    w = bpre @ np.linalg.solve(es.vcov[:2, :2], bpre)
    assert es.pretrend["stat"] == pytest.approx(w, rel=1e-12) and es.pretrend["df"] == 2
    # average of the single-period lags 0 and 1 (the binned lag 2 is left out)
    ap = es.average_post()
    assert ap["estimate"] == pytest.approx(est.loc[[0, 1], "estimate"].mean(), abs=1e-12)
    a = np.array([0, 0, 0.5, 0.5, 0])
    assert ap["se"] == pytest.approx(np.sqrt(a @ es.vcov @ a), abs=1e-12)


def test_event_study_unbinned_drops_outside_window(panel):
    es = event_study(panel, unit="unit", time="time", cohort="cohort", outcome="y", leads=2,
                     lags=1, bin_endpoints=False)  # fmt: skip
    g, e = panel["cohort"], panel["time"] - panel["cohort"]
    kept = (g == 0) | ((e >= -2) & (e <= 1))
    assert es.n_obs == int(kept.sum())
    assert not es.table["binned"].any()


def test_event_study_detects_pretrend():
    df = staggered_panel(n_units=300, n_periods=12, cohorts=(0, 6, 9), effect=0.0, seed=2,
                         trend_by_cohort={6: 0.3, 9: 0.3})  # fmt: skip
    es = event_study(df, unit="unit", time="time", cohort="cohort", outcome="y", leads=4, lags=3)
    assert es.pretrend["p_value"] < 1e-6


def test_bad_inputs(panel):
    with pytest.raises(InputFileError, match="share"):
        twfe(pd.concat([panel, panel.iloc[:2]]), unit="unit", time="time", treat="treat",
             outcome="y")  # fmt: skip
    with pytest.raises(InputFileError, match="lacks"):
        twfe(panel, unit="unit", time="time", treat="nope", outcome="y")
    changing = panel.assign(cohort=np.where(panel["time"] == 1, 99, panel["cohort"]))
    with pytest.raises(InputFileError, match="changes within"):
        event_study(changing, unit="unit", time="time", cohort="cohort", outcome="y")
    no_never = panel[panel["cohort"] > 0]
    with pytest.raises(EstimationError):
        event_study(no_never, unit="unit", time="time", cohort="cohort", outcome="y",
                    bin_endpoints=False)  # fmt: skip


def test_cli_twfe_json(panel, tmp_path):
    data = tmp_path / "panel.csv"
    panel.to_csv(data, index=False)
    out = tmp_path / "twfe.json"
    args = ["did", "twfe", "--data", str(data), "--unit", "unit", "--time", "time", "--treat",
            "treat", "--outcome", "y", "--cluster", "cluster", "--json", str(out),
            "--event-study", "--leads", "3", "--lags", "2"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    got = json.loads(out.read_text())
    r = twfe(panel, unit="unit", time="time", treat="treat", outcome="y", cluster="cluster")
    assert set(got) >= {"estimate", "se", "ci_low", "ci_high", "n_obs", "n_units", "cluster"}
    assert got["estimate"] == pytest.approx(r.estimate, abs=1e-12)
    assert got["se"] == pytest.approx(r.se, abs=1e-12)
    assert got["cluster"] == "cluster" and got["n_units"] == 50
    es = event_study(panel, unit="unit", time="time", cohort="cohort", outcome="y", leads=3,
                     lags=2, cluster="cluster")  # fmt: skip
    coefs = {c["event_time"]: c for c in got["event_study"]["coefficients"]}
    assert coefs[-1]["se"] is None
    assert coefs[1]["estimate"] == pytest.approx(
        es.table.set_index("event_time").loc[1, "estimate"], abs=1e-12
    )
    help_text = CliRunner().invoke(app, ["did", "twfe", "--help"]).output
    assert "Example: botrygt-eval did twfe" in help_text


def test_plot_event_study(panel):
    import matplotlib

    matplotlib.use("Agg")
    es = event_study(panel, unit="unit", time="time", cohort="cohort", outcome="y", leads=3,
                     lags=2)  # fmt: skip
    ax = es.plot().axes[0]
    assert ax.get_xlabel().startswith("Perioder")
    assert "Event study" in es.summary()


def test_event_study_other_reference_and_window_checks(panel):
    es = event_study(panel, unit="unit", time="time", cohort="cohort", outcome="y", leads=3,
                     lags=2, reference=-2, se="cr1")  # fmt: skip
    d = panel.copy()
    d["evt"] = np.where(d["cohort"] > 0, np.clip(d["time"] - d["cohort"], -3, 2), -2)
    f = pf.feols("y ~ i(evt, ref=-2) | unit + time", data=d, vcov={"CRV1": "unit"},
                 ssc=pf.ssc(**SSC))  # fmt: skip
    est = es.table[es.table["event_time"] != -2]
    np.testing.assert_allclose(est["estimate"], f.coef().to_numpy(), atol=1e-8)
    np.testing.assert_allclose(est["se"], f.se().to_numpy(), atol=1e-8)
    with pytest.raises(ConfigError, match="lags <= "):
        event_study(panel, unit="unit", time="time", cohort="cohort", outcome="y", lags=40)
    with pytest.raises(ConfigError, match="outside the window"):
        event_study(panel, unit="unit", time="time", cohort="cohort", outcome="y", leads=2,
                    lags=2, reference=-5)  # fmt: skip
