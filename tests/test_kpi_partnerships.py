"""Partnership KPIs: Poisson ratio intervals, targets, comparison kommuner, Nabohjælp."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from botrygt_eval.activities.simulated import simulated_activity_workspace
from botrygt_eval.errors import InputFileError
from botrygt_eval.kpi import annual_counts, partnership_kpis, poisson_ratio_ci


@pytest.fixture(scope="module")
def ws():
    return simulated_activity_workspace(seed=21)


@pytest.fixture(scope="module")
def kpis(ws):
    return partnership_kpis(ws)


def test_ratio_ci_matches_statsmodels_clopper_pearson():
    """Independent route: statsmodels' Clopper-Pearson interval for p = y1 / (y1 + y0)."""
    from statsmodels.stats.proportion import proportion_confint

    y1 = np.array([0, 3, 40, 250, 1200])
    y0 = np.array([5, 9, 31, 260, 1500])
    lo, hi = poisson_ratio_ci(y1, y0)
    plo, phi = proportion_confint(y1, y1 + y0, alpha=0.05, method="beta")
    np.testing.assert_allclose(lo, plo / (1 - plo), rtol=1e-8)
    np.testing.assert_allclose(hi, phi / (1 - phi), rtol=1e-8)
    lo, hi = poisson_ratio_ci([4], [0])
    assert np.isinf(hi[0]) and lo[0] > 0


def test_ratio_ci_covers_at_least_nominal():
    """Exact intervals are conservative: simulated coverage >= 95 % (minus MC error)."""
    rng = np.random.default_rng(5)
    lam0, ratio = 80.0, 0.7
    y0 = rng.poisson(lam0, 4000)
    y1 = rng.poisson(lam0 * ratio, 4000)
    lo, hi = poisson_ratio_ci(y1, y0)
    coverage = np.mean((lo <= ratio) & (ratio <= hi))
    assert coverage >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / 4000)


def test_one_row_per_partnership_with_counts(ws, kpis):
    assert len(kpis) == len(ws.partnerships)
    assert kpis["kommune_kode"].is_unique
    counts = annual_counts(ws.burglaries_quarterly).set_index(["kommune_kode", "year"])[
        "burglaries"
    ]
    r = kpis.iloc[0]
    y0 = counts[(r["kommune_kode"], r["baseline_year"])]
    y1 = counts[(r["kommune_kode"], r["latest_year"])]
    assert r["burglary_change_pct"] == pytest.approx(100 * (y1 / y0 - 1))
    assert r["burglary_change_ci_low"] < r["burglary_change_pct"] < r["burglary_change_ci_high"]


def test_target_status_follows_the_interval(kpis):
    met = kpis["burglary_target_status_code"] == "met"
    not_met = kpis["burglary_target_status_code"] == "not_met"
    assert (kpis.loc[met, "burglary_change_ci_high"] <= kpis.loc[met, "burglary_target_pct"]).all()
    assert (
        kpis.loc[not_met, "burglary_change_ci_low"] > kpis.loc[not_met, "burglary_target_pct"]
    ).all()
    unc = kpis["burglary_target_status_code"] == "uncertain"
    t = kpis.loc[unc, "burglary_target_pct"]
    assert (
        (kpis.loc[unc, "burglary_change_ci_low"] <= t)
        & (t < kpis.loc[unc, "burglary_change_ci_high"])
    ).all()
    assert set(kpis["burglary_target_status"]) <= {"nået", "ikke nået", "usikker"}


def test_comparison_is_non_partnership_kommuner(ws, kpis):
    partners = set(ws.partnerships["kommune_kode"])
    counts = annual_counts(ws.burglaries_quarterly)
    comp = counts.loc[~counts["kommune_kode"].isin(partners)].groupby("year")["burglaries"].sum()
    r = kpis.iloc[0]
    expect = 100 * (comp[r["latest_year"]] / comp[r["baseline_year"]] - 1)
    assert r["comparison_change_pct"] == pytest.approx(expect)
    assert r["comparison_n_kommuner"] == 98 - len(partners)
    rel = (1 + r["burglary_change_pct"] / 100) / (1 + r["comparison_change_pct"] / 100)
    assert r["relative_to_comparison_pct"] == pytest.approx(100 * (rel - 1))


def test_partnerships_beat_comparison_on_average(kpis):
    """truth: partnerships cut burglary by 10 %; the mean relative change is negative."""
    assert kpis["relative_to_comparison_pct"].mean() < 0


def test_nabohjaelp_target_and_empty_target(ws):
    part = ws.partnerships.copy()
    part.loc[0, "nabohjaelp_target"] = np.nan  # North Jutland agreements have none
    k = partnership_kpis(dataclasses.replace(ws, partnerships=part))
    first = k.loc[k["kommune_kode"] == part.loc[0, "kommune_kode"]].iloc[0]
    assert first["nabohjaelp_target_status"] == "" and np.isnan(first["nabohjaelp_pct_of_target"])
    rest = k.loc[k["nabohjaelp_target"].notna()]
    met = rest["nabohjaelp_members"] >= rest["nabohjaelp_target"]
    assert (rest.loc[met, "nabohjaelp_target_status_code"] == "met").all()
    assert (rest.loc[~met, "nabohjaelp_target_status_code"] == "not_met").all()
    nh = ws.nabohjaelp
    code = rest.iloc[0]["kommune_kode"]
    last = nh.loc[nh["kommune_kode"] == code].sort_values("year").iloc[-1]
    assert rest.iloc[0]["nabohjaelp_members"] == last["members"]


def test_empty_register_is_refused(ws):
    with pytest.raises(InputFileError, match="partnerships.csv"):
        partnership_kpis(dataclasses.replace(ws, partnerships=ws.partnerships.iloc[:0]))
