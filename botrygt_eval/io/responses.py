"""Survey files: platform exports of responses (CSV, XLSX, SPSS), the drawn sample, margins.

A response file holds ``resp_id``, ``year`` and one column per questionnaire item
with integer answer codes (docs/DATA_FORMATS.md). The default schema checks only
that much; the questionnaire module can pass a strict per-year schema (or a
function ``year -> schema``) through ``schema=``. Before any schema sees the
frame, item columns are coerced to nullable integers: ``1.0`` from SPSS becomes
``1``, a value like ``1.5`` or ``ja`` is quarantined with its column named.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from botrygt_eval import schemas
from botrygt_eval.errors import InputFileError
from botrygt_eval.io._common import (
    MISSING_MARKERS,
    CsvTable,
    RowProblems,
    count_phrase,
    dup_reason,
    duplicated_keys,
    existing_file,
    finish,
    parse_numbers,
    quote,
    read_delimited,
    read_text,
    sniff_separator,
    whole_numbers,
)
from botrygt_eval.io.quarantine import REASON, SOURCE_ROW, LoadResult

#: columns of a response file that are not questionnaire items
ID_COLUMNS = ("resp_id", "year")
SchemaArg = pa.DataFrameSchema | Callable[[int], pa.DataFrameSchema] | None
_YEAR_IN_NAME = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _read_any(path: Path, what: str) -> tuple[pd.DataFrame, list[str], bool, pd.DataFrame | None]:
    """Read CSV / XLSX / SAV into a frame with ``source_row``.

    Also returns notes, whether decimals use a comma, and malformed lines (CSV only).
    """
    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix in (".csv", ".txt"):
        text, encoding = read_text(path, what)
        sep = sniff_separator(text, ",")
        frame, blank, malformed = _read_typed_csv(text, sep, path, what)
        notes.append(f"encoding: {encoding}")
        if sep != ",":
            notes.append(f"separator {sep!r}: decimal comma assumed")
        if blank:
            notes.append(f"ignored {count_phrase(blank, 'blank line')}")
        return frame, notes, sep == ";", malformed
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, engine="openpyxl", dtype=object)
        except Exception as exc:  # openpyxl raises many kinds for a corrupt workbook
            raise InputFileError(
                f"{path}: cannot read the Excel workbook ({type(exc).__name__}: {exc}); "
                "open it in Excel and save it again as .xlsx, or export CSV"
            ) from None
        frame[SOURCE_ROW] = np.arange(2, len(frame) + 2)  # row 1 holds the headings
        notes.append("Excel workbook (first sheet)")
        return frame, notes, False, None
    if suffix in (".sav", ".zsav"):
        import pyreadstat

        try:
            frame, _meta = pyreadstat.read_sav(
                str(path), apply_value_formats=False, user_missing=True
            )
        except Exception as exc:  # pyreadstat.ReadstatError and friends
            raise InputFileError(
                f"{path}: cannot read the SPSS file ({exc}); export it again from the "
                "survey platform as .sav, or as CSV"
            ) from None
        frame[SOURCE_ROW] = np.arange(1, len(frame) + 1)  # SPSS case number
        notes.append("SPSS file (numeric codes used; value labels and user-missing flags ignored)")
        return frame, notes, False, None
    raise InputFileError(
        f"{path}: unsupported file type {suffix!r} ({what}); use .csv, .xlsx or .sav"
    )


def _read_typed_csv(
    text: str, sep: str, path: Path, what: str
) -> tuple[pd.DataFrame, int, pd.DataFrame | None]:
    """Let the C parser type the numeric columns (fast); ``resp_id`` always stays text."""
    header = text.split("\n", 1)[0].split(sep)
    ids = {h: str for h in header if h.strip().strip('"').strip().lower() == "resp_id"}
    try:
        with warnings.catch_warnings():
            # extra fields on the first line would silently become an index or be cut
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=ids,
                keep_default_na=False,
                na_values=list(MISSING_MARKERS),
                skip_blank_lines=False,
                index_col=False,
                decimal="," if sep == ";" else ".",
                engine="c",
            )
    except (pd.errors.EmptyDataError, pd.errors.ParserError, pd.errors.ParserWarning):
        return read_delimited(text, sep, path, what)  # the careful path: quarantines bad lines
    frame.columns = [str(c).strip().strip('"').strip() for c in frame.columns]
    frame[SOURCE_ROW] = np.arange(2, len(frame) + 2)
    blank = frame.drop(columns=SOURCE_ROW).isna().all(axis=1)
    return frame.loc[~blank].reset_index(drop=True), int(blank.sum()), None


def _resolve_schema(schema: SchemaArg, year: int | None, items: list[str]) -> pa.DataFrameSchema:
    if schema is None:
        return schemas.response_schema(items)
    if not isinstance(schema, pa.DataFrameSchema):
        if year is None:
            raise InputFileError(
                "a per-year response schema needs the year: name the file responses_YYYY.csv "
                "or give every row the same year"
            )
        schema = schema(year)
    if schema.strict and SOURCE_ROW not in schema.columns:
        schema = schema.add_columns({SOURCE_ROW: pa.Column("int64")})
    return schema


def load_responses(
    path: str | Path,
    schema: SchemaArg = None,
    quarantine_dir: str | Path | None = None,
) -> LoadResult:
    """One year's survey platform export (``.csv``, ``.xlsx`` or ``.sav``).

    ``.data``: ``resp_id, year`` and the item columns as nullable integers. ``schema``
    is a pandera schema or a function ``year -> schema`` (e.g. from the item bank);
    by default :func:`botrygt_eval.schemas.response_schema` is used. A column of text
    raises :class:`InputFileError`; a bad cell quarantines its row.
    """
    what = "survey responses"
    path = existing_file(path, what)
    frame, notes, decimal_comma, malformed = _read_any(path, what)
    frame.columns = [
        c if c == SOURCE_ROW else str(c).strip().lower().replace(" ", "_") for c in frame.columns
    ]
    missing = [c for c in ID_COLUMNS if c not in frame.columns]
    if missing:
        raise InputFileError(
            f"{path}: required column(s) {', '.join(missing)} missing in the survey responses "
            f"(found: {', '.join(c for c in frame.columns[:12] if c != SOURCE_ROW)}, ...); "
            "the export must have resp_id, year and one column per item"
        )
    unnamed = [
        c
        for c in frame.columns
        if str(c).startswith("unnamed:_") and frame[c].isna().all() | (frame[c] == "").all()
    ]
    if unnamed:  # trailing separators give empty columns without a heading
        frame = frame.drop(columns=unnamed)
        notes.append(f"ignored {count_phrase(len(unnamed), 'empty column')} without a heading")
    dupcols = frame.columns[frame.columns.duplicated()].tolist()
    if dupcols:
        raise InputFileError(
            f"{path}: column(s) {', '.join(map(str, dupcols))} appear twice; rename one of them"
        )
    items = [c for c in frame.columns if c not in (*ID_COLUMNS, SOURCE_ROW)]
    problems = RowProblems(frame.index)
    out = {SOURCE_ROW: frame[SOURCE_ROW]}
    rid = frame["resp_id"].astype(str).str.strip().str.lower()
    rid = rid.where(frame["resp_id"].notna(), "")
    out["resp_id"] = rid
    year_num, year_missing, year_bad = parse_numbers(frame["year"], decimal_comma)
    year, year_frac = whole_numbers(year_num)
    problems.add(year_missing, "year is empty")
    problems.add(
        year_bad | year_frac,
        "year " + quote(frame.loc[year_bad | year_frac, "year"]) + " is not a year",
    )
    out["year"] = year
    text_columns = []
    for col in items:
        numbers, _missing, bad = parse_numbers(frame[col], decimal_comma)
        if bad.any() and numbers.notna().sum() == 0:
            text_columns.append(col)
            continue
        codes, frac = whole_numbers(numbers)
        problems.add(bad, f"{col} " + quote(frame.loc[bad, col]) + " is not a numeric answer code")
        problems.add(frac, f"{col} " + quote(frame.loc[frac, col]) + " is not a whole answer code")
        out[col] = codes
    if text_columns:
        raise InputFileError(
            f"{path}: column(s) {', '.join(text_columns)} hold text, not numeric answer codes; "
            "export the responses with codes (not labels), or drop free-text columns"
        )
    tidy = pd.DataFrame(out, index=frame.index)
    file_year = _YEAR_IN_NAME.search(path.stem)
    expected = int(file_year.group(1)) if file_year else None
    if expected is not None:
        other = year.notna() & (year != expected)
        problems.add(
            other.fillna(False),
            "year " + year[other.fillna(False)].astype(str) + f" in the file for {expected}",
        )
    elif year.dropna().nunique() == 1:
        expected = int(year.dropna().iloc[0])
    good, bad = problems.split(tidy)
    dup = duplicated_keys(good, ["resp_id"])
    dups = good.loc[dup].assign(**{REASON: dup_reason(["resp_id"])})
    good = good.loc[~dup]
    resolved = _resolve_schema(schema, expected, items)
    columns = [*ID_COLUMNS, *items]
    return finish(
        good,
        resolved,
        source=path,
        columns=columns,
        quarantine_dir=quarantine_dir,
        prior=[p for p in (malformed, bad, dups) if p is not None],
        notes=notes,
    )


SAMPLE_COLUMNS = [
    "resp_id",
    "year",
    "kommune_kode",
    "sex",
    "age",
    "age_band",
    "incl_prob",
    "design_weight",
    "stratum_population",
    "responded",
]
_SEX = {"male": "male", "m": "male", "mand": "male", "mænd": "male", "men": "male"}
_SEX |= {"female": "female", "f": "female", "k": "female", "kvinde": "female"}
_SEX |= {"kvinder": "female", "women": "female"}


def load_sample(path: str | Path, quarantine_dir: str | Path | None = None) -> LoadResult:
    """A drawn sample ``survey/sample_YYYY.csv`` (respondents and non-respondents).

    ``.data``: the columns of docs/DATA_FORMATS.md, ``sex`` as ``male``/``female``.
    """
    tab = CsvTable(path, "the survey sample", SAMPLE_COLUMNS)
    f = tab.frame
    f["resp_id"] = f["resp_id"].str.lower()
    tab.number("year", whole=True, required=True)
    tab.kommune()
    sex = f["sex"].str.casefold().map(_SEX)
    bad_sex = sex.isna()
    tab.problems.add(bad_sex, "sex " + quote(f.loc[bad_sex, "sex"]) + " is not male/female")
    f["sex"] = sex
    tab.number("age", whole=True, required=True)
    for col in ("incl_prob", "design_weight"):
        tab.number(col, whole=False, required=True)
    tab.number("stratum_population", whole=True, required=True)
    tab.number("responded", whole=True, required=True)
    return tab.result(schemas.SURVEY_SAMPLE, ["resp_id"], quarantine_dir)


def load_margins(path: str | Path, quarantine_dir: str | Path | None = None) -> LoadResult:
    """Population margins ``variable,level,total`` (long). ``level`` is kept as text."""
    tab = CsvTable(path, "the calibration margins", ["variable", "level", "total"])
    tab.number("total", whole=False, required=True)
    empty = tab.frame["variable"] == ""
    tab.problems.add(empty, "variable is empty")
    return tab.result(schemas.MARGINS, ["variable", "level"], quarantine_dir)
