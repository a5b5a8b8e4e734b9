"""Our weighting steps fed to the estimators: R's estimates and calibration-aware SEs.

Weights come from ``calibrate.py`` / ``trim.py`` (this topic), SEs from the shared
variance code, so this checks that the Adjustment records carry what the variance needs.
README tolerances: estimates relative 1e-8, SEs relative 1e-6.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from botrygt_eval.survey.calibrate import calibrate, poststratify, rake
from botrygt_eval.survey.margins import read_margins
from botrygt_eval.survey.trim import trim

estimation = pytest.importorskip("botrygt_eval.survey.estimators")
from botrygt_eval.survey.design import SurveyDesign  # noqa: E402

REF = Path(__file__).parents[1] / "reference" / "survey"


def build_designs():
    d = pd.read_csv(REF / "apiclus1.csv")
    pop = read_margins(REF / "api_population_totals.csv")
    des = SurveyDesign.from_frame(d, weights="pw", clusters="dnum", fpc="fpc")
    m2 = pop[pop["variable"].isin(["stype", "sch.wide"])]
    stype = pop[pop["variable"] == "stype"]
    api99 = {"api99": float(pop.loc[pop["level"] == "api99", "total"].iloc[0])}
    tight = rake(des, m2, tol=1e-12)
    return {
        "c_poststrat": poststratify(des, stype),
        "d_rake_tight": tight,
        "d_rake_default": rake(des, m2, stop="r_rake", maxit=10, epsilon=1),
        "d_calibrate_raking": calibrate(des, m2, method="raking", tol=1e-13, maxit=500),
        "e_cal_linear": calibrate(des, stype, method="linear", numeric_totals=api99),
        "e_cal_logit_0.5_2": calibrate(
            des,
            stype,
            method="logit",
            bounds=(0.5, 2),
            numeric_totals=api99,
            tol=1e-13,
            maxit=500,
        ),
        "e_cal_raking": calibrate(
            des, stype, method="raking", numeric_totals=api99, tol=1e-13, maxit=500
        ),
        "f_trim_upper40": trim(tight, 40, strict=False),
        "f_trim_upper40_strict": trim(tight, 40, strict=True),
    }


DESIGNS = build_designs()
REFS = pd.read_csv(REF / "ref_all.csv")
CASES = [
    pytest.param(
        case,
        name,
    )
    for case in DESIGNS
    for name in ("mean_api00", "total_enroll")
    if ((REFS["case"] == case) & (REFS["estimate_name"] == name)).any()
]


@pytest.mark.parametrize(("case", "name"), CASES)
def test_weighted_designs_reproduce_r(case, name):
    fn, var = (
        (estimation.svymean, "api00") if name == "mean_api00" else (estimation.svytotal, "enroll")
    )
    got = fn(DESIGNS[case], var).to_frame().iloc[0]
    ref = REFS[(REFS["case"] == case) & (REFS["estimate_name"] == name)].iloc[0]
    assert got["estimate"] == pytest.approx(ref["value"], rel=1e-8)
    assert got["se"] == pytest.approx(ref["se"], rel=1e-6)
