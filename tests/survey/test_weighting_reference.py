"""Weights reproduced against R's survey package (tests/reference/survey, see its README).

Tolerances from the README: weights and point estimates relative 1e-8, counts exact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.survey.calibrate import (
    calibrate_weights,
    calibration_matrix,
    poststratify_weights,
    rake_weights,
)
from botrygt_eval.survey.diagnostics import weight_summary
from botrygt_eval.survey.margins import read_margins
from botrygt_eval.survey.trim import trim_weights

REF = Path(__file__).parents[1] / "reference" / "survey"
RTOL = 1e-8  # README: point estimates and weights


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


@pytest.fixture(scope="module")
def clus1() -> pd.DataFrame:
    return pd.read_csv(REF / "apiclus1.csv")


@pytest.fixture(scope="module")
def pop_totals() -> pd.DataFrame:
    return read_margins(REF / "api_population_totals.csv")


@pytest.fixture(scope="module")
def margins(pop_totals) -> pd.DataFrame:
    return pop_totals[pop_totals["variable"].isin(["stype", "sch.wide"])]


def ref_value(file: str, case: str, name: str, column: str = "value") -> float:
    r = pd.read_csv(REF / file)
    row = r[(r["case"] == case) & (r["estimate_name"] == name)]
    assert len(row) == 1, (case, name)
    return float(row[column].iloc[0])


def test_rake_tight_matches_r(clus1, margins):
    ref = pd.read_csv(REF / "weights_d_rake_apiclus1.csv")
    assert (ref["snum"].to_numpy() == clus1["snum"].to_numpy()).all()
    fit = rake_weights(clus1, clus1["pw"].to_numpy(), margins, tol=1e-12)
    assert fit.converged
    assert rel_err(fit.weights, ref["w_rake_tight"]) < RTOL
    assert rel_err(fit.weights, ref["w_calibrate_raking"]) < RTOL
    mean = np.average(clus1["api00"], weights=fit.weights)
    assert mean == pytest.approx(
        ref_value("ref_d_rake.csv", "d_rake_tight", "mean_api00"), rel=RTOL
    )
    total = np.sum(fit.weights * clus1["enroll"])
    assert total == pytest.approx(
        ref_value("ref_d_rake.csv", "d_rake_tight", "total_enroll"), rel=RTOL
    )


def test_rake_r_stopping_rule_default_and_tight(clus1, margins):
    """R's rake(): stop when no joint-table cell moves by epsilon (< 1: relative to sum w)."""
    ref = pd.read_csv(REF / "weights_d_rake_apiclus1.csv")
    pw = clus1["pw"].to_numpy()
    default = rake_weights(clus1, pw, margins, stop="r_rake", maxit=10, epsilon=1)
    assert default.iterations == 4  # README: R stops after 4 sweeps on apiclus1
    assert rel_err(default.weights, ref["w_rake_default"]) < RTOL
    # the default stops early: it is measurably away from the converged weights
    assert rel_err(default.weights, ref["w_rake_tight"]) > 1e-6
    mean = np.average(clus1["api00"], weights=default.weights)
    assert mean == pytest.approx(
        ref_value("ref_d_rake.csv", "d_rake_default", "mean_api00"), rel=RTOL
    )
    tight = rake_weights(clus1, pw, margins, stop="r_rake", maxit=1000, epsilon=1e-13)
    assert rel_err(tight.weights, ref["w_rake_tight"]) < RTOL


def test_poststratify_matches_r_point_estimates(clus1, pop_totals):
    m = pop_totals[pop_totals["variable"] == "stype"]
    w = poststratify_weights(clus1, clus1["pw"].to_numpy(), m)
    mean = np.average(clus1["api00"], weights=w)
    total = np.sum(w * clus1["enroll"])
    assert mean == pytest.approx(
        ref_value("ref_c_poststratify.csv", "c_poststrat", "mean_api00"), rel=RTOL
    )
    assert total == pytest.approx(
        ref_value("ref_c_poststratify.csv", "c_poststrat", "total_enroll"), rel=RTOL
    )


@pytest.mark.parametrize(
    ("calfun", "column", "bounds", "case"),
    [
        ("linear", "w_linear", None, "e_cal_linear"),
        ("logit", "w_logit_0.5_2", (0.5, 2.0), "e_cal_logit_0.5_2"),
        ("raking", "w_raking", None, "e_cal_raking"),
    ],
)
def test_calibrate_matches_r(clus1, pop_totals, calfun, column, bounds, case):
    ref = pd.read_csv(REF / "weights_e_calibrate_apiclus1.csv")
    t = pop_totals[pop_totals["variable"] == "calibrate_total"].set_index("level")["total"]
    stype = pop_totals[pop_totals["variable"] == "stype"]
    X, totals, names = calibration_matrix(clus1, stype, numeric_totals={"api99": t["api99"]})
    assert names == ["(Intercept)", "stype=H", "stype=M", "api99"]
    assert totals.tolist() == [t["(Intercept)"], t["stypeH"], t["stypeM"], t["api99"]]
    pw = clus1["pw"].to_numpy()
    fit = calibrate_weights(X, pw, totals, calfun=calfun, bounds=bounds, tol=1e-13, maxit=500)
    w = pw * fit.g
    assert rel_err(w, ref[column]) < RTOL
    assert np.average(clus1["api00"], weights=w) == pytest.approx(
        ref_value("ref_e_calibrate.csv", case, "mean_api00"), rel=RTOL
    )
    if bounds is not None:
        assert fit.g.min() >= bounds[0] and fit.g.max() <= bounds[1]


@pytest.mark.parametrize(
    ("strict", "column", "case"),
    [
        (False, "w_trim_upper40", "f_trim_upper40"),
        (True, "w_trim_upper40_strict", "f_trim_upper40_strict"),
    ],
)
def test_trim_matches_r(clus1, strict, column, case):
    ref = pd.read_csv(REF / "weights_f_trim_apiclus1.csv")
    fit = trim_weights(ref["w_rake_tight"].to_numpy(), upper=40, strict=strict)
    assert rel_err(fit.weights, ref[column]) < RTOL
    assert fit.weights.max() == pytest.approx(
        ref_value("ref_f_trim.csv", case, "max_weight_after"), rel=RTOL
    )
    assert np.average(clus1["api00"], weights=fit.weights) == pytest.approx(
        ref_value("ref_f_trim.csv", case, "mean_api00"), rel=RTOL
    )
    if not strict:
        assert fit.n_trimmed == int(ref_value("ref_f_trim.csv", case, "n_trimmed"))  # exact
        assert fit.weights.sum() == pytest.approx(
            ref_value("ref_f_trim.csv", case, "sum_weights_after"), rel=RTOL
        )


@pytest.mark.parametrize(
    ("column", "case"),
    [("w_rake_default", "i_kish_rake_default"), ("w_rake_tight", "i_kish_rake_tight")],
)
def test_kish_matches_r(column, case):
    w = pd.read_csv(REF / "weights_d_rake_apiclus1.csv")[column].to_numpy()
    s = weight_summary(w)
    for ours, theirs in [
        ("deff_kish", "deff_kish_1_plus_cv2"),
        ("n_eff", "n_eff"),
        ("cv2_denominator_n", "cv2_denominator_n"),
        ("cv2_denominator_n_minus_1", "cv2_denominator_n_minus_1"),
    ]:
        assert s[ours] == pytest.approx(ref_value("ref_i_kish.csv", case, theirs), rel=RTOL)
    assert s["n"] == ref_value("ref_i_kish.csv", case, "n")
