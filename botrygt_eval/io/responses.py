"""Survey files: platform exports of responses (CSV, XLSX, SPSS), the drawn sample, margins.

A response file holds ``resp_id``, ``year`` and one column per questionnaire item
with integer answer codes (docs/DATA_FORMATS.md). The default schema checks only
that much; ``schema=ITEM_BANK`` (the workspace's choice) validates against the
year's response schema from the item bank, and a strict per-year schema (or a
function ``year -> schema``) can be passed too. Before any schema sees the
frame, item columns are coerced to nullable integers: ``1.0`` from SPSS becomes
``1``, a value like ``1.5`` is quarantined with its column named, and a column of
answer labels (``Ja``/``Nej``) is recoded through the year's codebook or refused.
Every line (CSV), worksheet row (all sheets of a workbook) or SPSS case is
loaded, quarantined or set aside (docs/DATA_FORMATS.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from botrygt_eval.errors import InputFileError, InstrumentError
from botrygt_eval.instrument import response_schema
from botrygt_eval.instrument.bank import available_years, load_instrument
from botrygt_eval.io import schemas
from botrygt_eval.io._common import (
    BLANK_LINE,
    DATA_LINES,
    MISSING_MARKERS,
    SET_ASIDE,
    CsvTable,
    RowProblems,
    count_phrase,
    dup_reason,
    duplicated_keys,
    existing_file,
    finish,
    no_malformed,
    on_uniques,
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
#: ``schema=ITEM_BANK``: validate against the year's response schema from the item bank
ITEM_BANK = "item_bank"
SchemaArg = pa.DataFrameSchema | Callable[[int], pa.DataFrameSchema] | str | None
_YEAR_IN_NAME = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _read_any(path: Path, what: str) -> tuple[pd.DataFrame, list[str], bool, pd.DataFrame]:
    """Read CSV / XLSX / SAV into a frame with ``source_row``.

    Also returns notes, whether decimals use a comma, and the lines that could not
    be loaded or were set aside (blank); ``attrs[DATA_LINES]`` counts the data lines.
    """
    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix in (".csv", ".txt"):
        text, encoding = read_text(path, what)
        sep = sniff_separator(text, ",")
        frame, blank, malformed = read_delimited(text, sep, path, what)
        notes.append(f"encoding: {encoding}")
        if sep != ",":
            notes.append(f"separator {sep!r}: decimal comma assumed")
        if blank:
            notes.append(f"ignored {count_phrase(blank, 'blank line')}")
        return frame, notes, sep == ";", malformed
    if suffix in (".xlsx", ".xlsm"):
        frame, malformed, sheet_notes = _read_workbook(path, what)
        return frame, notes + sheet_notes, False, malformed
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
        frame, malformed = _blank_rows(frame, len(frame))
        return frame, notes, False, malformed
    raise InputFileError(
        f"{path}: unsupported file type {suffix!r} ({what}); use .csv, .xlsx or .sav"
    )


def _blank_rows(frame: pd.DataFrame, lines: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Set aside rows without any value (a workbook's empty rows) as blank lines."""
    cells = frame.drop(columns=SOURCE_ROW)
    empty = (cells.isna() | cells.astype(str).apply(lambda c: c.str.strip() == "")).all(axis=1)
    malformed = no_malformed(lines)
    if empty.any():
        aside = pd.DataFrame(
            {
                SOURCE_ROW: frame.loc[empty, SOURCE_ROW].to_numpy(),
                REASON: BLANK_LINE,
                "raw": "",
                SET_ASIDE: True,
            }
        )
        aside.attrs[DATA_LINES] = lines
        malformed = aside
    return frame.loc[~empty].reset_index(drop=True), malformed


