"""The secretariat's registers: partnerships, the activity log, Nabohjælp members.

Files are comma-separated UTF-8 with ISO dates (docs/DATA_FORMATS.md); a file saved
by Danish Excel (``;`` separator, decimal comma, dates like ``01-03-2019``) is read
too, and the notes say so. ``kommune_kode`` may hold a code or a municipality name.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from botrygt_eval.io import schemas
from botrygt_eval.io._common import CsvTable
from botrygt_eval.io.quarantine import LoadResult

PARTNERSHIP_COLUMNS = [
    "kommune_kode",
    "signed_date",
    "end_date",
    "baseline_year",
    "burglary_target_pct",
    "nabohjaelp_target",
    "fear_target_pct",
]
ACTIVITY_COLUMNS = [
    "activity_id",
    "kommune_kode",
    "activity_type",
    "start_date",
    "end_date",
    "reach",
    "cost_dkk",
]
NABOHJAELP_COLUMNS = ["kommune_kode", "year", "members"]
_OPTIONAL = {"end_date", "fear_target_pct", "reach", "cost_dkk", "nabohjaelp_target"}
_OPTIONAL |= {"burglary_target_pct"}


def _overlapping(frame: pd.DataFrame) -> pd.Series:
    """Partnerships of one kommune whose periods overlap (open end = still running)."""
    ok = frame["kommune_kode"].notna() & frame["signed_date"].notna()
    sub = frame.loc[ok].sort_values(["kommune_kode", "signed_date"], kind="stable")
    end = sub["end_date"].fillna(pd.Timestamp.max)
    same_as_next = sub["kommune_kode"].eq(sub["kommune_kode"].shift(-1))
    overlaps_next = same_as_next & (sub["signed_date"].shift(-1) < end)
    running_max = end.groupby(sub["kommune_kode"]).cummax()
    prev_end = running_max.groupby(sub["kommune_kode"]).shift(1)
    overlaps_prev = prev_end.notna() & (sub["signed_date"] < prev_end)
    flagged = overlaps_next | overlaps_prev
    return flagged.reindex(frame.index, fill_value=False)


def load_partnerships(path: str | Path, quarantine_dir: str | Path | None = None) -> LoadResult:
    """The partnership register: one row per partnership (docs/DATA_FORMATS.md).

    ``.data``: ``kommune_kode, signed_date, end_date (NaT = open), baseline_year,
    burglary_target_pct, nabohjaelp_target, fear_target_pct``. Partnerships of one
    kommune whose periods overlap are all quarantined.
    """
    reg = CsvTable(path, "the partnership register", PARTNERSHIP_COLUMNS, _OPTIONAL)
    reg.kommune()
    reg.date("signed_date", required=True)
    reg.date("end_date", required=False)
    reg.number("baseline_year", whole=True, required=True)
    reg.number("burglary_target_pct", whole=False)
    reg.number("nabohjaelp_target", whole=True)
    reg.number("fear_target_pct", whole=False)
    overlap = _overlapping(reg.frame.loc[~reg.problems.mask])
    reg.problems.add(
        overlap,
        "overlaps another partnership of the same kommune "
        "(a kommune may have at most one open partnership at a time)",
    )
    return reg.result(schemas.PARTNERSHIPS, None, quarantine_dir)


def _activity_type(values: pd.Series) -> pd.Series:
    """Normalise spellings: ``Borgermøde`` -> ``borgermoede``, ``Bo trygt-korps`` -> ``bo_trygt_korps``."""
    text = values.astype(str).str.strip().str.casefold()
    for a, b in (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("-", "_"), (" ", "_")):
        text = text.str.replace(a, b, regex=False)
    return text


def load_activities(path: str | Path, quarantine_dir: str | Path | None = None) -> LoadResult:
    """The activity log. ``.data``: ``activity_id, kommune_kode, activity_type, start_date,
    end_date, reach, cost_dkk`` (``activity_type`` from :data:`schemas.ACTIVITY_TYPES`)."""
    reg = CsvTable(path, "the activity log", ACTIVITY_COLUMNS, _OPTIONAL)
    empty_id = reg.frame["activity_id"] == ""
    reg.problems.add(empty_id, "activity_id is empty")
    reg.kommune()
    reg.frame["activity_type"] = _activity_type(reg.frame["activity_type"])
    reg.date("start_date", required=True)
    reg.date("end_date", required=False)
    reg.number("reach", whole=True)
    reg.number("cost_dkk", whole=False)
    return reg.result(schemas.ACTIVITIES, ["activity_id"], quarantine_dir)


def load_nabohjaelp(path: str | Path, quarantine_dir: str | Path | None = None) -> LoadResult:
    """Nabohjælp members (households) per kommune and year end. ``.data``:
    ``kommune_kode, year, members``."""
    reg = CsvTable(path, "the Nabohjælp membership counts", NABOHJAELP_COLUMNS, _OPTIONAL)
    reg.kommune()
    reg.number("year", whole=True, required=True)
    reg.number("members", whole=True)
    return reg.result(schemas.NABOHJAELP, ["kommune_kode", "year"], quarantine_dir)
