"""Cluster jackknife (CV3) SEs of the Callaway-Sant'Anna aggregates.

Checked against a closed form (two groups, two periods: (G - 1) / G times the sum of
s_g^2 / (n_g - 1)) and against a literal leave-one-cluster-out loop through the public
``att_gt`` and ``aggregate`` on the reduced data frames, which shares no code with
the replicate machinery.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from botrygt_eval.did import jackknife as jk
from botrygt_eval.did.aggregate import aggregate
from botrygt_eval.did.att_gt import att_gt
from botrygt_eval.errors import DidWarning, EstimationError, SmallCohortWarning
from tests.did.did_cs_sim import cs_panel

KEYS = dict(unit="unit", time="time", cohort="cohort", outcome="y")


def naive_jackknife(df, att_kw, agg_kw, cluster_col):
    """CV3 by brute force: re-run the public API without each cluster."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = aggregate(att_gt(df, **att_kw), **agg_kw)
        theta = np.r_[full.by["att"].to_numpy(), full.overall_att]
        reps = []
        for c in np.unique(df[cluster_col]):
            a = aggregate(att_gt(df[df[cluster_col] != c], **att_kw), **agg_kw)
            assert list(a.by["egt"]) == list(full.by["egt"])  # same by-rows in every replicate
            reps.append(np.r_[a.by["att"].to_numpy(), a.overall_att])
    reps = np.array(reps)
    g = len(reps)
    se = np.sqrt((g - 1) / g * ((reps - theta) ** 2).sum(axis=0))
    return np.where(se > 1e-7, se, np.nan)  # zero by construction (universal base): NA


def test_two_by_two_matches_closed_form():
    rng = np.random.default_rng(3)
    n_t, n_c = 7, 12
    y0 = rng.normal(size=n_t + n_c)
    dy = rng.normal(size=n_t + n_c) * np.r_[np.full(n_t, 2.0), np.ones(n_c)] + 0.4
    df = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n_t + n_c), 2),
            "time": np.tile([1, 2], n_t + n_c),
            "cohort": np.repeat(np.r_[np.full(n_t, 2), np.zeros(n_c, int)], 2),
            "y": np.column_stack([y0, y0 + dy]).ravel(),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = aggregate(att_gt(df, **KEYS), "simple", se="jackknife")
    g = n_t + n_c
    s2_t, s2_c = dy[:n_t].var(ddof=1), dy[n_t:].var(ddof=1)
    want = np.sqrt((g - 1) / g * (s2_t / (n_t - 1) + s2_c / (n_c - 1)))
    np.testing.assert_allclose(a.overall_att, dy[:n_t].mean() - dy[n_t:].mean(), rtol=1e-12)
    np.testing.assert_allclose(a.overall_se, want, rtol=1e-12)
    assert a.df == g - 1
    # the interval uses the t(G - 1) quantile, also for the overall row of to_frame
    row = a.to_frame().iloc[0]
    np.testing.assert_allclose(
        row["ci_high"] - row["estimate"], stats.t.ppf(0.975, g - 1) * want, rtol=1e-12
    )


@pytest.mark.parametrize(
    "att_kw",
    [
        dict(control="notyet", method="dr"),
        dict(control="never", method="reg", base_period="universal"),
        dict(control="notyet", method="ipw", weights="w", anticipation=1),
    ],
    ids=["notyet-dr", "never-reg-universal", "notyet-ipw-weights-anticipation"],
)
@pytest.mark.parametrize("agg_type", ["simple", "group", "dynamic", "calendar"])
def test_closed_form_equals_brute_force_by_cluster(att_kw, agg_type):
    df = cs_panel(n_units=240, n_periods=6, cohorts=(0, 3, 4, 5), seed=5)
    df["cluster"] = df["cluster"] % 12
    kw = {**KEYS, **att_kw, "cluster": "cluster"}
    agg_kw = dict(type=agg_type)
    res = att_gt(df, **kw)
    a = aggregate(res, agg_type, se="jackknife")
    want = naive_jackknife(df, kw, agg_kw, "cluster")
    np.testing.assert_allclose(np.r_[a.by["se"].to_numpy(), a.overall_se], want, rtol=1e-9)
    assert a.df == 11
    # the closed form is what ran, and it equals re-estimation cell by cell
    M = jk._membership(res.data)
    np.testing.assert_allclose(jk._closed_form(res, M), jk._refits(res, M), atol=1e-12)


def test_covariates_rerun_every_cell():
    df = cs_panel(n_units=200, n_periods=5, cohorts=(0, 3, 4), seed=8, covariate_trend=0.5)
    df["cluster"] = df["cluster"] % 10
    kw = {**KEYS, "covariates": ["x"], "control": "notyet", "cluster": "cluster"}
    a = aggregate(att_gt(df, **kw), "dynamic", se="jackknife")
    want = naive_jackknife(df, kw, dict(type="dynamic"), "cluster")
    np.testing.assert_allclose(np.r_[a.by["se"].to_numpy(), a.overall_se], want, rtol=1e-9)


