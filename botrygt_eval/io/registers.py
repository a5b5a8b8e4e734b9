"""The secretariat's registers: partnerships, the activity log, Nabohjælp members.

Files are comma-separated UTF-8 with ISO dates (docs/DATA_FORMATS.md); a file saved
by Danish Excel (``;`` separator, decimal comma, dates like ``01-03-2019``) is read
too, and the notes say so. ``kommune_kode`` may hold a code or a municipality name.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from botrygt_eval import schemas
from botrygt_eval.errors import InputFileError
from botrygt_eval.io._common import (
    RowProblems,
    count_phrase,
    dup_reason,
    duplicated_keys,
    existing_file,
    finish,
    map_kommuner,
    parse_dates,
    parse_numbers,
    read_delimited,
    read_text,
    sniff_separator,
    whole_numbers,
)
from botrygt_eval.io.quarantine import REASON, SOURCE_ROW, LoadResult

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


class _Register:
    """Read a register file as strings, check its columns, collect row problems."""

    def __init__(self, path: str | Path, what: str, columns: list[str]) -> None:
        self.path = existing_file(path, what)
        text, encoding = read_text(self.path, what)
        sep = sniff_separator(text, ",")
        self.decimal_comma = sep == ";"
        frame, blank = read_delimited(text, sep, self.path, what)
        frame.columns = [c if c == SOURCE_ROW else c.strip().lower() for c in frame.columns]
        self.notes = [f"encoding: {encoding}"]
        if sep != ",":
            self.notes.append(f"separator {sep!r} (Danish Excel export): decimal comma assumed")
        if blank:
            self.notes.append(f"ignored {count_phrase(blank, 'blank line')}")
        required = [c for c in columns if c not in _OPTIONAL]
        missing = [c for c in required if c not in frame.columns]
        if missing:
            found = ", ".join(c for c in frame.columns if c != SOURCE_ROW)
            raise InputFileError(
                f"{self.path}: required column(s) {', '.join(missing)} missing in {what} "
                f"(found: {found}); the file needs the columns {', '.join(columns)} "
                "(see docs/DATA_FORMATS.md); rename or add them"
            )
        extra = [c for c in frame.columns if c not in columns and c != SOURCE_ROW]
        if extra:
            self.notes.append(f"ignored extra column(s): {', '.join(extra)}")
        for col in columns:
            if col not in frame.columns:
                frame[col] = ""
        self.raw_frame = frame
        self.frame = frame[[*columns, SOURCE_ROW]].copy()
        self.problems = RowProblems(self.frame.index)
        self.columns = columns

    def text(self, col: str, mask: pd.Series) -> pd.Series:
        return f"{col} " + self.frame.loc[mask, col].map(repr)

    def kommune(self) -> None:
        codes, reasons = map_kommuner(self.frame["kommune_kode"])
        self.problems.add(reasons.notna(), "kommune_kode: " + reasons.dropna())
        self.frame["kommune_kode"] = codes

    def date(self, col: str, required: bool) -> None:
        dates, bad = parse_dates(self.frame[col])
        self.problems.add(bad, self.text(col, bad) + " is not a date (use YYYY-MM-DD)")
        if required:
            self.problems.add(dates.isna() & ~bad, f"{col} is empty")
        self.frame[col] = dates

    def number(self, col: str, whole: bool, required: bool = False) -> None:
        numbers, missing, bad = parse_numbers(self.frame[col], self.decimal_comma)
        self.problems.add(bad, self.text(col, bad) + " is not a number")
        if required:
            self.problems.add(missing, f"{col} is empty")
        if whole:
            numbers, frac = whole_numbers(numbers)
            self.problems.add(frac, self.text(col, frac) + " is not a whole number")
        self.frame[col] = numbers

    def result(self, schema, keys: list[str] | None, quarantine_dir) -> LoadResult:
        good, bad = self.problems.split(self.frame)
        prior = [bad]
        if keys:
            dup = duplicated_keys(good, keys)
            prior.append(good.loc[dup].assign(**{REASON: dup_reason(keys)}))
            good = good.loc[~dup]
        return finish(
            good,
            schema,
            source=self.path,
            columns=self.columns,
            quarantine_dir=quarantine_dir,
            prior=prior,
            notes=self.notes,
            raw=self.raw_for,
        )

    def raw_for(self, rows: pd.Series) -> pd.Series:
        sub = self.raw_frame.loc[self.raw_frame[SOURCE_ROW].isin(rows)]
        cols = [c for c in sub.columns if c != SOURCE_ROW]
        joined = sub[cols[0]].astype(str)
        for col in cols[1:]:
            joined = joined + "," + sub[col].astype(str)
        return pd.Series(joined.to_numpy(), index=sub[SOURCE_ROW].to_numpy())


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
    reg = _Register(path, "the partnership register", PARTNERSHIP_COLUMNS)
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
    reg = _Register(path, "the activity log", ACTIVITY_COLUMNS)
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
    reg = _Register(path, "the Nabohjælp membership counts", NABOHJAELP_COLUMNS)
    reg.kommune()
    reg.number("year", whole=True, required=True)
    reg.number("members", whole=True)
    return reg.result(schemas.NABOHJAELP, ["kommune_kode", "year"], quarantine_dir)
