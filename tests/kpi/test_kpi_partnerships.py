"""Partnership KPIs: Poisson ratio intervals, targets, comparison kommuner, Nabohjælp."""

from __future__ import annotations

import dataclasses
import types

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.errors import InputFileError
from botrygt_eval.kpi.targets import annual_counts, partnership_kpis, poisson_ratio_ci
from botrygt_eval.simulate.activities import simulated_activity_workspace


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


def test_target_status_follows_the_net_interval(kpis):
    """The target is judged on the net change (against similar kommuner), not the raw one."""
    code, tgt = kpis["burglary_target_status_code"], kpis["burglary_target_pct"]
    lo, hi = kpis["net_change_ci_low"], kpis["net_change_ci_high"]
    assert (hi[code == "met"] <= tgt[code == "met"]).all()
    assert (lo[code == "not_met"] > tgt[code == "not_met"]).all()
    early = code == "too_early"
    assert ((lo[early] <= tgt[early]) & (tgt[early] < hi[early])).all()
    assert set(kpis["burglary_target_status"]) <= {"nået", "ikke nået", "for tidligt at sige", ""}
    assert (kpis["net_n_similar"] == 10).all()


def test_net_change_by_hand(ws, kpis):
    """One partnership's net change and interval, recomputed from the counts by hand."""
    from scipy import stats

    r = kpis.iloc[0]
    counts = annual_counts(ws.burglaries_quarterly)
    wide = counts.pivot(index="kommune_kode", columns="year", values="burglaries")
    b, j = int(r["baseline_year"]), int(r["judged_year"])
    signed = pd.to_datetime(ws.partnerships["signed_date"]).dt.year
    pool = wide.drop(index=ws.partnerships.loc[signed <= j, "kommune_kode"])
    hh = ws.households.pivot(index="kommune_kode", columns="year", values="households")
    near_year = hh.columns[np.argmin(abs(hh.columns - b))]
    rate = np.log(wide[b] + 0.5) - np.log(hh[near_year])
    near = (rate[pool.index] - rate[r["kommune_kode"]]).abs().sort_values(kind="stable")[:10]
    d = np.log(wide.loc[near.index, j] + 0.5) - np.log(wide.loc[near.index, b] + 0.5)
    own = np.log(wide.at[r["kommune_kode"], j] + 0.5) - np.log(wide.at[r["kommune_kode"], b] + 0.5)
    c0, c1 = wide.loc[near.index, b], wide.loc[near.index, j]
    tau2 = max(d.var() - (1 / (c0 + 0.5) + 1 / (c1 + 0.5)).mean(), 0)
    y0, y1 = wide.at[r["kommune_kode"], b], wide.at[r["kommune_kode"], j]
    own_var = 1 / (y0 + 0.5) + 1 / (y1 + 0.5)
    half = stats.t.ppf(0.975, 9) * np.sqrt(tau2 + own_var + d.var() / 10)
    assert r["net_change_pct"] == pytest.approx(100 * np.expm1(own - d.mean()), rel=1e-12)
    assert r["net_change_ci_low"] == pytest.approx(100 * np.expm1(own - d.mean() - half))
    assert r["net_change_ci_high"] == pytest.approx(100 * np.expm1(own - d.mean() + half))
    from botrygt_eval.reference import kommune_name

    assert r["similar_kommuner"] == ", ".join(kommune_name(int(k)) for k in near.index)


def _null_denmark(seed: int, effect: float = 0.0):
    """98 kommuner whose burglaries halve from 2017 to 2023 with kommune-specific trends
    (sd 0.15 on the log scale) and Poisson noise; 25 partnerships signed in 2018 change
    burglary by ``effect`` (log scale); every target is -25 %."""
    rng = np.random.default_rng(seed)
    codes = np.array(sorted(kommune_name_codes()))
    years = np.arange(2017, 2024)
    size = rng.lognormal(np.log(400), 0.8, len(codes))
    trend = np.log(0.5) / 6 + rng.normal(0, 0.15 / 6, len(codes))
    part_codes = rng.choice(codes, 25, replace=False)
    treated = np.isin(codes, part_codes)
    mu = size[:, None] * np.exp(trend[:, None] * (years - 2017))
    mu *= np.exp(effect * (treated[:, None] & (years > 2018)))
    y = rng.poisson(mu)
    rows = [(k, yr, q, y[i, t] / 4) for i, k in enumerate(codes) for t, yr in enumerate(years)
            for q in (1, 2, 3, 4)]  # fmt: skip
    bq = pd.DataFrame(rows, columns=["kommune_kode", "year", "quarter", "burglaries"])
    part = pd.DataFrame({"kommune_kode": part_codes, "signed_date": "2018-06-01",
                         "end_date": "", "baseline_year": 2017, "burglary_target_pct": -25.0,
                         "nabohjaelp_target": np.nan})  # fmt: skip
    hh = pd.DataFrame({"kommune_kode": codes, "year": 2017, "households": size * 40})
    return types.SimpleNamespace(partnerships=part, burglaries_quarterly=bq, households=hh,
                                 nabohjaelp=None)  # fmt: skip


