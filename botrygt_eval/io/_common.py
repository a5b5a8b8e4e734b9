"""Shared parsing helpers for the loaders: decoding, delimited text, numbers, codes, dates.

Everything is vectorised over columns (or over the few distinct values of a
column); nothing loops over rows. Helpers return masks of bad rows with reasons
so the loaders can quarantine them rather than raise.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from botrygt_eval.errors import InputFileError, UnknownMunicipalityError
from botrygt_eval.io.quarantine import REASON, SOURCE_ROW, LoadResult, validate_rows
from botrygt_eval.reference import to_kommune_kode

UTF8_BOM = b"\xef\xbb\xbf"
MISSING_MARKERS = ("", "..")
_MOJIBAKE = re.compile("Ã[¸¦¥˜†…]")


def existing_file(path: str | Path, what: str) -> Path:
    """The path, or an :class:`InputFileError` saying it is not there."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(
            f"{path}: file not found ({what}); check the path or put the file in the workspace "
            "as described in docs/DATA_FORMATS.md"
        )
    return path


def read_text(path: Path, what: str) -> tuple[str, str]:
    """Decode a text file and say how: UTF-8 (BOM or not), else Windows-1252; refuse binary."""
    raw = path.read_bytes()
    head = raw[:4096]
    if head.startswith(b"PK\x03\x04"):
        raise InputFileError(
            f"{path}: this is a zip/Excel workbook, not a CSV file ({what}); "
            "save it as CSV (semicolon-separated) or export the table again as CSV"
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, encoding = raw.decode("utf-16"), "UTF-16 with BOM"
    elif b"\x00" in head:
        raise InputFileError(
            f"{path}: the file is binary, not text ({what}); "
            "export the table again as CSV (UTF-8 or Windows-1252)"
        )
    elif raw.startswith(UTF8_BOM):
        text, encoding = _decode(raw[3:], "utf-8", path, what), "UTF-8 with BOM"
    else:
        try:
            text, encoding = raw.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            text = _decode(raw, "cp1252", path, what)
            encoding = "Windows-1252 (not valid UTF-8; read as an older StatBank/Excel export)"
    if not text.strip():
        raise InputFileError(f"{path}: the file is empty ({what}); export the table again")
    sample = text[:1_000_000]
    controls = sum(sample.count(chr(c)) for c in (*range(0, 9), 11, 12, *range(14, 32), 127))
    if controls > max(2, len(sample) // 1000):
        raise InputFileError(
            f"{path}: the file holds binary data ({controls} control characters), not text "
            f"({what}); export the table again as CSV"
        )
    if _MOJIBAKE.search(sample):
        raise InputFileError(
            f"{path}: the text is double-encoded (e.g. 'Ã¸' where 'ø' is meant: UTF-8 read as "
            "Windows-1252 and saved again); download the file again and do not re-save it in "
            "another program"
        )
    return text, encoding


def _decode(raw: bytes, codec: str, path: Path, what: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: cannot decode byte {raw[exc.start]:#04x} at position {exc.start} as "
            f"UTF-8 or Windows-1252 ({what}); save the file as UTF-8 CSV and try again"
        ) from None


def sniff_separator(text: str, preferred: str) -> str:
    """``;`` or ``,``: whichever splits the header line into more fields."""
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda s: (counts[s], s == preferred))
    return best if counts[best] else preferred


def read_delimited(
    text: str, sep: str, path: Path, what: str
) -> tuple[pd.DataFrame, int, pd.DataFrame]:
    """All cells as strings plus ``source_row`` (the line number); blank lines removed.

    Returns the frame, the number of blank lines skipped, and the malformed lines
    (more fields than the header: ``source_row, reason, raw``) for the quarantine.
    """
    try:
        with warnings.catch_warnings():
            # extra fields on the first line would silently become an index or be cut
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                index_col=False,
                engine="c",
            )
        malformed = _no_malformed()
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{path}: the file is empty ({what}); export it again") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning):
        frame, malformed = _read_ragged(text, sep, path, what)
    frame.columns = [str(c).strip().strip('"').strip() for c in frame.columns]
    if _padded(text, sep):  # strip only when some cell may be padded (a fast check on the text)
        for col in frame.columns.drop(SOURCE_ROW, errors="ignore"):
            frame[col] = on_uniques(frame[col], lambda u: u.str.strip())
    if SOURCE_ROW not in frame.columns:
        frame[SOURCE_ROW] = np.arange(2, len(frame) + 2)
    cells = [frame[c].to_numpy() == "" for c in frame.columns if c != SOURCE_ROW]
    blank = np.logical_and.reduce(cells) if cells else np.zeros(len(frame), dtype=bool)
    return frame.loc[~blank].reset_index(drop=True), int(blank.sum()), malformed


def _padded(text: str, sep: str) -> bool:
    """Whether any cell may start or end with a space (substring tests: much faster than a regex)."""
    marks = (f" {sep}", f"{sep} ", " \n", "\n ", " \r", "\u00a0", f"\t{sep}", f"{sep}\t")
    return text.startswith((" ", "\t")) or any(m in text for m in marks)


def _no_malformed() -> pd.DataFrame:
    return pd.DataFrame(
        {SOURCE_ROW: pd.Series(dtype="int64"), REASON: pd.Series(dtype=object), "raw": ""}
    )


def _read_ragged(text: str, sep: str, path: Path, what: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Slow path for a file with lines of too many fields: keep the good lines, flag the rest."""
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    if not rows:
        raise InputFileError(f"{path}: the file is empty ({what}); export it again")
    header, body = rows[0], rows[1:]
    width = len(header)
    lines = np.arange(2, len(body) + 2)
    sizes = np.array([len(r) for r in body], dtype=int)
    ok = sizes <= width
    good = [r + [""] * (width - len(r)) for r, k in zip(body, ok, strict=True) if k]
    frame = pd.DataFrame(good, columns=header, dtype=object)
    frame[SOURCE_ROW] = lines[ok]
    bad_rows = [r for r, k in zip(body, ok, strict=True) if not k]
    malformed = pd.DataFrame(
        {
            SOURCE_ROW: lines[~ok],
            REASON: [
                f"the line has {len(r)} fields but the header has {width} "
                f"(a '{sep}' inside a value? quote the value or remove the '{sep}')"
                for r in bad_rows
            ],
            "raw": [sep.join(r) for r in bad_rows],
        }
    )
    return frame, malformed


def on_uniques(values: pd.Series, fn: Callable[[pd.Series], pd.Series | pd.DataFrame]):
    """Apply a vectorised ``fn`` to the distinct values only, then spread the result back.

    Columns of StatBank and survey files repeat few values many times, so this is
    much faster than string operations over every row.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    out = fn(pd.Series(uniques, dtype=object))
    return out.take(codes).set_axis(values.index)


def parse_numbers(
    values: pd.Series, decimal_comma: bool = True
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers from text: ``..`` and empty are missing, decimal comma allowed.

    Returns ``(numbers as float, missing mask, bad mask)``.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(float)
        return numbers, numbers.isna(), pd.Series(False, index=values.index)
    parsed = on_uniques(values, lambda u: _parse_numbers(u, decimal_comma))
    return parsed["number"], parsed["missing"].astype(bool), parsed["bad"].astype(bool)


def _parse_numbers(values: pd.Series, decimal_comma: bool) -> pd.DataFrame:
    text = values.astype(str).str.strip()
    missing = text.isin(MISSING_MARKERS) | values.isna()
    clean = text.str.replace(r"[\s\u00a0]", "", regex=True)
    if decimal_comma:
        clean = clean.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(clean.where(~missing), errors="coerce")
    bad = ~missing & numbers.isna()
    return pd.DataFrame({"number": numbers.astype(float), "missing": missing, "bad": bad})


def whole_numbers(numbers: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Nullable integers from floats; the mask flags values with a fractional part."""
    arr = numbers.to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(arr)
    with np.errstate(invalid="ignore"):
        frac_arr = ~missing & (np.mod(arr, 1) != 0)
    frac_arr |= np.abs(np.nan_to_num(arr)) > 2**62  # not representable: flag, never drop
    mask = missing | frac_arr
    ints = np.where(mask, 0, np.nan_to_num(arr)).astype(np.int64)
    frac = pd.Series(frac_arr, index=numbers.index)
    return pd.Series(pd.arrays.IntegerArray(ints, mask), index=numbers.index), frac


def map_kommuner(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Kommune codes from codes or names (each distinct value looked up once).

    Returns ``(codes as Int64, reason per value or None for the ones that failed)``.
    """
    text = values.astype(str).str.strip()
    lookup: dict[str, int | None] = {}
    problems: dict[str, str] = {}
    for value in text.unique():
        try:
            lookup[value] = to_kommune_kode(value)
        except UnknownMunicipalityError as exc:
            lookup[value] = None
            problems[value] = str(exc) if value else "kommune_kode is empty"
    codes = text.map(lookup).astype("Int64")
    reasons = text.map(problems)
    return codes, reasons


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates from ISO ``YYYY-MM-DD`` or Danish ``DD-MM-YYYY`` / ``DD.MM.YYYY`` / ``DD/MM/YYYY``.

    Returns ``(datetime64 series, bad mask)``; empty cells are missing, not bad.
    """
    text = values.astype(str).str.strip()
    empty = text.isin(("", "nan", "NaT", "None")) | values.isna()
    out = pd.to_datetime(text.where(~empty), format="%Y-%m-%d", errors="coerce")
    for fmt in ("%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"):
        todo = out.isna() & ~empty
        if not todo.any():
            break
        out = out.where(~todo, pd.to_datetime(text.where(todo), format=fmt, errors="coerce"))
    return out, out.isna() & ~empty


class RowProblems:
    """Collects per-row reasons while parsing; one row may get several."""

    def __init__(self, index: pd.Index) -> None:
        self._reasons = pd.Series("", index=index, dtype=object)

    def add(self, mask: pd.Series, reason: str | pd.Series) -> None:
        mask = mask.reindex(self._reasons.index, fill_value=False).fillna(False).astype(bool)
        if not mask.any():
            return
        if isinstance(reason, pd.Series):
            text = reason.reindex(mask.index)
        else:
            text = pd.Series(reason, index=mask.index)
        current = self._reasons[mask]
        joined = np.where(current == "", text[mask], current + "; " + text[mask].astype(str))
        self._reasons.loc[mask] = joined

    @property
    def mask(self) -> pd.Series:
        return self._reasons != ""

    def split(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(good rows, bad rows with a reason column)``."""
        mask = self.mask
        bad = frame.loc[mask].copy()
        bad[REASON] = self._reasons[mask]
        return frame.loc[~mask], bad


def duplicated_keys(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Every copy of a duplicated key (rows with a missing key part are not compared)."""
    complete = frame[keys].notna().all(axis=1)
    dup = frame.loc[complete].duplicated(subset=keys, keep=False)
    return dup.reindex(frame.index, fill_value=False)


def dup_reason(keys: list[str]) -> str:
    return f"duplicated key ({', '.join(keys)})"


def raw_lines(frame: pd.DataFrame, columns: list[str], sep: str) -> pd.Series:
    """The original cells of each row joined again, indexed by ``source_row`` (for quarantine)."""
    joined = frame[columns[0]].astype(str)
    for col in columns[1:]:
        joined = joined + sep + frame[col].astype(str)
    return pd.Series(joined.to_numpy(), index=frame[SOURCE_ROW].to_numpy())


def finish(
    frame: pd.DataFrame,
    schema: pa.DataFrameSchema,
    *,
    source: Path,
    columns: list[str],
    quarantine_dir: str | Path | None,
    prior: list[pd.DataFrame] = (),
    notes: list[str] = (),
    dropped: pd.DataFrame | None = None,
    raw: Callable[[pd.Series], pd.Series] | None = None,
) -> LoadResult:
    """Validate the parsed rows, attach the original text to quarantined rows, write them.

    ``raw`` maps source rows to their original text (only called for quarantined rows).
    """
    parts = [p for p in prior if len(p)]
    prior_frame = pd.concat(parts, ignore_index=True) if parts else None
    result = validate_rows(
        frame[[*columns, SOURCE_ROW]],
        schema,
        source=source,
        quarantine_dir=None,
        prior_quarantine=prior_frame,
        notes=tuple(notes),
        dropped=dropped,
    )
    data = result.data[columns].reset_index(drop=True)
    bad = result.quarantined
    if raw is not None and len(bad):
        found = bad[SOURCE_ROW].map(raw(bad[SOURCE_ROW]))
        bad = bad.assign(raw=bad["raw"].fillna(found) if "raw" in bad.columns else found)
    lead = [c for c in (SOURCE_ROW, REASON, "raw") if c in bad.columns]
    bad = bad[lead + [c for c in bad.columns if c not in lead]].reset_index(drop=True)
    path = None
    if quarantine_dir is not None:
        target = Path(quarantine_dir) / f"{Path(source).stem}.quarantine.csv"
        if len(bad):
            target.parent.mkdir(parents=True, exist_ok=True)
            bad.to_csv(target, index=False)
            path = target
        else:  # a file left by an earlier run would describe data that is now clean
            target.unlink(missing_ok=True)
    return replace(result, data=data, quarantined=bad, quarantine_path=path)


def count_phrase(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


class CsvTable:
    """A comma- (or Danish Excel ``;``-) separated file read as strings with its row problems.

    Checks the columns (missing required ones raise :class:`InputFileError`), then
    the typed parsers below collect one reason per bad row for the quarantine.
    """

    def __init__(
        self, path: str | Path, what: str, columns: list[str], optional: set[str] = frozenset()
    ) -> None:
        self.path = existing_file(path, what)
        text, encoding = read_text(self.path, what)
        sep = sniff_separator(text, ",")
        self.decimal_comma = sep == ";"
        frame, blank, self.malformed = read_delimited(text, sep, self.path, what)
        frame.columns = [c if c == SOURCE_ROW else c.strip().lower() for c in frame.columns]
        self.notes = [f"encoding: {encoding}"]
        if sep != ",":
            self.notes.append(f"separator {sep!r} (Danish Excel export): decimal comma assumed")
        if blank:
            self.notes.append(f"ignored {count_phrase(blank, 'blank line')}")
        required = [c for c in columns if c not in optional]
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
        return f"{col} " + quote(self.frame.loc[mask, col])

    def kommune(self) -> None:
        codes, reasons = map_kommuner(self.frame["kommune_kode"])
        self.problems.add(reasons.notna(), "kommune_kode: " + reasons.dropna().astype(str))
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
        prior = [self.malformed, bad]
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


def quote(values: pd.Series) -> pd.Series:
    """``repr`` of each (bad) value as text, for reasons; safe on empty selections."""
    return pd.Series([repr(v) for v in values], index=values.index, dtype=object)
