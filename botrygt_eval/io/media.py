"""Load an article export from a media-monitoring service, and a hand-coded sample.

CSV (comma or Danish Excel ``;``), UTF-8 with or without BOM or Windows-1252, one row per
article: ``date, outlet, kommune, headline, text`` (``kommune``: code or name, may be empty
for national outlets; ``kommune_kode`` is accepted as the column name too) and optionally
``article_id``. A hand-coded sample adds ``hand_burglary`` and ``hand_constructive``
(1/0, ja/nej, true/false). Bad rows go to ``<name>.quarantine.csv`` with a reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from botrygt_eval.io._common import CsvTable, map_kommuner, parse_dates
from botrygt_eval.io.quarantine import LoadResult
from botrygt_eval.io.schemas import KOMMUNE_CODES

ARTICLE_COLUMNS = ["article_id", "date", "outlet", "kommune_kode", "headline", "text"]
HAND_COLUMNS = ["hand_burglary", "hand_constructive"]
_OPTIONAL = {"article_id", "kommune_kode", "outlet", "text"}
_TRUE = {"1", "ja", "j", "true", "sand", "yes", "y", "x"}
_FALSE = {"0", "nej", "n", "false", "falsk", "no"}


def _schema(hand: bool) -> pa.DataFrameSchema:
    cols = {
        "article_id": pa.Column(str, nullable=False),
        "date": pa.Column("datetime64[ns]", nullable=False, coerce=True),
        "outlet": pa.Column(str, nullable=True),
        "kommune_kode": pa.Column(
            "Int64",
            pa.Check.isin(KOMMUNE_CODES, error="not one of the 98 municipality codes"),
            nullable=True,
            coerce=True,
        ),
        "headline": pa.Column(str, nullable=True),
        "text": pa.Column(str, nullable=True),
    }
    if hand:
        cols |= {c: pa.Column(bool, nullable=False, coerce=True) for c in HAND_COLUMNS}
    return pa.DataFrameSchema(cols, unique=["article_id"], name="articles")


def _yes_no(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = values.astype(str).str.strip().str.casefold()
    parsed = pd.Series(np.where(text.isin(_TRUE), True, False), index=values.index)
    return parsed, ~(text.isin(_TRUE) | text.isin(_FALSE))


def load_articles(
    path: str | Path, quarantine_dir: str | Path | None = None, *, hand_coded: bool = False
) -> LoadResult:
    """The articles as ``article_id, date, outlet, kommune_kode (Int64, NA = unknown),
    headline, text`` (plus ``hand_burglary, hand_constructive`` when ``hand_coded``)."""
    columns = ARTICLE_COLUMNS + (HAND_COLUMNS if hand_coded else [])
    what = "the hand-coded article sample" if hand_coded else "the article export"
    reg = CsvTable(path, what, columns, _OPTIONAL)
    raw = reg.raw_frame
    if "kommune" in raw.columns and (raw["kommune_kode"] == "").all():
        reg.frame["kommune_kode"] = raw["kommune"].to_numpy()
        reg.notes = [n for n in reg.notes if not n.startswith("ignored extra column")]
        extra = [c for c in raw.columns if c not in (*columns, "kommune", "source_row")]
        if extra:
            reg.notes.append(f"ignored extra column(s): {', '.join(extra)}")
    f = reg.frame
    if (f["article_id"] == "").all():
        f["article_id"] = "r" + f["source_row"].astype(str)
        reg.notes.append("no article_id column: ids are 'r' + the line number")
    reg.problems.add(f["article_id"] == "", "article_id is empty")
    given = f["kommune_kode"].astype(str).str.strip() != ""
    codes, reasons = map_kommuner(f["kommune_kode"].where(given, "0"))
    bad_kommune = given & reasons.notna()
    reg.problems.add(bad_kommune, "kommune: " + reasons.where(bad_kommune, "").astype(str))
    f["kommune_kode"] = codes.where(given & ~bad_kommune)
    stamp = f["date"].astype(str).str.replace(r"[T ]\d{1,2}[:.]\d{2}.*$", "", regex=True)
    dates, bad = parse_dates(stamp)
    reg.problems.add(bad, "date " + f["date"].astype(str) + " is not a date (use YYYY-MM-DD)")
    reg.problems.add(dates.isna() & ~bad, "date is empty")
    f["date"] = dates
    empty = (f["headline"].str.strip() == "") & (f["text"].str.strip() == "")
    reg.problems.add(empty, "no headline and no text: nothing to code")
    if hand_coded:
        for col in HAND_COLUMNS:
            value, unknown = _yes_no(f[col])
            reg.problems.add(
                unknown, f"{col} " + f[col].astype(str) + " is not 1/0 (or ja/nej, true/false)"
            )
            f[col] = value
    return reg.result(_schema(hand_coded), ["article_id"], quarantine_dir)
