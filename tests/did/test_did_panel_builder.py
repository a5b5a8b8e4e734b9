"""Panel builder on small hand-made frames: timing rule, cohorts, end dates, missing counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.errors import ConfigError, InputFileError
from botrygt_eval.panel.build import (
    PanelWarning,
    build_panel,
    first_treated_period,
    survey_panel,
)

# Three kommuner, 2018K1-2020K4 (12 quarters); counts = 10 + quarter index.
KOMMUNER = (101, 147, 751)


def burglaries(drop=(), missing=()):
    rows = []
    for k in KOMMUNER:
        for y in (2018, 2019, 2020):
            for q in (1, 2, 3, 4):
                if (k, y, q) in drop:
                    continue
                value = ".." if (k, y, q) in missing else 10 + 4 * (y - 2018) + q
                rows.append({"kommune_kode": k, "year": y, "quarter": q, "burglaries": value})
    return pd.DataFrame(rows)


HOUSEHOLDS = pd.DataFrame(
    [{"kommune_kode": k, "year": y, "households": 1000 * (i + 1) + (y - 2018)}
     for i, k in enumerate(KOMMUNER) for y in (2018, 2019, 2020)]
)  # fmt: skip

PARTNERSHIPS = pd.DataFrame(
    {
        "kommune_kode": [147, 751],
        "signed_date": pd.to_datetime(["2019-05-14", "2018-11-01"]),
        "end_date": pd.to_datetime([pd.NaT, "2019-12-31"]),
    }
)


def test_timing_rules_by_hand():
    d = pd.Series(pd.to_datetime(["2019-05-14", "2019-06-10", "2019-04-01", "2019-12-31"]))
    q = lambda a: [f"{x // 4}K{x % 4 + 1}" for x in a]  # noqa: E731
    assert q(first_treated_period(d, timing="next_period")) == [
        "2019K3",
        "2019K3",
        "2019K3",
        "2020K1",
    ]
    assert q(first_treated_period(d, timing="same_period")) == [
        "2019K2",
        "2019K2",
        "2019K2",
        "2019K4",
    ]
    # Q2 has 91 days; 2019-05-14 leaves 48 (>= 45.5), 2019-06-10 leaves 21.
    assert q(first_treated_period(d, timing="majority")) == ["2019K2", "2019K3", "2019K2", "2020K1"]
    yr = first_treated_period(d, frequency="year", timing="next_period")
    assert yr.tolist() == [2020, 2020, 2020, 2020]
    yr = first_treated_period(d, frequency="year", timing="majority")
    assert yr.tolist() == [2019, 2019, 2019, 2020]
    with pytest.raises(ConfigError, match="next_period"):
        first_treated_period(d, timing="next_quarter")


def test_cohorts_event_time_and_labels():
    p = build_panel(burglaries(), HOUSEHOLDS, partnerships=PARTNERSHIPS)
    assert len(p) == 3 * 12 and p["period"].min() == 1 and p["period"].max() == 12
    by = p.groupby("kommune_kode").first()
    # 147: signed 2019-05-14 -> 2019K3 = period 7; 751: 2018-11-01 -> 2019K1 = period 5.
    assert by.loc[101, "cohort"] == 0 and by.loc[147, "cohort"] == 7 and by.loc[751, "cohort"] == 5
    assert by.loc[147, "cohort_label"] == "2019K3" and by.loc[751, "cohort_label"] == "2019K1"
    k147 = p[p["kommune_kode"] == 147]
    assert k147["treated"].tolist() == [0] * 6 + [1] * 6
    assert k147["event_time"].tolist() == list(range(-6, 6))
    assert p.loc[p["kommune_kode"] == 101, "event_time"].isna().all()
    assert p.loc[p["period"] == 1, "period_label"].unique().tolist() == ["2018K1"]
    assert by.loc[751, "politikreds"] == "Østjyllands Politi"
    assert by.loc[101, "region"] == "Region Hovedstaden"
    assert p.attrs["settings"]["timing"] == "next_period"


def test_end_date_absorbing_or_off():
    absorbing = build_panel(burglaries(), HOUSEHOLDS, partnerships=PARTNERSHIPS)
    off = build_panel(burglaries(), HOUSEHOLDS, partnerships=PARTNERSHIPS, after_end="off")
    a = absorbing.loc[absorbing["kommune_kode"] == 751, "treated"].tolist()
    o = off.loc[off["kommune_kode"] == 751, "treated"].tolist()
    assert a == [0] * 4 + [1] * 8
    # treated 2019K1..2019K4 (the quarter of end_date), off from 2020K1
    assert o == [0] * 4 + [1] * 4 + [0] * 4
    assert off.loc[off["kommune_kode"] == 751, "cohort"].unique().tolist() == [5]
    assert off.attrs["settings"]["after_end"] == "off"


def test_rates_and_log_rate():
    p = build_panel(burglaries(), HOUSEHOLDS, partnerships=PARTNERSHIPS)
    row = p[(p["kommune_kode"] == 147) & (p["year"] == 2019) & (p["quarter"] == 2)].iloc[0]
    assert row["burglaries"] == 10 + 4 + 2
    assert row["households"] == 2001
    assert row["rate"] == pytest.approx(16 / 2001 * 1000, rel=1e-12)
    assert row["log_rate"] == pytest.approx(np.log(16.5 / 2001 * 1000), rel=1e-12)


def test_missing_counts_stay_missing_and_unbalanced():
    b = burglaries(drop={(101, 2019, 2)}, missing={(147, 2020, 1)})
    p = build_panel(b, HOUSEHOLDS)
    assert len(p) == 36  # the dropped row comes back as an explicit missing
    miss = p[p["observed"] == 0]
    assert set(zip(miss["kommune_kode"], miss["period_label"], strict=True)) == {
        (101, "2019K2"),
        (147, "2020K1"),
    }
    assert miss["rate"].isna().all() and miss["log_rate"].isna().all()
    assert any("missing" in n for n in p.attrs["notes"])
    annual = build_panel(b, HOUSEHOLDS, frequency="year")
    a = annual.set_index(["kommune_kode", "year"])["burglaries"]
    assert np.isnan(a[(101, 2019)]) and np.isnan(a[(147, 2020)])
    assert a[(751, 2019)] == sum(10 + 4 + q for q in (1, 2, 3, 4))
    assert annual["period_label"].tolist()[:3] == ["2018", "2019", "2020"]


def test_annual_cohorts_and_population():
    pop = pd.DataFrame(
        [{"kommune_kode": k, "year": y, "quarter": 1, "sex": s, "age": a, "population": 10}
         for k in KOMMUNER for y in (2018, 2019, 2020) for s in ("male", "female")
         for a in range(3)]
    )  # fmt: skip
    p = build_panel(burglaries(), HOUSEHOLDS, pop, PARTNERSHIPS, frequency="year")
    assert (p["population"] == 60).all()
    by = p.groupby("kommune_kode")["cohort"].first()
    # 147: 2019-05-14 -> 2020 (period 3); 751: 2018-11-01 -> 2019 (period 2).
    assert by.to_dict() == {101: 0, 147: 3, 751: 2}


def test_cohort_outside_window():
    early = pd.DataFrame({"kommune_kode": [101], "signed_date": ["2017-03-01"]})
    with pytest.warns(PanelWarning, match="always treated"):
        p = build_panel(burglaries(), HOUSEHOLDS, partnerships=early)
    assert p.loc[p["kommune_kode"] == 101, "cohort"].unique().tolist() == [1]
    late = pd.DataFrame({"kommune_kode": ["København"], "signed_date": ["2021-03-01"]})
    p = build_panel(burglaries(), HOUSEHOLDS, partnerships=late)
    assert (p["cohort"] == 0).all()
    assert any("never treated" in n for n in p.attrs["notes"])


def test_bad_input():
    b = pd.concat([burglaries(), burglaries().iloc[:1]])
    with pytest.raises(InputFileError, match="repeated"):
        build_panel(b, HOUSEHOLDS)
    with pytest.raises(InputFileError, match="households"):
        build_panel(burglaries(), HOUSEHOLDS.drop(columns="households"))
    with pytest.raises(ConfigError):
        build_panel(burglaries(), HOUSEHOLDS, frequency="month")


def test_survey_panel_tidy_and_estimate_table():
    tidy = pd.DataFrame(
        {"kommune_kode": [101, 101, 147], "year": [2024, 2025, 2025],
         "variable": "fear_burglary", "estimate": [0.2, 0.18, 0.3], "se": [0.02, 0.03, 0.04],
         "n": [400, 410, 380]}
    )  # fmt: skip
    out = survey_panel(tidy, partnerships=PARTNERSHIPS)
    assert out["variance"].tolist() == pytest.approx([0.0004, 0.0009, 0.0016])
    assert out.set_index("kommune_kode")["cohort"].to_dict() == {101: 0, 147: 2020}
    assert out["treated"].tolist() == [0, 0, 1] and out["event_time"].iloc[2] == 5
    wide = survey_panel(tidy, wide=True)
    assert {"fear_burglary", "fear_burglary_se"} <= set(wide.columns)

    table = pd.DataFrame(
        {"variable": ["fear_burglary"] * 3, "domain": [None, "101", "kommune_kode=Aarhus"],
         "estimate": [0.25, 0.2, 0.22], "se": [0.01, 0.02, 0.02], "ci_low": 0.0,
         "ci_high": 1.0, "n": [1000, 400, 600], "deff": 1.2}
    )  # fmt: skip
    with pytest.raises(ConfigError, match="year"):
        survey_panel(table)
    out = survey_panel(table, year=2025)
    assert out["kommune_kode"].tolist() == [101, 751] and (out["year"] == 2025).all()
    with pytest.raises(InputFileError, match="repeated"):
        survey_panel(pd.concat([tidy, tidy]))


def test_builds_from_the_loaders_output():
    """The tidy frames of botrygt_eval.io (nullable Int64, NaT end dates) go straight in."""
    from pathlib import Path

    from botrygt_eval.io import registers, statbank

    fx = Path(__file__).parents[1] / "fixtures"
    b = statbank.load_straf11(fx / "statbank" / "STRAF11_da.csv").data
    h = statbank.load_households(fx / "statbank" / "FAM55N_da.csv").data
    p = registers.load_partnerships(fx / "registers" / "partnerships.csv").data
    with pytest.warns(PanelWarning):
        panel = build_panel(b, h, None, p, after_end="off")
    assert panel["burglaries"].dtype == "float64" and panel["rate"].dtype == "float64"
    assert set(panel["kommune_kode"]) == set(b["kommune_kode"].astype(int))
    assert panel.groupby("kommune_kode").size().nunique() == 1  # every kommune, every period
    assert panel["observed"].sum() == b["burglaries"].notna().sum()


def test_year_window():
    with pytest.warns(PanelWarning, match="751"):
        p = build_panel(burglaries(), HOUSEHOLDS, partnerships=PARTNERSHIPS, start=2019, end=2019)
    assert p["period_label"].unique().tolist() == [f"2019K{q}" for q in (1, 2, 3, 4)]
    # 751 first treated 2019K1 = period 1 of this window: always treated
    assert p.groupby("kommune_kode")["cohort"].first().to_dict() == {101: 0, 147: 3, 751: 1}


def test_survey_panel_accepts_json_records_and_panel_from_workspace():
    from types import SimpleNamespace

    from botrygt_eval.panel.build import panel_from_workspace

    records = [{"variable": "fear_burglary", "domain": "147", "estimate": 0.3, "se": 0.04,
                "ci_low": 0.22, "ci_high": 0.38, "n": 380, "deff": 1.1}]  # fmt: skip
    out = survey_panel(records, year=2025)
    assert out.loc[0, "kommune_kode"] == 147 and out.loc[0, "variance"] == pytest.approx(0.0016)
    ws = SimpleNamespace(burglaries_quarterly=burglaries(), households=HOUSEHOLDS,
                         population=pd.DataFrame(), partnerships=PARTNERSHIPS)  # fmt: skip
    a = panel_from_workspace(ws, timing="same_period")
    b = build_panel(burglaries(), HOUSEHOLDS, None, PARTNERSHIPS, timing="same_period")
    pd.testing.assert_frame_equal(a, b)
