"""Shared parsing helpers for the loaders: decoding, delimited text, numbers, codes, dates.

Everything is vectorised over columns (or over the few distinct values of a
column); nothing loops over rows. Helpers return masks of bad rows with reasons
so the loaders can quarantine them rather than raise.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import operator
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from botrygt_eval.errors import InputFileError, UnknownMunicipalityError
from botrygt_eval.io.quarantine import REASON, SOURCE_ROW, LoadResult, validate_rows
from botrygt_eval.privacy.guard import guarded_to_csv
from botrygt_eval.reference import to_kommune_kode

log = logging.getLogger(__name__)

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
    """Decode a text file and say how: UTF-8 (BOM or not), else Windows-1252; refuse binary.

    A UTF-8 file with a few lines in another encoding keeps those lines' bad bytes
    as surrogate escapes; :func:`read_delimited` quarantines exactly those lines.
    """
    raw = path.read_bytes()
    head = raw[:4096]
    if head.startswith(b"PK\x03\x04"):
        raise InputFileError(
            f"{path}: this is a zip/Excel workbook, not a CSV file ({what}); "
            "save it as CSV (semicolon-separated) or export the table again as CSV"
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, encoding = raw.decode("utf-16"), "UTF-16 with BOM"
    elif head.count(b"\x00") > 2 or _control_bytes(head) > max(4, len(head) // 100):
        # (a stray NUL byte or two is a problem of its line, not a binary file)
        raise InputFileError(
            f"{path}: the file is binary, not text ({what}); "
            "export the table again as CSV (UTF-8 or Windows-1252)"
        )
    elif raw.startswith(UTF8_BOM):
        text, encoding = raw[3:].decode("utf-8", "surrogateescape"), "UTF-8 with BOM"
    else:
        try:
            text, encoding = raw.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            escaped = raw.decode("utf-8", "surrogateescape")
            if _UTF8_LETTER.search(escaped):  # real UTF-8 elsewhere: only some lines are bad
                text, encoding = escaped, "UTF-8"
            else:
                text = _decode(raw, "cp1252", path, what)
                encoding = "Windows-1252 (not valid UTF-8; read as an older StatBank/Excel export)"
    first_line = text.split("\n", 1)[0]
    if re.search(_NOT_UTF8, first_line):  # a damaged header makes the file unusable
        pos = re.search(_NOT_UTF8, first_line).start()
        byte = ord(first_line[pos]) - 0xDC00
        raise InputFileError(
            f"{path}: cannot decode byte {byte:#04x} at position {pos} as UTF-8 or Windows-1252 "
            f"({what}); save the file as UTF-8 CSV and try again"
        )
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


def _control_bytes(head: bytes) -> int:
    return sum(head.count(bytes([c])) for c in (*range(0, 9), 11, 12, *range(14, 32)))


def _decode(raw: bytes, codec: str, path: Path, what: str) -> str:
    """Decode; bytes the codec cannot read stay as surrogate escapes (their line is
    quarantined, or the file refused when they are in the header)."""
    return raw.decode(codec, "surrogateescape")


def sniff_separator(text: str, preferred: str) -> str:
    """``;`` or ``,``: whichever splits the header line into more fields."""
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda s: (counts[s], s == preferred))
    return best if counts[best] else preferred


# --- physical lines ---------------------------------------------------------------------------
#
# A file is split into physical lines first and every line is parsed on its own, so a
# stray quote can never swallow the lines after it (a value with an embedded newline is
# not a legitimate case in these exports). Each line is then loaded, quarantined with a
# true reason, or set aside as a blank line; the malformed-lines frame carries the count
# of physical data lines in ``attrs[DATA_LINES]`` so the load log can add up.

#: ``attrs`` key of the malformed-lines frame: physical lines after the header
DATA_LINES = "physical_data_lines"
#: ``attrs`` key of the malformed-lines frame: notes about the lines (stray BOMs, ...)
LINE_NOTES = "line_notes"
#: column of the malformed-lines frame flagging lines set aside (blank), not quarantined
SET_ASIDE = "_set_aside"
BLANK_LINE = "blank line"
REASON_NOT_UTF8 = (
    "the line holds bytes that are not text in the file's encoding ({byte}; the rest of the "
    "file decodes): correct the characters on this line or save the whole file again as UTF-8"
)
REASON_NUL = "a NUL byte (\\x00) in the line (a damaged file); remove it or export the file again"
REASON_QUOTE = (
    "unbalanced quote: a '\"' opens a value that does not close on this line; "
    "remove the stray quote or close it on the same line"
)
REASON_REPEATED_HEADER = (
    "repeated header line (two exports pasted together?); delete the line or load the files "
    "separately"
)
_UTF8_LETTER = re.compile("[^\x00-\x7f\udc80-\udcff]")
_NOT_UTF8 = "[\udc80-\udcff]"


def _count_in(lines: pd.Series, sep: str) -> np.ndarray:
    """How often ``sep`` occurs in each line (``str.count`` mapped in C, no Python loop body)."""
    return np.fromiter(
        map(operator.methodcaller("count", sep), lines), dtype=np.int64, count=len(lines)
    )


def _has(text: str, pattern: str) -> bool:
    return re.search(pattern, text) is not None


def _physical_lines(text: str) -> list[str]:
    """Lines split at ``\\n`` (``\\r\\n`` and a lone-``\\r`` file too), without line ends."""
    if "\n" not in text and "\r" in text:
        lines = text.split("\r")
    else:
        lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final line end does not start a line
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def printable(line: str) -> str:
    """A line for the quarantine file: bytes that were not UTF-8 shown as Windows-1252."""
    if re.search(_NOT_UTF8, line):
        line = line.encode("utf-8", "surrogateescape").decode("cp1252", "replace")
    return line.replace("\x00", "\\x00")


def _first_bad_byte(line: str) -> str:
    found = re.search(_NOT_UTF8, line)
    return f"byte {ord(found.group(0)) - 0xDC00:#04x}" if found else "bytes"


def _parse_quoted(lines: list[str], sep: str) -> tuple[list[list[str] | None], dict[int, str]]:
    """Parse lines holding quotes with one csv reader; a record spanning lines is refused.

    Returns the fields of each line (``None`` for a bad line) and a reason per bad line.
    """
    records: list[list[str] | None] = [None] * len(lines)
    bad: dict[int, str] = {}
    start = 0
    while start < len(lines):
        reader = csv.reader(itertools.islice(lines, start, None), delimiter=sep, strict=True)
        done = 0  # lines of this pass consumed by complete one-line records
        try:
            for record in reader:
                if reader.line_num - done > 1:  # the record ran on into the next line
                    raise csv.Error("a quoted value does not close on this line")
                records[start + done] = record
                done = reader.line_num
            start = len(lines)
        except csv.Error as exc:
            bad[start + done] = f"malformed quoting ({exc}); " + REASON_QUOTE.split(": ", 1)[1]
            start += done + 1
    return records, bad


def _normalised(values: pd.Series) -> pd.Series:
    return values.str.replace('"', "", regex=False).str.replace(r"\s", "", regex=True).str.lower()


def read_delimited(
    text: str, sep: str, path: Path, what: str
) -> tuple[pd.DataFrame, int, pd.DataFrame]:
    """All cells as strings plus ``source_row`` (the 1-based physical line number).

    Returns the frame, the number of blank lines (set aside), and the lines that
    cannot be loaded (``source_row, reason, raw``; blank lines flagged in
    ``SET_ASIDE``) for the quarantine. ``malformed.attrs[DATA_LINES]`` holds the
    number of physical lines after the header.
    """
    lines = _physical_lines(text)
    first = 0
    while first < len(lines) and not lines[first].strip(sep + " \t\ufeff"):
        first += 1
    if first == len(lines):
        raise InputFileError(f"{path}: the file is empty ({what}); export it again")
    header_line = lines[first].replace("\ufeff", "")
    if header_line.count('"') % 2 or re.search(_NOT_UTF8, header_line) or "\x00" in header_line:
        raise InputFileError(
            f"{path}: line {first + 1} (the header) is damaged (an unbalanced quote, a NUL "
            f"byte or bytes that are not text) ({what}); correct the header line or export "
            "the file again"
        )
    header = next(csv.reader([header_line], delimiter=sep))
    header = [h.strip().strip('"').strip() or f"Unnamed: {i}" for i, h in enumerate(header)]
    width = len(header)
    body = pd.Series(lines[first + 1 :], dtype=object)
    numbers = np.arange(first + 2, first + 2 + len(body), dtype=np.int64)
    notes: list[str] = []
    if len(body) == 0:
        notes.append("the file holds only the header: no data lines")
    bom = body.str.contains("\ufeff", regex=False) if "\ufeff" in text else None
    if bom is not None and bom.any():
        body = body.str.replace("\ufeff", "", regex=False)
        notes.append(f"removed stray byte-order marks on {count_phrase(int(bom.sum()), 'line')}")
    reason = pd.Series(None, index=body.index, dtype=object)
    length = pd.Series(np.fromiter(map(len, body), dtype=np.int64, count=len(body)), body.index)
    short = (length < 2 * width + 8).to_numpy()  # only short lines can be blank
    blank_arr = np.zeros(len(body), dtype=bool)
    if short.any():
        blank_arr[short] = (body[short].str.strip(sep + " \t") == "").to_numpy(dtype=bool)
    blank = pd.Series(blank_arr, index=body.index)
    not_utf8 = body.str.contains(_NOT_UTF8, regex=True) if _has(text, _NOT_UTF8) else None
    if not_utf8 is not None and not_utf8.any():
        reason[not_utf8] = [REASON_NOT_UTF8.format(byte=_first_bad_byte(x)) for x in body[not_utf8]]
    if "\x00" in text:
        nul = body.str.contains("\x00", regex=False) & reason.isna()
        reason[nul] = REASON_NUL
    has_quote = '"' in text
    if has_quote:
        odd = (body.str.count('"') % 2 == 1) & reason.isna() & ~blank
        reason[odd] = REASON_QUOTE
    rest = text[len(lines[first]) :] if first == 0 else text
    if re.search(re.escape(header[0]), rest, re.IGNORECASE):  # cheap pre-filter
        maybe = body.str.contains(header[0], case=False, regex=False)
        own = _normalised(pd.Series([header_line])).iloc[0].rstrip(sep)
        repeated = _normalised(body[maybe]).str.rstrip(sep) == own
        repeated = repeated.reindex(body.index, fill_value=False)
        reason[repeated & reason.isna()] = REASON_REPEATED_HEADER
    todo = reason.isna() & ~blank
    quoted = todo & body.str.contains('"', regex=False) if has_quote else todo & False
    # Well-formed quoting ("a";"b;c";"") goes through the C parser like plain lines; a
    # shadow of each line with quoted values replaced by Q counts its fields.
    shadow = body
    regular = quoted & False
    if quoted.any():
        field = f'(?:"(?:[^"]|"")*"|[^"{re.escape(sep)}]*)'
        regular = quoted & body.str.fullmatch(f"{field}(?:{re.escape(sep)}{field})*").fillna(
            False
        ).astype(bool)
        if regular.any():
            shadow = body.copy()
            at = f"(?:^|(?<={re.escape(sep)}))"  # a value starts the line or follows sep
            end = f"(?={re.escape(sep)}|$)"
            shadow[regular] = (
                body[regular]
                .str.replace(f'{at}""{end}', "", regex=True)
                .str.replace(f'{at}"(?:[^"]|"")*"{end}', "Q", regex=True)
            )
        quoted = quoted & ~regular
    plain = todo & ~quoted
    counts = pd.Series(np.zeros(len(body), dtype=np.int64), index=body.index)
    counts[plain] = _count_in(shadow[plain], sep) + 1
    records, bad_quotes = _parse_quoted(body[quoted].tolist(), sep)
    quoted_index = body.index[quoted.to_numpy()]
    for pos, why in bad_quotes.items():
        reason[quoted_index[pos]] = why
    sizes = np.array([len(r) if r is not None else 0 for r in records], dtype=np.int64)
    counts[quoted_index] = sizes
    ok = todo & reason.isna()
    extra = ok & (counts > width)
    if extra.any():  # trailing empty fields (a separator at the line end) are harmless
        tails = _tails(shadow[extra & plain], sep, width)
        if (extra & quoted).any():
            idx = quoted_index.get_indexer(body.index[(extra & quoted).to_numpy()])
            quoted_tails = pd.Series(
                ["".join(records[i][width:]) for i in idx],
                index=body.index[(extra & quoted).to_numpy()],
            )
            tails = pd.concat([tails, quoted_tails])
        harmless = tails.str.strip(" \t") == ""
        too_many = harmless.index[~harmless.to_numpy()]
        reason[too_many] = [
            f"the line has {counts[i]} fields but the header has {width}: too many fields "
            f"(a '{sep}' inside a value? quote the value or remove the '{sep}')"
            for i in too_many
        ]
    too_few = ok & (counts < width) & reason.isna()
    if too_few.any():
        reason[too_few] = [
            f"the line has {counts[i]} fields but the header has {width}: too few fields "
            "(a value or a separator is missing; nothing is padded)"
            for i in body.index[too_few.to_numpy()]
        ]
    ends_cleanly = text.endswith(("\n", "\r"))
    if len(body) and not ends_cleanly and pd.notna(reason.iloc[-1]):
        last = reason.index[-1]
        if not reason[last].startswith(("repeated header", "the line holds bytes", "a NUL")):
            reason[last] = (
                "truncated last line: the file ends inside this line without a line end "
                f"({reason[last].split(';')[0]}); download or export the file again"
            )
    good = todo & reason.isna()
    frame = _good_frame(body, good, plain, regular, records, quoted_index, header, sep, numbers)
    bad = reason.notna()
    malformed = pd.DataFrame(
        {
            SOURCE_ROW: np.concatenate([numbers[bad.to_numpy()], numbers[blank.to_numpy()]]),
            REASON: [*reason[bad], *[BLANK_LINE] * int(blank.sum())],
            "raw": [*(printable(x) for x in body[bad]), *body[blank]],
            SET_ASIDE: [False] * int(bad.sum()) + [True] * int(blank.sum()),
        }
    )
    if first:  # blank lines above the header
        lead = pd.DataFrame(
            {
                SOURCE_ROW: np.arange(1, first + 1),
                REASON: BLANK_LINE,
                "raw": lines[:first],
                SET_ASIDE: True,
            }
        )
        malformed = pd.concat([lead, malformed], ignore_index=True)
    malformed = malformed.sort_values(SOURCE_ROW, kind="stable").reset_index(drop=True)
    if _padded(text, sep):  # strip only when some cell may be padded (a fast check on the text)
        for col in frame.columns.drop(SOURCE_ROW, errors="ignore"):
            frame[col] = on_uniques(frame[col], lambda u: u.str.strip())
    cells = [frame[c].to_numpy() == "" for c in frame.columns if c != SOURCE_ROW]
    empty = np.logical_and.reduce(cells) if cells else np.zeros(len(frame), dtype=bool)
    if empty.any():  # e.g. '"";""': blank once the quotes are gone
        extra_blank = pd.DataFrame(
            {
                SOURCE_ROW: frame.loc[empty, SOURCE_ROW].to_numpy(),
                REASON: BLANK_LINE,
                "raw": "",
                SET_ASIDE: True,
            }
        )
        malformed = pd.concat([malformed, extra_blank], ignore_index=True)
        malformed = malformed.sort_values(SOURCE_ROW, kind="stable").reset_index(drop=True)
    n_blank = int(malformed[SET_ASIDE].sum())
    malformed.attrs[DATA_LINES] = len(lines) - 1
    malformed.attrs[LINE_NOTES] = notes
    return frame.loc[~empty].reset_index(drop=True), n_blank, malformed


def _tails(lines: pd.Series, sep: str, width: int) -> pd.Series:
    """What follows the ``width``-th separator of each (unquoted) line."""
    if lines.empty:
        return pd.Series(dtype=object)
    return lines.str.split(sep, n=width, regex=False).str[width].fillna("")


def _good_frame(
    body: pd.Series,
    good: pd.Series,
    plain: pd.Series,
    regular: pd.Series,
    records: list,
    quoted_index: pd.Index,
    header: list[str],
    sep: str,
    numbers: np.ndarray,
) -> pd.DataFrame:
    """One frame of the loadable lines: plain lines in one C-parser call, quoted ones from csv."""
    width = len(header)
    parts = []
    for easy, quoting in ((good & plain & ~regular, csv.QUOTE_NONE), (good & regular, None)):
        if easy.any():
            text = "\n".join(body[easy])
            frame = _split_plain(text, body[easy], sep, width, quoting)
            frame[SOURCE_ROW] = numbers[easy.to_numpy()]
            parts.append(frame)
    hard = good & ~plain
    if hard.any():
        idx = quoted_index.get_indexer(body.index[hard.to_numpy()])
        rows = [records[i][:width] for i in idx]
        frame = pd.DataFrame(rows, columns=range(width), dtype=object)
        frame[SOURCE_ROW] = numbers[hard.to_numpy()]
        parts.append(frame)
    if not parts:
        frame = pd.DataFrame({i: pd.Series(dtype=object) for i in range(width)})
        frame[SOURCE_ROW] = pd.Series(dtype=np.int64)
    else:
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        if len(parts) > 1:
            frame = frame.sort_values(SOURCE_ROW, kind="stable").reset_index(drop=True)
    frame.columns = [*header, SOURCE_ROW]
    return frame


def _split_plain(
    text: str, lines: pd.Series, sep: str, width: int, quoting: int | None = csv.QUOTE_NONE
) -> pd.DataFrame:
    """Lines with at least ``width`` fields (no quotes, or well-formed quoting when
    ``quoting`` is None), split in one C-parser call."""
    n_fields = int(_count_in(lines, sep).max()) + 1
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            names=range(n_fields),
            dtype=str,
            quoting=csv.QUOTE_MINIMAL if quoting is None else quoting,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            lineterminator="\n",
            engine="c",
        )
    except (pd.errors.ParserError, ValueError):  # pragma: no cover - defensive
        frame = None
    if frame is None or len(frame) != len(lines):  # pragma: no cover - defensive
        frame = lines.str.split(sep, regex=False, expand=True).fillna("")
        frame = frame.reindex(columns=range(max(n_fields, width)), fill_value="")
    return frame.iloc[:, :width].reset_index(drop=True).set_axis(range(width), axis=1)


def _padded(text: str, sep: str) -> bool:
    """Whether any cell may start or end with a space (substring tests: much faster than a regex)."""
    marks = (f" {sep}", f"{sep} ", " \n", "\n ", " \r", "\u00a0", f"\t{sep}", f"{sep}\t")
    return text.startswith((" ", "\t")) or any(m in text for m in marks)


def no_malformed(lines: int | None = None) -> pd.DataFrame:
    """An empty malformed-lines frame (optionally carrying the physical line count)."""
    frame = pd.DataFrame(
        {
            SOURCE_ROW: pd.Series(dtype="int64"),
            REASON: pd.Series(dtype=object),
            "raw": pd.Series(dtype=object),
            SET_ASIDE: pd.Series(dtype=bool),
        }
    )
    if lines is not None:
        frame.attrs[DATA_LINES] = lines
    return frame


def on_uniques(values: pd.Series, fn: Callable[[pd.Series], pd.Series | pd.DataFrame]):
    """Apply a vectorised ``fn`` to the distinct values only, then spread the result back.

    Columns of StatBank and survey files repeat few values many times, so this is
    much faster than string operations over every row.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    out = fn(pd.Series(uniques, dtype=object))
    return out.take(codes).set_axis(values.index)


