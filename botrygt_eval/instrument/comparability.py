"""Where an outcome's series breaks: the item bank's own comparability record.

Between two consecutive versions of the questionnaire, a change that breaks
comparability (:func:`botrygt_eval.instrument.diff.diff_instruments`: a reworded or
recoded item feeding a trend/DiD outcome) starts a new series of that outcome in the
newer year. Years before the first version in the bank belong to the first series.
Trend charts draw no line across a break; effects and targets use one series only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.instrument.bank import available_years
from botrygt_eval.instrument.diff import diff_instruments


@dataclass(frozen=True)
class SeriesBreak:
    """``outcome`` is not comparable across ``year - 1`` / ``year``; ``items`` say why."""

    outcome: str
    year: int
    items: tuple[str, ...]


def series_breaks(root: str | Path | None = None) -> tuple[SeriesBreak, ...]:
    """Every break recorded between consecutive versions of the item bank, by year."""
    years = available_years(root)
    out: list[SeriesBreak] = []
    for old, new in zip(years, years[1:], strict=False):
        by_outcome: dict[str, set[str]] = {}
        for change in diff_instruments(old, new, root).breaking:
            for outcome in change.outcomes:
                by_outcome.setdefault(outcome, set()).add(change.item)
        out += [SeriesBreak(o, new, tuple(sorted(i))) for o, i in sorted(by_outcome.items())]
    return tuple(out)


def series_id(outcome: str, years: Iterable[int], breaks: Iterable[SeriesBreak]) -> list[int]:
    """The series each year of ``outcome`` belongs to: 0 before its first break, 1 after it..."""
    starts = sorted(b.year for b in breaks if b.outcome == outcome)
    return [sum(y >= s for s in starts) for y in years]


def comparable_years(
    outcome: str, years: Iterable[int], breaks: Iterable[SeriesBreak], anchor: int
) -> list[int]:
    """The ``years`` whose ``outcome`` is comparable with year ``anchor`` (same series)."""
    years = list(years)
    breaks = tuple(breaks)
    ids = series_id(outcome, [*years, anchor], breaks)
    return [y for y, s in zip(years, ids[:-1], strict=True) if s == ids[-1]]


def first_series(frame: pd.DataFrame, outcomes, breaks: Iterable[SeriesBreak]):
    """The rows of ``frame`` (``variable, year``) that lie in each of ``outcomes``' first
    series, other variables untouched; and per outcome the years left out.

    Effects and targets on an outcome use one series only: the one its data start in.
    """
    breaks = tuple(breaks)
    keep = np.ones(len(frame), bool)
    excluded: dict[str, list[int]] = {}
    for var in outcomes:
        rows = (frame["variable"] == var).to_numpy()
        years = sorted(frame.loc[rows, "year"].unique())
        same = comparable_years(var, years, breaks, anchor=years[0]) if years else []
        keep &= ~rows | frame["year"].isin(same).to_numpy()
        excluded[var] = [int(y) for y in years if y not in same]
    return frame.loc[keep], excluded