def test_repeated_cross_sections_by_cluster():
    df = cs_panel(n_units=300, n_periods=4, cohorts=(0, 3, 4), seed=9)
    df = df.sample(frac=0.5, random_state=1).reset_index(drop=True)  # one row per person-wave
    df["unit"] = np.arange(len(df))
    df["cluster"] = df["cluster"] % 8
    kw = {**KEYS, "panel": False, "weights": "w", "cluster": "cluster", "method": "reg"}
    a = aggregate(att_gt(df, **kw), "simple", se="jackknife")
    want = naive_jackknife(df, kw, dict(type="simple"), "cluster")
    np.testing.assert_allclose(a.overall_se, want[-1], rtol=1e-9)


def test_jackknife_is_wider_than_analytic_with_few_treated_units():
    df = cs_panel(n_units=60, n_periods=6, cohorts=(0, 3, 4, 5), probs=(0.8, 0.1, 0.05, 0.05),
                  seed=2)  # fmt: skip
    with pytest.warns(SmallCohortWarning, match="1 unit"):
        res = att_gt(df, **KEYS, control="notyet")
    a, j = aggregate(res, "dynamic"), aggregate(res, "dynamic", se="jackknife")
    np.testing.assert_array_equal(a.by["att"], j.by["att"])
    assert (j.by["se"] > a.by["se"]).all() and j.overall_se > a.overall_se
    assert j.crit == pytest.approx(stats.t.ppf(0.975, 59))
    assert "cluster jackknife, t(59)" in j.summary()
    row = j.to_frame().iloc[0]
    assert (
        f"95% CI {row['ci_low']:.4f} to {row['ci_high']:.4f}; cluster jackknife, t(59))"
        in (j.summary().splitlines()[0])
    )


def test_single_unit_cohort_has_no_jackknife_se_but_the_overall_has():
    df = cs_panel(n_units=80, n_periods=6, cohorts=(0, 3, 4), seed=4)
    one = df["unit"] == df.loc[df["cohort"] == 4, "unit"].iloc[0]
    df = df[(df["cohort"] != 4) | one].copy()  # cohort 4 keeps one unit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = att_gt(df, **KEYS, control="notyet")
    with pytest.warns(DidWarning, match="single cluster"):
        g = aggregate(res, "group", se="jackknife")
    assert np.isnan(g.by.set_index("egt").loc[4, "se"])
    assert np.isfinite(g.by.set_index("egt").loc[3, "se"]) and np.isfinite(g.overall_se)
    s = aggregate(res, "simple", se="jackknife")
    assert np.isfinite(s.overall_se)


def test_bad_requests():
    df = cs_panel(n_units=50, n_periods=4, cohorts=(0, 3), seed=1)
    res = att_gt(df, **KEYS)
    with pytest.raises(EstimationError, match="is for se='bootstrap'"):
        aggregate(res, "simple", se="jackknife", replications=99)
    with pytest.raises(Exception, match="se"):
        aggregate(res, "simple", se="hc3")
    df["one"] = 1
    res1 = att_gt(df, **KEYS, cluster="one")
    with pytest.raises(EstimationError, match="at least two clusters"):
        aggregate(res1, "simple", se="jackknife")


def test_unbalanced_panel_kept_whole_by_cluster():
    df = cs_panel(n_units=160, n_periods=5, cohorts=(0, 3, 4), seed=12)
    df = df.drop(index=np.random.default_rng(1).choice(len(df), 60, replace=False))
    df["cluster"] = df["cluster"] % 9
    kw = {**KEYS, "allow_unbalanced": True, "cluster": "cluster", "control": "notyet"}
    a = aggregate(att_gt(df, **kw), "dynamic", se="jackknife")
    want = naive_jackknife(df, kw, dict(type="dynamic"), "cluster")
    np.testing.assert_allclose(np.r_[a.by["se"].to_numpy(), a.overall_se], want, rtol=1e-9)


def test_too_many_refits_is_refused_with_advice():
    df = cs_panel(n_units=700, n_periods=4, cohorts=(0, 3), seed=2)  # 2,800 rows
    res = att_gt(df, **KEYS, panel=False, method="reg")  # every row its own cluster
    with pytest.raises(EstimationError, match="coarser cluster"):
        aggregate(res, "simple", se="jackknife")


def test_bonferroni_band():
    df = cs_panel(n_units=120, n_periods=6, cohorts=(0, 3, 4, 5), seed=6)
    res = att_gt(df, **KEYS, control="notyet")
    j = aggregate(res, "dynamic", se="jackknife", band=True)
    k = int(j.by["se"].notna().sum())
    assert k == len(j.by) > 1
    assert j.crit == pytest.approx(stats.t.ppf(1 - 0.05 / (2 * k), 119))
    a = aggregate(res, "dynamic", band=True, alpha=0.1)
    assert a.crit == pytest.approx(stats.norm.ppf(1 - 0.1 / (2 * k)))
    assert j.simultaneous and a.simultaneous
    assert not aggregate(res, "dynamic", se="jackknife").simultaneous
    assert f"Bonferroni over {k} rows; cluster jackknife, t(119)" in j.summary()
    f = j.to_frame().iloc[1:]
    np.testing.assert_allclose(f["ci_high"] - f["estimate"], j.crit * f["se"], rtol=1e-12)
    # the overall effect keeps its pointwise interval
    over = j.to_frame().iloc[0]
    assert over["ci_high"] - over["estimate"] == pytest.approx(
        stats.t.ppf(0.975, 119) * j.overall_se
    )
    with pytest.raises(EstimationError, match="already simultaneous"):
        aggregate(res, "dynamic", band=True, se="bootstrap", replications=99)
