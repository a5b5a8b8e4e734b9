"""ATT(g,t), aggregates and pre-tests against R did 2.5.1 output (tests/reference/did).

Every reference row is its own test id; rows are matched by key, never by position.
Tolerance 1e-6 absolute (README: 1e-8 achievable); W relative 1e-6; p-value 1e-5.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.did import aggregate, att_gt

REF = Path(__file__).parents[1] / "reference" / "did"
TOL = 1e-6

MPDTA = dict(unit="countyreal", time="year", cohort="first.treat", outcome="lemp")
SCENARIOS = {
    "mpdta_nev_dr": ("mpdta.csv", dict(MPDTA, method="dr")),
    "mpdta_nyt_dr": ("mpdta.csv", dict(MPDTA, method="dr", control="notyet")),
    "mpdta_nev_reg_cov": ("mpdta.csv", dict(MPDTA, method="reg", covariates=["lpop"])),
    "mpdta_nev_ipw": ("mpdta.csv", dict(MPDTA, method="ipw")),
    "sim_nev_dr": (
        "sim_data.csv",
        dict(unit="id", time="period", cohort="G", outcome="Y", method="dr", covariates=["X"]),
    ),
    # ref_gaps.csv (mpdta_extra.csv, est_method = "reg")
    "rc": ("mpdta_extra.csv", dict(MPDTA, method="reg", panel=False)),
    "universal": ("mpdta_extra.csv", dict(MPDTA, method="reg", base_period="universal")),
    "anticipation1": ("mpdta_extra.csv", dict(MPDTA, method="reg", anticipation=1)),
    "weighted": ("mpdta_extra.csv", dict(MPDTA, method="reg", weights="wt")),
    "clustered": ("mpdta_extra.csv", dict(MPDTA, method="reg", cluster="clust")),
    # ref_fixweights.csv (mpdta_tvw.csv, time-varying weights)
    "fw_none": ("mpdta_tvw.csv", dict(MPDTA, method="reg", weights="wt", fix_weights="earlier")),
    "fw_base_period": (
        "mpdta_tvw.csv",
        dict(MPDTA, method="reg", weights="wt", fix_weights="base_period"),
    ),
    "fw_first_period": (
        "mpdta_tvw.csv",
        dict(MPDTA, method="reg", weights="wt", fix_weights="first_period"),
    ),
    "fw_varying": ("mpdta_tvw.csv", dict(MPDTA, method="reg", weights="wt", fix_weights="varying")),
    # ref_factor.csv (factor covariate `cat`, time-varying within units)
    "factor": (
        "factor_cov.csv",
        dict(unit="id", time="period", cohort="G", outcome="Y", method="reg", covariates=["cat"]),
    ),
}


@cache
def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name)


@cache
def fit(scenario: str):
    file, kw = SCENARIOS[scenario]
    return att_gt(_data(file), **kw)


@cache
def agg(scenario: str, type_: str):
    return aggregate(fit(scenario), type_)


def _cells(scenario: str) -> pd.DataFrame:
    return fit(scenario).table.set_index(["group", "time"])


def _attgt_rows():
    rows = []
    for _, r in pd.read_csv(REF / "ref_attgt.csv").iterrows():
        rows.append(
            pytest.param(
                r.scenario, r.group, r.t, r.att, r.se, id=f"attgt-{r.scenario}-{r.group}-{r.t}"
            )
        )
    for _, r in pd.read_csv(REF / "ref_gaps.csv").iterrows():
        rows.append(
            pytest.param(
                r.scenario, r.group, r.t, r.att, r.se, id=f"gaps-{r.scenario}-{r.group}-{r.t}"
            )
        )
    for _, r in pd.read_csv(REF / "ref_fixweights.csv").iterrows():
        sc = f"fw_{r.fix_weights}"
        rows.append(
            pytest.param(
                sc, r.group, r.t, r.att, r.se, id=f"fixweights-{r.fix_weights}-{r.group}-{r.t}"
            )
        )
    for _, r in pd.read_csv(REF / "ref_factor.csv").iterrows():
        rows.append(pytest.param("factor", r.group, r.t, r.att, r.se, id=f"factor-{r.group}-{r.t}"))
    return rows


@pytest.mark.parametrize(("scenario", "group", "t", "att", "se"), _attgt_rows())
def test_att_gt_row(scenario, group, t, att, se):
    cell = _cells(scenario).loc[(group, t)]
    assert cell["att"] == pytest.approx(att, abs=TOL)
    if np.isnan(se):
        assert np.isnan(cell["se"])  # R's NA (universal base cell)
    else:
        assert cell["se"] == pytest.approx(se, abs=TOL)


@pytest.mark.parametrize(
    "scenario",
    ["mpdta_nev_dr", "sim_nev_dr", "rc", "universal", "anticipation1", "fw_none", "factor"],
)
def test_no_extra_cells(scenario):
    """We report exactly R's cells: none missing (checked row by row) and none extra."""
    frames = [pd.read_csv(REF / f) for f in ("ref_attgt.csv", "ref_gaps.csv")]
    ref = pd.concat(frames)
    if scenario == "fw_none":
        ref = pd.read_csv(REF / "ref_fixweights.csv").query("fix_weights == 'none'")
    elif scenario == "factor":
        ref = pd.read_csv(REF / "ref_factor.csv")
    else:
        ref = ref[ref["scenario"] == scenario]
    assert len(fit(scenario).table) == len(ref)


def _aggte_rows():
    rows = []
    for _, r in pd.read_csv(REF / "ref_aggte.csv").iterrows():
        tag = "overall" if pd.isna(r.egt) else int(r.egt)
        rows.append(pytest.param(r.scenario, r.type, r.egt, r.att_egt, r.se_egt, r.overall_att,
                                 r.overall_se, id=f"{r.scenario}-{r.type}-{tag}"))  # fmt: skip
    return rows


@pytest.mark.parametrize(
    ("scenario", "type_", "egt", "att_egt", "se_egt", "overall_att", "overall_se"), _aggte_rows()
)
def test_aggte_row(scenario, type_, egt, att_egt, se_egt, overall_att, overall_se):
    a = agg(scenario, type_)
    assert a.overall_att == pytest.approx(overall_att, abs=TOL)
    assert a.overall_se == pytest.approx(overall_se, abs=TOL)
    if not pd.isna(egt):
        by = a.by.set_index("egt")
        assert by.loc[egt, "att"] == pytest.approx(att_egt, abs=TOL)
        assert by.loc[egt, "se"] == pytest.approx(se_egt, abs=TOL)


@pytest.mark.parametrize(
    ("scenario", "type_"),
    [(s, t) for s in list(SCENARIOS)[:5] for t in ("group", "dynamic", "calendar")],
)
def test_aggte_same_egts(scenario, type_):
    ref = pd.read_csv(REF / "ref_aggte.csv").query("scenario == @scenario and type == @type_")
    assert sorted(agg(scenario, type_).by["egt"]) == sorted(ref["egt"])


@pytest.mark.parametrize(
    ("scenario", "W", "Wpval"),
    [
        pytest.param(r.scenario, r.W, r.Wpval, id=r.scenario)
        for _, r in pd.read_csv(REF / "ref_pretest.csv").iterrows()
    ],
)
def test_pretest_row(scenario, W, Wpval):
    p = fit(scenario).pretest
    assert p.statistic == pytest.approx(W, rel=1e-6)
    assert round(p.p_value, 5) == pytest.approx(Wpval, abs=1e-5)
