"""Yearly constructive shares: known counts, Wilson intervals, suppression, the figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.errors import ConfigError, InputFileError
from botrygt_eval.media.plots import media_series_figure
from botrygt_eval.media.series import media_series, wilson_interval


def coded_frame(spec: list[tuple[int, int | None, int, int, int]]) -> pd.DataFrame:
    """Rows of (year, kommune, n burglary, n constructive, n other articles)."""
    rows = []
    for year, kommune, n_b, n_c, n_other in spec:
        for i in range(n_b + n_other):
            rows.append(
                {
                    "date": pd.Timestamp(year, 1 + i % 12, 1),
                    "kommune_kode": kommune,
                    "is_burglary": i < n_b,
                    "is_constructive": i < n_c,
                }
            )
    df = pd.DataFrame(rows)
    df["kommune_kode"] = df["kommune_kode"].astype("Int64")
    return df


def test_wilson_matches_textbook_values():
    # Agresti & Coull (1998) / Newcombe (1998) example: 81 of 263 -> 0.2553 to 0.3662
    lo, hi = wilson_interval(81, 263)
    assert lo == pytest.approx(0.2553, abs=5e-5)
    assert hi == pytest.approx(0.3662, abs=5e-5)
    lo, hi = wilson_interval(0, 10)  # zero successes: lower bound exactly 0
    assert lo == pytest.approx(0.0, abs=1e-15) and hi == pytest.approx(0.2775, abs=5e-5)
    assert np.isnan(wilson_interval(0, 0)[0])


def test_known_shares_national_and_per_kommune():
    coded = coded_frame(
        [
            (2017, 101, 20, 1, 5),  # 5 % in København
            (2017, None, 2, 0, 0),  # national outlet, no kommune
            (2024, 101, 12, 6, 0),  # 50 %
            (2024, 851, 4, 4, 1),  # n = 4: suppressed
        ]
    )
    s = media_series(coded)
    nat = s[s["scope"] == "national"].set_index("year")
    assert nat.loc[2017, "n_burglary"] == 22 and nat.loc[2017, "n_constructive"] == 1
    assert nat.loc[2017, "share"] == pytest.approx(1 / 22)
    assert nat.loc[2024, "share"] == pytest.approx(10 / 16)
    assert nat.loc[2017, "n_articles"] == 27 and nat.loc[2017, "n_bo_trygt"] == 0
    kom = s[s["scope"] == "kommune"].set_index(["kommune_kode", "year"])
    assert kom.loc[(101, 2024), "share"] == pytest.approx(0.5)
    row = kom.loc[(851, 2024)]
    assert row["suppressed"] and np.isnan(row["share"]) and np.isnan(row["ci_low"])
    assert row["n_burglary"] == 4  # counts stay
    assert s.attrs["min_n"] == 10


def test_constructive_requires_burglary_and_kommune_filter():
    coded = coded_frame([(2020, 101, 10, 3, 0), (2020, 147, 10, 5, 0)])
    coded.loc[coded.index[-1], ["is_burglary", "is_constructive"]] = [False, True]
    s = media_series(coded, kommune=147, min_n=5)
    kom = s[s["scope"] == "kommune"]
    assert kom["kommune_kode"].tolist() == [147]
    assert kom["n_burglary"].item() == 9 and kom["n_constructive"].item() == 5


def test_bad_input():
    with pytest.raises(InputFileError, match="code_articles"):
        media_series(pd.DataFrame({"date": []}))
    with pytest.raises(ConfigError):
        media_series(coded_frame([(2020, 101, 10, 3, 0)]), min_n=0)


def test_figure_has_danish_labels_and_one_line_per_scope():
    coded = coded_frame([(y, 101, 12, y - 2016, 0) for y in range(2017, 2025)])
    s = media_series(coded)
    fig = media_series_figure(s)
    ax = fig.axes[0]
    assert ax.get_title() == "Konstruktiv mediedækning af indbrud"
    assert ax.get_ylabel() == "Konstruktive indbrudsartikler (%)"
    assert [line.get_label() for line in ax.get_lines()] == ["Hele landet", "København"]
    y = ax.get_lines()[0].get_ydata()
    assert y[0] == pytest.approx(100 / 12) and y[-1] == pytest.approx(800 / 12)
    assert media_series_figure(s, lang="en").axes[0].get_title().startswith("Constructive")
    with pytest.raises(ConfigError):
        media_series_figure(s, lang="fr")


def test_pooled_periods_reach_the_minimum_from_the_latest_year_back():
    from botrygt_eval.media.series import pooled_periods, wilson_interval

    rows = pd.DataFrame({"year": [2019, 2020, 2021, 2022, 2023, 2024],
                         "n_burglary": [1, 2, 6, 5, 4, 8], "n_constructive": [0, 1, 2, 3, 1, 4]})  # fmt: skip
    p = pooled_periods(rows, min_n=10)
    assert p[["first_year", "last_year", "n_burglary"]].values.tolist() == [
        [2023, 2024, 12],
        [2019, 2022, 14],
    ]  # 2019-2020 (3) join the oldest full period
    lo, hi = wilson_interval([5, 6], [12, 14])
    assert p["ci_low"].tolist() == pytest.approx(lo) and p["ci_high"].tolist() == pytest.approx(hi)
    assert pooled_periods(rows.assign(n_burglary=1), min_n=10).empty