def _read_workbook(path: Path, what: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Every sheet of a workbook; sheets after the first must repeat its header row.

    A platform splits a long export over several sheets; their rows are read as one
    table numbered as if the sheets were pasted one under the other (the notes say
    where each sheet starts). A sheet with other headings is refused, never skipped.
    """
    try:
        sheets = pd.read_excel(path, engine="openpyxl", dtype=object, header=None, sheet_name=None)
    except Exception as exc:  # openpyxl raises many kinds for a corrupt workbook
        raise InputFileError(
            f"{path}: cannot read the Excel workbook ({type(exc).__name__}: {exc}); "
            "open it in Excel and save it again as .xlsx, or export CSV"
        ) from None
    filled = {name: sheet.dropna(how="all", axis=1) for name, sheet in sheets.items()}
    filled = {n: s for n, s in filled.items() if not s.dropna(how="all").empty}
    if not filled:
        raise InputFileError(f"{path}: the workbook is empty ({what}); export it again")
    names = list(filled)
    first = sheets[names[0]]
    header = [_heading(h) for h in first.iloc[0].tolist()]
    parts, notes, start = [], [], 2
    for name in names:
        sheet = sheets[name]
        heads = [_heading(h) for h in sheet.iloc[0].tolist()]
        if [h for h in heads if h] != [h for h in header if h]:
            raise InputFileError(
                f"{path}: sheet {name!r} has other headings in row 1 ({', '.join(heads[:6])}, "
                f"...) than the first sheet {names[0]!r} ({', '.join(header[:6])}, ...); "
                "give every sheet of the export the same header row, or delete the sheet "
                "that is not part of the responses"
            )
        body = sheet.iloc[1:].reset_index(drop=True)
        body = body.reindex(columns=range(len(header)))
        body.columns = header
        body[SOURCE_ROW] = np.arange(start, start + len(body))
        if name != names[0]:
            notes.append(f"sheet {name!r} continues the table: its row 2 is source_row {start:,}")
        parts.append(body)
        start += len(body)
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.loc[:, [c for c in frame.columns if c != ""]]
    label = "first sheet" if len(names) == 1 else f"{len(names)} sheets with one header"
    skipped = [n for n in sheets if n not in filled]
    if skipped:
        notes.append(f"ignored empty sheet(s): {', '.join(map(repr, skipped))}")
    frame, malformed = _blank_rows(frame, start - 2)
    return frame, malformed, [f"Excel workbook ({label})", *notes]


def _heading(value: object) -> str:
    return "" if pd.isna(value) else str(value).strip()


def _resolve_schema(
    schema: SchemaArg, year: int | None, items: list[str]
) -> tuple[pa.DataFrameSchema, str | None]:
    note = None
    if schema is None:
        return schemas.response_schema(items), None
    if isinstance(schema, str):
        if schema != ITEM_BANK:
            raise InputFileError(f"unknown response schema {schema!r}; use {ITEM_BANK!r}")
        if year is None:
            note = "survey year unknown: answer codes checked as integers only"
            return schemas.response_schema(items), note
        resolved, note = _item_bank_schema(year, items)
        if resolved is None:
            return schemas.response_schema(items), note
        return resolved, note
    if not isinstance(schema, pa.DataFrameSchema):
        if year is None:
            raise InputFileError(
                "a per-year response schema needs the year: name the file responses_YYYY.csv "
                "or give every row the same year"
            )
        schema = schema(year)
        if schema is None:  # the item bank has no questionnaire for the year
            note = f"no questionnaire for {year} in the item bank: answer codes checked as integers only"
            return schemas.response_schema(items), note
    if schema.strict and SOURCE_ROW not in schema.columns:
        schema = schema.add_columns({SOURCE_ROW: pa.Column("int64")})
    return schema, note


def _item_bank_schema(year: int, items: list[str]) -> tuple[pa.DataFrameSchema | None, str | None]:
    """The year's response schema from the item bank, fitted to the file's item columns.

    The year's questionnaire, else the nearest year whose items are all in the file
    (back-years written in a later layout). Items of the questionnaire missing from the
    file are not required here: the codes of the items present are checked, and the
    routing/required checks that need a missing item are left out (the note says so).
    """

    years = available_years()
    if not years:
        return None, "no item bank found: answer codes checked as integers only"
    present = set(items)
    if year in years:
        best = year
    else:
        fits = [y for y in years if set(load_instrument(y).item_ids) <= present]
        if not fits:
            return None, (
                f"no questionnaire for {year} in the item bank: answer codes checked as "
                "integers only"
            )
        best = min(fits, key=lambda y: (abs(y - year), -y))
    inst = load_instrument(best)
    schema = response_schema(year, instrument_year=best)
    missing = [i for i in inst.item_ids if i not in present]
    note = None if best == year else f"answer codes checked against the {best} questionnaire"
    if missing:
        schema = schema.remove_columns(missing)
        needs = {f"routing_{i.id}": {i.id, *i.relevant.items} for i in inst.items if i.relevant}
        needs |= {
            f"required_{i.id}": {i.id, *(i.relevant.items if i.relevant else ())}
            for i in inst.items
        }
        schema.checks = [c for c in schema.checks if needs.get(c.name, set()) <= present]
        note = (
            f"{len(missing)} item(s) of the {best} questionnaire are not in the file "
            f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}): codes of the "
            "items present checked against the codebook"
        )
    return schema, note


def _single_year(year: pd.Series) -> int | None:
    years = year.dropna()
    return int(years.iloc[0]) if len(years) and years.nunique() == 1 else None


def _holds_labels(bad: pd.Series, numbers: pd.Series) -> bool:
    """A column of answer labels (Ja/Nej), not codes with a few bad cells."""
    n_bad = int(bad.sum())
    return n_bad > 0 and n_bad >= int(numbers.notna().sum())


def _recode_labels(
    path: Path, labels: dict[str, pd.Series], year: int | None
) -> tuple[dict[str, pd.Series | dict], str]:
    """Answer labels -> codes through the year's codebook (Danish or English labels).

    Refuses the file once when there is no codebook for the year or a label is not in it.
    """

    cols = ", ".join(labels)
    example = next(iter(labels.values()))
    seen = ", ".join(repr(v) for v in pd.unique(example.dropna())[:3])
    fix = (
        "export the responses with numeric codes, or convert the platform export with "
        "'botrygt-eval responses import'"
    )
    try:
        if year is None:
            raise InstrumentError("no year")
        inst = load_instrument(year)
    except InstrumentError:
        raise InputFileError(
            f"{path}: column(s) {cols} hold answer labels (e.g. {seen}), not numeric codes, and "
            f"there is no codebook for {year or 'this year'} to recode them; {fix}"
        ) from None
    out: dict[str, pd.Series | dict] = {}
    bad_cells: dict[str, pd.Series] = {}
    for col, values in labels.items():
        if col not in inst.item_ids:
            raise InputFileError(
                f"{path}: column(s) {col} hold text, not numeric answer codes (e.g. {seen}), "
                f"and {col} is not an item of the {year} questionnaire; {fix}, or drop "
                "free-text columns"
            )
        lookup = {}
        for choice in inst.all_choices(col):
            lookup[str(choice.code)] = choice.code
            for label in choice.label.values():
                lookup[" ".join(label.casefold().split())] = choice.code
        text = values.astype(str).str.strip()
        empty = values.isna() | text.isin(MISSING_MARKERS)
        key = on_uniques(text, lambda u: u.str.casefold().str.split().str.join(" "))
        codes = key.map(lookup)
        bad_cells[col] = codes.isna() & ~empty
        out[col] = codes.where(~empty).astype("Int64")
    unmatched = [c for c in labels if out[c].notna().sum() == 0]
    if unmatched:
        raise InputFileError(
            f"{path}: column(s) {', '.join(unmatched)} hold text, not numeric answer codes "
            f"(e.g. {seen}), and not labels of the {year} codebook; {fix}, or drop free-text "
            "columns"
        )
    n_bad = sum(int(b.sum()) for b in bad_cells.values())
    n_cells = sum(int((~(v.isna())).sum()) for v in labels.values())
    if n_bad > max(10, n_cells // 100):
        raise InputFileError(
            f"{path}: column(s) {cols} hold answer labels (e.g. {seen}) and {n_bad:,} of them "
            f"are not in the {year} codebook; {fix}"
        )
    out["_bad"] = bad_cells
    return out, f"recoded answer labels to codes through the {year} codebook in: {cols}"


def load_responses(
    path: str | Path,
    schema: SchemaArg = None,
    quarantine_dir: str | Path | None = None,
) -> LoadResult:
    """One year's survey platform export (``.csv``, ``.xlsx`` or ``.sav``).

    ``.data``: ``resp_id, year`` and the item columns as nullable integers. ``schema``
    is a pandera schema, a function ``year -> schema``, or :data:`ITEM_BANK` (the
    year's schema from the item bank); by default
    :func:`botrygt_eval.io.schemas.response_schema` is used. A column of labels is
    recoded through the codebook, a column of other text raises
    :class:`InputFileError`; a bad cell quarantines its row.
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
    file_year = _YEAR_IN_NAME.search(path.stem)
    label_year = int(file_year.group(1)) if file_year else _single_year(year)
    labels = {}
    for col in items:
        numbers, _missing, bad = parse_numbers(frame[col], decimal_comma)
        if _holds_labels(bad, numbers):
            labels[col] = frame[col]
            continue
        codes, frac = whole_numbers(numbers)
        problems.add(bad, f"{col} " + quote(frame.loc[bad, col]) + " is not a numeric answer code")
        problems.add(frac, f"{col} " + quote(frame.loc[frac, col]) + " is not a whole answer code")
        out[col] = codes
    if labels:
        recoded, note = _recode_labels(path, labels, label_year)
        bad_labels = recoded.pop("_bad")
        out |= recoded
        for col, bad in bad_labels.items():  # type: ignore[union-attr]
            problems.add(
                bad, f"{col} " + quote(frame.loc[bad, col]) + " is not an answer label or code"
            )
        notes.append(note)
    tidy = pd.DataFrame(out, index=frame.index)
    expected = int(file_year.group(1)) if file_year else None
    if expected is not None:
        other = year.notna() & (year != expected)
        problems.add(
            other.fillna(False),
            "year " + year[other.fillna(False)].astype(str) + f" in the file for {expected}",
        )
    else:
        expected = _single_year(year)
    good, bad = problems.split(tidy)
    dup = duplicated_keys(good, ["resp_id"])
    dups = good.loc[dup].assign(**{REASON: dup_reason(["resp_id"])})
    good = good.loc[~dup]
    resolved, schema_note = _resolve_schema(schema, expected, items)
    if schema_note:
        notes.append(schema_note)
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
    tab.number("total", whole=False, required=True, count=True)  # totals: thousands separators
    empty = tab.frame["variable"] == ""
    tab.problems.add(empty, "variable is empty")
    return tab.result(schemas.MARGINS, ["variable", "level"], quarantine_dir)
