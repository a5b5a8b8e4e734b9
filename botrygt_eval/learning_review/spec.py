"""The learning review's charts: which item and answer codes each published number counts.

Read from ``figures.yaml`` next to the project-leader item bank
(``survey_instruments/projektlederundersoegelse/<year>/``) and joined with the published
percentages (``reference/published_figures.csv``). Loading checks that every published
row is mapped exactly once, to an item of the questionnaire and to its answer codes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from botrygt_eval.errors import InstrumentError
from botrygt_eval.instrument.bank import Instrument, load_instrument

YEAR = 2025
BASES = ("shared", "item")


def default_root() -> Path:
    """The project-leader item bank: ``$BOTRYGT_PL_INSTRUMENTS`` or the repository's folder."""
    env = os.environ.get("BOTRYGT_PL_INSTRUMENTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "survey_instruments" / "projektlederundersoegelse"


def reference_path(name: str) -> Path:
    """A file of the packaged reference (``published_figures.csv``, ``time_series.csv``)."""
    return Path(str(resources.files("botrygt_eval.learning_review") / "reference" / name))


def load_instrument_pl(year: int = YEAR, root: str | Path | None = None) -> Instrument:
    """The project-leader questionnaire (same item-bank format as the citizen survey)."""
    return load_instrument(year, root if root is not None else default_root())


def load_published(path: str | Path | None = None) -> pd.DataFrame:
    """``published_figures.csv``: figure, item, category, published_pct, seed_line."""
    path = Path(path) if path is not None else reference_path("published_figures.csv")
    frame = pd.read_csv(path, encoding="utf-8")
    need = {"figure", "item", "category", "published_pct"}
    if need - set(frame.columns):
        raise InstrumentError(
            f"{path}: columns {sorted(need - set(frame.columns))} missing; "
            "expected figure,item,category,published_pct[,seed_line]"
        )
    return frame


@dataclass(frozen=True)
class FigureSpec:
    """One chart: titles, the question as printed, and how its base is formed."""

    figure: str
    title: dict[str, str]
    question: dict[str, str]
    base: str  # "shared": one base for all options; "item": one base per column
    max_choices: int | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ReviewSpec:
    """All charts and the published rows mapped to items and codes (``rows``, tidy)."""

    figures: tuple[FigureSpec, ...]
    rows: pd.DataFrame  # figure,item,category,published_pct,column,codes,combine,base_group
    instrument: Instrument

    def figure(self, name: str) -> FigureSpec:
        for fig in self.figures:
            if fig.figure == name:
                return fig
        raise InstrumentError(
            f"no figure {name!r}; figures are {', '.join(f.figure for f in self.figures)}"
        )


def load_spec(
    year: int = YEAR,
    *,
    root: str | Path | None = None,
    published: str | Path | pd.DataFrame | bool | None = None,
) -> ReviewSpec:
    """Charts of the review joined with the published percentages, validated.

    ``published=False`` for a new round of the survey, with nothing to compare against:
    the rows then come from ``figures.yaml`` alone and ``published_pct`` is missing.
    """
    inst = load_instrument_pl(year, root)
    path = inst.path / "figures.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstrumentError(
            f"{path} is missing; it maps every published figure to items and codes"
        ) from None
    if published is False:
        pub = None
    elif isinstance(published, pd.DataFrame):
        pub = published
    else:
        pub = load_published(None if published is True else published)
    figures, rows = [], []
    for fig in raw.get("figures") or ():
        name = fig.get("figure")
        where = f"{path.name}: figure {name!r}"
        base = fig.get("base", "item")
        if base not in BASES:
            raise InstrumentError(f"{where}: base {base!r}; use one of {', '.join(BASES)}")
        for lang in ("da", "en"):
            if not (fig.get("title") or {}).get(lang) or not (fig.get("question") or {}).get(lang):
                raise InstrumentError(f"{where}: title and question need both da and en")
        cols = []
        for row in fig.get("rows") or ():
            col = row.get("column")
            item = inst.item(col)  # raises naming the known items
            codes = tuple(int(c) for c in row.get("codes") or ())
            bad = set(codes) - set(item.substantive_codes)
            if not codes or bad:
                raise InstrumentError(
                    f"{where}: codes {list(codes)} for {col!r} must be answer codes of the item "
                    f"({', '.join(map(str, item.substantive_codes))})"
                )
            combine = row.get("combine", "count")
            if combine not in ("count", "sum_rounded"):
                raise InstrumentError(f"{where}: combine {combine!r}; use count or sum_rounded")
            if col not in cols:
                cols.append(col)
            rows.append(
                {
                    "figure": name,
                    "item": row.get("item"),
                    "category": row.get("category"),
                    "column": col,
                    "codes": codes,
                    "combine": combine,
                    "base_group": name if base == "shared" else col,
                }
            )
        figures.append(
            FigureSpec(
                name,
                dict(fig["title"]),
                dict(fig["question"]),
                base,
                fig.get("max_choices"),
                tuple(cols),
            )
        )
    mapped = pd.DataFrame(rows)
    key = ["figure", "item", "category"]
    dup = mapped.duplicated(key, keep=False)
    if dup.any():
        raise InstrumentError(
            f"{path.name}: rows listed twice: {mapped.loc[dup, key].drop_duplicates().values.tolist()}"
        )
    if pub is None:
        rows_only = mapped.assign(published_pct=pd.array([pd.NA] * len(mapped), dtype="Int64"))
        return ReviewSpec(tuple(figures), rows_only, inst)
    twice = pub.duplicated(key, keep=False)
    if twice.any():
        raise InstrumentError(
            f"the published figures list {pub.loc[twice, key].drop_duplicates().values.tolist()} "
            "more than once; keep one row per figure, item and category"
        )
    joined = pub.merge(mapped, on=key, how="left", indicator=True)
    unmapped = joined[joined["_merge"] == "left_only"]
    if len(unmapped):
        raise InstrumentError(
            f"{path.name} does not map the published row(s) "
            + "; ".join(f"{r.figure} / {r.item} / {r.category}" for r in unmapped.itertuples())
            + ": add them with the column and codes they count"
        )
    extra = mapped.merge(pub[key], on=key, how="left", indicator=True)
    extra = extra[extra["_merge"] == "left_only"]
    if len(extra):
        raise InstrumentError(
            f"{path.name} maps row(s) that are not published: "
            + "; ".join(f"{r.figure} / {r.item} / {r.category}" for r in extra.itertuples())
        )
    # the published order (figure by figure, as printed); charts sort by share themselves
    joined = joined.drop(columns="_merge").reset_index(drop=True)
    joined["published_pct"] = joined["published_pct"].astype("Int64")
    return ReviewSpec(tuple(figures), joined, inst)
