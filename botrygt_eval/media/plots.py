"""The media series as a chart for the national and kommune reports (Danish labels by default)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from botrygt_eval.errors import ConfigError
from botrygt_eval.reference import kommune_name

_WORDS = {
    "da": {
        "title": "Konstruktiv mediedækning af indbrud",
        "share": "Konstruktive indbrudsartikler (%)",
        "count": "Indbrudsartikler (antal)",
        "year": "År",
        "national": "Hele landet",
        "suppressed": "Andel ikke vist for år med færre end {n} indbrudsartikler",
        "bars": "Indbrudsartikler (højre akse)",
        "ci": "95 %-interval",
    },
    "en": {
        "title": "Constructive media coverage of burglary",
        "share": "Constructive burglary articles (%)",
        "count": "Burglary articles (number)",
        "year": "Year",
        "national": "Denmark",
        "suppressed": "Share not shown for years with fewer than {n} burglary articles",
        "bars": "Burglary articles (right axis)",
        "ci": "95% interval",
    },
}


def _label(scope: str, code, lang: str) -> str:
    if scope == "national":
        return _WORDS[lang]["national"]
    try:
        return kommune_name(int(code))
    except Exception:  # an unknown code still gets a label
        return str(code)


def media_series_figure(series: pd.DataFrame, lang: str = "da"):
    """Share of constructive burglary articles per year (line, interval band) for each scope
    in ``series`` (output of :func:`botrygt_eval.media.series.media_series`), with the number
    of burglary articles of the first scope as bars on the right axis."""
    from matplotlib.figure import Figure

    if lang not in _WORDS:
        raise ConfigError(f"lang must be one of {', '.join(map(repr, _WORDS))} (got {lang!r})")
    w = _WORDS[lang]
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    bars = ax.twinx()
    ax.set_zorder(bars.get_zorder() + 1)
    ax.patch.set_visible(False)
    groups = list(series.groupby(["scope", "kommune_kode"], dropna=False, sort=False))
    any_suppressed = bool(series["suppressed"].any()) if len(series) else False
    for i, ((scope, code), g) in enumerate(groups):
        g = g.sort_values("year")
        x = g["year"].to_numpy()
        y = 100 * g["share"].to_numpy(dtype=float)
        lo = 100 * g["ci_low"].to_numpy(dtype=float)
        hi = 100 * g["ci_high"].to_numpy(dtype=float)
        color = f"C{i}"
        ax.plot(x, y, marker="o", color=color, label=_label(scope, code, lang))
        ax.fill_between(x, lo, hi, color=color, alpha=0.15, linewidth=0)
        if i == 0:
            bars.bar(x, g["n_burglary"].to_numpy(), color="0.85", width=0.6, label=w["bars"])
    ax.set_ylim(0, 100)
    ax.set_ylabel(w["share"])
    ax.set_xlabel(w["year"])
    bars.set_ylabel(w["count"], color="0.4")
    years = np.unique(series["year"].to_numpy()) if len(series) else np.array([])
    if len(years):
        ax.set_xticks(years)
        ax.set_xticklabels([str(int(v)) for v in years], rotation=0)
    ax.set_title(w["title"])
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = bars.get_legend_handles_labels()
    ax.legend(handles + h2, labels + l2, loc="upper left", frameon=False, fontsize="small")
    notes = [w["ci"]]
    if any_suppressed:
        notes.append(w["suppressed"].format(n=int(series.attrs.get("min_n", 10))))
    fig.supxlabel("; ".join(notes), fontsize="x-small", color="0.35", x=0.01, ha="left")
    return fig
