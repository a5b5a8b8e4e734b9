"""2x2 estimators and ATT(g,t): influence functions, identities, known truth, bootstrap."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.did import aggregate, att_gt, drdid
from botrygt_eval.did.att_gt import _mean_difference
from botrygt_eval.did.inference import analytic_se, multiplier_bootstrap
from tests.did.did_cs_sim import cs_panel, true_att


def _two_by_two(seed=0, n=400, rc=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    D = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.3 + 0.8 * x)))).astype(float)
    X = np.column_stack([np.ones(n), x, rng.uniform(size=n)])
    w = rng.uniform(0.5, 2, n)
    if rc:
        post = (rng.uniform(size=n) < 0.5).astype(float)
        y = 1 + x + post * (0.5 + 0.4 * x) + D * post * 2 + rng.normal(size=n)
        return (y, post, D, X, w)
    dy = 0.5 + 0.4 * x + 2 * D + rng.normal(size=n)
    return (dy, D, X, w)


@pytest.mark.parametrize("method", ["reg", "ipw", "dr"])
@pytest.mark.parametrize("rc", [False, True], ids=["panel", "rc"])
def test_influence_function_is_the_weight_derivative(method, rc):
    """IF_i / n = d att / d eps when observation i's weight is scaled by (1 + eps).

    An independent check of every influence-function formula (including the
    repeated-cross-section DR and IPW ones that R's references do not cover), on
    observations of every (treated, period) cell. It caught the sign of the
    pre-period outcome-regression terms in DRDID's ``drdid_rc`` (R adds them; the
    derivative, and csdid, subtract them).
    """
    args = _two_by_two(seed=1, rc=rc)
    fn = (drdid.RC if rc else drdid.PANEL)[method]
    att, inf = fn(*args)
    n = len(args[0])
    D = args[-3]
    groups = D * 2 + (args[1] if rc else 0)  # every (treated, period) cell
    rows = np.concatenate([np.nonzero(groups == k)[0][:8] for k in np.unique(groups)])
    eps = 1e-6
    for i in rows:
        w = args[-1].copy()
        w[i] *= 1 + eps
        att_i, _ = fn(*args[:-1], w)
        # the derivative of the weighted functional is w_i/sum(w) * psi_i = IF_i / n
        assert (att_i - att) / eps * n == pytest.approx(inf[i], rel=1e-4, abs=1e-4), i


@pytest.mark.parametrize("method", ["reg", "ipw", "dr"])
def test_no_covariate_fast_path_equals_drdid(method):
    dy, D, X, w = _two_by_two(seed=2)
    att, inf = drdid.PANEL[method](dy, D, X[:, :1], w)
    t = D == 1
    inf_t, inf_c = dy[t], dy[~t]  # copies, overwritten by the influence values
    att_f = _mean_difference([(inf_t, w[t], True), (inf_c, w[~t], False)], len(dy))
    inf_f = np.empty(len(dy))
    inf_f[t], inf_f[~t] = inf_t, inf_c
    assert att_f == pytest.approx(att, abs=1e-12)
    np.testing.assert_allclose(inf_f, inf, atol=1e-10)


@pytest.mark.parametrize("method", ["reg", "ipw", "dr"])
@pytest.mark.parametrize("control", ["never", "notyet"])
@pytest.mark.parametrize("panel", [True, False], ids=["panel", "rc"])
def test_recovers_known_att(method, control, panel):
    """Covariate-dependent trends: conditional estimators recover the truth (|z| < 4.5)."""
    df = cs_panel(n_units=3000, seed=3, covariate_trend=0.5)
    if not panel:  # a fresh sample each period: keep one period per unit
        keep = np.random.default_rng(0).integers(1, 7, df["unit"].nunique())
        df = df[df["time"].to_numpy() == keep[df["unit"].to_numpy() - 1]]
    r = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", covariates=["x"],
               method=method, control=control, panel=panel)  # fmt: skip
    t = r.table
    z = (t["att"] - [true_att(g, s) for g, s in zip(t["group"], t["time"], strict=True)]) / t["se"]
    assert np.all(np.abs(z) < 4.5), t.assign(z=z)
    assert np.mean(np.abs(z) < 1.96) > 0.7


def test_unconditional_estimate_is_biased_with_covariate_trends():
    """The same data without the covariate violate parallel trends: the test above can fail."""
    df = cs_panel(n_units=3000, seed=3, covariate_trend=0.5)
    t = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", method="reg").table
    z = (t["att"] - [true_att(g, s) for g, s in zip(t["group"], t["time"], strict=True)]) / t["se"]
    assert np.max(np.abs(z)) > 4.5


def test_rc_equals_panel_without_covariates():
    """Stacking a balanced panel as cross-sections leaves ATT(g,t) unchanged (R's rc rows)."""
    df = cs_panel(n_units=500, seed=4)
    kw = dict(unit="unit", time="time", cohort="cohort", outcome="y", method="dr")
    a = att_gt(df, **kw).table
    b = att_gt(df, panel=False, **kw).table
    np.testing.assert_allclose(a["att"], b["att"], atol=1e-10)
    assert (b["se"] > a["se"]).all()


def test_aggregates_recover_truth_and_simple_is_cohort_weighted():
    df = cs_panel(n_units=4000, seed=5)
    r = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", method="reg")
    dyn = aggregate(r, "dynamic").by.set_index("egt")
    sizes = df.groupby("cohort")["unit"].nunique()
    for e in (0, 1, 2):
        gs = [g for g in (3, 4, 5) if g + e <= 6]
        truth = np.average([true_att(g, g + e) for g in gs], weights=sizes[gs])
        assert abs(dyn.loc[e, "att"] - truth) < 4.5 * dyn.loc[e, "se"]
    s = aggregate(r, "simple")
    post = r.table[r.table["group"] <= r.table["time"]]
    wts = sizes[post["group"]].to_numpy()
    assert s.overall_att == pytest.approx(np.average(post["att"], weights=wts), abs=1e-12)


def test_dynamic_limits_and_balance():
    df = cs_panel(n_units=800, seed=6)
    r = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", method="reg")
    a = aggregate(r, "dynamic", min_e=-2, max_e=2)
    assert list(a.by["egt"]) == [-2, -1, 0, 1, 2]
    b = aggregate(r, "dynamic", balance_e=1)
    # only cohorts observed at least 1 period after start (3, 4, 5 with T=6) enter;
    # event times limited to [balance_e - (T - 1), balance_e]
    assert b.by["egt"].max() == 1
    e1 = r.table[(r.table["time"] - r.table["group"] == 1)]
    assert b.by.set_index("egt").loc[1, "att"] == pytest.approx(
        aggregate(r, "dynamic").by.set_index("egt").loc[1, "att"]
    )
    assert len(e1) == 3


def test_bootstrap_se_matches_analytic_within_monte_carlo_error():
    """Bootstrap SEs are random (R's RNG cannot be matched): compare with the analytic SE.

    The IQR-based SE from B = 4000 draws has a relative Monte-Carlo SD of about 2 %;
    8 % is four of those.
    """
    df = cs_panel(n_units=1500, seed=7)
    r = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", method="dr")
    an = aggregate(r, "dynamic")
    bs = aggregate(r, "dynamic", se="bootstrap", replications=4000, seed=1)
    np.testing.assert_allclose(bs.by["se"], an.by["se"], rtol=0.08)
    assert bs.overall_se == pytest.approx(an.overall_se, rel=0.08)
    # a simultaneous band is wider than a pointwise one, and narrower than Bonferroni
    k = len(an.by)
    from scipy import stats

    assert 1.96 < bs.crit < stats.norm.ppf(1 - 0.05 / (2 * k)) + 0.1
    # same seed, same numbers
    again = aggregate(r, "dynamic", se="bootstrap", replications=4000, seed=1)
    assert again.crit == bs.crit and np.array_equal(again.by["se"], bs.by["se"])


def test_cluster_bootstrap_matches_cluster_analytic():
    df = cs_panel(n_units=1500, seed=8)
    r = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", method="reg",
               cluster="cluster")  # fmt: skip
    an = aggregate(r, "group")
    bs = aggregate(r, "group", se="bootstrap", replications=4000, seed=2)
    # 40 clusters: the multiplier distribution is coarser, allow 15 %
    np.testing.assert_allclose(bs.by["se"], an.by["se"], rtol=0.15)


