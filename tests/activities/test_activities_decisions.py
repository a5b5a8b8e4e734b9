"""Activity evaluation on the synthetic Denmark with known truth, and the decision rule."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from botrygt_eval.activities import DecisionRule, evaluate_activities
from botrygt_eval.activities.effects import _col, _lead
from botrygt_eval.activities.evaluate import _prevented
from botrygt_eval.activities.rule import decide
from botrygt_eval.errors import ConfigError, InputFileError
from botrygt_eval.simulate import SimulationConfig
from botrygt_eval.simulate import activities as simulated
from botrygt_eval.simulate.activities import simulated_activity_workspace

#: a larger effect than the default (log 0.95 per Bo trygt-korps visit) to test "repeat"
STRONG = {"bo_trygt_korps": math.log(0.85), "tryghedsvandring": math.log(0.88)}


@pytest.fixture(scope="module")
def default_run():
    cfg = SimulationConfig()
    ws = simulated_activity_workspace(seed=11, config=cfg)
    return cfg, ws, evaluate_activities(ws)


@pytest.fixture(scope="module")
def strong_run():
    base = SimulationConfig()
    cfg = dataclasses.replace(
        base, activity_burglary_effects={**base.activity_burglary_effects, **STRONG}
    )
    ws = simulated_activity_workspace(seed=12, config=cfg)
    return cfg, ws, evaluate_activities(ws)


def _row(ev, kind):
    return ev.decisions.set_index("activity_type").loc[kind]


def test_decision_table_shape(default_run):
    cfg, ws, ev = default_run
    d = ev.decisions
    assert d["activity_type"].is_unique
    assert set(d["activity_type"]) == set(ws.activities["activity_type"])
    assert set(d["verdict"]) <= {"gentag", "ændr", "drop", "utilstrækkelig evidens"}
    assert set(d["verdict_code"]) <= {"repeat", "change", "drop", "insufficient"}
    assert (
        d["n_activities"] == d["activity_type"].map(ws.activities["activity_type"].value_counts())
    ).all()
    assert d["reasons"].str.len().min() > 40
    tidy = ev.to_frame()
    assert {"estimate", "se", "ci_low", "ci_high", "n"} <= set(tidy.columns)
    assert "bo_trygt_korps" in ev.summary()


def test_strong_effects_repeat_and_recovered(strong_run):
    cfg, _, ev = strong_run
    for kind, truth in STRONG.items():
        r = _row(ev, kind)
        assert r["verdict_code"] == "repeat", r["reasons"]
        assert abs(r["estimate"] - truth) < 3 * r["se"], (kind, r["estimate"], truth)


@pytest.mark.parametrize("run", ["default_run", "strong_run"])
def test_null_types_never_repeat(run, request):
    cfg, _, ev = request.getfixturevalue(run)
    null = [t for t, e in cfg.activity_burglary_effects.items() if e == 0]
    d = ev.decisions.set_index("activity_type")
    assert not (d.loc[d.index.intersection(null), "verdict_code"] == "repeat").any()


@pytest.mark.parametrize("run", ["default_run", "strong_run"])
def test_never_drop_on_underpowered_null(run, request):
    _, _, ev = request.getfixturevalue(run)
    d = ev.decisions
    under = d["mde"] > ev.rule.log_delta
    harmful = d["ci_low"] > 0
    assert not ((d["verdict_code"] == "drop") & under & ~harmful).any()
    assert (d.loc[under & ~harmful & (d["nabohjaelp_estimate"].abs() < 0.5), "verdict_code"]
            == "insufficient").all()  # fmt: skip


def test_default_korps_effect_is_near_the_detection_limit(default_run):
    """truth.json: log 0.95 per visit; its MDE at the data's size is about the same size,
    so the default simulation can give "repeat" or "insufficient" but never "drop"."""
    cfg, _, ev = default_run
    r = _row(ev, "bo_trygt_korps")
    truth = cfg.activity_burglary_effects["bo_trygt_korps"]
    assert r["mde"] == pytest.approx(abs(truth), rel=0.35)
    assert r["verdict_code"] in {"repeat", "insufficient"}
    assert abs(r["estimate"] - truth) < 3 * r["se"]


def test_nabohjaelp_recruitment_is_change(default_run):
    cfg, _, ev = default_run
    r = _row(ev, "nabohjaelp_rekruttering")
    assert r["verdict_code"] == "change", r["reasons"]
    truth_pp = 100 * cfg.nabohjaelp_recruitment_effect
    assert abs(r["nabohjaelp_estimate"] - truth_pp) < 0.05 * truth_pp
    others = ev.decisions.loc[ev.decisions["activity_type"] != "nabohjaelp_rekruttering"]
    assert (others["nabohjaelp_estimate"].abs() < 0.05 * truth_pp).all()


def test_too_little_data_is_insufficient():
    ws = simulated_activity_workspace(seed=13)
    acts = ws.activities
    kind = acts["activity_type"] == "erhvervssamarbejde"
    few = acts.loc[kind].drop_duplicates("kommune_kode").head(3)
    ws = dataclasses.replace(ws, activities=pd.concat([acts.loc[~kind], few]))
    ev = evaluate_activities(ws)
    r = _row(ev, "erhvervssamarbejde")
    assert r["n_kommuner"] == 3
    assert r["verdict_code"] == "insufficient"
    assert r["reasons"].startswith("For lidt data")


def test_against_pyfixest(default_run):
    """The joint TWFE equals pyfixest's feols with CRV1 by kommune (independent code); the
    CR1 SE is kept as ``se_cr1`` next to the CR2 ``se`` the rule uses."""
    pf = pytest.importorskip("pyfixest")
    from botrygt_eval.activities.effects import burglary_design
    from botrygt_eval.panel.build import panel_from_workspace

    _, ws, ev = default_run
    types = sorted(ws.activities["activity_type"].unique())
    design = burglary_design(panel_from_workspace(ws), ws.activities, types, 4,
                             ev.settings["start_year"])  # fmt: skip
    rhs = " + ".join([f"p_{k}" for k in range(9)] + [_col(t) for t in types]
                     + [_lead(t) for t in types])  # fmt: skip
    fit = pf.feols(f"log_rate ~ {rhs} | kommune_kode + period", data=design,
                   vcov={"CRV1": "kommune_kode"}, ssc=pf.ssc(k_adj=True, k_fixef="none", G_adj=True))  # fmt: skip
    eff = ev.effects.loc[ev.effects["outcome"] == "burglary_log_rate"].set_index("activity_type")
    for t in types:
        assert eff.at[t, "estimate"] == pytest.approx(fit.coef()[_col(t)], rel=1e-6, abs=1e-10)
        assert eff.at[t, "se_cr1"] == pytest.approx(fit.se()[_col(t)], rel=1e-4)
    lead = ev.decisions.set_index("activity_type")
    for t in types:
        assert lead.at[t, "pretrend_estimate"] == pytest.approx(fit.coef()[_lead(t)], rel=1e-6)


def test_cost_per_prevented_closed_form(strong_run):
    _, ws, ev = strong_run
    from botrygt_eval.activities.effects import burglary_design
    from botrygt_eval.panel.build import panel_from_workspace

    types = sorted(ws.activities["activity_type"].unique())
    design = burglary_design(panel_from_workspace(ws), ws.activities, types, 4,
                             ev.settings["start_year"])  # fmt: skip
    r = _row(ev, "bo_trygt_korps")
    x = design[_col("bo_trygt_korps")].to_numpy()
    y = design["burglaries"].to_numpy()
    by_hand = float(np.sum(y * (np.exp(-r["estimate"] * x) - 1)))
    assert r["prevented_burglaries"] == pytest.approx(by_hand, rel=1e-10)
    acts = ws.activities.loc[ws.activities["activity_type"] == "bo_trygt_korps", "cost_dkk"]
    cost = acts.fillna(acts.mean()).sum()
    assert r["cost_per_prevented_burglary"] == pytest.approx(cost / by_hand, rel=1e-10)
    assert (
        r["cost_per_prevented_low"]
        < r["cost_per_prevented_burglary"]
        < r["cost_per_prevented_high"]
    )
    b = np.array([[0.0, -0.1], [np.nan, np.nan]])
    out = _prevented(design, ["bo_trygt_korps", "kampagne"], b)
    assert out[0, 0] == 0 and out[0, 1] > 0 and np.isnan(out[1]).all()


def _table(**cols):
    base = {"activity_type": "a", "n_activities": 50, "n_kommuner": 20, "nh_estimate": np.nan,
            "nh_se": np.nan}  # fmt: skip
    rows = [{**base, **{k: v[i] for k, v in cols.items()}} for i in range(len(cols["estimate"]))]
    return pd.DataFrame(rows)


def test_rule_closed_form_cases():
    rule = DecisionRule(adjust="none")
    z = stats.norm.ppf(0.975)
    t = _table(
        estimate=[-0.10, 0.10, 0.0, 0.0, 0.0, -0.10, 0.0],
        se=[0.02, 0.02, 0.01, 0.05, 0.05, 0.02, 0.01],
        nh_estimate=[np.nan, np.nan, np.nan, np.nan, 1.0, -1.0, np.nan],
        nh_se=[np.nan, np.nan, np.nan, np.nan, 0.1, 0.1, np.nan],
        n_kommuner=[20, 20, 20, 20, 20, 20, 2],
    )
    out = decide(t, rule)
    assert list(out["verdict_code"]) == [
        "repeat", "drop", "drop", "insufficient", "change", "change", "insufficient",
    ]  # fmt: skip
    assert out["ci_low"].iloc[0] == pytest.approx(-0.10 - z * 0.02)
    mde = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * t["se"]
    np.testing.assert_allclose(out["mde"], mde)
    assert out["verdict"].iloc[0] == "gentag" and out["verdict"].iloc[3] == "utilstrækkelig evidens"


def test_rule_boundary_of_drop():
    """Drop needs the interval to rule out delta AND the MDE to be at most delta."""
    rule = DecisionRule(adjust="none", delta=0.05)
    d = rule.log_delta
    k = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    se_ok, se_bad = 0.99 * d / k, 1.01 * d / k
    z = stats.norm.ppf(0.975)
    out = decide(_table(estimate=[-d + z * se_ok + 1e-4, -d + z * se_ok - 1e-4, 0.0],
                        se=[se_ok, se_ok, se_bad]), rule)  # fmt: skip
    assert list(out["verdict_code"]) == ["drop", "insufficient", "insufficient"]


def test_bonferroni_widens():
    t = _table(estimate=[-0.05] * 4, se=[0.02] * 4)
    none = decide(t, DecisionRule(adjust="none"))
    bonf = decide(t, DecisionRule(adjust="bonferroni"))
    zb = stats.norm.ppf(1 - 0.05 / 8)
    assert bonf["ci_high"].iloc[0] == pytest.approx(-0.05 + zb * 0.02)
    assert (bonf["ci_high"] > none["ci_high"]).all()
    assert bonf["mde"].iloc[0] == pytest.approx((zb + stats.norm.ppf(0.8)) * 0.02)


def test_rule_refuses_bad_settings():
    with pytest.raises(ConfigError, match="adjust"):
        DecisionRule(adjust="holm")
    with pytest.raises(ConfigError, match="delta"):
        DecisionRule(delta=5)
    with pytest.raises(ConfigError, match="power"):
        DecisionRule(power=1.2)


def test_empty_log_is_refused(default_run):
    _, ws, _ = default_run
    empty = dataclasses.replace(ws, activities=ws.activities.iloc[:0])
    with pytest.raises(InputFileError, match="activities.csv"):
        evaluate_activities(empty)


@pytest.mark.skipif(simulated.add_wave_responses is None, reason="simulator without burglary waves")
def test_wave_responses_are_not_credited_with_regression_to_the_mean():
    """Reaktionsplaner follow burglary waves and do nothing (truth.json): the pre-start lead
    catches the wave, so the plan is not called "repeat"; without the lead it is biased
    towards a benefit (regression to the mean)."""
    ws = simulated_activity_workspace(seed=500)
    ev = evaluate_activities(ws)
    r = _row(ev, "reaktionsplan")
    assert r["verdict_code"] != "repeat"
    assert abs(r["estimate"]) < 3 * r["se"]
    assert r["pretrend_estimate"] > 0.2 and r["reasons"].endswith("sammenligningen.")
    naive = _row(evaluate_activities(ws, leads=0), "reaktionsplan")
    assert naive["estimate"] < r["estimate"] - 0.02


def test_plot_and_html(default_run):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, _, ev = default_run
    ax = ev.plot().axes[0]
    assert len(ax.get_yticklabels()) == len(ev.decisions)
    assert "Ændring i indbrud" in ax.get_xlabel()
    plt.close(ax.figure)
    assert "<table" in ev._repr_html_()


# ----------------------------------------------------------------- CR2 / Bell-McCaffrey
def _full_dummy_fit(design, regs, weights=None):
    """OLS/WLS with kommune and period dummies as columns (nothing absorbed): X, residuals."""
    X = np.column_stack([
        pd.get_dummies(design["kommune_kode"]).to_numpy(float),
        pd.get_dummies(design["period"], drop_first=True).to_numpy(float),
        design[regs].to_numpy(float),
    ])  # fmt: skip
    y = design["log_rate"].to_numpy(float)
    sw = np.ones(len(y)) if weights is None else np.sqrt(weights)
    b = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
    return X, y - X @ b


def test_burglary_se_and_df_are_cr2_test_on_the_full_dummy_design(default_run):
    """The activity SE and df equal ``cr2_test`` on the same model written with kommune and
    period dummies as columns (a second route: no absorbed effects, residuals from lstsq,
    not from linearmodels), and the interval is the Bonferroni t(df) interval."""
    from botrygt_eval.activities.effects import burglary_design
    from botrygt_eval.did.small_sample import cr2_test
    from botrygt_eval.panel.build import panel_from_workspace

    _, ws, ev = default_run
    types = sorted(ws.activities["activity_type"].unique())
    design = burglary_design(panel_from_workspace(ws), ws.activities, types, 4,
                             ev.settings["start_year"])  # fmt: skip
    regs = [f"p_{k}" for k in range(9)] + [_lead(t) for t in types] + [_col(t) for t in types]
    regs = [c for c in regs if design[c].std() > 0]
    X, e = _full_dummy_fit(design, regs)
    picked = ["bo_trygt_korps", "data_gis", "erhvervssamarbejde"]
    first = X.shape[1] - len(regs)
    C = np.eye(X.shape[1])[[first + regs.index(_col(t)) for t in picked]]
    se, df = cr2_test(X, e, design["kommune_kode"].to_numpy(), C)
    eff = ev.effects.loc[ev.effects["outcome"] == "burglary_log_rate"].set_index("activity_type")
    np.testing.assert_allclose(eff.loc[picked, "se"], se, rtol=1e-6)
    np.testing.assert_allclose(eff.loc[picked, "df"], df, rtol=1e-6)
    d = ev.decisions.set_index("activity_type")
    m = int(d["estimate"].notna().sum())
    q = stats.t.ppf(1 - 0.05 / (2 * m), df)
    np.testing.assert_allclose(d.loc[picked, "ci_high"], d.loc[picked, "estimate"] + q * se,
                               rtol=1e-6)  # fmt: skip
    mde = (q + stats.t.ppf(0.8, df)) * se
    np.testing.assert_allclose(d.loc[picked, "mde"], mde, rtol=1e-6)
    assert ev.settings["se"].startswith("CR2")


def test_rule_t_intervals_with_bell_mccaffrey_df():
    """Intervals and MDE use t(df) quantiles; infinite df is the normal rule; tiny df makes
    an otherwise clear benefit 'insufficient', and an otherwise clear Nabohjælp rise no
    'change'."""
    rule = DecisionRule()
    dfs = [np.inf, 30.0, 1.5]
    out = decide(_table(estimate=[-0.10] * 3, se=[0.03] * 3, df=dfs), rule)
    a = 0.05 / 3
    for i, df in enumerate(dfs):
        dist = stats.norm if np.isinf(df) else stats.t(df)
        q = dist.ppf(1 - a / 2)
        assert out["ci_low"].iloc[i] == pytest.approx(-0.10 - q * 0.03)
        assert out["ci_high"].iloc[i] == pytest.approx(-0.10 + q * 0.03)
        assert out["mde"].iloc[i] == pytest.approx((q + dist.ppf(0.8)) * 0.03)
    assert list(out["verdict_code"]) == ["repeat", "repeat", "insufficient"]
    nh = dict(estimate=[0.0, 0.0], se=[0.05, 0.05], nh_estimate=[1.0, 1.0], nh_se=[0.3, 0.3])
    out = decide(_table(**nh, nh_df=[np.inf, 1.2]), rule)
    assert list(out["verdict_code"]) == ["change", "insufficient"]


def test_one_or_two_kommuner_is_insufficient():
    """A type in two kommuner gets Bell-McCaffrey df of about 1, so its interval is very
    wide and it is 'insufficient' even with the kommune guard lowered to 2 and a strong
    true effect; one kommune cannot be judged at all (CR2 does not see that kommune's
    own variation), so the guard cannot go below 2."""
    base = SimulationConfig()
    cfg = dataclasses.replace(
        base, activity_burglary_effects={**base.activity_burglary_effects, **STRONG}
    )
    ws = simulated_activity_workspace(seed=13, config=cfg)
    acts = ws.activities
    parts, rare = (
        [
            acts.loc[
                ~acts["activity_type"].isin(["bo_trygt_korps", "erhvervssamarbejde", "data_gis"])
            ]
        ],
        {},
    )
    for kind, nk in (("bo_trygt_korps", 2), ("erhvervssamarbejde", 2), ("data_gis", 1)):
        sel = acts["activity_type"] == kind
        top = acts.loc[sel, "kommune_kode"].value_counts().index[:nk]
        parts.append(acts.loc[sel & acts["kommune_kode"].isin(top)])
        rare[kind] = nk
    ws = dataclasses.replace(ws, activities=pd.concat(parts, ignore_index=True))
    ev = evaluate_activities(ws, rule=DecisionRule(min_kommuner=2, min_activities=1))
    d = ev.decisions.set_index("activity_type")
    assert (d.loc[list(rare), "n_kommuner"] == pd.Series(rare)).all()
    for kind in ("bo_trygt_korps", "erhvervssamarbejde"):
        r = d.loc[kind]
        assert r["df"] < 3
        assert r["ci_high"] - r["ci_low"] > 10 * r["se"]
        assert r["verdict_code"] == "insufficient", r["reasons"]
        assert not r["reasons"].startswith("For lidt data")  # the interval decides, not the guard
    assert d.at["data_gis", "verdict_code"] == "insufficient"
    assert d.at["data_gis", "reasons"].startswith("For lidt data")
    with pytest.raises(ConfigError, match="min_kommuner"):
        DecisionRule(min_kommuner=1)
    # the default rule (at least 5 kommuner) says the same on the same estimates
    t = d.reset_index().rename(columns={"nabohjaelp_estimate": "nh_estimate",
                                        "nabohjaelp_se": "nh_se"})  # fmt: skip
    out = decide(t[["activity_type", "n_activities", "n_kommuner", "estimate", "se", "df",
                    "nh_estimate", "nh_se"]], DecisionRule()).set_index("activity_type")  # fmt: skip
    assert (out.loc[list(rare), "verdict_code"] == "insufficient").all()


def test_demo_seed_beneficial_repeats_and_nulls_do_not():
    """On the demo's seed (2018) and the default simulator, the beneficial Bo trygt-korps
    (log 0.95 per visit) comes out 'repeat' and no null type does."""
    cfg = SimulationConfig()
    ev = evaluate_activities(simulated_activity_workspace(seed=2018, config=cfg))
    d = ev.decisions.set_index("activity_type")
    assert cfg.activity_burglary_effects["bo_trygt_korps"] < 0
    assert d.at["bo_trygt_korps", "verdict_code"] == "repeat", d.at["bo_trygt_korps", "reasons"]
    truth = d.index.map(lambda t: cfg.activity_burglary_effects.get(t, 0.0))
    assert not (d.loc[truth == 0, "verdict_code"] == "repeat").any()