#: ``1.000``, ``524.192``, ``-1.234.567`` and with a decimal comma ``1.234,5``
_DOT_GROUPS = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d*)?$")
#: ``1,000``, ``1,234,567`` and with a decimal point ``1,234.5``
_COMMA_GROUPS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")


def parse_numbers(
    values: pd.Series, decimal_comma: bool = True, count: bool = False
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers from text: ``..`` and empty are missing, decimal comma allowed.

    Thousands separators: with a decimal comma (Danish files) a ``.`` before groups
    of exactly three digits separates thousands (``524.192`` is 524192). For a
    ``count`` column (integers by nature) that holds in any file, and ``1,000`` in a
    decimal-point file is 1000; ``1,000`` in a decimal-comma file is ambiguous and
    counted as bad (see :func:`ambiguous_thousands`). Returns ``(numbers as float,
    missing mask, bad mask)``.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(float)
        return numbers, numbers.isna(), pd.Series(False, index=values.index)
    parsed = on_uniques(values, lambda u: _parse_numbers(u, decimal_comma, count))
    return parsed["number"], parsed["missing"].astype(bool), parsed["bad"].astype(bool)


def ambiguous_thousands(values: pd.Series, decimal_comma: bool) -> pd.Series:
    """Count cells like ``1,000`` in a decimal-comma file: 1000 or 1.0? Never guessed."""
    if not decimal_comma or pd.api.types.is_numeric_dtype(values):
        return pd.Series(False, index=values.index)
    return on_uniques(
        values, lambda u: u.astype(str).str.strip().str.fullmatch(_COMMA_GROUPS.pattern)
    ).astype(bool)


def _parse_numbers(values: pd.Series, decimal_comma: bool, count: bool) -> pd.DataFrame:
    text = values.astype(str).str.strip()
    missing = text.isin(MISSING_MARKERS) | values.isna()
    clean = text.str.replace(r"[\s\u00a0]", "", regex=True)
    dots = clean.str.fullmatch(_DOT_GROUPS.pattern).fillna(False).astype(bool)
    if not decimal_comma:  # '.' is the decimal point: grouping only in counts, never '1.5'
        dots &= count & ~clean.str.contains(",", regex=False)
    commas = clean.str.fullmatch(_COMMA_GROUPS.pattern).fillna(False).astype(bool)
    ambiguous = commas & decimal_comma & count
    clean = clean.where(~dots, clean.str.replace(".", "", regex=False))
    if not decimal_comma and count:
        clean = clean.where(~commas, clean.str.replace(",", "", regex=False))
    if decimal_comma:
        clean = clean.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(clean.where(~missing & ~ambiguous), errors="coerce")
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
    lines = next((p.attrs[DATA_LINES] for p in prior if DATA_LINES in p.attrs), None)
    notes = [*notes, *(n for p in prior for n in p.attrs.get(LINE_NOTES, ()))]
    parts = [p for p in prior if len(p)]
    prior_frame = pd.concat(parts, ignore_index=True) if parts else None
    if prior_frame is not None and SET_ASIDE in prior_frame.columns:
        aside = prior_frame[SET_ASIDE].astype("boolean").fillna(False).astype(bool)
        blank = prior_frame.loc[aside, [SOURCE_ROW, REASON, "raw"]]
        prior_frame = prior_frame.loc[~aside].drop(columns=SET_ASIDE)
        if len(blank):
            parts = [d for d in (dropped, blank) if d is not None and len(d)]
            dropped = pd.concat(parts, ignore_index=True).sort_values(SOURCE_ROW, kind="stable")
            dropped = dropped.reset_index(drop=True)
        if prior_frame.empty:
            prior_frame = None
    result = validate_rows(
        frame[[*columns, SOURCE_ROW]],
        schema,
        source=source,
        quarantine_dir=None,
        prior_quarantine=prior_frame,
        notes=tuple(notes),
        dropped=dropped,
    )
    # rows a loader made without a line of their own carry source_row 0 (the zero cells
    # of a StatBank BULK file): counted as added, so the load log still adds up
    added = int((result.data[SOURCE_ROW] == 0).sum())
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
            guarded_to_csv(bad, target, index=False)
            path = target
        else:  # a file left by an earlier run would describe data that is now clean
            target.unlink(missing_ok=True)
    out = replace(result, data=data, quarantined=bad, quarantine_path=path, lines=lines,
                  added=added)  # fmt: skip
    if lines == 0 or not out.adds_up:
        log.warning(out.message())
    return out


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
        self._lines = _physical_lines(text)
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

    def number(self, col: str, whole: bool, required: bool = False, count: bool = False) -> None:
        """Parse a numeric column; ``whole`` (and ``count``) columns read thousands separators."""
        count = count or whole
        values = self.frame[col]
        numbers, missing, bad = parse_numbers(values, self.decimal_comma, count=count)
        ambiguous = ambiguous_thousands(values, self.decimal_comma) if count else bad & False
        self.problems.add(
            ambiguous,
            self.text(col, ambiguous)
            + " is ambiguous (a thousands separator or a decimal comma?); write the number "
            "without separators, e.g. 1000",
        )
        bad = bad & ~ambiguous
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
        """The physical lines of the given source rows, as written in the file."""
        wanted = pd.unique(rows.dropna().astype(int))
        wanted = wanted[(wanted >= 1) & (wanted <= len(self._lines))]
        return pd.Series([printable(self._lines[r - 1]) for r in wanted], index=wanted)


def quote(values: pd.Series) -> pd.Series:
    """``repr`` of each (bad) value as text, for reasons; safe on empty selections."""
    return pd.Series([repr(v) for v in values], index=values.index, dtype=object)
