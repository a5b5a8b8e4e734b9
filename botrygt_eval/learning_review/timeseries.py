"""The review's time series: media mentions, constructive share, worry about burglary.

These are published numbers (``reference/time_series.csv``), not survey data: media
mentions of Bo trygt, the share of burglary articles that are constructive, and the
share of Danes worried about burglary (TrygFonden's Tryghedsmåling).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from botrygt_eval.errors import InputFileError  # noqa: E402
from botrygt_eval.learning_review.charts import BAR, MUTED, TEXT, save, simulated_footer  # noqa: E402
from botrygt_eval.learning_review.spec import reference_path  # noqa: E402

SERIES = {
    "medieomtaler": {
        "da": "Medieomtaler af Bo trygt",
        "en": "Media mentions of Bo trygt",
        "unit": {"da": "antal", "en": "number"},
        "pct": False,
    },
    "konstruktive_indbrudsartikler": {
        "da": "Konstruktive artikler om indbrud",
        "en": "Constructive articles on burglary",
        "unit": {"da": "pct. af dækningen", "en": "% of coverage"},
        "pct": True,
    },
    "utryghed_for_indbrud": {
        "da": "Danskere utrygge for indbrud",
        "en": "Danes worried about burglary",
        "unit": {"da": "pct. af danskerne", "en": "% of Danes"},
        "pct": True,
    },
}
SOURCES = {
    "da": "Kilder: Bo trygts medieanalyser (KPI-måling 2024) og TrygFondens Tryghedsmåling 2025, som gengivet i læringsopsamlingen.",
    "en": "Sources: Bo trygt media analyses (KPI survey 2024) and TrygFonden's Tryghedsmåling 2025, as quoted in the learning review.",
}


def load_time_series(path: str | Path | None = None) -> pd.DataFrame:
    """``series, year, value, unit[, seed_line]``; ``year`` may be a range (``2018-2024``)."""
    path = Path(path) if path is not None else reference_path("time_series.csv")
    frame = pd.read_csv(path, dtype={"year": str}, encoding="utf-8")
    need = {"series", "year", "value"}
    if need - set(frame.columns):
        raise InputFileError(
            f"{path}: needs columns series, year, value (found {list(frame.columns)})"
        )
    return frame


def _number(value: float, lang: str, pct: bool) -> str:
    """Danish style: 1.472 and 4,6 (English: 1,472 and 4.6)."""
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if lang == "da":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text + (" %" if pct else "")


def time_series_chart(
    frame: pd.DataFrame | None = None, *, lang: str = "da", simulated: bool = False
):
    """Three panels, one per series, a bar per published year with its value printed."""
    frame = load_time_series() if frame is None else frame
    fig, axes = plt.subplots(1, len(SERIES), figsize=(10.5, 4.2))
    for ax, (name, meta) in zip(axes, SERIES.items(), strict=True):
        sub = frame[(frame["series"] == name) & frame["year"].str.fullmatch(r"\d{4}")]
        sub = sub.sort_values("year")
        x = range(len(sub))
        ax.bar(x, sub["value"], color=BAR, width=0.6)
        top = float(sub["value"].max()) if len(sub) else 1.0
        for xi, v in zip(x, sub["value"], strict=True):
            ax.text(
                xi,
                v + top * 0.02,
                _number(v, lang, meta["pct"]),
                ha="center",
                va="bottom",
                fontsize=11,
                fontweight="bold",
                color=TEXT,
            )
        ax.set_xticks(list(x), sub["year"].tolist(), fontsize=10)
        ax.set_ylim(0, top * 1.18)
        ax.set_yticks([])
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="x", length=0)
        ax.set_title(f"{meta[lang]}\n({meta['unit'][lang]})", fontsize=10.5, color=TEXT, loc="left")
        total = frame[(frame["series"] == f"{name}_i_alt")]
        if len(total):
            t = total.iloc[0]
            word = "I alt" if lang == "da" else "Total"
            ax.text(
                0.5,
                -0.16,
                f"{word} {str(t['year']).replace('-', '–')}: {_number(t['value'], lang, False)}",
                transform=ax.transAxes,
                ha="center",
                fontsize=9,
                color=MUTED,
            )
    title = "Udvikling over tid" if lang == "da" else "Change over time"
    fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold", color=TEXT)
    fig.text(0.01, 0.015, SOURCES[lang], fontsize=8, color=MUTED, ha="left", va="bottom")
    if simulated:
        simulated_footer(fig, lang, y=0.015)
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    return fig


def write_time_series(
    out_dir: str | Path, frame: pd.DataFrame | None = None, *, lang: str = "da"
) -> list[Path]:
    """``tidsserier.png`` and ``tidsserier.svg``."""
    return save(time_series_chart(frame, lang=lang), out_dir, "tidsserier")
