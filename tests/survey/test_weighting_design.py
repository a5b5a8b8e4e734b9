"""Weighting steps on the SurveyDesign: records, nonresponse, the pipeline and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from botrygt_eval.errors import ConfigError, NonresponseError
from botrygt_eval.survey.margins import read_margins

design_mod = pytest.importorskip("botrygt_eval.survey.design")
SurveyDesign = design_mod.SurveyDesign

from botrygt_eval.survey.calibrate import calibrate, poststratify, rake  # noqa: E402
from botrygt_eval.survey.nonresponse import (  # noqa: E402
    adjust_propensity,
    adjust_weighting_class,
    weighting_classes,
)
from botrygt_eval.survey.trim import trim  # noqa: E402
from botrygt_eval.survey.weighting import weight_responses  # noqa: E402

REF = Path(__file__).parents[1] / "reference" / "survey"
RTOL = 1e-8


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


@pytest.fixture(scope="module")
def dclus1():
    d = pd.read_csv(REF / "apiclus1.csv")
    return SurveyDesign.from_frame(d, weights="pw", clusters="dnum", fpc="fpc")


@pytest.fixture(scope="module")
def pop():
    return read_margins(REF / "api_population_totals.csv")


def test_rake_design_record(dclus1, pop):
    ref = pd.read_csv(REF / "weights_d_rake_apiclus1.csv")
    m = pop[pop["variable"].isin(["stype", "sch.wide"])]
    r = rake(dclus1, m, tol=1e-12)
    assert rel_err(r.weights, ref["w_rake_tight"]) < RTOL
    adj = r.adjustments[-1]
    assert adj.kind == "rake"
    assert adj.X.shape == (183, 4)  # intercept, stype H, stype M, sch.wide Yes
    assert adj.details["columns"] == ["(Intercept)", "stype=H", "stype=M", "sch.wide=Yes"]
    np.testing.assert_array_equal(adj.details["regression_weights"], np.ones(183))
    np.testing.assert_array_equal(adj.details["weights_after"], r.weights)
    # the input design is unchanged (frozen, design in -> design out)
    assert not dclus1.adjustments


def test_calibrate_and_poststratify_design_records(dclus1, pop):
    ref = pd.read_csv(REF / "weights_e_calibrate_apiclus1.csv")
    stype = pop[pop["variable"] == "stype"]
    api99 = float(pop.loc[pop["level"] == "api99", "total"].iloc[0])
    c = calibrate(
        dclus1,
        stype,
        method="logit",
        bounds=(0.5, 2),
        numeric_totals={"api99": api99},
        tol=1e-13,
        maxit=500,
    )
    assert rel_err(c.weights, ref["w_logit_0.5_2"]) < RTOL
    adj = c.adjustments[-1]
    assert adj.kind == "logit" and adj.X.shape == (183, 4)
    np.testing.assert_array_equal(adj.details["regression_weights"], dclus1.weights)
    p = poststratify(dclus1, stype)
    assert p.adjustments[-1].kind == "poststratify" and p.adjustments[-1].X.shape == (183, 3)
    totals = pd.Series(p.weights).groupby(p.data["stype"].to_numpy()).sum()
    assert totals.to_dict() == pytest.approx({"E": 4421.0, "H": 755.0, "M": 1018.0}, rel=1e-12)


def test_trim_design_record(dclus1, pop):
    ref = pd.read_csv(REF / "weights_f_trim_apiclus1.csv")
    m = pop[pop["variable"].isin(["stype", "sch.wide"])]
    t = trim(rake(dclus1, m, tol=1e-12), 40, strict=False)
    assert rel_err(t.weights, ref["w_trim_upper40"]) < RTOL
    adj = t.adjustments[-1]
    assert adj.kind == "trim" and adj.X is None and adj.details["n_trimmed"] == 22
    assert [a.kind for a in t.adjustments] == ["rake", "trim"]


# ------------------------------------------------------------------ nonresponse


def sample_frame(seed: int = 4, n: int = 4000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = rng.choice([101, 147, 151], n, p=[0.5, 0.3, 0.2])
    age = rng.choice(["18-29", "30-44", "45-59", "60-74", "75+"], n)
    sex = rng.choice(["male", "female"], n)
    N = {101: 500_000, 147: 80_000, 151: 40_000}
    n_h = pd.Series(k).value_counts()
    dw = np.array([N[x] / n_h[x] for x in k])
    p = 0.2 + 0.1 * (sex == "female") + 0.08 * np.array([int(a[:2]) // 15 for a in age])
    responded = (rng.random(n) < p).astype(int)
    return pd.DataFrame(
        {
            "resp_id": [f"{i:016x}" for i in range(n)],
            "kommune_kode": k,
            "sex": sex,
            "age_band": age,
            "design_weight": dw,
            "stratum_population": [N[x] for x in k],
            "responded": responded,
        }
    )


def test_weighting_class_adjustment_restores_class_totals():
    s = sample_frame()
    des = SurveyDesign.from_frame(s, weights="design_weight", strata="kommune_kode")
    adj = adjust_weighting_class(des, ["sex", "age_band"])
    assert adj.n == int(s["responded"].sum())
    assert adj.adjustments[-1].kind == "nonresponse"
    got = pd.Series(adj.weights).groupby([adj.data["sex"], adj.data["age_band"]]).sum()
    want = s.groupby(["sex", "age_band"])["design_weight"].sum()
    np.testing.assert_allclose(got.sort_index(), want.sort_index(), rtol=1e-12)


def test_saturated_propensity_equals_weighting_class():
    s = sample_frame(5)
    des = SurveyDesign.from_frame(s, weights="design_weight")
    a = adjust_weighting_class(des, ["sex"])
    b = adjust_propensity(des, ["sex"])
    np.testing.assert_allclose(b.weights, a.weights, rtol=1e-7)
    c = adjust_propensity(des, ["sex", "age_band"], classes=5)
    assert c.weights.sum() == pytest.approx(s["design_weight"].sum(), rel=1e-10)


def test_small_classes_raise_or_collapse():
    s = sample_frame(6, n=600)
    resp = s["responded"].to_numpy() == 1
    with pytest.raises(NonresponseError, match="weighting class .* respondents, fewer than"):
        weighting_classes(s, resp, ["kommune_kode", "sex", "age_band"], min_respondents=15)
    cls = weighting_classes(
        s, resp, ["kommune_kode", "sex", "age_band"], min_respondents=15, on_small="collapse"
    )
    counts = np.bincount(cls[resp])
    assert counts.min() >= 15
    # collapsing keeps the first variables: no class mixes two kommuner
    assert (s.groupby(cls)["kommune_kode"].nunique() == 1).all()
    with pytest.raises(NonresponseError, match="the whole sample"):
        weighting_classes(s, resp, ["sex"], min_respondents=10**6, on_small="collapse")


# ------------------------------------------------------------------ pipeline and CLI


def respondents_and_margins():
    s = sample_frame(7)
    r = s[s["responded"] == 1].drop(columns="responded").reset_index(drop=True)
    rows = []
    N = s.groupby("kommune_kode")["stratum_population"].first()
    total = N.sum()
    for k, v in N.items():
        rows.append(("kommune_kode", str(k), float(v)))
    rows += [("sex", "male", total * 0.49), ("sex", "female", total * 0.51)]
    shares = [0.2, 0.25, 0.25, 0.2, 0.1]
    for a, sh in zip(["18-29", "30-44", "45-59", "60-74", "75+"], shares, strict=True):
        rows.append(("age_band", a, total * sh))
    return r, pd.DataFrame(rows, columns=["variable", "level", "total"])


@pytest.mark.parametrize("method", ["raking", "linear", "logit"])
def test_weight_responses_hits_margins_and_reports(method):
    r, m = respondents_and_margins()
    res = weight_responses(
        r,
        m,
        design_weight="design_weight",
        strata="kommune_kode",
        method=method,
        bounds=(0.2, 5.0) if method == "logit" else None,
    )
    mt = res.margins_table()
    np.testing.assert_allclose(mt["total_after"], mt["target"], rtol=1e-8)
    assert np.abs(mt["std_diff_after"]).max() < 1e-8
    assert np.abs(mt["std_diff_before"]).max() > 0.01  # nonresponse made the sample skewed
    ws = res.weight_stats().set_index("statistic")
    assert ws.loc["deff_kish", "after"] >= 1.0
    assert "Kish deff" in res.summary()
    assert list(res.to_frame().columns) == [*r.columns, "weight"]
    assert res.weights.index.equals(r.index)


def test_weight_responses_with_trimming():
    r, m = respondents_and_margins()
    res = weight_responses(
        r, m, design_weight="design_weight", trim_upper=3, trim_relative_to="median"
    )
    med = np.median(weight_responses(r, m, design_weight="design_weight").weights)
    assert res.weights.max() <= 3 * med * (1 + 1e-12)
    assert res.weights.sum() == pytest.approx(m[m["variable"] == "sex"]["total"].sum(), rel=1e-10)
    assert res.design.adjustments[-1].kind == "trim"


def test_weight_responses_option_errors():
    r, m = respondents_and_margins()
    with pytest.raises(ConfigError, match="needs bounds"):
        weight_responses(r, m, design_weight="design_weight", method="logit")
    with pytest.raises(ConfigError, match="no design-weight column"):
        weight_responses(r, m, design_weight="w")
    with pytest.raises(ConfigError, match="not a valid choice"):
        weight_responses(r, m, design_weight="design_weight", method="ipf")  # type: ignore[arg-type]


def test_weight_cli(tmp_path):
    from botrygt_eval.cli import app

    r, m = respondents_and_margins()
    rp, mp, out, diag = (tmp_path / f for f in ("resp.csv", "margins.csv", "w.csv", "d.csv"))
    r.to_csv(rp, index=False)
    m.to_csv(mp, index=False)
    res = CliRunner().invoke(
        app,
        [
            "weight",
            "--responses",
            str(rp),
            "--margins",
            str(mp),
            "--design-weight",
            "design_weight",
            "--strata",
            "kommune_kode",
            "--trim-upper",
            "5xmedian",
            "--out",
            str(out),
            "--diagnostics",
            str(diag),
        ],
    )
    assert res.exit_code == 0, res.output
    w = pd.read_csv(out, dtype={"resp_id": str})
    assert list(w.columns) == [*r.columns, "weight"] and len(w) == len(r)
    d = pd.read_csv(diag)
    assert {"section", "variable", "level", "statistic", "target", "before", "after"} <= set(d)
    bad = CliRunner().invoke(
        app,
        [
            "weight",
            "--responses",
            str(rp),
            "--margins",
            str(mp),
            "--design-weight",
            "design_weight",
            "--method",
            "logit",
            "--out",
            str(out),
        ],
    )
    assert bad.exit_code != 0


def test_weight_cli_help_has_example():
    from botrygt_eval.cli import app

    res = CliRunner().invoke(app, ["weight", "--help"])
    assert res.exit_code == 0 and "Example: botrygt-eval weight" in res.output


# ------------------------------------------------- the records reproduce R's SEs


def se_mean_from_records(design, y, clusters, n_pop_clusters):
    """README formula, written out here independently of the variance module.

    Influence values x = w (y - ybar) / sum(w); for every recorded adjustment with an X,
    x <- w_after * residual of (x / w_after) on X (regression weighted by the recorded
    regression weights); then the one-stage cluster HT variance with fpc.
    """
    w = design.weights
    x = w * (y - np.average(y, weights=w)) / w.sum()
    for a in design.adjustments:
        if a.X is None:
            continue
        r, pw = a.details["regression_weights"], a.details["weights_after"]
        v = x / pw
        sq = np.sqrt(r)
        beta = np.linalg.lstsq(a.X * sq[:, None], v * sq, rcond=None)[0]
        x = pw * (v - a.X @ beta)
    t = pd.Series(x).groupby(clusters).sum().to_numpy()
    n = len(t)
    return float(np.sqrt((1 - n / n_pop_clusters) * n / (n - 1) * np.sum((t - t.mean()) ** 2)))


def test_adjustment_records_reproduce_r_standard_errors(dclus1):
    ref = pd.read_csv(REF / "ref_all.csv")

    def r_se(case):
        row = ref[(ref["case"] == case) & (ref["estimate_name"] == "mean_api00")]
        return float(row["se"].iloc[0])

    from tests.survey.test_weighting_integration import build_designs  # the same R cases

    y = dclus1.data["api00"].to_numpy(dtype=float)
    cl = dclus1.data["dnum"].to_numpy()
    designs = build_designs()
    for case, des in designs.items():
        se = se_mean_from_records(des, y, cl, 757)
        # README: SEs relative 1e-6 (d_rake_default: R backfits with the per-margin
        # weights of its unconverged last sweep; we record the final weights: 8e-7 here)
        assert se == pytest.approx(r_se(case), rel=1e-6), case


def test_weight_cli_joins_the_sample_file(tmp_path):
    """Survey-platform exports carry only resp_id and answers; --sample adds the rest."""
    from botrygt_eval.cli import app

    s = sample_frame(8)
    _, m = respondents_and_margins()
    resp = s.loc[s["responded"] == 1, ["resp_id"]].assign(
        year=2025, worry_burglary=np.arange(int(s["responded"].sum())) % 4 + 1
    )
    sp, rp, mp, out = (tmp_path / f for f in ("sample.csv", "resp.csv", "m.csv", "w.csv"))
    s.to_csv(sp, index=False)
    resp.to_csv(rp, index=False)
    m.to_csv(mp, index=False)
    args = [
        "weight",
        "--responses",
        str(rp),
        "--sample",
        str(sp),
        "--margins",
        str(mp),
        "--design-weight",
        "design_weight",
        "--out",
        str(out),
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    w = pd.read_csv(out, dtype={"resp_id": str})
    assert len(w) == len(resp)
    assert {"worry_burglary", "kommune_kode", "design_weight", "weight"} <= set(w.columns)
    assert w["weight"].sum() == pytest.approx(m.loc[m["variable"] == "sex", "total"].sum())
    # a respondent missing from the sample file is an error, not a silent drop
    pd.concat([resp, resp.iloc[[0]].assign(resp_id="ffffffffffffffff")]).to_csv(rp, index=False)
    bad = CliRunner().invoke(app, args)
    assert bad.exit_code != 0 and "not in the sample file" in str(bad.exception)


def test_weighting_result_plot():
    import matplotlib

    matplotlib.use("Agg")
    r, m = respondents_and_margins()
    res = weight_responses(r, m, design_weight="design_weight")
    ax = res.plot().axes[0]
    assert len(ax.get_yticklabels()) == len(res.margins_table())
    assert ax.get_xlabel() == "standardiseret forskel fra populationen"


def test_nonresponse_revalidates_the_respondent_design():
    from botrygt_eval.errors import DesignError

    s = sample_frame(9, n=400)
    s.loc[s["kommune_kode"] == 151, "responded"] = 0
    s.loc[s.index[s["kommune_kode"] == 151][0], "responded"] = 1  # one respondent left
    des = SurveyDesign.from_frame(s, weights="design_weight", strata="kommune_kode")
    with pytest.raises(DesignError, match="single PSU"):
        adjust_weighting_class(des, ["sex"], min_respondents=1)
    ok = SurveyDesign.from_frame(
        s, weights="design_weight", strata="kommune_kode", lonely_psu="adjust"
    )
    assert adjust_weighting_class(ok, ["sex"], min_respondents=1).n == int(s["responded"].sum())


@pytest.mark.parametrize("how", ["classes", "propensity"])
def test_weight_responses_with_nonresponse_step(how):
    s = sample_frame(10)
    _, m = respondents_and_margins()
    r = s.loc[s["responded"] == 1].drop(columns="responded").sample(frac=1, random_state=1)
    res = weight_responses(
        r,
        m,
        design_weight="design_weight",
        strata="kommune_kode",
        nonresponse=how,
        sample=s,
        nonresponse_vars=["sex", "age_band"],
    )
    kinds = [a.kind for a in res.design.adjustments]
    assert kinds == ["nonresponse", "rake"]
    mt = res.margins_table()
    np.testing.assert_allclose(mt["total_after"], mt["target"], rtol=1e-8)
    # the nonresponse step is matched by resp_id, whatever the row order
    des = SurveyDesign.from_frame(s, weights="design_weight", strata="kommune_kode")
    step = (
        adjust_weighting_class(des, ["sex", "age_band"], on_small="collapse")
        if how == "classes"
        else None
    )
    if step is not None:
        nr = pd.Series(step.weights, index=step.data["resp_id"])
        rec = res.design.adjustments[0]
        assert rec.details["method"] == "weighting_class"
        # raking starts from the nonresponse-adjusted weights: same result as raking them
        from botrygt_eval.survey.calibrate import rake_weights

        direct = rake_weights(r.reset_index(drop=True), nr.reindex(r["resp_id"]).to_numpy(), m)
        np.testing.assert_allclose(res.weights.to_numpy(), direct.weights, rtol=1e-9)
    with pytest.raises(ConfigError, match="whole drawn sample"):
        weight_responses(
            r, m, design_weight="design_weight", nonresponse=how, nonresponse_vars=["sex"]
        )


def test_weight_cli_nonresponse_classes(tmp_path):
    from botrygt_eval.cli import app

    s = sample_frame(11)
    _, m = respondents_and_margins()
    resp = s.loc[s["responded"] == 1, ["resp_id"]].assign(year=2025)
    sp, rp, mp, out = (tmp_path / f for f in ("sample.csv", "resp.csv", "m.csv", "w.csv"))
    s.to_csv(sp, index=False)
    resp.to_csv(rp, index=False)
    m.to_csv(mp, index=False)
    res = CliRunner().invoke(
        app,
        [
            "weight",
            "--responses",
            str(rp),
            "--sample",
            str(sp),
            "--margins",
            str(mp),
            "--design-weight",
            "design_weight",
            "--nonresponse",
            "classes",
            "--nonresponse-vars",
            "sex,age_band",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(out)) == len(resp)


def se_from_backfit(design, x, clusters, n_pop_clusters):
    """R's svyrecvar for a raked design: 10 sweeps of x <- x - psw * ave(x / psw, margin)."""
    for a in design.adjustments:
        for _ in range(10):
            for codes, psw in a.details.get("backfit", ()):
                v = x / psw
                mean = np.bincount(codes, weights=v) / np.bincount(codes)
                x = x - psw * mean[codes]
    t = pd.Series(x).groupby(clusters).sum().to_numpy()
    n = len(t)
    return float(np.sqrt((1 - n / n_pop_clusters) * n / (n - 1) * np.sum((t - t.mean()) ** 2)))


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("d_rake_default", {"stop": "r_rake", "maxit": 10, "epsilon": 1}),
        ("d_rake_tight", {"stop": "r_rake", "maxit": 1000, "epsilon": 1e-13}),
    ],
)
def test_rake_backfit_record_reproduces_r_exactly(dclus1, pop, case, kwargs):
    """With R's early stop the projection on X is 1e-5 off for the total; R's backfit is exact."""
    ref = pd.read_csv(REF / "ref_d_rake.csv")
    m2 = pop[pop["variable"].isin(["stype", "sch.wide"])]
    rk = rake(dclus1, m2, **kwargs)
    w = rk.weights
    y = dclus1.data["api00"].to_numpy(dtype=float)
    cl = dclus1.data["dnum"].to_numpy()
    for name, x in [
        ("mean_api00", w * (y - np.average(y, weights=w)) / w.sum()),
        ("total_enroll", w * dclus1.data["enroll"].to_numpy(dtype=float)),
    ]:
        row = ref[(ref["case"] == case) & (ref["estimate_name"] == name)]
        assert se_from_backfit(rk, x, cl, 757) == pytest.approx(
            float(row["se"].iloc[0]), rel=1e-6
        ), name
