"""Estimates and SEs against R's survey package (tests/reference/survey, see its README).

Tolerances from the README: estimates relative 1e-8, SEs (and deffs, ratios of
variances) relative 1e-6, counts exact. The calibrated designs (c-f) are built here
from the weights R produced (weights_*.csv) and the calibration variables, so the
variance code is tested independently of the weighting code; a second test runs the
same cases through the weighting functions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from botrygt_eval.survey.design import Adjustment, SurveyDesign
from botrygt_eval.survey.estimators import (
    ReplicateDesign,
    as_replicate,
    svyby,
    svyglm,
    svymean,
    svyquantile,
    svyratio,
    svytotal,
)

REF = Path(__file__).parents[1] / "reference" / "survey"
EST_RTOL = 1e-8
SE_RTOL = 1e-6


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(REF / "ref_all.csv")


def r(ref: pd.DataFrame, case: str, name: str, domain: str = "all") -> pd.Series:
    row = ref[(ref["case"] == case) & (ref["estimate_name"] == name) & (ref["domain"] == domain)]
    assert len(row) == 1, (case, name, domain)
    return row.iloc[0]


def close(ours: float, theirs: float, rtol: float) -> None:
    assert ours == pytest.approx(theirs, rel=rtol, abs=0)


@pytest.fixture(scope="module")
def apistrat() -> pd.DataFrame:
    return pd.read_csv(REF / "apistrat.csv")


@pytest.fixture(scope="module")
def apiclus1() -> pd.DataFrame:
    return pd.read_csv(REF / "apiclus1.csv")


@pytest.fixture(scope="module")
def dstrat(apistrat) -> SurveyDesign:
    return SurveyDesign.from_frame(apistrat, weights="pw", strata="stype", fpc="fpc")


@pytest.fixture(scope="module")
def dclus1(apiclus1) -> SurveyDesign:
    return SurveyDesign.from_frame(apiclus1, weights="pw", clusters="dnum", fpc="fpc")


def one(est) -> pd.Series:
    t = est.to_frame()
    assert len(t) == 1
    return t.iloc[0]


# ------------------------------------------------------------------ a) stratified
@pytest.mark.parametrize(
    ("name", "fn", "deff"),
    [
        ("mean_api00", lambda d: svymean(d, "api00"), "srswor"),
        ("mean_api00_deff_replace", lambda d: svymean(d, "api00", deff="srswr"), "srswr"),
        ("total_enroll", lambda d: svytotal(d, "enroll"), "srswor"),
        ("total_enroll_deff_replace", lambda d: svytotal(d, "enroll", deff="srswr"), "srswr"),
    ],
)
def test_stratified_mean_total_deff(ref, dstrat, name, fn, deff):
    ours, theirs = one(fn(dstrat)), r(ref, "a_strat", name)
    close(ours["estimate"], theirs["value"], EST_RTOL)
    close(ours["se"], theirs["se"], SE_RTOL)
    close(ours["deff"], theirs["deff"], SE_RTOL)
    assert ours["n"] == 200


def test_stratified_by_domain(ref, dstrat):
    t = svyby(dstrat, "api00", "sch.wide").to_frame().set_index("domain")
    for dom in ("sch.wide=No", "sch.wide=Yes"):
        theirs = r(ref, "a_strat", "mean_api00_by_sch.wide", dom)
        close(t.loc[dom, "estimate"], theirs["value"], EST_RTOL)
        close(t.loc[dom, "se"], theirs["se"], SE_RTOL)
        close(t.loc[dom, "deff"], theirs["deff"], SE_RTOL)
    assert t["n"].sum() == 200


def test_stratified_ratio(ref, dstrat):
    ours, theirs = (
        one(svyratio(dstrat, "api.stu", "enroll")),
        r(ref, "a_strat", "ratio_api.stu_over_enroll"),
    )
    close(ours["estimate"], theirs["value"], EST_RTOL)
    close(ours["se"], theirs["se"], SE_RTOL)


@pytest.mark.parametrize("rule", ["math", "hf7", "school"])
def test_stratified_median_woodruff(ref, dstrat, rule):
    ours = one(svyquantile(dstrat, "api00", 0.5, qrule=rule))
    name = f"median_api00_qrule_{rule}"
    close(ours["estimate"], r(ref, "a_strat", name)["value"], EST_RTOL)
    close(ours["ci_low"], r(ref, "a_strat", name + "_ci_lower95")["value"], EST_RTOL)
    close(ours["ci_high"], r(ref, "a_strat", name + "_ci_upper95")["value"], EST_RTOL)
    close(ours["se"], r(ref, "a_strat", name)["se"], SE_RTOL)
    assert ours["df"] == 197


# ------------------------------------------------------------------ b) cluster
@pytest.mark.parametrize(
    ("name", "fn"),
    [
        ("mean_api00", lambda d: svymean(d, "api00")),
        ("total_enroll", lambda d: svytotal(d, "enroll")),
    ],
)
def test_cluster(ref, dclus1, name, fn):
    ours, theirs = one(fn(dclus1)), r(ref, "b_clus1", name)
    close(ours["estimate"], theirs["value"], EST_RTOL)
    close(ours["se"], theirs["se"], SE_RTOL)
    close(ours["deff"], theirs["deff"], SE_RTOL)


# ------------------------------------------------ c-f) calibrated designs, built here
def dummies(values: pd.Series, levels: list, drop_first: bool) -> np.ndarray:
    levs = levels[1:] if drop_first else levels
    return np.column_stack([(values == lev).to_numpy(dtype=float) for lev in levs])


def calibrated(design: SurveyDesign, w_after, X, regression_weights, kind="linear"):
    adj = Adjustment(
        kind=kind,
        X=X,
        details={
            "weights_after": np.asarray(w_after, float),
            "regression_weights": np.asarray(regression_weights, float),
        },
    )
    return design.with_weights(np.asarray(w_after, float), adj)


def check_mean_total(ref, design, case, names=("mean_api00", "total_enroll")):
    fns = {
        "mean_api00": lambda d: svymean(d, "api00"),
        "total_enroll": lambda d: svytotal(d, "enroll"),
    }
    for name in names:
        ours, theirs = one(fns[name](design)), r(ref, case, name)
        close(ours["estimate"], theirs["value"], EST_RTOL)
        close(ours["se"], theirs["se"], SE_RTOL)


def test_poststratified(ref, dclus1, apiclus1):
    pop = pd.read_csv(REF / "api_population_totals.csv")
    N = pop[pop["variable"] == "stype"].set_index("level")["total"]
    s = apiclus1["stype"]
    w0 = apiclus1["pw"].to_numpy(float)
    what = pd.Series(w0).groupby(s.to_numpy()).transform("sum").to_numpy()
    w = w0 * N.loc[s].to_numpy() / what
    X = dummies(s, ["E", "H", "M"], drop_first=False)
    des = calibrated(dclus1, w, X, np.ones(len(w)), kind="poststratify")
    check_mean_total(ref, des, "c_poststrat")


@pytest.fixture(scope="module")
def rake_X(apiclus1) -> np.ndarray:
    return np.column_stack(
        [
            np.ones(len(apiclus1)),
            dummies(apiclus1["stype"], ["E", "H", "M"], drop_first=True),
            dummies(apiclus1["sch.wide"], ["No", "Yes"], drop_first=True),
        ]
    )


@pytest.mark.parametrize(
    ("case", "column", "regression"),
    [
        ("d_rake_tight", "w_rake_tight", "ones"),  # rake(): unweighted residuals
        ("d_calibrate_raking", "w_calibrate_raking", "input"),  # calibrate(): input weights
    ],
)
def test_raked(ref, dclus1, apiclus1, rake_X, case, column, regression):
    w = pd.read_csv(REF / "weights_d_rake_apiclus1.csv")
    assert (w["snum"].to_numpy() == apiclus1["snum"].to_numpy()).all()
    rw = np.ones(len(w)) if regression == "ones" else w["pw"].to_numpy(float)
    des = calibrated(dclus1, w[column], rake_X, rw, kind="rake")
    check_mean_total(ref, des, case)


def test_raked_default_control(ref, dclus1, rake_X):
    """R's default rake() stops early; its backfitting then uses per-margin weights of the
    last sweep, which we do not have: the estimates are exact, the SE matches the
    projection on the final weights to 1e-6."""
    w = pd.read_csv(REF / "weights_d_rake_apiclus1.csv")
    des = calibrated(dclus1, w["w_rake_default"], rake_X, np.ones(len(w)), kind="rake")
    check_mean_total(ref, des, "d_rake_default", names=("mean_api00",))


def test_raked_weights_in_fresh_design(ref, apiclus1):
    w = pd.read_csv(REF / "weights_d_rake_apiclus1.csv")
    d = apiclus1.assign(wt=w["w_rake_tight"].to_numpy())
    des = SurveyDesign.from_frame(d, weights="wt", clusters="dnum", fpc="fpc")
    check_mean_total(ref, des, "d_rake_tight_fresh_design")


@pytest.mark.parametrize(
    ("case", "column"),
    [
        ("e_cal_linear", "w_linear"),
        ("e_cal_logit_0.5_2", "w_logit_0.5_2"),
        ("e_cal_raking", "w_raking"),
    ],
)
def test_calibrated(ref, dclus1, apiclus1, case, column):
    w = pd.read_csv(REF / "weights_e_calibrate_apiclus1.csv")
    X = np.column_stack(
        [
            np.ones(len(w)),
            dummies(apiclus1["stype"], ["E", "H", "M"], drop_first=True),
            apiclus1["api99"].to_numpy(float),
        ]
    )
    des = calibrated(dclus1, w[column], X, w["pw"].to_numpy(float))
    check_mean_total(ref, des, case)


@pytest.mark.parametrize(
    ("case", "column"),
    [("f_trim_upper40", "w_trim_upper40"), ("f_trim_upper40_strict", "w_trim_upper40_strict")],
)
def test_trimmed_keeps_raking_record(ref, dclus1, rake_X, case, column):
    w = pd.read_csv(REF / "weights_f_trim_apiclus1.csv")
    raked = calibrated(dclus1, w["w_rake_tight"], rake_X, np.ones(len(w)), kind="rake")
    des = raked.with_weights(w[column].to_numpy(float), Adjustment(kind="trim", X=None))
    check_mean_total(ref, des, case, names=("mean_api00",))


def test_trimmed_weights_in_fresh_design(ref, apiclus1):
    w = pd.read_csv(REF / "weights_f_trim_apiclus1.csv")
    d = apiclus1.assign(wt=w["w_trim_upper40"].to_numpy())
    des = SurveyDesign.from_frame(d, weights="wt", clusters="dnum", fpc="fpc")
    check_mean_total(ref, des, "f_trim_upper40_fresh_design", names=("mean_api00",))


def test_weighting_pipeline_designs_give_r_standard_errors(ref, dclus1):
    """The same cases through the weighting module's functions (design in, design out)."""
    cal = pytest.importorskip("botrygt_eval.survey.calibrate")
    trim_mod = pytest.importorskip("botrygt_eval.survey.trim")
    pop = pd.read_csv(REF / "api_population_totals.csv")
    m2 = pop[pop["variable"].isin(["stype", "sch.wide"])]
    stype = pop[pop["variable"] == "stype"]
    api99 = {"api99": float(pop.loc[pop["level"] == "api99", "total"].iloc[0])}
    tight = cal.rake(dclus1, m2, tol=1e-12)
    designs = {
        "c_poststrat": cal.poststratify(dclus1, stype),
        "d_rake_tight": tight,
        # R's default control stops raking early; the record carries R's backfit weights
        "d_rake_default": cal.rake(dclus1, m2, stop="r_rake", maxit=10, epsilon=1),
        "d_calibrate_raking": cal.calibrate(dclus1, m2, method="raking", tol=1e-13, maxit=500),
        "e_cal_linear": cal.calibrate(dclus1, stype, method="linear", numeric_totals=api99),
        "e_cal_raking": cal.calibrate(
            dclus1, stype, method="raking", numeric_totals=api99, tol=1e-13, maxit=500
        ),
        "f_trim_upper40": trim_mod.trim(tight, 40, strict=False),
    }
    for case, des in designs.items():
        names = ("mean_api00",) if case.startswith("f_") else ("mean_api00", "total_enroll")
        check_mean_total(ref, des, case, names=names)


