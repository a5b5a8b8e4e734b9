"""Identities between routes to one number, invariances (hypothesis), closed forms, simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from botrygt_eval.survey.design import Adjustment, SurveyDesign
from botrygt_eval.survey.estimators import (
    as_replicate,
    svyglm,
    svymean,
    svyquantile,
    svytotal,
)
from botrygt_eval.survey.estimators._common import logit_ci, proportion_ci, wilson_ci
from botrygt_eval.survey.variance import linearization_vcov, variance_sparse


def synthetic(seed: int, n_strata: int = 4, psu_per: int = 5, per_psu: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_strata * psu_per * per_psu
    s = np.repeat(np.arange(n_strata), psu_per * per_psu)
    c = np.repeat(np.arange(n_strata * psu_per), per_psu)
    return pd.DataFrame(
        {
            "stratum": s,
            "psu": c,
            "N": np.repeat(rng.integers(psu_per + 1, 40, n_strata), psu_per * per_psu).astype(
                float
            ),
            "w": rng.uniform(1, 5, n),
            "y": rng.normal(10, 3, n),
            "b": rng.integers(0, 2, n).astype(float),
            "dom": rng.integers(0, 3, n),
            "sex": rng.integers(0, 2, n),
        }
    )


def calibrated_design(d: pd.DataFrame) -> SurveyDesign:
    des = SurveyDesign.from_frame(d, weights="w", strata="stratum", clusters="psu", fpc="N")
    X = np.column_stack([np.ones(len(d)), d["sex"].to_numpy(float)])
    g = 1 + 0.1 * (d["sex"].to_numpy() - 0.5)
    return des.with_weights(
        des.weights * g, Adjustment("linear", X, {"regression_weights": des.weights})
    )


def test_domain_se_three_routes():
    """svymean by domain = subset_domain + svymean = dense influence through the vcov."""
    d = synthetic(1)
    des = calibrated_design(d)
    by = svymean(des, "y", by="dom").to_frame().set_index("dom")
    w = des.weights
    for g in range(3):
        mask = (d["dom"] == g).to_numpy()
        sub = svymean(des.subset_domain(mask), "y").to_frame().iloc[0]
        assert by.loc[g, "estimate"] == pytest.approx(sub["estimate"], rel=1e-12)
        assert by.loc[g, "se"] == pytest.approx(sub["se"], rel=1e-10)
        wd = np.where(mask, w, 0.0)
        ybar = np.sum(wd * d["y"]) / wd.sum()
        infl = wd * (d["y"].to_numpy() - ybar) / wd.sum()
        dense = np.sqrt(linearization_vcov(infl[:, None], des)[0, 0])
        assert by.loc[g, "se"] == pytest.approx(dense, rel=1e-10)


def test_sparse_variance_equals_dense_diagonal():
    d = synthetic(2)
    des = calibrated_design(d)
    des = des.with_weights(
        des.weights,
        Adjustment("rake", np.column_stack([np.ones(len(d)), d["dom"] == 1]).astype(float)),
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(des.n, 7)) * (rng.random((des.n, 7)) < 0.3)
    np.testing.assert_allclose(
        variance_sparse(sp.csr_matrix(x), des, chunk=17),
        np.diag(linearization_vcov(x, des)),
        rtol=1e-9,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), perm_seed=st.integers(0, 10_000))
def test_row_order_does_not_matter(seed, perm_seed):
    d = synthetic(seed, n_strata=3, psu_per=3, per_psu=4)
    perm = np.random.default_rng(perm_seed).permutation(len(d))
    a = svymean(calibrated_design(d), ["y", "b"], by="dom").to_frame()
    b = svymean(calibrated_design(d.iloc[perm]), ["y", "b"], by="dom").to_frame()
    cols = ["estimate", "se", "ci_low", "ci_high", "deff"]
    np.testing.assert_allclose(a[cols], b[cols], rtol=1e-9, atol=1e-12)
    assert (a["n"] == b["n"]).all()
    qa = svyquantile(SurveyDesign.from_frame(d, weights="w", strata="stratum"), "y", 0.3, by="dom")
    qb = svyquantile(
        SurveyDesign.from_frame(d.iloc[perm], weights="w", strata="stratum"), "y", 0.3, by="dom"
    )
    np.testing.assert_allclose(qa.estimate, qb.estimate)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), g=st.integers(0, 2))
def test_domain_equals_subset_with_zero_weights(seed, g):
    d = synthetic(seed, n_strata=3, psu_per=3, per_psu=4)
    des = SurveyDesign.from_frame(d, weights="w", strata="stratum", clusters="psu", fpc="N")
    by = svymean(des, "y", by="dom").to_frame().set_index("dom")
    if g not in by.index:
        return
    sub = svymean(des.subset_domain(d["dom"] == g), "y").to_frame().iloc[0]
    assert by.loc[g, "se"] == pytest.approx(sub["se"], rel=1e-10)
    assert by.loc[g, "n"] == sub["n"] == int((d["dom"] == g).sum())


@settings(max_examples=60, deadline=None)
@given(
    p=st.floats(0, 1),
    se=st.floats(0, 0.5),
    n=st.integers(1, 500),
    df=st.sampled_from([5.0, 30.0, np.inf]),
)
def test_proportion_intervals_stay_in_unit_interval(p, se, n, df):
    for lo, hi in (
        wilson_ci(np.array([p]), np.array([se]), np.array([n]), 0.95, df),
        logit_ci(np.array([p]), np.array([se]), 0.95, df),
        proportion_ci("logit", np.array([p]), np.array([se]), np.array([n]), 0.95, df),
    ):
        if np.isfinite(lo[0]):
            assert 0 <= lo[0] <= hi[0] <= 1


def test_logit_ci_is_svyciprop_formula_and_wilson_at_the_edges():
    d = synthetic(5)
    des = SurveyDesign.from_frame(d, weights="w", strata="stratum", clusters="psu", fpc="N")
    t = svymean(des, "b").to_frame().iloc[0]
    q = stats.t.ppf(0.975, des.degf)
    eta, h = np.log(t.estimate / (1 - t.estimate)), q * t.se / (t.estimate * (1 - t.estimate))
    assert t.ci_low == pytest.approx(1 / (1 + np.exp(-(eta - h))), rel=1e-12)
    assert t.ci_high == pytest.approx(1 / (1 + np.exp(-(eta + h))), rel=1e-12)
    w = svymean(des, "b", ci="wilson").to_frame().iloc[0]
    assert 0 < w.ci_low < t.estimate < w.ci_high < 1
    zero = svymean(des.subset_domain(d["b"] == 0), "b").to_frame().iloc[0]
    assert zero.estimate == 0 and zero.ci_low == 0 and 0 < zero.ci_high < 1
    other = svymean(des, "y").to_frame().iloc[0]  # not a proportion: normal Wald (R confint)
    assert other.ci_high == pytest.approx(other.estimate + 1.959963984540054 * other.se)


def test_saturated_logistic_equals_domain_proportions():
    """logit model y ~ g with binary g: intercept = logit(p0), its SE = SE(p0)/(p0(1-p0))."""
    d = synthetic(7)
    des = SurveyDesign.from_frame(d, weights="w", strata="stratum", clusters="psu", fpc="N")
    fit = svyglm(des, "b ~ sex", family="quasibinomial")
    p = svymean(des, "b", by="sex").to_frame().set_index("sex")
    p0 = p.loc[0, "estimate"]
    assert fit.params["(Intercept)"] == pytest.approx(np.log(p0 / (1 - p0)), rel=1e-9)
    assert fit.se["(Intercept)"] == pytest.approx(p.loc[0, "se"] / (p0 * (1 - p0)), rel=1e-7)
    ref = sm.GLM(
        d["b"],
        sm.add_constant(d[["sex"]].astype(float)),
        family=sm.families.Binomial(),
        freq_weights=d["w"],
    ).fit()
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), rtol=1e-8)


def test_svyglm_gaussian_srs_is_hc0_times_n_over_n_minus_1():
    d = synthetic(8)
    des = SurveyDesign.from_frame(d, weights="w")
    fit = svyglm(des, "y ~ sex + b")
    X = sm.add_constant(d[["sex", "b"]].astype(float))
    ref = sm.WLS(d["y"], X, weights=d["w"]).fit(cov_type="HC0")
    n = len(d)
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(
        fit.vcov.to_numpy(), ref.cov_params().to_numpy() * n / (n - 1), rtol=1e-9
    )


def test_bootstrap_variance_approximates_linearisation():
    """Rao-Wu bootstrap: E*(var) is the linearisation variance of a total (seeded)."""
    d = synthetic(9, n_strata=3, psu_per=6, per_psu=5)
    des = SurveyDesign.from_frame(d, weights="w", strata="stratum", clusters="psu")
    lin = svytotal(des, "y").se.iloc[0]
    a = as_replicate(des, "bootstrap", replications=4000, seed=1)
    b = as_replicate(des, "bootstrap", replications=4000, seed=1)
    np.testing.assert_array_equal(a.repweights, b.repweights)  # the seed fixes the replicates
    boot = svytotal(a, "y").se.iloc[0]
    # the variance estimate from 4000 replicates has relative sd about sqrt(2/4000) = 2.2 %
    assert boot**2 == pytest.approx(lin**2, rel=0.1)
    assert a.repweights.shape == (des.n, 4000) and a.scale == pytest.approx(1 / 3999)


def test_jkn_domain_and_replicate_by():
    d = synthetic(10)
    des = SurveyDesign.from_frame(d, weights="w", strata="stratum", clusters="psu", fpc="N")
    rep = as_replicate(des, "JKn")
    by = svymean(rep, "y", by="dom").to_frame().set_index("dom")
    for g in range(3):
        sub = svymean(rep.subset_domain((d["dom"] == g).to_numpy()), "y").to_frame().iloc[0]
        assert by.loc[g, "se"] == pytest.approx(sub["se"], rel=1e-10)
    lin = svymean(des, "y", by="dom").to_frame().set_index("dom")
    # jackknife and linearisation agree to first order
    np.testing.assert_allclose(by["se"], lin["se"], rtol=0.15)


def test_quantile_by_domain_equals_quantile_of_the_subset():
    d = synthetic(11)
    des = SurveyDesign.from_frame(d, weights="w", strata="stratum", clusters="psu", fpc="N")
    for rule in ("math", "school", "hf7"):
        by = svyquantile(des, "y", [0.25, 0.5], by="dom", qrule=rule).to_frame()
        for g in range(3):
            sub = svyquantile(des.subset_domain(d["dom"] == g), "y", [0.25, 0.5], qrule=rule)
            mine = by[by["dom"] == g]
            np.testing.assert_allclose(mine["estimate"], sub.estimate, rtol=1e-12)
            np.testing.assert_allclose(mine["se"], sub.se, rtol=1e-10)
            # the point estimate only uses the domain's rows: same as a design of those rows
            rows = d[d["dom"] == g]
            alone = SurveyDesign.from_frame(rows, weights="w")
            np.testing.assert_allclose(
                mine["estimate"], svyquantile(alone, "y", [0.25, 0.5], qrule=rule).estimate
            )


def test_math_rule_by_hand():
    """Inverse weighted ECDF: the smallest y with cumulative weight share >= p."""
    d = pd.DataFrame({"y": [5.0, 1.0, 3.0, 2.0], "w": [1.0, 1.0, 2.0, 4.0]})
    des = SurveyDesign.from_frame(d, weights="w")
    # sorted y 1, 2, 3, 5 with shares .125, .625, .875, 1
    q = svyquantile(des, "y", [0.1, 0.125, 0.5, 0.7, 1.0], qrule="math").estimate.to_numpy()
    np.testing.assert_array_equal(q, [1.0, 1.0, 2.0, 3.0, 5.0])
    school = svyquantile(des, "y", [0.125], qrule="school").estimate.iloc[0]
    assert school == 1.5  # exactly on a step: the average of the two values


def test_missing_values_and_missing_domains_are_left_out():
    d = synthetic(12)
    d.loc[::7, "y"] = np.nan
    d["dom2"] = d["dom"].astype("Float64")
    d.loc[::5, "dom2"] = pd.NA
    des = SurveyDesign.from_frame(d, weights="w", strata="stratum", clusters="psu", fpc="N")
    t = svymean(des, "y", by="dom2").to_frame()
    assert len(t) == 3 and list(t["domain"]) == ["dom2=0", "dom2=1", "dom2=2"]
    for g in range(3):
        keep = (d["dom2"] == g).fillna(False).to_numpy() & d["y"].notna().to_numpy()
        sub = svymean(des.subset_domain(keep), "y").to_frame().iloc[0]
        row = t.iloc[g]
        assert row["n"] == keep.sum() == sub["n"]
        assert row["estimate"] == pytest.approx(
            np.average(d.loc[keep, "y"], weights=d.loc[keep, "w"]), rel=1e-12
        )
        assert row["se"] == pytest.approx(sub["se"], rel=1e-10)


def test_ratio_by_domain_and_results_objects(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from botrygt_eval.survey.estimators import svyratio

    d = synthetic(13).assign(x=lambda f: f["y"] + 5)
    des = SurveyDesign.from_frame(d, weights="w", strata="stratum", clusters="psu", fpc="N")
    by = svyratio(des, "y", "x", by="dom").to_frame().set_index("dom")
    for g in range(3):
        sub = svyratio(des.subset_domain(d["dom"] == g), "y", "x").to_frame().iloc[0]
        assert by.loc[g, "se"] == pytest.approx(sub["se"], rel=1e-10)
    res = svymean(des, ["y", "b"], by="dom", min_cell=45)
    text = res.summary()
    assert "Taylor linearisation" in text and "below n=45" in text
    assert res.table["suppressed"].tolist() == (res.table["n"] < 45).tolist()
    ax = res.plot(variable="b").axes[0]
    assert "konfidensinterval" in ax.get_xlabel()
    assert len(ax.get_yticklabels()) == int(
        (~res.table["suppressed"] & (res.table["variable"] == "b")).sum()
    )


def test_intercept_only_svyglm_is_svymean_on_a_calibrated_design():
    d = synthetic(14)
    des = calibrated_design(d)
    fit = svyglm(des, "y ~ 1")
    m = svymean(des, "y").to_frame().iloc[0]
    assert fit.params["(Intercept)"] == pytest.approx(m["estimate"], rel=1e-12)
    assert fit.se["(Intercept)"] == pytest.approx(m["se"], rel=1e-10)
