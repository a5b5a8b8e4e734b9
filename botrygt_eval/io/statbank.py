"""Statistics Denmark (StatBank) CSV exports: STRAF11, STRAF10, FOLK1A and FAM55N.

A StatBank CSV is semicolon-separated, UTF-8 with BOM (older exports Windows-1252),
with one column per variable followed by ``INDHOLD``, decimal comma and ``..`` for
a missing or confidential value; headings and labels are Danish or English.
:func:`read_statbank` turns any such file into strings under canonical column
names; the table loaders turn that into the tidy frames of docs/DATA_FORMATS.md.

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

from botrygt_eval import schemas
from botrygt_eval.errors import InputFileError, UnknownMunicipalityError
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
}
_DANISH = {"OMRÅDE", "OMRAADE", "OMRADE", "OVERTRÆD", "OVERTRAED", "KØN", "KOEN", "ALDER"}
_DANISH |= {"CIVILSTAND", "TID", "INDHOLD"}

TOTAL_LABELS = frozenset({"i alt", "ialt", "total", "tot", "in total", "all"})
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
AreaKind = Literal["kommune", "national", "region", "christiansoe", "unknown"]


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
        "FAM55N", ("area", "time", "value"), (), "year", "FAM55N, households by kommune and year"
    ),
}


_ENGLISH = {
    "area": "REGION",
    "offence": "TYPE OF OFFENCE",
    "sex": "SEX",
    "age": "AGE",
    "marital": "MARITAL STATUS",
    "time": "TIME",
    "value": "INDHOLD",
}


def _expected(spec: _Spec) -> str:
    keys = [*spec.required[:-1], *spec.optional, "value"]
    da = ";".join(HEADINGS[k][0] for k in keys)
    en = ";".join(_ENGLISH[k] for k in keys)
    return f"{da} (Danish) or {en} (English)"


def read_statbank(path: str | Path, table: str | None = None) -> StatBankTable:
    """Read a StatBank CSV export into strings under canonical names.

    Canonical columns: ``area, offence, sex, age, marital, time, value`` (those
    present) plus ``source_row`` (line number in the file). Raises
    :class:`InputFileError` when the file is missing, undecodable or not a
    StatBank long-format export.
    """
    spec = _SPECS.get(table or "")
    what = spec.what if spec else "StatBank export"
    path = existing_file(path, what)
    text, encoding = read_text(path, what)
    first = text.split("\n", 1)[0]
    if ";" not in first:
        raise InputFileError(
            f"{path}: not a StatBank CSV export ({what}): the first line {first[:80]!r} has no "
            "';' separators; download the table from statistikbanken.dk as "
            "'CSV (semikolonsepareret)'"
        )
    frame, blank, malformed = read_delimited(text, ";", path, what)
    headings: dict[str, str] = {}
    unknown: list[str] = []
    for col in frame.columns:
        if col == SOURCE_ROW:
            continue
        key = next((k for k, names in HEADINGS.items() if col.upper() in names), None)
        if key is None or key in headings:
            unknown.append(col)
        else:
            headings[key] = col
    if "value" not in headings:
        raise InputFileError(
            f"{path}: not a StatBank long-format export ({what}): no INDHOLD column "
            f"(found: {', '.join(c for c in frame.columns if c != SOURCE_ROW)}); "
            "download the table as 'CSV (semikolonsepareret)' with one column per variable "
            "and INDHOLD last"
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
    return StatBankTable(frame, path, encoding, language, headings, blank, malformed)


def classify_areas(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Kind and kommune code of each ``OMRÅDE`` cell (code, name, or ``code name``).

    Kinds: ``kommune``, ``national``, ``region`` (regions 081-085 and landsdele),
    ``christiansoe`` (411) and ``unknown``. Each distinct value is classified once.
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
        parts = u.str.extract(_TIME)
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


class _Loader:
    """Shared steps: read, set aside non-kommune rows, parse, quarantine, validate."""

    def __init__(self, path: str | Path, table: str) -> None:
        self.spec = _SPECS[table]
        self.src = read_statbank(path, table)
        self.frame = self.src.frame
        self.notes: list[str] = [f"encoding: {self.src.encoding}"]
        if self.src.blank_lines:
            self.notes.append(f"ignored {count_phrase(self.src.blank_lines, 'blank line')}")
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
        self.drop(kinds.isin(["national", "region"]), "national or regional total")
        self.drop(kinds == "christiansoe", "Christiansø (411) is not a municipality")
        parts = [count_phrase(n_tot, "national/regional total row")] if n_tot else []
        parts += [count_phrase(n_chr, "Christiansø row")] if n_chr else []
        if parts:
            self.notes.append("dropped " + " and ".join(parts))

    def drop_totals(self, column: str, heading: str) -> None:
        total = on_uniques(self.frame[column], lambda u: u.str.casefold().isin(TOTAL_LABELS))
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

    def result(
        self,
        problems: RowProblems,
        columns: list[str],
        keys: list[str],
        schema: pa.DataFrameSchema,
        quarantine_dir: str | Path | None,
        rename: dict[str, str],
    ) -> LoadResult:
        good, bad = problems.split(self.frame.rename(columns=rename))
        dup = duplicated_keys(good, keys)
        good, dups = good.loc[~dup], good.loc[dup].assign(**{REASON: dup_reason(keys)})
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


def _burglaries(path, table, quarantine_dir) -> LoadResult:
    loader = _Loader(path, table)
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
    return loader.result(
        problems, columns, keys, schema, quarantine_dir, {"value_int": "burglaries"}
    )


def load_straf11(path: str | Path, quarantine_dir: str | Path | None = None) -> LoadResult:
    """Reported burglaries of dwellings (offence 1320) by kommune and quarter.

    ``.data``: ``kommune_kode, year, quarter, offence_code, burglaries`` (Int64, missing for ``..``).
    """
    return _burglaries(path, "STRAF11", quarantine_dir)


def load_straf10(path: str | Path, quarantine_dir: str | Path | None = None) -> LoadResult:
    """Reported burglaries of dwellings (offence 1320) by kommune and year.

    ``.data``: ``kommune_kode, year, offence_code, burglaries``.
    """
    return _burglaries(path, "STRAF10", quarantine_dir)


def load_folk1a(path: str | Path, quarantine_dir: str | Path | None = None) -> LoadResult:
    """Population by kommune, sex and single year of age (FOLK1A).

    ``.data``: ``kommune_kode, year, quarter, sex, age, population``. Totals in KØN
    and ALDER are set aside; of CIVILSTAND only the total is kept (the file must have it).
    """
    loader = _Loader(path, "FOLK1A")
    loader.drop_areas()
    if "marital" in loader.frame.columns:
        marital = loader.frame["marital"]
        total = on_uniques(marital, lambda u: u.str.casefold().isin(TOTAL_LABELS))
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
    sex = on_uniques(frame["sex"], lambda u: u.str.casefold().map(SEX_LABELS))
    problems.add(
        sex.isna(),
        heads["sex"]
        + " "
        + quote(frame.loc[sex.isna(), "sex"])
        + " is not Mænd/Kvinder (Men/Women)",
    )
    age = on_uniques(frame["age"], lambda u: pd.to_numeric(u.str.extract(_AGE)[0], errors="coerce"))
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
    )


def load_households(path: str | Path, quarantine_dir: str | Path | None = None) -> LoadResult:
    """Households by kommune and year (FAM55N). ``.data``: ``kommune_kode, year, households``."""
    loader = _Loader(path, "FAM55N")
    loader.drop_areas()
    problems = loader.problems()
    return loader.result(
        problems,
        ["kommune_kode", "year", "households"],
        ["kommune_kode", "year"],
        schemas.HOUSEHOLDS,
        quarantine_dir,
        {"value_int": "households"},
    )
