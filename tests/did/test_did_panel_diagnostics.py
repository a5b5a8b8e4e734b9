"""Goodman-Bacon identity, randomization inference, relative-magnitude bounds, pre-trend test."""

from __future__ import annotations

import time as clock

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from botrygt_eval.did.diagnostics import (
    bacon_decomposition,
    pretrend_test,
    randomization_inference,
    relative_magnitude_bounds,
)
from botrygt_eval.did.twfe import EventStudyResult, event_study, event_table, twfe
from botrygt_eval.errors import EstimationError
from tests.did.did_panel_helpers import count_panel, staggered_panel

KW = {"unit": "unit", "time": "time", "cohort": "cohort", "outcome": "y"}


def with_treat(df):
    return df.assign(treat=((df["cohort"] > 0) & (df["time"] >= df["cohort"])).astype(int))


# --------------------------------------------------------------------------- Goodman-Bacon
@pytest.mark.parametrize(
    "cohorts",
    [(0, 4, 6, 9), (3, 5, 8, 11), (0, 1, 5, 8), (1, 4, 7), (0, 2, 3, 4, 5, 6, 7, 8, 9, 10)],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_bacon_weighted_sum_equals_twfe(cohorts, seed):
    """Theorem 1 of Goodman-Bacon (2021): sum of weight x 2x2 DiD = TWFE coefficient."""
    df = staggered_panel(n_units=45, n_periods=11, cohorts=cohorts, seed=seed,
                         effect=lambda g, e: 0.3 * e + 0.1 * g)  # fmt: skip
    b = bacon_decomposition(df, **KW)
    r = twfe(with_treat(df), unit="unit", time="time", treat="treat", outcome="y")
    assert b.twfe_estimate == pytest.approx(r.estimate, abs=1e-10)
    assert b.weighted_sum == pytest.approx(r.estimate, abs=1e-10)
    assert b.table["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (b.table["weight"] >= 0).all()


def test_bacon_each_2x2_is_a_subsample_twfe_with_its_variance_share():
    """Row by row: estimate = TWFE on the 2x2 subsample; weight = (N_j T_j / N T) x
    (sum of squared two-way-demeaned D in the subsample) / (the same in the full panel)."""
    df = staggered_panel(n_units=40, n_periods=10, cohorts=(0, 4, 7, 9), seed=6,
                         effect=lambda g, e: 0.2 * e - 0.05 * g)  # fmt: skip
    df = with_treat(df)
    b = bacon_decomposition(df, **KW)

    def ss(d):
        m = d.pivot(index="unit", columns="time", values="treat").to_numpy(float)
        return ((m - m.mean(1, keepdims=True) - m.mean(0, keepdims=True) + m.mean()) ** 2).sum()

    full = ss(df)
    n_units, n_periods = df["unit"].nunique(), df["time"].nunique()
    for row in b.table.itertuples():
        k = row.treated
        if row.type == "treated_vs_untreated":
            sub = df[df["cohort"].isin([0, k])]
        else:
            ell = int(row.control)
            early, late = min(k, ell), max(k, ell)
            sub = df[df["cohort"].isin([k, ell])]
            sub = (
                sub[sub["time"] < late]
                if row.type == "earlier_vs_later_treated"
                else sub[sub["time"] >= early]
            )
        est = twfe(sub, unit="unit", time="time", treat="treat", outcome="y").estimate
        assert row.estimate == pytest.approx(est, abs=1e-10)
        share = sub["unit"].nunique() * sub["time"].nunique() / (n_units * n_periods)
        assert row.weight == pytest.approx(share * ss(sub) / full, abs=1e-12)


def test_bacon_single_cohort_is_the_classic_2x2():
    df = staggered_panel(n_units=30, n_periods=8, cohorts=(0, 5), seed=4)
    b = bacon_decomposition(df, **KW)
    assert len(b.table) == 1 and b.table["weight"].iloc[0] == pytest.approx(1.0)
    tr, post = df["cohort"] == 5, df["time"] >= 5
    m = lambda a, p: df.loc[a & p, "y"].mean()  # noqa: E731
    did = (m(tr, post) - m(tr, ~post)) - (m(~tr, post) - m(~tr, ~post))
    assert b.table["estimate"].iloc[0] == pytest.approx(did, abs=1e-12)


def test_bacon_needs_balanced_panel():
    df = staggered_panel(n_units=20, n_periods=6, seed=1).iloc[1:]
    with pytest.raises(EstimationError, match="unbalanced"):
        bacon_decomposition(df, **KW)


# --------------------------------------------------------------------------- randomization inference
def test_ri_observed_equals_twfe_and_is_seeded():
    df = staggered_panel(n_units=40, n_periods=9, cohorts=(0, 4, 6, 8), seed=2, effect=0.5)
    a = randomization_inference(df, **KW, n_perm=500, seed=7)
    b = randomization_inference(df, **KW, n_perm=500, seed=7)
    r = twfe(with_treat(df), unit="unit", time="time", treat="treat", outcome="y")
    assert a.estimate == pytest.approx(r.estimate, abs=1e-10)
    np.testing.assert_array_equal(a.distribution, b.distribution)
    assert 1 / 501 <= a.p_value <= 1


def test_ri_permutation_statistics_equal_refits():
    """The matrix shortcut equals refitting TWFE on data with permuted cohorts."""
    df = staggered_panel(n_units=25, n_periods=8, cohorts=(0, 3, 5, 7), seed=3, effect=0.4)
    rng = np.random.default_rng(0)
    units = np.sort(df["unit"].unique())
    g = df.groupby("unit")["cohort"].first().reindex(units).to_numpy()
    perms = np.array([rng.permutation(g) for _ in range(6)])
    res = randomization_inference(df, **KW, assignments=perms)
    for k in range(len(perms)):
        d = df.assign(cohort=df["unit"].map(dict(zip(units, perms[k], strict=True))))
        r = twfe(with_treat(d), unit="unit", time="time", treat="treat", outcome="y")
        assert res.distribution[k] == pytest.approx(r.estimate, abs=1e-10)


def test_ri_pvalues_uniform_under_null():
    """Sharp null true and timing randomly assigned: p-values are uniform (exact test)."""
    pvals = []
    for s in range(300):
        df = staggered_panel(n_units=16, n_periods=6, cohorts=(0, 3, 4, 5), seed=1000 + s,
                             effect=0.0)  # fmt: skip
        pvals.append(randomization_inference(df, **KW, n_perm=199, seed=s).p_value)
    pvals = np.asarray(pvals)
    assert stats.kstest(pvals, "uniform").pvalue > 0.001
    # rejection rate at 5 %: binomial(300, 0.05) has sd 1.26 %
    assert 0.05 - 3 * 0.0126 < np.mean(pvals <= 0.05) < 0.05 + 3 * 0.0126


def test_ri_rejects_a_real_effect_and_strata():
    df = staggered_panel(n_units=60, n_periods=10, cohorts=(0, 4, 7), seed=5, effect=1.0,
                         noise=0.5)  # fmt: skip
    assert randomization_inference(df, **KW, n_perm=999, seed=1).p_value < 0.01
    # strata that each hold a single cohort: every permutation is the observed assignment
    one = df.assign(stratum=df["cohort"])
    r = randomization_inference(one, **KW, n_perm=50, seed=1, strata="stratum")
    np.testing.assert_allclose(r.distribution, r.estimate, atol=1e-12)
    assert r.p_value == 1.0


def test_ri_10000_permutations_98_by_64_fast():
    df = count_panel(n_units=98, n_periods=64, seed=1)
    df["y"] = np.log(df["y"] + 0.5)
    start = clock.perf_counter()
    r = randomization_inference(df, **KW, n_perm=10_000, seed=2)
    elapsed = clock.perf_counter() - start
    assert elapsed < 30, elapsed
    assert r.n_perm == 10_000 and len(r.distribution) == 10_000


# --------------------------------------------------------------------------- Rambachan-Roth
def es_result(b, v, times=(-3, -2, 0, 1, 2)):
    counts = {e: 10 for e in (*times, -1)}
    table = event_table(np.asarray(b, float), np.asarray(v, float), list(times), -1, counts,
                        set(), 0.05)  # fmt: skip
    return EventStudyResult(table=table, vcov=np.asarray(v, float), event_times=tuple(times),
                            reference=-1, pretrend={"stat": 0.0, "df": 2, "p_value": 1.0},
                            n_obs=100, n_units=10, n_clusters=10, cluster="unit", outcome="y")  # fmt: skip


def lp_identified_set(theta, m, mbar, n_post):
    """Independent route: extreme mean bias by linear programming over post-period deltas."""
    # |delta_0 - 0| <= mbar m ; |delta_t - delta_{t-1}| <= mbar m
    a_ub, b_ub = [], []
    for t in range(n_post):
        row = np.zeros(n_post)
        row[t] = 1
        if t > 0:
            row[t - 1] = -1
        a_ub += [row, -row]
        b_ub += [mbar * m, mbar * m]
    c = np.full(n_post, 1 / n_post)
    lo = optimize.linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(None, None)).fun
    hi = -optimize.linprog(-c, A_ub=a_ub, b_ub=b_ub, bounds=(None, None)).fun
    return theta - hi, theta - lo


def test_rm_identified_set_closed_form_and_lp():
    b = [0.1, -0.05, -0.3, -0.4, -0.5]  # e = -3, -2, 0, 1, 2
    res = relative_magnitude_bounds(es_result(b, 1e-14 * np.eye(5)), mbar=[0, 0.5, 1, 2])
    # pre changes: 0 - b_{-2} = 0.05, b_{-2} - b_{-3} = -0.15 -> M = 0.15; theta = -0.4
    assert res.max_pre_violation == pytest.approx(0.15)
    assert res.estimate == pytest.approx(-0.4)
    t = res.table.set_index("mbar")
    assert t.loc[1, "id_low"] == pytest.approx(-0.4 - 0.15 * 2)
    assert t.loc[1, "id_high"] == pytest.approx(-0.4 + 0.15 * 2)
    for mb in (0, 0.5, 1, 2):
        lo, hi = lp_identified_set(-0.4, 0.15, mb, 3)
        assert t.loc[mb, "id_low"] == pytest.approx(lo, abs=1e-9)
        assert t.loc[mb, "id_high"] == pytest.approx(hi, abs=1e-9)
    assert res.breakdown_identified == pytest.approx(0.4 / (2 * 0.15))
    # with (almost) no sampling noise, the robust CI is the identified set
    assert res.breakdown_ci == pytest.approx(res.breakdown_identified, rel=1e-5)
    np.testing.assert_allclose(t["ci_low"], t["id_low"], atol=1e-5)


def test_rm_robust_ci_delta_method_by_numerical_gradient():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 5))
    v = 0.01 * (a @ a.T + np.eye(5))
    b = np.array([0.1, -0.05, -0.3, -0.4, -0.5])
    es = es_result(b, v)
    res = relative_magnitude_bounds(es, mbar=[0, 1.5])
    z = stats.norm.ppf(0.975)

    def lower(bb, mb):
        pre_changes = np.array([0 - bb[1], bb[1] - bb[0]])
        return bb[2:].mean() - mb * 2 * np.abs(pre_changes).max()

    for mb in (0, 1.5):
        grad = np.array([(lower(b + h, mb) - lower(b - h, mb)) / 2e-7 for h in 1e-7 * np.eye(5)])
        expected = lower(b, mb) - z * np.sqrt(grad @ v @ grad)
        assert res.table.set_index("mbar").loc[mb, "ci_low"] == pytest.approx(expected, abs=1e-7)
    avg = es.average_post()
    row0 = res.table.set_index("mbar").loc[0]
    assert row0["ci_low"] == pytest.approx(avg["ci_low"]) and row0["se"] == pytest.approx(avg["se"])
    # at the breakdown value the CI just reaches zero
    at = relative_magnitude_bounds(es, mbar=[res.breakdown_ci]).table.iloc[0]
    assert at["ci_high"] == pytest.approx(0.0, abs=1e-8)


