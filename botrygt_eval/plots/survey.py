"""The survey trend chart: weighted shares by year with intervals, honest about gaps.

A line never bridges what the data do not support: a missing survey year leaves a gap,
and a break in an item's comparability (the item bank's record,
:mod:`botrygt_eval.instrument.comparability`) ends one series and starts another, drawn
with open markers, a dotted rule at the break and a note under the chart.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from botrygt_eval.instrument.comparability import SeriesBreak, series_breaks, series_id
from botrygt_eval.text.catalogue import label, t


def segments(years: np.ndarray, outcome: str, breaks) -> np.ndarray:
    """A segment number per (sorted) year: a new one after a missing year or a break."""
    years = np.asarray(years, dtype=int)
    if len(years) == 0:
        return years
    gap = np.r_[False, np.diff(years) > 1]
    brk = np.r_[False, np.diff(series_id(outcome, years, breaks)) != 0]
    return np.cumsum(gap | brk)


def _gap_notes(gaps: dict[str, tuple[list, list]], lang: str) -> list[str]:
    """One note per kind of gap: years without a survey (once, when every series lacks
    them) and years whose estimate is suppressed for too few respondents."""
    notes = []
    missing = {tuple(m) for m, _ in gaps.values()}
    if len(missing) == 1 and next(iter(missing)):
        notes.append(t("fig.trend_missing_all", lang, years=", ".join(map(str, missing.pop()))))
    else:
        for var, (m, _) in gaps.items():
            if m:
                notes.append(t("fig.trend_missing", lang, label=label("outcome", var, lang),
                               years=", ".join(map(str, m))))  # fmt: skip
    for var, (_, hidden) in gaps.items():
        if hidden:
            notes.append(t("fig.trend_suppressed", lang, label=label("outcome", var, lang),
                           years=", ".join(map(str, hidden))))  # fmt: skip
    return notes


def plot_survey_trends(
    estimates: pd.DataFrame,
    *,
    title: str,
    variables=("fear_burglary", "unsafe_home", "nabohjaelper"),
    breaks: tuple[SeriesBreak, ...] | None = None,
    lang: str = "da",
):
    """Shares (%) of ``variables`` by year with 95 % intervals, one row per year and variable
    (``year, variable, estimate, ci_low, ci_high``; suppressed cells blank). Returns the Figure
    and lists the years with no estimate and the breaks it drew in ``fig.botrygt_notes``."""
    breaks = series_breaks() if breaks is None else breaks
    fig, ax = plt.subplots(figsize=(8, 4.6), layout="constrained")
    notes: list[str] = []
    observed = estimates["year"].dropna().astype(int)
    all_years = np.arange(observed.min(), observed.max() + 1) if len(observed) else np.array([])
    gaps: dict[str, tuple[list, list]] = {}
    for i, var in enumerate(variables):
        colour = f"C{i}"
        rows = estimates[estimates["variable"].eq(var)]
        d = rows.dropna(subset=["estimate"]).sort_values("year")
        years = d["year"].to_numpy(int)
        seg = segments(years, var, breaks)
        sid = series_id(var, years, breaks)
        for s in np.unique(seg):
            m = seg == s
            new_series = sid[np.argmax(m)] > 0
            ax.plot(years[m], 100 * d["estimate"].to_numpy()[m], marker="o", color=colour,
                    markerfacecolor="white" if new_series else colour,
                    label=label("outcome", var, lang) if s == seg.min() else None)  # fmt: skip
            ax.fill_between(years[m], 100 * d["ci_low"].to_numpy()[m],
                            100 * d["ci_high"].to_numpy()[m], color=colour, alpha=0.2)  # fmt: skip
        if len(years):
            hidden = sorted(set(rows["year"].astype(int)) - set(years))
            gaps[var] = (sorted(set(all_years) - set(rows["year"].astype(int))), hidden)
    notes += _gap_notes(gaps, lang)
    for b in breaks:
        if b.outcome in variables and len(all_years) and all_years[0] < b.year <= all_years[-1]:
            ax.axvline(b.year - 0.5, color="grey", ls=":", lw=1)
            notes.append(t("fig.trend_break", lang, label=label("outcome", b.outcome, lang),
                           year=b.year))  # fmt: skip
    if len(all_years):
        ax.set_xticks(all_years, [str(y) for y in all_years])
    ax.set_xlabel(t("fig.year", lang))
    ax.set_ylabel(t("fig.share_ci", lang))
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    if notes:
        fig.text(0.01, 0.0, "\n".join(notes), fontsize=7.5, ha="left", va="bottom", wrap=True)
        fig.get_layout_engine().set(rect=(0, 0.04 * len(notes), 1, 1 - 0.04 * len(notes)))
    fig.botrygt_notes = notes
    return fig
