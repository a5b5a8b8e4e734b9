"""Statistics Denmark (StatBank) exports: STRAF11, STRAF10, FOLK1A and FAM55N.

A StatBank CSV or BULK file (API ``/v1/data``) is semicolon-separated, UTF-8 with BOM
(older exports Windows-1252), with one column per variable followed by ``INDHOLD``,
decimal comma and ``..`` for a missing or confidential value; headings and labels are
Danish or English, cells are codes (``101``), labels (``København``) or both
(``101 København``). A JSON-stat dataset (``format=JSONSTAT``) is read too. The web
table layout (periods as columns) is refused with the API call that gives the long form.
:func:`read_statbank` turns any such file into strings under canonical column
names; the table loaders turn that into the tidy frames of docs/DATA_FORMATS.md.

BULK leaves out cells whose value is 0: for a file known to be BULK (``bulk=True``, or the
sidecar written by ``botrygt-eval fetch statbank``) the loaders fill 0 over the kommune x
period (x sex x age) grid the file covers, keep ``..`` as missing, and say so in the notes;
otherwise absent cells are only counted in the notes.

Rows that are not municipality data (national and regional totals, Christiansø,
``I alt``/``Total`` categories, other offences than 1320) are set aside explicitly:
they are returned in ``LoadResult.dropped`` and counted in ``LoadResult.notes``.
Rows that cannot be read (an unknown area, a period that is not a quarter, a
negative count, a duplicated key) are quarantined with a reason per row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from botrygt_eval.errors import InputFileError, UnknownMunicipalityError
from botrygt_eval.io import schemas
from botrygt_eval.io._common import (
    RowProblems,
    count_phrase,
    dup_reason,
    duplicated_keys,
    existing_file,
    finish,
    on_uniques,
    parse_numbers,
    quote,
    raw_lines,
    read_delimited,
    read_text,
    whole_numbers,
)
from botrygt_eval.io.quarantine import REASON, SOURCE_ROW, LoadResult
from botrygt_eval.reference import CHRISTIANSOE_CODE, to_kommune_kode

#: canonical variable -> headings seen in Danish and English exports (upper case)
HEADINGS: dict[str, tuple[str, ...]] = {
    "area": ("OMRÅDE", "OMRAADE", "OMRADE", "REGION", "AREA"),
    "offence": ("OVERTRÆD", "OVERTRAED", "OVERTRAD", "TYPE OF OFFENCE", "TYPE OF OFFENSE"),
    "sex": ("KØN", "KOEN", "KON", "SEX"),
    "age": ("ALDER", "AGE"),
    "marital": ("CIVILSTAND", "MARITAL STATUS"),
    "time": ("TID", "TIME"),
    "value": ("INDHOLD", "CONTENT", "VALUE"),
    # FAM55N as DST serves it: three household variables without a total code
    "household_type": ("HUSTYP", "TYPE OF HOUSEHOLD", "HOUSEHOLD TYPE"),
    "household_size": ("HUSSTØR", "HUSSTOR", "HUSSTOER", "SIZE OF HOUSEHOLD", "HOUSEHOLD SIZE"),
    "children": ("ANTBORNH", "NUMBER OF CHILDREN", "NUMBER OF CHILDREN IN THE HOUSEHOLD"),
}
HOUSEHOLD_DIMS = ("household_type", "household_size", "children")
_DANISH = {"OMRÅDE", "OMRAADE", "OMRADE", "OVERTRÆD", "OVERTRAED", "KØN", "KOEN", "ALDER"}
_DANISH |= {"CIVILSTAND", "TID", "INDHOLD", "HUSTYP", "HUSSTØR", "ANTBORNH"}

TOTAL_LABELS = frozenset(
    {"i alt", "ialt", "total", "tot", "in total", "all", "alder i alt", "age, total"}
    | {"total, all ages", "all ages", "køn i alt", "sex, total"}
)
NATIONAL_LABELS = frozenset({"hele landet", "all denmark", "denmark", "danmark", "i alt", "total"})
REGION_LABELS = frozenset(
    {
        "capital region of denmark",
        "region zealand",
        "region of southern denmark",
        "central denmark region",
        "north denmark region",
    }
)
CHRISTIANSOE_LABELS = frozenset({"christiansø", "christiansoe", "christianso"})
#: StatBank's code for offences whose municipality is not known (STRAF11, STRAF10)
UNKNOWN_KOMMUNE_CODE = 998
UNKNOWN_KOMMUNE_LABELS = frozenset(
    {"uoplyst kommune", "unknown municipality", "uoplyst", "unknown", "municipality unknown"}
)
BURGLARY_LABELS = frozenset(
    {
        "indbrud i beboelser",
        "indbrud i beboelse",
        "burglary of dwellings",
        "burglary in dwellings",
        "burglary of private homes",
        "burglary in private homes",
        "residential burglary",
    }
)
SEX_LABELS = {
    "mænd": "male",
    "men": "male",
    "male": "male",
    "m": "male",
    "1": "male",
    "kvinder": "female",
    "women": "female",
    "female": "female",
    "k": "female",
    "2": "female",
}
_AGE = re.compile(r"^(\d{1,3})(?:\s*(?:år|years?))?(?:\s+(?:og derover|and over))?$", re.I)
_TIME = re.compile(r"^(\d{4})(?:\s*([KQ])([1-4]))?$", re.I)
_CODE_AND_NAME = re.compile(r"^(\d+)\s+(\S.*)$")

TimeKind = Literal["quarter", "year"]
AreaKind = Literal["kommune", "national", "region", "christiansoe", "no_kommune", "unknown"]
_CODE_REST = re.compile(r"^(\S+)\s+(\S.*)$")


@dataclass(frozen=True)
class StatBankTable:
    """A StatBank export read as strings: canonical columns, how it was decoded, its language."""

    frame: pd.DataFrame
    path: Path
    encoding: str
    language: Literal["da", "en"]
    headings: dict[str, str]
    blank_lines: int
    #: lines with more fields than the header (``source_row, reason, raw``)
    malformed: pd.DataFrame
    #: ``"CSV"`` (CSV or BULK, one line per cell) or ``"JSON-stat"`` (source_row = cell number)
    layout: str = "CSV"


@dataclass(frozen=True)
class _Spec:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    time: TimeKind
    what: str


_SPECS = {
    "STRAF11": _Spec(
        "STRAF11",
        ("area", "offence", "time", "value"),
        (),
        "quarter",
        "STRAF11, reported offences by kommune and quarter",
    ),
    "STRAF10": _Spec(
        "STRAF10",
        ("area", "offence", "time", "value"),
        (),
        "year",
        "STRAF10, reported offences by kommune and year",
    ),
    "FOLK1A": _Spec(
        "FOLK1A",
        ("area", "sex", "age", "time", "value"),
        ("marital",),
        "quarter",
        "FOLK1A, population by kommune, sex, age and quarter",
    ),
    "FAM55N": _Spec(
        "FAM55N",
        ("area", "time", "value"),
        HOUSEHOLD_DIMS,
        "year",
        "FAM55N, households by kommune and year",
    ),
}

API_DATA_URL = "https://api.statbank.dk/v1/data"
#: variable selections that give each loader what it needs (``*`` = every value);
#: BULK needs a selection for every variable of the table.
API_SELECTIONS: dict[str, dict[str, str]] = {
    "STRAF11": {"OMRÅDE": "*", "OVERTRÆD": "1320", "Tid": "*"},
    "STRAF10": {"OMRÅDE": "*", "OVERTRÆD": "1320", "Tid": "*"},
    "FOLK1A": {"OMRÅDE": "*", "KØN": "1,2", "ALDER": "*", "CIVILSTAND": "TOT", "Tid": "*"},
    "FAM55N": {"OMRÅDE": "*", "HUSTYP": "*", "HUSSTØR": "*", "ANTBORNH": "*", "Tid": "*"},
}


def api_url(table: str, fmt: str = "BULK", lang: str = "da") -> str:
    """The StatBank API call (GET form) that returns ``table`` in the long format we read."""
    from urllib.parse import quote as url_quote

    query = [("lang", lang), ("valuePresentation", "Code")]
    query += list(API_SELECTIONS[table].items())
    text = "&".join(f"{url_quote(k)}={url_quote(v, safe='*,')}" for k, v in query)
    return f"{API_DATA_URL}/{table}/{fmt}?{text}"


_ENGLISH = {
    "area": "REGION",
    "offence": "TYPE OF OFFENCE",
    "sex": "SEX",
    "age": "AGE",
    "marital": "MARITAL STATUS",
    "time": "TIME",
    "value": "INDHOLD",
    "household_type": "TYPE OF HOUSEHOLD",
    "household_size": "SIZE OF HOUSEHOLD",
    "children": "NUMBER OF CHILDREN",
}


def _expected(spec: _Spec) -> str:
    keys = [*spec.required[:-1], *spec.optional, "value"]
    da = ";".join(HEADINGS[k][0] for k in keys)
    en = ";".join(_ENGLISH[k] for k in keys)
    return f"{da} (Danish) or {en} (English)"


def read_statbank(path: str | Path, table: str | None = None) -> StatBankTable:
    """Read a StatBank export (CSV, BULK or JSON-stat) into strings under canonical names.

    Canonical columns: ``area, offence, sex, age, marital, time, value`` (those
    present) plus ``source_row`` (line number in the file; for JSON-stat the cell's
    1-based position in ``value``). Raises :class:`InputFileError` when the file is
    missing, undecodable, or not a StatBank long-format export (the web table layout
    is refused with the API call that gives the long format).
    """
    spec = _SPECS.get(table or "")
    what = spec.what if spec else "StatBank export"
    path = existing_file(path, what)
    text, encoding = read_text(path, what)
    if text.lstrip().startswith("{"):
        frame = _jsonstat_frame(text, path, what)
        blank, malformed, layout = 0, frame.iloc[0:0][[SOURCE_ROW]], "JSON-stat"
        malformed = malformed.assign(**{REASON: pd.Series(dtype=object)})
    else:
        _refuse_pivot(text, path, what, spec)
        first = text.split("\n", 1)[0]
        if ";" not in first:
            raise InputFileError(
                f"{path}: not a StatBank CSV export ({what}): the first line {first[:80]!r} "
                f"has no ';' separators; {_long_format_fix(spec)}"
            )
        frame, blank, malformed = read_delimited(text, ";", path, what)
        layout = "CSV"
    headings: dict[str, str] = {}
    unknown: list[str] = []
    for col in frame.columns:
        if col == SOURCE_ROW:
            continue
        key = next((k for k, names in HEADINGS.items() if col.upper() in names), None)
        wanted = spec is None or key in (*spec.required, *spec.optional)
        if key is None or key in headings or not wanted:
            unknown.append(col)
        else:
            headings[key] = col
    if "value" not in headings:
        raise InputFileError(
            f"{path}: not a StatBank long-format export ({what}): no INDHOLD column "
            f"(found: {', '.join(c for c in frame.columns if c != SOURCE_ROW)}); "
            f"{_long_format_fix(spec)}"
        )
    frame = frame.rename(columns={v: k for k, v in headings.items()})
    if unknown:
        single = [c for c in unknown if frame[c].nunique() <= 1]
        if len(single) < len(unknown) or spec is None:
            extra = [c for c in unknown if c not in single] or unknown
            expected = f"; expected {_expected(spec)}" if spec else ""
            raise InputFileError(
                f"{path}: unexpected column(s) {', '.join(extra)} in {what}{expected}; "
                "export the table again with only these variables"
            )
        frame = frame.drop(columns=single)
    if spec is not None:
        missing = [k for k in spec.required if k not in headings]
        if missing:
            names = ", ".join(f"{HEADINGS[k][0]}/{_ENGLISH[k]}" for k in missing)
            raise InputFileError(
                f"{path}: column(s) {names} missing in {what}; expected {_expected(spec)}; "
                "export the table again with these variables"
            )
    danish = sum(h.upper() in _DANISH for h in headings.values() if h.upper() != "INDHOLD")
    language: Literal["da", "en"] = "da" if danish else "en"
    return StatBankTable(frame, path, encoding, language, headings, blank, malformed, layout)


_PERIOD_CELL = re.compile(r"^\s*\d{4}(?:[KQM]\d{1,2})?\s*$", re.I)


def _refuse_pivot(text: str, path: Path, what: str, spec: _Spec | None) -> None:
    """Refuse the web table layout (title lines, periods as columns) with the API call to use."""
    lines = [line for line in text.splitlines()[:5] if line.strip()]
    first = lines[0] if lines else ""
    header = first.split(";")
    periods_as_columns = any(
        sum(bool(_PERIOD_CELL.match(c)) for c in line.split(";")) >= 1
        and not any(c.strip().upper() in HEADINGS["value"] for c in line.split(";"))
        and line.split(";")[0].strip() == ""
        for line in lines
    )
    title_line = ";" not in first and not any(h in first.upper() for h in HEADINGS["value"])
    if not (title_line or periods_as_columns) or any(
        c.strip().upper() in HEADINGS["value"] for c in header
    ):
        return
    shown = first[:80]
    raise InputFileError(
        f"{path}: not a StatBank CSV export in the long format ({what}): the first line "
        f"{shown!r} is a title or a row of periods, as in statistikbanken.dk's table "
        f"download (periods as columns), which is not read; {_long_format_fix(spec)}"
    )


def _long_format_fix(spec: _Spec | None) -> str:
    """What to do instead: the exact API call (one column per variable, INDHOLD last)."""
    if spec is None:
        url = f"{API_DATA_URL}/<TABLE>/BULK?lang=da&valuePresentation=Code&OMR%C3%85DE=*&Tid=*"
        return f"download the long format from the StatBank API instead, e.g. {url}"
    return (
        f"download the long format from the StatBank API instead: {api_url(spec.name)} "
        f"(or run 'botrygt-eval fetch statbank {spec.name} --out WORKSPACE/statbank')"
    )


def _jsonstat_frame(text: str, path: Path, what: str) -> pd.DataFrame:
    """A JSON-stat dataset (2.0, or the 1.x ``{"dataset": ...}`` bundle) as a long frame.

    One row per cell: each dimension's category code (as a CSV in ``Code`` form
    would have it), ``INDHOLD`` (``..`` where the value is null) and ``source_row``
    (the cell's 1-based position in ``value``).
    """
    import json

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({what}): "
            f"{exc.msg}; download the table again (format=JSONSTAT or BULK)"
        ) from None
    ds = doc if isinstance(doc, dict) and doc.get("class") == "dataset" else None
    if ds is None and isinstance(doc, dict) and isinstance(doc.get("dataset"), dict):
        ds = doc["dataset"]  # JSON-stat 1.x bundle
    if ds is None or "dimension" not in ds or "value" not in ds:
        raise InputFileError(
            f"{path}: JSON but not a JSON-stat dataset ({what}): no 'dimension'/'value'; "
            "download the table with format=JSONSTAT, or as BULK/CSV"
        )
    dims = ds["dimension"]
    ids = ds.get("id") or dims.get("id")
    sizes = ds.get("size") or dims.get("size")
    if not ids or not sizes or len(ids) != len(sizes):
        raise InputFileError(
            f"{path}: JSON-stat without a matching 'id' and 'size' ({what}); "
            "download the table again"
        )
    codes: list[list[str]] = []
    for dim_id, size in zip(ids, sizes, strict=True):
        index = dims[dim_id]["category"].get("index")
        if index is None:
            index = list(dims[dim_id]["category"].get("label", {}))
        if isinstance(index, dict):
            index = sorted(index, key=index.get)
        if len(index) != size:
            raise InputFileError(
                f"{path}: JSON-stat dimension {dim_id!r} has {len(index)} categories but "
                f"size {size} ({what}); download the table again"
            )
        codes.append([str(c) for c in index])
    n = int(np.prod(sizes)) if sizes else 0
    raw = ds["value"]
    values = np.full(n, None, dtype=object)
    if isinstance(raw, dict):  # sparse form: {"position": value}
        pos = np.array([int(k) for k in raw], dtype=np.int64)
        values[pos] = list(raw.values())
    else:
        if len(raw) != n:
            raise InputFileError(
                f"{path}: JSON-stat has {len(raw)} values but its dimensions give {n} cells "
                f"({what}); download the table again"
            )
        values[:] = raw
    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    whole = numbers.notna() & (numbers == np.floor(numbers.fillna(0)))
    cell = pd.Series(values, dtype=object).astype(str)
    cell[whole] = numbers[whole].astype("int64").astype(str)
    cell[pd.Series(values).isna()] = ".."
    grid = np.unravel_index(np.arange(n), sizes) if n else [np.array([], int)] * len(ids)
    frame = pd.DataFrame(
        {
            dim_id: np.asarray(c, dtype=object)[g]
            for dim_id, c, g in zip(ids, codes, grid, strict=True)
        }
    )
    frame["INDHOLD"] = cell.to_numpy()
    frame[SOURCE_ROW] = np.arange(1, n + 1)
    return frame


def classify_areas(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Kind and kommune code of each ``OMRÅDE`` cell (code, name, or ``code name``).

    Kinds: ``kommune``, ``national``, ``region`` (regions 081-085 and landsdele),
    ``christiansoe`` (411), ``no_kommune`` (998 ``Uoplyst kommune``) and ``unknown``.
    Each distinct value is classified once.
    """
    kinds: dict[str, str] = {}
    codes: dict[str, float] = {}
    for value in pd.unique(values):
        text = str(value).strip()
        match = _CODE_AND_NAME.match(text)
        key = match.group(1) if match else text
        low = " ".join(key.casefold().split())
        kind, code = "unknown", np.nan
        if key.isdigit():
            number = int(key)
            if number == 0:
                kind = "national"
            elif 81 <= number <= 85 or (len(key) == 2 and 1 <= number <= 11):
                kind = "region"
            elif number == CHRISTIANSOE_CODE:
                kind = "christiansoe"
            elif number == UNKNOWN_KOMMUNE_CODE:
                kind = "no_kommune"
        elif low in UNKNOWN_KOMMUNE_LABELS:
            kind = "no_kommune"
        elif low in NATIONAL_LABELS:
            kind = "national"
        elif (
            low in REGION_LABELS
            or low.startswith(("region ", "landsdel ", "province "))
            or low.endswith(" region")
        ):
            kind = "region"
        elif low in CHRISTIANSOE_LABELS:
            kind = "christiansoe"
        if kind == "unknown":
            try:
                code, kind = to_kommune_kode(key), "kommune"
            except UnknownMunicipalityError:
                pass
        kinds[value] = kind
        codes[value] = code
    return values.map(kinds), values.map(codes).astype("Int64")


def parse_periods(values: pd.Series, kind: TimeKind, table: str) -> tuple[pd.DataFrame, pd.Series]:
    """``year`` and ``quarter`` from ``2025K1`` / ``2025Q1`` / ``2025``, and a reason per bad cell."""

    def extract(u: pd.Series) -> pd.DataFrame:
        text = u.astype(str).str.strip()
        first = text.str.split().str[0].fillna("")
        parts = text.where(text.str.match(_TIME), first).str.extract(_TIME)
        return pd.DataFrame(
            {
                "year": pd.to_numeric(parts[0], errors="coerce").astype("Int64"),
                "quarter": pd.to_numeric(parts[2], errors="coerce").astype("Int64"),
            }
        )

    periods = on_uniques(values, extract)
    year, quarter = periods["year"], periods["quarter"]
    reason = pd.Series(None, index=values.index, dtype=object)
    unreadable = year.isna()
    reason[unreadable] = (
        "TID " + quote(values[unreadable]) + " is not a period like 2025K1, 2025Q1 or 2025"
    )
    if kind == "quarter":
        wrong = ~unreadable & quarter.isna()
        reason[wrong] = "TID " + quote(values[wrong]) + f" is a year; {table} needs quarters"
    else:
        wrong = ~unreadable & quarter.notna()
        reason[wrong] = "TID " + quote(values[wrong]) + f" is a quarter; {table} needs years"
    return periods, reason


def _offence_codes(values: pd.Series) -> pd.Series:
    """Offence code from ``1320 Indbrud i beboelser``, ``1320`` or the label alone."""
    lookup: dict[str, float] = {}
    for value in pd.unique(values):
        text = str(value).strip()
        match = re.match(r"^(\d+)\b", text)
        if match:
            lookup[value] = int(match.group(1))
        elif " ".join(text.casefold().split()) in BURGLARY_LABELS:
            lookup[value] = schemas.BURGLARY_OFFENCE_CODE
        else:
            lookup[value] = np.nan
    return values.map(lookup).astype("Int64")


def resolve_cells(values: pd.Series, parse) -> pd.Series:
    """Parse each distinct cell as written, else its label (``1 Mænd``), else its code.

    One rule for the three ``valuePresentation`` forms: ``Code`` (``1``), ``Value``
    (``Mænd``) and ``CodeAndValue`` (``1 Mænd``). ``parse`` maps a Series of text to
    values, NaN where it cannot.
    """

    def fn(u: pd.Series) -> pd.Series:
        text = u.astype(str).str.strip()
        parts = text.str.extract(_CODE_REST)
        out = parse(text).astype(object)
        for alt in (parts[1], parts[0]):
            todo = out.isna() & alt.notna()
            if todo.any():
                out = out.where(~todo, parse(alt.fillna("")).astype(object))
        return out

    return on_uniques(values, fn)


def is_total(values: pd.Series) -> pd.Series:
    """``I alt``/``Total``/``TOT``/``IALT``/``Alder i alt``/``Age, total`` in any presentation."""

    def parse(text: pd.Series) -> pd.Series:
        hit = text.str.casefold().map(lambda v: " ".join(v.split())).isin(TOTAL_LABELS)
        return hit.where(hit)

    return resolve_cells(values, parse).notna()


def bulk_by_sidecar(src: StatBankTable) -> tuple[bool, str]:
    """Is the file BULK? Yes when the sidecar that ``fetch statbank`` wrote next to it says so.

    A BULK file cannot be told from a CSV export by its content, and filling zeros on a
    guess would turn lost lines of a CSV into zeros; so the evidence must be explicit.
    """
    sidecar = src.path.with_suffix(".json")
    if src.layout != "CSV" or not sidecar.is_file():
        return False, ""
    import json

    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
        fmt = str(record.get("request", {}).get("format", "")).upper()
    except (ValueError, OSError, AttributeError):
        return False, ""
    return fmt == "BULK", f"from the sidecar {sidecar.name}"


class _Loader:
    """Shared steps: read, set aside non-kommune rows, parse, quarantine, validate."""

    def __init__(self, path: str | Path, table: str, bulk: bool | None = None) -> None:
        self.spec = _SPECS[table]
        self.src = read_statbank(path, table)
        self.frame = self.src.frame
        self.notes: list[str] = [f"encoding: {self.src.encoding}"]
        if self.src.blank_lines:
            self.notes.append(f"ignored {count_phrase(self.src.blank_lines, 'blank line')}")
        self.bulk, how = (bulk, "bulk=True") if bulk is not None else bulk_by_sidecar(self.src)
        if self.bulk:
            self.notes.append(f"StatBank BULK format ({how}): cells whose value is 0 are absent")
        self._original = self.frame
        self.dropped: list[pd.DataFrame] = []

    def raw_for(self, rows: pd.Series) -> pd.Series:
        """The original lines (cells joined by ';') of the given source rows, by source row."""
        orig = self._original
        sub = orig.loc[orig[SOURCE_ROW].isin(rows)]
        return raw_lines(sub, [c for c in orig.columns if c != SOURCE_ROW], ";")

    def drop(self, mask: pd.Series, reason: str | pd.Series) -> None:
        """Set rows aside on purpose (not errors): they go to ``LoadResult.dropped``."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        part = self.frame.loc[mask, [SOURCE_ROW]].copy()
        part[REASON] = reason[mask] if isinstance(reason, pd.Series) else reason
        self.dropped.append(part)
        self.frame = self.frame.loc[~mask]

    def drop_areas(self) -> None:
        kinds, codes = classify_areas(self.frame["area"])
        self.frame = self.frame.assign(kommune_kode=codes, _kind=kinds)
        counts = kinds.value_counts()
        n_tot = int(counts.get("national", 0) + counts.get("region", 0))
        n_chr = int(counts.get("christiansoe", 0))
        n_unk = int(counts.get("no_kommune", 0))
        self.drop(kinds.isin(["national", "region"]), "national or regional total")
        self.drop(kinds == "christiansoe", "Christiansø (411) is not a municipality")
        self.drop(
            kinds == "no_kommune",
            "Uoplyst kommune (998): offences whose municipality is unknown, out of scope",
        )
        parts = [count_phrase(n_tot, "national/regional total row")] if n_tot else []
        parts += [count_phrase(n_chr, "Christiansø row")] if n_chr else []
        parts += [count_phrase(n_unk, "'Uoplyst kommune' (998) row")] if n_unk else []
        if parts:
            self.notes.append("dropped " + " and ".join(parts))

    def drop_totals(self, column: str, heading: str) -> None:
        total = is_total(self.frame[column])
        if total.any():
            self.drop(total, f"{heading} total (I alt/Total)")
            self.notes.append(f"dropped {count_phrase(int(total.sum()), 'total row')} in {heading}")

    def problems(self) -> RowProblems:
        problems = RowProblems(self.frame.index)
        kind = self.frame["_kind"]
        heading = self.src.headings["area"]
        unknown = kind == "unknown"
        problems.add(
            unknown,
            heading
            + " "
            + quote(self.frame.loc[unknown, "area"])
            + " is not a municipality, region, national total or Christiansø; use a code "
            "(101) or name (København) from botrygt_eval.reference.kommuner()",
        )
        periods, reason = parse_periods(self.frame["time"], self.spec.time, self.spec.name)
        problems.add(reason.notna(), reason)
        self.frame = self.frame.assign(
            year=periods["year"].to_numpy(), quarter=periods["quarter"].to_numpy()
        )
        numbers, missing, bad = parse_numbers(self.frame["value"])
        values, frac = whole_numbers(numbers)
        value = self.frame["value"]
        problems.add(bad, "INDHOLD " + quote(value[bad]) + " is not a number")
        problems.add(frac, "INDHOLD " + quote(value[frac]) + " is not a whole number")
        self.frame = self.frame.assign(value_int=values)
        n_missing = int(missing.sum())
        if n_missing:
            self.notes.append(
                f"{count_phrase(n_missing, 'missing value')} ('..' or empty) kept as missing"
            )
        return problems

    def fill_zeros(
        self,
        good: pd.DataFrame,
        quarantined: list[pd.DataFrame],
        axes: list[list[str]],
        value: str,
        columns: list[str],
    ) -> pd.DataFrame:
        """Add the grid cells the file leaves out as 0 (StatBank BULK omits zero cells)."""
        if good.empty:
            return good
        absent, blocked = _fill_zeros_grid(good, quarantined, axes)
        keys = [c for axis in axes for c in axis]
        if len(absent) and not self.bulk:
            self.notes.append(
                f"{count_phrase(len(absent), 'absent cell')} "
                f"({' x '.join('/'.join(a) for a in axes)}) left absent: StatBank's BULK "
                "format leaves out cells whose value is 0, but nothing marks this file as BULK "
                "(no sidecar from 'botrygt-eval fetch statbank'); if it is BULK, load it with "
                "bulk=True or fetch it with 'botrygt-eval fetch statbank', otherwise export "
                "the table again"
            )
            return good
        if len(absent):
            fill = absent.reset_index(drop=True)
            for col in columns:
                if col not in keys and col != value:
                    fill[col] = good[col].iloc[0]  # constant columns (offence_code)
            fill[value] = pd.array(np.zeros(len(fill), dtype=np.int64), dtype="Int64")
            fill[SOURCE_ROW] = 0
            good = pd.concat([good, fill.astype(good[fill.columns].dtypes)], ignore_index=True)
            self.notes.append(
                f"filled {count_phrase(len(absent), 'absent cell')} "
                f"({' x '.join('/'.join(a) for a in axes)}) with 0: StatBank's BULK format "
                "leaves out cells whose value is 0; '..' cells stay missing; filled rows "
                "have source_row 0"
            )
        if blocked:
            self.notes.append(
                f"{count_phrase(blocked, 'absent cell')} not filled with 0 because a "
                "quarantined line may hold them"
            )
        return good

    def result(
        self,
        problems: RowProblems,
        columns: list[str],
        keys: list[str],
        schema: pa.DataFrameSchema,
        quarantine_dir: str | Path | None,
        rename: dict[str, str],
        grid: list[list[str]] | None = None,
    ) -> LoadResult:
        good, bad = problems.split(self.frame.rename(columns=rename))
        dup = duplicated_keys(good, keys)
        good, dups = good.loc[~dup], good.loc[dup].assign(**{REASON: dup_reason(keys)})
        if grid:
            value = next(iter(rename.values()))
            good = self.fill_zeros(good, [bad, dups], grid, value, columns)
        dropped = (
            pd.concat(self.dropped, ignore_index=True)
            if self.dropped
            else pd.DataFrame(
                {SOURCE_ROW: pd.Series(dtype="int64"), REASON: pd.Series(dtype=object)}
            )
        )
        dropped = dropped.assign(raw=dropped[SOURCE_ROW].map(self.raw_for(dropped[SOURCE_ROW])))
        keep = [SOURCE_ROW, REASON, *[c for c in columns if c in bad.columns]]
        return finish(
            good,
            schema,
            source=self.src.path,
            columns=columns,
            quarantine_dir=quarantine_dir,
            prior=[self.src.malformed, bad[keep], dups[keep]],
            notes=self.notes,
            dropped=dropped.sort_values(SOURCE_ROW, kind="stable").reset_index(drop=True),
            raw=self.raw_for,
        )


def _anti_join(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """Rows of ``left`` whose ``on`` values do not occur in ``right``."""
    if not on:
        return left.iloc[0:0] if len(right) else left
    hit = left[on].merge(right[on].drop_duplicates(), on=on, how="left", indicator=True)
    return left.loc[(hit["_merge"] == "left_only").to_numpy()]


def _fill_zeros_grid(
    good: pd.DataFrame, quarantined: list[pd.DataFrame], axes: list[list[str]]
) -> tuple[pd.DataFrame, int]:
    """Cells of the grid the file covers that no row holds: ``(absent cells, n blocked)``.

    The grid is the product of the values seen on each axis (kommune, period, sex,
    age...). A cell that a quarantined line may hold (it matches that line on every
    axis the line could be read on) is not filled: it is counted as blocked.
    """
    keys = [c for axis in axes for c in axis]
    rows = [good[keys], *[q[[c for c in keys if c in q.columns]] for q in quarantined]]
    grid: pd.DataFrame | None = None
    for axis in axes:
        seen = pd.concat([r[axis] for r in rows if set(axis) <= set(r.columns)])
        levels = seen.dropna().drop_duplicates().reset_index(drop=True)
        grid = levels if grid is None else grid.merge(levels, how="cross")
    absent = _anti_join(grid, good, keys)
    before = len(absent)
    for q in quarantined:
        if q.empty or absent.empty:
            continue
        q = q.reindex(columns=keys)
        known = pd.DataFrame({i: q[axis].notna().all(axis=1) for i, axis in enumerate(axes)})
        for pattern, part in q.groupby([known[i] for i in known.columns]):
            on = [c for i, axis in enumerate(axes) if pattern[i] for c in axis]
            absent = _anti_join(absent, part, on)
    return absent, before - len(absent)


def _burglaries(path, table, quarantine_dir, bulk) -> LoadResult:
    loader = _Loader(path, table, bulk)
    loader.drop_areas()
    offence = _offence_codes(loader.frame["offence"])
    other = offence != schemas.BURGLARY_OFFENCE_CODE
    other = other.fillna(True).astype(bool)
    n_burglary = int((~other).sum())
    if n_burglary == 0 and len(loader.frame):
        seen = ", ".join(repr(v) for v in pd.unique(loader.frame["offence"])[:5])
        raise InputFileError(
            f"{loader.src.path}: no rows for offence 1320 (burglary of dwellings) in {table}; "
            f"offences found: {seen}; select '1320 Indbrud i beboelser' in OVERTRÆD when exporting"
        )
    if other.any():
        labels = ", ".join(repr(v) for v in pd.unique(loader.frame.loc[other, "offence"])[:5])
        loader.drop(other, "offence other than 1320 (burglary of dwellings)")
        loader.notes.append(
            f"dropped {count_phrase(int(other.sum()), 'row')} for other offences than 1320 "
            f"({labels})"
        )
    loader.frame = loader.frame.assign(offence_code=schemas.BURGLARY_OFFENCE_CODE)
    problems = loader.problems()
    if table == "STRAF11":
        columns = ["kommune_kode", "year", "quarter", "offence_code", "burglaries"]
        keys, schema = ["kommune_kode", "year", "quarter"], schemas.BURGLARIES_QUARTERLY
    else:
        columns = ["kommune_kode", "year", "offence_code", "burglaries"]
        keys, schema = ["kommune_kode", "year"], schemas.BURGLARIES_ANNUAL
    axes = [["kommune_kode"], ["year", "quarter"] if table == "STRAF11" else ["year"]]
    return loader.result(
        problems, columns, keys, schema, quarantine_dir, {"value_int": "burglaries"}, axes
    )


def load_straf11(
    path: str | Path, quarantine_dir: str | Path | None = None, bulk: bool | None = None
) -> LoadResult:
    """Reported burglaries of dwellings (offence 1320) by kommune and quarter.

    ``.data``: ``kommune_kode, year, quarter, offence_code, burglaries`` (Int64, missing for ``..``).
    ``bulk``: the file is StatBank BULK (zero cells left out), so absent cells are filled
    with 0; ``None`` asks the sidecar ``<name>.json`` written by ``fetch statbank``.
    """
    return _burglaries(path, "STRAF11", quarantine_dir, bulk)


def load_straf10(
    path: str | Path, quarantine_dir: str | Path | None = None, bulk: bool | None = None
) -> LoadResult:
    """Reported burglaries of dwellings (offence 1320) by kommune and year.

    ``.data``: ``kommune_kode, year, offence_code, burglaries``.
    """
    return _burglaries(path, "STRAF10", quarantine_dir, bulk)


def load_folk1a(
    path: str | Path, quarantine_dir: str | Path | None = None, bulk: bool | None = None
) -> LoadResult:
    """Population by kommune, sex and single year of age (FOLK1A).

    ``.data``: ``kommune_kode, year, quarter, sex, age, population``. Totals in KØN
    and ALDER are set aside; of CIVILSTAND only the total is kept (the file must have it).
    """
    loader = _Loader(path, "FOLK1A", bulk)
    loader.drop_areas()
    if "marital" in loader.frame.columns:
        marital = loader.frame["marital"]
        total = is_total(marital)
        if not total.any() and marital.nunique() > 1:
            raise InputFileError(
                f"{loader.src.path}: FOLK1A has CIVILSTAND categories but no 'I alt'/'Total'; "
                "export the table with CIVILSTAND = I alt (total)"
            )
        if (~total).any() and total.any():
            loader.drop(~total, "CIVILSTAND category (the total is used)")
            loader.notes.append(
                f"dropped {count_phrase(int((~total).sum()), 'row')} by marital status "
                "(CIVILSTAND total used)"
            )
    heads = loader.src.headings
    loader.drop_totals("sex", heads["sex"])
    loader.drop_totals("age", heads["age"])
    problems = loader.problems()
    frame = loader.frame
    sex = resolve_cells(frame["sex"], lambda u: u.str.casefold().map(SEX_LABELS))
    problems.add(
        sex.isna(),
        heads["sex"]
        + " "
        + quote(frame.loc[sex.isna(), "sex"])
        + " is not Mænd/Kvinder (Men/Women)",
    )
    age = resolve_cells(
        frame["age"], lambda u: pd.to_numeric(u.str.extract(_AGE)[0], errors="coerce")
    )
    age = pd.to_numeric(age, errors="coerce")
    problems.add(
        age.isna(),
        heads["age"]
        + " "
        + quote(frame.loc[age.isna(), "age"])
        + " is not a single year of age like '42 år' or '42 years'",
    )
    loader.frame = loader.frame.assign(sex=sex, age=age.astype("Int64"))
    columns = ["kommune_kode", "year", "quarter", "sex", "age", "population"]
    return loader.result(
        problems,
        columns,
        ["kommune_kode", "year", "quarter", "sex", "age"],
        schemas.POPULATION,
        quarantine_dir,
        {"value_int": "population"},
        [["kommune_kode"], ["year", "quarter"], ["sex"], ["age"]],
    )


def load_households(
    path: str | Path, quarantine_dir: str | Path | None = None, bulk: bool | None = None
) -> LoadResult:
    """Households by kommune and year (FAM55N). ``.data``: ``kommune_kode, year, households``.

    FAM55N as DST serves it also has ``HUSTYP``, ``HUSSTØR`` and ``ANTBORNH``; their
    total is used where the file has one, otherwise the households are summed over
    them (BULK forces a selection of every variable), and the notes say so.
    """
    loader = _Loader(path, "FAM55N", bulk)
    loader.drop_areas()
    heads = loader.src.headings
    to_sum: list[str] = []
    for dim in HOUSEHOLD_DIMS:
        if dim not in loader.frame.columns:
            continue
        total = is_total(loader.frame[dim])
        if total.any():
            loader.drop(~total, f"{heads[dim]} category (the total is used)")
            if (~total).any():
                loader.notes.append(
                    f"dropped {count_phrase(int((~total).sum()), 'row')} by {heads[dim]} "
                    f"({heads[dim]} total used)"
                )
        elif loader.frame[dim].nunique() > 1:
            to_sum.append(dim)
    if to_sum:
        _sum_households(loader, [heads[d] for d in to_sum])
    problems = loader.problems()
    return loader.result(
        problems,
        ["kommune_kode", "year", "households"],
        ["kommune_kode", "year"],
        schemas.HOUSEHOLDS,
        quarantine_dir,
        {"value_int": "households"},
        [["kommune_kode"], ["year"]],
    )


def _sum_households(loader: _Loader, names: list[str]) -> None:
    """Sum INDHOLD over household variables without a total: one row per OMRÅDE x TID.

    The first line of each OMRÅDE x TID group carries the sum; the other lines are
    set aside as "added into line N". A ``..`` in any part makes the sum missing; an
    unreadable part makes the first line carry that cell, so it is quarantined.
    """
    frame = loader.frame
    numbers, missing, bad = parse_numbers(frame["value"])
    group = frame.groupby(["area", "time"], sort=False, dropna=False).ngroup()
    first_row = frame[SOURCE_ROW].groupby(group).transform("min")
    is_first = frame[SOURCE_ROW] == first_row
    total = numbers.groupby(group).transform("sum")
    any_missing = missing.groupby(group).transform("any")
    first_bad = frame["value"].where(bad).groupby(group).transform("first")
    whole = np.isfinite(total) & (total == np.floor(total))
    summed = total.astype(str)
    summed[whole] = total[whole].astype("int64").astype(str)
    summed = summed.where(~any_missing, "..")
    summed = first_bad.where(first_bad.notna(), summed)
    loader.frame = frame.assign(value=summed.where(is_first, frame["value"]))
    loader.drop(
        ~is_first,
        "added into the household count on line " + first_row.astype(str),
    )
    parts = " x ".join(names)
    loader.notes.append(
        f"summed households over {parts} (no total in the file): "
        f"{count_phrase(int(is_first.sum()), 'kommune-year row')} from "
        f"{count_phrase(len(frame), 'line')}; the other lines are set aside as added into "
        "the first line of their OMRÅDE x TID"
    )
    if any_missing[is_first].any():
        loader.notes.append(
            f"{count_phrase(int(any_missing[is_first].sum()), 'sum')} missing because a part is '..'"
        )
