"""The evaluation's side-by-side effects (``botrygt_eval.did.compare``), tested directly.

Cohort timing against hand-worked dates; each row of the effects table is the estimator
it names, called on its own (an identity between two routes to one number); and the
survey DiD recovers a planted effect on kommune-year estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.did.aggregate import aggregate
from botrygt_eval.did.att_gt import att_gt
from botrygt_eval.did.compare import COLUMNS, burglary_effects, survey_cohorts, survey_effects
from botrygt_eval.did.poisson import ppml
from botrygt_eval.did.twfe import twfe
from tests.did.did_panel_helpers import staggered_panel


def test_survey_cohorts_by_hand():
    """Signed in 2019 Q1 → first treated quarter 2019 Q2, seen by the Q4 survey of 2019;
    signed 2019-11-15 (Q4) → treated from 2020 Q1 → the 2020 survey; signed 2018-09-30
    (Q3) → 2018 Q4, still inside the 2018 fieldwork quarter; with fieldwork in Q3 that
    kommune waits for 2019. The earliest of two partnerships counts."""
    p = pd.DataFrame(
        {
            "kommune_kode": [101, 751, 461, 101],
            "signed_date": ["2019-03-01", "2019-11-15", "2018-09-30", "2021-05-01"],
        }
    )
    assert survey_cohorts(p).to_dict() == {101: 2019, 461: 2018, 751: 2020}
    assert survey_cohorts(p, fieldwork_quarter=3).to_dict() == {101: 2019, 461: 2019, 751: 2020}


@pytest.fixture(scope="module")
def burglary_panel():
    df = staggered_panel(n_units=40, n_periods=24, cohorts=(0, 10, 12, 14), effect=-0.2, seed=5)
    rng = np.random.default_rng(5)
    df = df.rename(columns={"unit": "kommune_kode", "time": "period", "treat": "treated"})
    df["households"] = 1000 + 100 * (df["kommune_kode"] % 7)
    df["log_rate"] = df["y"] / 10
    df["burglaries"] = rng.poisson(df["households"] / 50 * np.exp(df["log_rate"]))
    return df


def test_burglary_rows_are_the_estimators_they_name(burglary_panel):
    p = burglary_panel
    table, es, dynamic = burglary_effects(p)
    assert list(table.columns) == COLUMNS and len(table) == 3
    keys = dict(unit="kommune_kode", time="period")
    tw = twfe(p, treat="treated", outcome="log_rate", **keys)
    cs = att_gt(p, cohort="cohort", outcome="log_rate", control="notyet", method="dr", **keys)
    simple = aggregate(cs, "simple", se="jackknife")
    pm = ppml(p, treat="treated", outcome="burglaries", offset="households", **keys)
    got = table.set_index("estimator")
    for name, (est, se) in {
        "TWFE": (tw.estimate, tw.se),
        "Callaway-Sant'Anna (not yet treated)": (simple.overall_att, simple.overall_se),
        "PPML (households offset)": (pm.estimate, pm.se),
    }.items():
        assert got.loc[name, "estimate"] == pytest.approx(est, rel=1e-12), name
        assert got.loc[name, "se"] == pytest.approx(se, rel=1e-12), name
        assert got.loc[name, "ci_low"] < est < got.loc[name, "ci_high"], name
    assert (table["n_units"] == 40).all()
    assert dynamic.simultaneous and dynamic.df == 39  # jackknife Bonferroni band, t(G - 1)
    assert es.table["event_time"].min() == -8


def _survey_draw(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """60 kommuner x 9 survey years; 40 partnerships in two cohorts; +0.05 when treated."""
    rng = np.random.default_rng(seed)
    codes = np.arange(101, 161)
    signed = pd.to_datetime(["2019-02-01"] * 20 + ["2021-02-01"] * 20)
    part = pd.DataFrame({"kommune_kode": codes[:40], "signed_date": signed})
    years = np.arange(2016, 2025)
    grid = pd.DataFrame([(k, y) for k in codes for y in years], columns=["kommune_kode", "year"])
    cohort = grid["kommune_kode"].map(survey_cohorts(part)).fillna(0)
    treated = (cohort > 0) & (grid["year"] >= cohort)
    level = rng.normal(0.3, 0.03, len(codes))[grid["kommune_kode"] - 101]
    grid["estimate"] = level + 0.002 * (grid["year"] - 2016) + 0.05 * treated
    grid["estimate"] += rng.normal(0, 0.005, len(grid))
    grid["se"], grid["n"], grid["variable"] = 0.01, 200, "fear_burglary"
    return grid, part


def test_survey_effects_recover_a_planted_effect():
    """Over 40 draws the survey DiD is unbiased for +0.05 and its interval covers it in
    about 95 % of draws (at least 34 of 40: 3 binomial SEs below 95 %)."""
    rows = []
    for seed in range(40):
        grid, part = _survey_draw(seed)
        rows.append(survey_effects(grid, part, outcomes=("fear_burglary",)).iloc[0])
    out = pd.DataFrame(rows)
    assert (out["n_units"] == 60).all() and (out["outcome"] == "fear_burglary").all()
    assert out["estimate"].mean() == pytest.approx(0.05, abs=3 * out["se"].mean() / np.sqrt(40))
    covered = ((out["ci_low"] < 0.05) & (0.05 < out["ci_high"])).sum()
    assert covered >= 34


def test_survey_effects_use_only_the_comparable_series():
    """A recorded break in 2024 (a recoded item): the 2024 estimates, on another scale, are
    left out and named; the effect equals the one on 2016-2023 alone."""
    from botrygt_eval.instrument.comparability import SeriesBreak

    grid, part = _survey_draw(3)
    broken = grid.copy()
    broken.loc[broken["year"] == 2024, "estimate"] *= 0.4  # new answer scale
    brk = (SeriesBreak("fear_burglary", 2024, ("worry_burglary",)),)
    got = survey_effects(broken, part, outcomes=("fear_burglary",), breaks=brk).iloc[0]
    alone = survey_effects(grid[grid["year"] < 2024], part, outcomes=("fear_burglary",), breaks=())
    assert got["excluded_years"] == "2024"
    assert got["estimate"] == pytest.approx(alone.iloc[0]["estimate"], rel=1e-12)
    naive = survey_effects(broken, part, outcomes=("fear_burglary",), breaks=()).iloc[0]
    assert naive["excluded_years"] == ""  # bridged: biased by more than two SEs
    assert abs(naive["estimate"] - alone.iloc[0]["estimate"]) > 2 * got["se"]


def test_the_item_bank_records_the_2025_fear_break():
    from botrygt_eval.instrument.comparability import comparable_years, series_breaks

    breaks = series_breaks()
    fear = [b for b in breaks if b.outcome == "fear_burglary"]
    assert [(b.year, b.items) for b in fear] == [(2025, ("worry_burglary",))]
    years = range(2017, 2027)
    assert comparable_years("fear_burglary", years, breaks, anchor=2017) == list(range(2017, 2025))
    assert comparable_years("fear_burglary", years, breaks, anchor=2026) == [2025, 2026]
    assert comparable_years("nabohjaelper", years, breaks, anchor=2017) == list(years)


def test_own_effect_runs_each_declared_method_and_did_is_the_closed_form():
    """One partnership kommune (101) and six kommuner without one, 8 quarters, start at 6.
    The table has one row per method of OWN_EFFECT_METHODS, in that order; the plain DiD
    row is the difference of the four means (worked out by hand, uniform donor and time
    weights); a kommune whose partnership has no period in the data yet gives (None, None)."""
    from botrygt_eval.did.compare import OWN_EFFECT_METHODS, own_effect

    codes = [101, 147, 151, 153, 155, 157, 159]
    rng = np.random.default_rng(2)
    rows = []
    for k in codes:
        level = rng.normal(0, 0.3)
        for t in range(8):
            treated = int(k == 101 and t >= 6)
            y = level + 0.05 * t - 0.2 * treated + rng.normal(0, 0.05)
            rows.append({"kommune_kode": k, "period": t, "treated": treated, "log_rate": y})
    p = pd.DataFrame(rows)
    table, fits = own_effect(p, 101, seed=1, replications=20)
    assert list(table["method"]) == list(OWN_EFFECT_METHODS) == list(fits)
    y = p.pivot(index="kommune_kode", columns="period", values="log_rate")
    post = y.columns >= 6
    by_hand = (y.loc[101, post].mean() - y.loc[101, ~post].mean()) - (
        y.drop(101).loc[:, post].to_numpy().mean() - y.drop(101).loc[:, ~post].to_numpy().mean()
    )
    did = table.set_index("method").loc["did"]
    assert did["estimate"] == pytest.approx(by_hand, rel=1e-10)
    assert did["ci_low"] < did["estimate"] < did["ci_high"] and did["se"] > 0
    assert (table["n"] == 1).all()
    assert own_effect(p.assign(treated=0), 101, seed=1) == (None, None)


def _two_by_two(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """10 kommuner with a partnership seen from the 2020 survey, 12 without; 2019 and 2020;
    each kommune-year estimate with its own SE (samples of very different sizes)."""
    rng = np.random.default_rng(seed)
    codes = np.arange(101, 123)
    part = pd.DataFrame({"kommune_kode": codes[:10],
                         "signed_date": pd.to_datetime(["2020-02-01"] * 10)})  # fmt: skip
    grid = pd.DataFrame([(k, y) for k in codes for y in (2019, 2020)],
                        columns=["kommune_kode", "year"])  # fmt: skip
    grid["se"] = rng.uniform(0.005, 0.08, len(grid))
    grid["estimate"] = 0.3 + rng.normal(0, grid["se"])
    grid["n"], grid["variable"] = 100, "fear_burglary"
    return grid, part


def test_survey_did_carries_the_estimates_own_ses_2x2_closed_form():
    """Two years, one cohort, never-treated controls: ATT = mean change of the partnership
    kommuner minus that of the others, so its sampling variance is
    sum_T (se_2019^2 + se_2020^2) / n_T^2 + sum_C (...) / n_C^2 (by hand). The SEs differ
    tenfold between kommuner, so the closed form is not a multiple of the mean SE."""
    grid, part = _two_by_two(4)
    row = survey_effects(grid, part, outcomes=("fear_burglary",), breaks=()).iloc[0]
    treated = grid["kommune_kode"].isin(part["kommune_kode"])
    by_hand = np.sqrt((grid.loc[treated, "se"] ** 2).sum() / 10**2
                      + (grid.loc[~treated, "se"] ** 2).sum() / 12**2)  # fmt: skip
    assert row["se_sampling"] == pytest.approx(by_hand, rel=1e-9)
    wide = grid.pivot(index="kommune_kode", columns="year", values="estimate")
    change = wide[2020] - wide[2019]
    att = change[change.index.isin(part["kommune_kode"])].mean() - change[
        ~change.index.isin(part["kommune_kode"])].mean()  # fmt: skip
    assert row["estimate"] == pytest.approx(att, rel=1e-10)
    homoskedastic = grid["se"].mean() * np.sqrt(2 / 10 + 2 / 12)
    assert abs(row["se_sampling"] - homoskedastic) > 0.02 * by_hand  # the SEs matter


@pytest.mark.filterwarnings("ignore::botrygt_eval.errors.DroppedUnitsWarning")
def test_survey_did_sampling_se_equals_the_per_estimate_derivative():
    """Staggered cohorts and a kommune with a suppressed year (left out by the estimator):
    the SE from one refit per cohort and year equals sqrt(sum c_i^2 se_i^2) with c_i found
    for every single kommune-year estimate by its own refit (an independent route)."""
    from botrygt_eval.did.compare import SURVEY_DID, sampling_se

    grid, part = _survey_draw(7)
    grid = grid[grid["kommune_kode"].isin([*range(101, 107), *range(121, 127), *range(141, 147)])
                & grid["year"].between(2017, 2021)].reset_index(drop=True)  # fmt: skip
    grid["se"] = np.random.default_rng(7).uniform(0.005, 0.05, len(grid))
    grid["cohort"] = grid["kommune_kode"].map(survey_cohorts(part)).fillna(0).astype(int)
    grid = grid.drop(index=grid.index[(grid["kommune_kode"] == 102) & (grid["year"] == 2019)])

    def att(d):
        return aggregate(att_gt(d, **SURVEY_DID), "simple").overall_att

    base = att(grid)
    weights = []
    for i in grid.index:
        bumped = grid.copy()
        bumped.loc[i, "estimate"] += 1.0
        weights.append(att(bumped) - base)
    c = np.array(weights)
    assert c[grid["kommune_kode"].eq(102).to_numpy()] == pytest.approx(0, abs=1e-12)  # left out
    assert sampling_se(grid) == pytest.approx(np.sqrt((c**2 * grid["se"] ** 2).sum()), rel=1e-8)
