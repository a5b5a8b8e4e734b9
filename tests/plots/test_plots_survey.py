"""The survey trend chart never draws a line across a missing year or a comparability break."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from botrygt_eval.instrument.comparability import SeriesBreak  # noqa: E402
from botrygt_eval.plots.survey import plot_survey_trends, segments  # noqa: E402

BREAK = (SeriesBreak("fear_burglary", 2025, ("worry_burglary",)),)


def frame(skip=(2022,), hidden=()):
    rows = []
    for v, base in [("fear_burglary", 0.3), ("nabohjaelper", 0.2)]:
        for y in range(2017, 2027):
            if y in skip:
                continue
            e = np.nan if (v, y) in hidden else base + 0.01 * (y - 2017)
            rows.append(dict(year=y, variable=v, estimate=e, ci_low=e - 0.02, ci_high=e + 0.02))
    return pd.DataFrame(rows)


def test_segments_split_at_gaps_and_breaks():
    years = np.array([2017, 2018, 2020, 2021, 2024, 2025, 2026])
    assert list(segments(years, "fear_burglary", BREAK)) == [0, 0, 1, 1, 2, 3, 3]
    assert list(segments(years, "nabohjaelper", BREAK)) == [0, 0, 1, 1, 2, 2, 2]


def lines(fig):
    """(label colour, x data) of every line drawn."""
    return [(ln.get_color(), list(ln.get_xdata())) for ln in fig.axes[0].get_lines()
            if ln.get_linestyle() != ":"]  # fmt: skip


def test_no_line_bridges_a_gap_or_a_break():
    fig = plot_survey_trends(frame(hidden={("nabohjaelper", 2019)}), title="x", breaks=BREAK,
                             variables=("fear_burglary", "nabohjaelper"))  # fmt: skip
    for _, xs in lines(fig):
        assert 2022 not in xs and all(b - a == 1 for a, b in zip(xs, xs[1:], strict=False))
        assert not (2024 in xs and 2025 in xs and _ == "C0")
    fear = [xs for c, xs in lines(fig) if c == "C0"]
    assert fear == [[2017, 2018, 2019, 2020, 2021], [2023, 2024], [2025, 2026]]
    green = [xs for c, xs in lines(fig) if c == "C1"]
    assert green == [[2017, 2018], [2020, 2021], [2023, 2024, 2025, 2026]]
    notes = fig.botrygt_notes
    assert notes[0] == "Ingen måling i 2022 (ingen linje hen over)"
    assert any("for få svar" in n and "2019" in n for n in notes)
    assert any("ændret fra 2025" in n for n in notes)
    rules = [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() == ":"]
    assert len(rules) == 1 and rules[0].get_xdata()[0] == pytest.approx(2024.5)
    plt.close(fig)


def test_without_gaps_one_line_per_variable_and_no_notes():
    fig = plot_survey_trends(frame(skip=()), title="x", breaks=(),
                             variables=("fear_burglary", "nabohjaelper"), lang="en")  # fmt: skip
    assert [xs for _, xs in lines(fig)] == [list(range(2017, 2027))] * 2
    assert fig.botrygt_notes == []
    assert fig.axes[0].get_xlabel() == "Year"
    plt.close(fig)