# ------------------------------------------------------------------ g) replicate weights
@pytest.fixture(scope="module")
def scales() -> pd.DataFrame:
    return pd.read_csv(REF / "repweights_g_scales.csv")


def _sorted_columns(m: np.ndarray) -> np.ndarray:
    """Replicate columns in a canonical order (by the row whose weight is zeroed)."""
    first_zero = np.argmax(m == 0, axis=0)
    return m[:, np.argsort(first_zero, kind="stable")]


def test_jkn_weights_and_scales_match_r(ref, dstrat, scales):
    rep = as_replicate(dstrat, "JKn")
    theirs = pd.read_csv(REF / "repweights_g_strat_JKn.csv")
    m = theirs.filter(like="rep").to_numpy(float)
    np.testing.assert_allclose(_sorted_columns(rep.repweights), _sorted_columns(m), rtol=EST_RTOL)
    s = scales[scales["design"] == "strat_JKn"]
    close(rep.scale, r(ref, "g_strat_JKn", "scale")["value"], EST_RTOL)
    np.testing.assert_allclose(np.sort(rep.rscales), np.sort(s["rscale"]), rtol=EST_RTOL)


def test_jk1_weights_and_scale_match_r(ref, dclus1, scales):
    rep = as_replicate(dclus1, "JK1")
    theirs = pd.read_csv(REF / "repweights_g_clus1_JK1.csv")
    m = theirs.filter(like="rep").to_numpy(float)
    np.testing.assert_allclose(_sorted_columns(rep.repweights), _sorted_columns(m), rtol=EST_RTOL)
    close(rep.scale, r(ref, "g_clus1_JK1", "scale")["value"], EST_RTOL)
    np.testing.assert_allclose(rep.rscales, scales[scales["design"] == "clus1_JK1"]["rscale"])