def test_bootstrap_chunking_does_not_change_draws_distribution():
    rng = np.random.default_rng(0)
    inf = rng.normal(size=(500, 3))
    a = multiplier_bootstrap(inf, 3000, seed=5, max_cells=500 * 7)
    an = analytic_se(inf)
    np.testing.assert_allclose(a.se, an, rtol=0.1)


def test_clustered_se_equals_rowsum_formula():
    rng = np.random.default_rng(1)
    inf = rng.normal(size=(300, 2))
    cl = rng.integers(0, 17, 300)
    S = pd.DataFrame(inf).groupby(cl).sum().to_numpy()
    np.testing.assert_allclose(analytic_se(inf, cl), np.sqrt((S**2).sum(0)) / 300)


def test_result_objects():
    df = cs_panel(n_units=400, seed=9)
    r = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", method="reg")
    f = r.to_frame()
    assert {"estimate", "se", "ci_low", "ci_high", "n"} <= set(f.columns)
    assert "Pre-test" in r.summary()
    a = aggregate(r, "calendar")
    fa = a.to_frame()
    assert {"estimate", "se", "ci_low", "ci_high", "n"} <= set(fa.columns)
    assert np.isnan(fa["egt"].iloc[0]) and len(fa) == len(a.by) + 1
    assert "calendar" in a.summary()
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.settings = {}  # frozen
