"""The report charts: matplotlib figures from the report tables, labelled in ``lang``.

Each function takes a table of :mod:`botrygt_eval.reports.tables` (or the survey
estimates) and returns a Figure; saving and stamping is :class:`botrygt_eval.reports.output.
ReportOutput`'s job.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from botrygt_eval.plots.survey import plot_survey_trends as survey_trend_chart
from botrygt_eval.reports.tables import publishable
from botrygt_eval.text.catalogue import num, t


def plot_burglary_lines(frame: pd.DataFrame, group: str, title: str, highlight: str | None = None,
                        lang: str = "da"):  # fmt: skip
    """Burglaries per 1,000 households by year, one line per ``group`` value."""
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    for name, d in frame.groupby(group, sort=False):
        lw = 3 if name == highlight else 1.8
        ax.plot(d["year"], d["rate"], marker="o", lw=lw, label=name)
    ax.set_xlabel(t("fig.year", lang))
    ax.set_ylabel(t("fig.burglary_rate", lang))
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    ax.set_ylim(bottom=0)
    return fig


def plot_survey_trends(estimates: pd.DataFrame, kommune_kode: int | None, title: str,
                       variables=("fear_burglary", "unsafe_home", "nabohjaelper"),
                       min_cell: int = 10, lang: str = "da"):  # fmt: skip
    """Weighted shares (%) by year with 95 % intervals for the nation (``None``) or one
    kommune; suppressed cells, missing years and comparability breaks are gaps
    (:func:`botrygt_eval.plots.survey.plot_survey_trends`)."""
    est = publishable(estimates, min_cell)
    sel = (
        est["kommune_kode"].isna() if kommune_kode is None else est["kommune_kode"].eq(kommune_kode)
    )
    return survey_trend_chart(est[sel], title=title, variables=variables, lang=lang)


def plot_district(district: pd.DataFrame, label: str, title: str, lang: str = "da"):
    """One outcome (%) per kommune of a police district with 95 % intervals."""
    d = district.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(d) + 1.5), layout="constrained")
    y = np.arange(len(d))
    nation = d["landet"] if "landet" in d else d["kommune_kode"].isna()
    colors = np.where(d["valgt"], "firebrick", np.where(nation, "black", "steelblue"))
    est, lo, hi = (100 * d[c].to_numpy(dtype=float) for c in ("estimate", "ci_low", "ci_high"))
    ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="none", ecolor="grey", capsize=2)
    ax.scatter(est, y, c=colors, zorder=3)
    hidden = t("common.suppressed_short", lang)
    names = [f"{e} (n={int(n)})" if not s else f"{e} ({hidden})"
             for e, n, s in zip(d["enhed"], d["n"].fillna(0), d["suppressed"], strict=True)]  # fmt: skip
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel(t("fig.district_x", lang, label=label))
    ax.set_title(title)
    return fig


def plot_activity_bars(totals: pd.DataFrame, title: str, lang: str = "da"):
    """Number of activities and reach by type (horizontal bars, sorted), each bar labelled
    with its value; reach on a log scale when the types differ a hundredfold, so that
    every bar is visible."""
    d = totals.sort_values("antal")
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 0.38 * len(d) + 1.8), sharey=True,
                             layout="constrained")  # fmt: skip
    axes[0].barh(d["aktivitet"], d["antal"], color="steelblue")
    axes[0].set_xlabel(t("fig.n_activities", lang))
    reach = d["reach"].astype(float)
    axes[1].barh(d["aktivitet"], reach.fillna(0), color="seagreen")
    axes[1].set_xlabel(t("fig.reach", lang))
    known = reach[reach > 0]
    if len(known) and known.max() / known.min() > 100:
        axes[1].set_xscale("log")
        axes[1].set_xlabel(t("fig.reach_log", lang))
    for ax, values in ((axes[0], d["antal"].astype(float)), (axes[1], reach)):
        for y, v in enumerate(values):
            text = num(v, lang, 0) if pd.notna(v) else t("common.unknown", lang)
            bar = pd.notna(v) and v > 0  # no bar: label at the axis (also on a log scale)
            ax.annotate(text, (v if bar else 0, y), xytext=(3, 0), textcoords="offset points",
                        xycoords="data" if bar else ("axes fraction", "data"), va="center",
                        fontsize=7.5)  # fmt: skip
        ax.margins(x=0.15)
    fig.suptitle(title)
    return fig


def plot_synth_years(years: pd.DataFrame, name: str, title: str, lang: str = "da"):
    """The kommune (solid) and its synthetic comparison (dashed) by year, the start marked."""
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    ax.plot(years["year"], years["kommune"], marker="o", color="C3", label=name)
    ax.plot(years["year"], years["sammenligning"], marker="o", ls="--", color="C0",
            label=t("fig.synth_synthetic", lang))  # fmt: skip
    if years["post"].any():
        start = years.loc[years["post"].eq(1), "year"].min()
        ax.axvline(start - 0.5, color="0.5", ls=":", lw=1)
        ax.annotate(t("fig.synth_start", lang), (start - 0.5, 1), xycoords=("data", "axes fraction"),
                    xytext=(3, -12), textcoords="offset points", fontsize=8, color="0.35")  # fmt: skip
    ax.set_xticks(years["year"], [str(y) for y in years["year"]], rotation=45)
    ax.set_xlabel(t("fig.year", lang))
    ax.set_ylabel(t("fig.burglary_rate_year", lang))
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return fig