def kommune_name_codes():
    from botrygt_eval.reference import kommuner

    return kommuner()["kommune_kode"].astype(int)


def test_a_national_fall_alone_does_not_meet_the_target():
    """No partnership effect, burglary halves everywhere: the raw change passes -25 % in
    almost every kommune, the net judgement calls at most a few targets met (one-sided
    2.5 % nominal at a true net change of 0 against a target of -25 %)."""
    met_raw = met_net = total = 0
    for seed in range(8):
        k = partnership_kpis(_null_denmark(seed))
        met_raw += int((k["burglary_change_ci_high"] <= -25).sum())
        met_net += int((k["burglary_target_status_code"] == "met").sum())
        total += len(k)
    assert met_raw / total > 0.8
    assert met_net / total <= 0.025


def test_net_interval_covers_a_planted_effect():
    """A true -20 % effect is inside the net interval in about 95 % of partnerships
    (Monte-Carlo SE from the spread of the per-draw coverage: the 25 partnerships of one
    draw share their comparison kommuner). 300 draws gave 95.0 % (SE 0.3)."""
    truth = 100 * np.expm1(np.log(0.8))
    cover = []
    for seed in range(24):
        k = partnership_kpis(_null_denmark(100 + seed, effect=np.log(0.8)))
        cover.append(
            ((k["net_change_ci_low"] <= truth) & (truth <= k["net_change_ci_high"])).mean()
        )
    mc_se = np.std(cover, ddof=1) / np.sqrt(len(cover))
    assert abs(np.mean(cover) - 0.95) < 3 * mc_se


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


def test_ended_partnership_is_judged_on_its_active_period(ws, kpis):
    part = ws.partnerships.copy()
    first = kpis.iloc[0]
    row = part.index[part["kommune_kode"] == first["kommune_kode"]][0]
    end_year = int(first["baseline_year"]) + 2
    part.loc[row, "end_date"] = f"{end_year}-06-30"
    k = partnership_kpis(dataclasses.replace(ws, partnerships=part)).iloc[0]
    counts = annual_counts(ws.burglaries_quarterly).set_index(["kommune_kode", "year"])
    assert bool(k["ended"]) and k["judged_year"] == end_year
    assert k["burglaries_latest"] == counts.loc[(k["kommune_kode"], end_year), "burglaries"]
    assert not kpis.loc[kpis["end_date"].isna() | kpis["end_date"].eq(""), "ended"].any()


def test_fear_target_is_judged_on_the_survey_interval(ws):
    part = ws.partnerships.copy().reset_index(drop=True)
    part["fear_target_pct"] = 20.0
    codes = sorted(part["kommune_kode"])[:4]
    est = pd.DataFrame({
        "kommune_kode": codes * 2, "year": [2019] * 4 + [2018] * 4, "variable": "fear_burglary",
        "estimate": [0.15, 0.21, 0.30, 0.10] + [0.5] * 4,
        "ci_low": [0.12, 0.17, 0.25, 0.05] + [0.4] * 4,
        "ci_high": [0.18, 0.25, 0.35, 0.15] + [0.6] * 4,
        "n": [300, 300, 300, 8] + [300] * 4,
    })  # fmt: skip
    k = partnership_kpis(dataclasses.replace(ws, partnerships=part), survey_estimates=est)
    k = k.set_index("kommune_kode").loc[codes]
    assert list(k["fear_target_status_code"]) == ["met", "too_early", "not_met", "not_met"]
    # the fourth has too few respondents in 2019, so its 2018 estimate (50 %) is used
    assert list(k["fear_year"]) == [2019, 2019, 2019, 2018]
    assert k["fear_share_pct"].iloc[0] == pytest.approx(15.0)
    assert list(k["fear_target_status"])[:2] == ["nået", "for tidligt at sige"]
    without = partnership_kpis(dataclasses.replace(ws, partnerships=part))
    assert without["fear_target_status_code"].eq("").all()


def test_fear_target_ignores_years_after_a_comparability_break(ws):
    from botrygt_eval.instrument.comparability import SeriesBreak

    part = ws.partnerships.copy().reset_index(drop=True)
    part["fear_target_pct"] = 20.0
    k0 = int(sorted(part["kommune_kode"])[0])
    est = pd.DataFrame({"kommune_kode": [k0, k0], "year": [2019, 2021],
                        "variable": "fear_burglary", "estimate": [0.15, 0.40],
                        "ci_low": [0.12, 0.35], "ci_high": [0.18, 0.45], "n": [300, 300]})  # fmt: skip
    ws2 = dataclasses.replace(ws, partnerships=part)
    brk = (SeriesBreak("fear_burglary", 2020, ("worry_burglary",)),)
    got = partnership_kpis(ws2, survey_estimates=est, breaks=brk).set_index("kommune_kode")
    assert got.loc[k0, "fear_year"] == 2019 and got.loc[k0, "fear_target_status_code"] == "met"
    naive = partnership_kpis(ws2, survey_estimates=est, breaks=()).set_index("kommune_kode")
    assert naive.loc[k0, "fear_year"] == 2021
