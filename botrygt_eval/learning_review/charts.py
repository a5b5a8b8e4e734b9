"""Charts in the learning review's manner: horizontal bars sorted by share.

Danish labels, the percentage printed on each bar, the question and the base ``n``
in the caption, and a ``SIMULEREDE DATA`` footer when the data are simulated.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from botrygt_eval.learning_review.grim import round_pct  # noqa: E402

BAR = "#1f5f6b"  # dark teal, the review's single bar colour
BAR_LIGHT = "#cfe0e3"  # the rest of the 100 %
PUBLISHED = "#c0392b"  # marker of a published value that the data do not reproduce
TEXT = "#222222"
MUTED = "#666666"
FOOTER = {"da": "SIMULEREDE DATA", "en": "SIMULATED DATA"}
_WORDS = {
    "da": {
        "question": "Spg.",
        "share": "Andel, der har svaret",
        "quote": "»«",
        "n": "n",
        "published": "publiceret",
        "source": "Kilde: projektlederundersøgelsen",
        "sum_rounded": "Samlede kategorier er summen af de afrundede andele, som i læringsopsamlingen.",
    },
    "en": {
        "question": "Q.",
        "share": "Share answering",
        "quote": "“”",
        "n": "n",
        "published": "published",
        "source": "Source: project-leader survey",
        "sum_rounded": "Combined categories add the rounded shares, as in the learning review.",
    },
}

plt.rcParams["svg.hashsalt"] = "botrygt"  # reproducible SVG ids


def _pct_text(value: float, lang: str) -> str:
    return f"{int(value)} %"


def _bases_text(n: np.ndarray) -> str:
    lo, hi = int(np.min(n)), int(np.max(n))
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def _category(result, row, lang: str) -> str:
    """The published category (Danish) or its answer labels in English."""
    if lang == "da":
        return row.category
    labels = {c.code: c.label["en"] for c in result.spec.instrument.item(row.column).choices}
    parts = [labels[c] for c in row.codes]
    return " or ".join([parts[0], *(p[0].lower() + p[1:] for p in parts[1:])])


def figure_chart(result, figure: str, *, lang: str = "da"):
    """The chart of ``figure`` from a :class:`~botrygt_eval.learning_review.figures.ReviewFigures`."""
    words = _WORDS[lang]
    spec = result.spec.figure(figure)
    rows = result.table[result.table["figure"] == figure].copy()
    printed = np.where(
        rows["recomputed_pct"].notna(),
        np.where(
            rows["combine"].eq("sum_rounded") & (result.rule != "count"),
            rows["recomputed_pct"].fillna(0),
            round_pct(rows["k"], np.maximum(rows["n"], 1), result.rounding),
        ),
        np.nan,
    )
    rows["printed"] = printed
    rows["order"] = np.arange(len(rows))
    # largest on top; ties keep the review's order (first printed on top)
    rows = rows.sort_values(["printed", "order"], ascending=[True, False], kind="stable")
    one_item = rows["item"].nunique() == 1
    varying_n = rows["n"].nunique() > 1
    labels = []
    for r in rows.itertuples():
        text = _category(result, r, lang) if one_item else r.item
        if lang == "en" and not one_item:
            text = result.spec.instrument.item(r.column).text["en"].lstrip(". ")
        label = textwrap.fill(text, 42)
        if varying_n:
            label += f"\n({words['n']} = {r.n})"
        labels.append(label)
    height = 1.9 + 0.62 * len(rows) + 0.12 * sum(lab.count("\n") for lab in labels)
    fig, ax = plt.subplots(figsize=(8.6, height))
    y = np.arange(len(rows))
    values = rows["printed"].to_numpy(dtype=float)
    ax.barh(y, 100, color=BAR_LIGHT, height=0.62, zorder=1)
    ax.barh(y, np.nan_to_num(values), color=BAR, height=0.62, zorder=2)
    for yi, v, r in zip(y, values, rows.itertuples(), strict=True):
        if np.isnan(v):
            continue
        inside = v >= 12
        ax.text(
            v - 1.5 if inside else v + 1.5,
            yi,
            _pct_text(v, lang),
            va="center",
            ha="right" if inside else "left",
            color="white" if inside else TEXT,
            fontsize=10.5,
            fontweight="bold",
            zorder=3,
        )
        if pd.notna(r.matches) and not r.matches:
            ax.plot(
                [r.published_pct] * 2, [yi - 0.38, yi + 0.38], color=PUBLISHED, lw=2.2, zorder=4
            )
            ax.text(
                r.published_pct,
                yi + 0.42,
                f"{words['published']} {r.published_pct} %",
                color=PUBLISHED,
                fontsize=8,
                ha="center",
                va="bottom",
                zorder=4,
            )
    ax.set_yticks(y, labels, fontsize=9.5, color=TEXT)
    ax.set_xlim(0, 100)
    ax.set_xticks([])
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    fig.text(
        0.01,
        1 - 0.12 / height,
        spec.title[lang],
        ha="left",
        va="top",
        fontsize=13,
        fontweight="bold",
        color=TEXT,
    )
    top = 1 - 0.5 / height
    if not one_item and rows["codes"].nunique() == 1:  # which answers the bars count
        fig.text(
            0.01,
            1 - 0.5 / height,
            f"{words['share']}: {_category(result, next(rows.iloc[::-1].itertuples()), lang)}",
            ha="left",
            va="top",
            fontsize=9.5,
            color=MUTED,
        )
        top = 1 - 0.78 / height
    caption = textwrap.fill(
        f"{words['question']}: {words['quote'][0]}{spec.question[lang]}{words['quote'][1]}", 88
    )
    caption += f"\n{words['source']}, {words['n']} = {_bases_text(rows['n'])}."
    if rows["combine"].eq("sum_rounded").any() and result.rule != "count":
        caption += " " + words["sum_rounded"]
    fig.text(0.01, 0.012, caption, fontsize=8.3, color=MUTED, ha="left", va="bottom")
    if result.simulated:
        simulated_footer(fig, lang, y=0.012)
    caption_lines = caption.count("\n") + 1
    fig.tight_layout(rect=(0, (0.16 * caption_lines + 0.1) / height, 1, top))
    return fig


def simulated_footer(fig, lang: str, *, y: float) -> None:
    """Mark a figure drawn from simulated data, bottom right, so no reader takes it as real."""
    fig.text(
        0.99,
        y,
        FOOTER[lang],
        fontsize=8.5,
        color=PUBLISHED,
        ha="right",
        va="bottom",
        fontweight="bold",
    )


def save(fig, out_dir: str | Path, stem: str) -> list[Path]:
    """Write ``stem.png`` (150 dpi) and ``stem.svg``; reproducible bytes."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png, svg = out / f"{stem}.png", out / f"{stem}.svg"
    fig.savefig(png, dpi=150, metadata={"Software": None})
    with plt.rc_context({"svg.fonttype": "none"}):  # text stays text: editable, searchable
        fig.savefig(svg, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return [png, svg]


def write_charts(result, out_dir: str | Path, *, lang: str = "da") -> list[Path]:
    """One PNG and one SVG per figure of the review."""
    paths: list[Path] = []
    for spec in result.spec.figures:
        paths += save(figure_chart(result, spec.figure, lang=lang), out_dir, spec.figure)
    return paths