@pytest.mark.parametrize(
    ("case", "build", "stat"),
    [
        ("g_strat_JKn", lambda s, c: as_replicate(s, "JKn"), "mean_api00"),
        ("g_strat_JKn", lambda s, c: as_replicate(s, "JKn"), "total_enroll"),
        ("g_strat_JKn_mse", lambda s, c: as_replicate(s, "JKn", mse=True), "mean_api00"),
        ("g_clus1_JK1", lambda s, c: as_replicate(c, "JK1"), "mean_api00"),
        ("g_clus1_JK1_mse", lambda s, c: as_replicate(c, "JK1", mse=True), "mean_api00"),
    ],
)
def test_replicate_variance_matches_r(ref, dstrat, dclus1, case, build, stat):
    rep = build(dstrat, dclus1)
    fn = svymean if stat == "mean_api00" else svytotal
    ours = one(fn(rep, stat.split("_")[1]))
    close(ours["estimate"], r(ref, case, stat)["value"], EST_RTOL)
    close(ours["se"], r(ref, case, stat)["se"], SE_RTOL)


def test_jkn_without_fpc(ref, apistrat):
    des = SurveyDesign.from_frame(apistrat, weights="pw", strata="stype")
    close(
        one(svymean(as_replicate(des, "JKn"), "api00"))["se"],
        r(ref, "g_strat_JKn_nofpc", "mean_api00")["se"],
        SE_RTOL,
    )