def test_rm_on_event_study_and_pretrend_test():
    df = staggered_panel(n_units=200, n_periods=12, cohorts=(0, 6, 8), seed=8, effect=-1.0,
                         noise=0.5)  # fmt: skip
    es = event_study(df, **KW, bin_endpoints=False, leads=4, lags=3)
    res = relative_magnitude_bounds(es)
    assert res.post_event_times == (0, 1, 2, 3)
    assert res.breakdown_ci > 0 and res.breakdown_identified > res.breakdown_ci
    assert "breakdown" in res.summary()
    assert pretrend_test(es) == es.pretrend
    binned = event_study(df, **KW, leads=3, lags=2)
    r2 = relative_magnitude_bounds(binned)  # binned endpoints are left out
    assert r2.post_event_times == (0, 1)
    with pytest.raises(EstimationError):
        relative_magnitude_bounds(event_study(df, **KW, leads=1, lags=2))


def test_plots_run():
    import matplotlib

    matplotlib.use("Agg")
    df = staggered_panel(n_units=30, n_periods=8, cohorts=(0, 4, 6), seed=1)
    bacon_decomposition(df, **KW).plot()
    randomization_inference(df, **KW, n_perm=99, seed=1).plot()
    relative_magnitude_bounds(event_study(df, **KW, bin_endpoints=False)).plot()
    assert isinstance(bacon_decomposition(df, **KW).by_type(), pd.DataFrame)