@pytest.mark.parametrize(
    ("file", "design", "case"),
    [
        ("repweights_g_strat_JKn.csv", "strat_JKn", "g_strat_JKn"),
        ("repweights_g_clus1_JK1.csv", "clus1_JK1", "g_clus1_JK1"),
    ],
)
def test_given_replicate_weights(ref, apistrat, apiclus1, scales, file, design, case):
    """Variance from replicate weights supplied as columns (the R-made ones)."""
    reps = pd.read_csv(REF / file)
    base = apistrat if design == "strat_JKn" else apiclus1
    data = pd.concat([base[["api00"]], reps.filter(like="rep")], axis=1).assign(pw=reps["pw"])
    s = scales[scales["design"] == design]
    des = ReplicateDesign.from_frame(
        data,
        weights="pw",
        repweights=[c for c in reps.columns if c.startswith("rep")],
        scale=float(s["scale"].iloc[0]),
        rscales=s["rscale"].to_numpy(),
    )
    close(one(svymean(des, "api00"))["se"], r(ref, case, "mean_api00")["se"], SE_RTOL)


# ------------------------------------------------------------------ h) svyglm
def test_svyglm_gaussian(ref, dstrat):
    fit = svyglm(dstrat, "api00 ~ ell + meals")
    for term in ("(Intercept)", "ell", "meals"):
        theirs = r(ref, "h_svyglm_strat", f"coef_{term}")
        close(fit.params[term], theirs["value"], EST_RTOL)
        close(fit.se[term], theirs["se"], SE_RTOL)
    vc = pd.read_csv(REF / "vcov_h_svyglm.csv").set_index("term")
    np.testing.assert_allclose(fit.vcov.loc[vc.index, vc.columns], vc, rtol=SE_RTOL)
    assert fit.df_residual == int(r(ref, "h_svyglm_strat", "df_residual")["value"])
    close(fit.dispersion, r(ref, "h_svyglm_strat", "dispersion")["value"], EST_RTOL)
    t = fit.to_frame().set_index("term")
    q = stats.t.ppf(0.975, fit.df_residual)
    close(t.loc["ell", "ci_high"], fit.params["ell"] + q * fit.se["ell"], 1e-12)


def test_poststratification_with_varying_input_weights_follows_r_formula(apistrat, dstrat):
    """R's svyrecvar for postStratify (oldweights = the input weights), written out here:
    psmeans = rowsum(x * oldw / psw, cell) / sum(oldw | cell); x <- x - psmeans[cell] * psw.
    On apistrat the input weights vary across strata, so the regression weights matter."""
    pop = pd.read_csv(REF / "api_population_totals.csv")
    N = pop[pop["variable"] == "sch.wide"].set_index("level")["total"]
    cell = apistrat["sch.wide"].to_numpy()
    oldw = apistrat["pw"].to_numpy(float)
    psw = oldw * N.loc[cell].to_numpy() / pd.Series(oldw).groupby(cell).transform("sum").to_numpy()
    y = apistrat["api00"].to_numpy(float)
    x = psw * (y - np.sum(psw * y) / psw.sum()) / psw.sum()
    num = pd.Series(x * oldw / psw).groupby(cell).transform("sum").to_numpy()
    x = x - num / pd.Series(oldw).groupby(cell).transform("sum").to_numpy() * psw
    var = 0.0
    for s in ("E", "H", "M"):
        xs = x[apistrat["stype"].to_numpy() == s]
        n, Nh = len(xs), apistrat.loc[apistrat["stype"] == s, "fpc"].iloc[0]
        var += (1 - n / Nh) * n / (n - 1) * np.sum((xs - xs.mean()) ** 2)
    X = dummies(apistrat["sch.wide"], ["No", "Yes"], drop_first=False)
    des = calibrated(dstrat, psw, X, oldw, kind="poststratify")
    ours = one(svymean(des, "api00"))
    close(ours["se"], np.sqrt(var), 1e-10)
    unweighted = calibrated(dstrat, psw, X, np.ones(len(y)), kind="poststratify")
    assert abs(one(svymean(unweighted, "api00"))["se"] / np.sqrt(var) - 1) > 1e-6


def test_poststratify_function_records_the_input_weights_as_r_does(apistrat, dstrat):
    """The public poststratify() route gives the SE of R's formula above on varying weights."""
    from botrygt_eval.survey.calibrate import poststratify

    pop = pd.read_csv(REF / "api_population_totals.csv")
    margins = pop[pop["variable"] == "sch.wide"][["variable", "level", "total"]]
    by_function = one(svymean(poststratify(dstrat, margins, "sch.wide"), "api00"))
    cell = apistrat["sch.wide"].to_numpy()
    oldw = apistrat["pw"].to_numpy(float)
    N = margins.set_index("level")["total"]
    psw = oldw * N.loc[cell].to_numpy() / pd.Series(oldw).groupby(cell).transform("sum").to_numpy()
    X = dummies(apistrat["sch.wide"], ["No", "Yes"], drop_first=False)
    by_record = one(svymean(calibrated(dstrat, psw, X, oldw, kind="poststratify"), "api00"))
    close(by_function["estimate"], by_record["estimate"], 1e-10)
    close(by_function["se"], by_record["se"], 1e-10)
