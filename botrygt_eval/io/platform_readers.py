"""Read a survey platform's export file as text cells, with its value labels.

ODK Central and KoboToolbox CSV/XLSX, SurveyXact CSV (``;``, ISO-8859-1, decimal
comma) or XML dataset, SPSS ``.sav`` and Stata ``.dta`` (through pyreadstat, with
value labels and user-missing codes kept as codes so that
:mod:`botrygt_eval.io.platforms` can map them through their labels).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.errors import InputFileError, check_option
from botrygt_eval.io._common import existing_file, read_text, sniff_separator
from botrygt_eval.io.quarantine import SOURCE_ROW

PLATFORMS: tuple[str, ...] = ("odk", "kobo", "surveyxact", "spss", "stata")


@dataclass(frozen=True)
class RawExport:
    """A platform file as text cells, with the statistics file's value labels if any."""

    frame: pd.DataFrame  # all cells str ("" when empty), plus SOURCE_ROW
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    decimal_comma: bool = False


def _text_frame(frame: pd.DataFrame, first_row: int) -> pd.DataFrame:
    out = frame.astype(object).where(frame.notna(), "").astype(str)
    out.columns = [str(c).strip() for c in out.columns]
    out[SOURCE_ROW] = np.arange(first_row, first_row + len(out))
    return out


def _read_csv(path: Path, what: str, decimal_comma: bool | None = None) -> RawExport:
    text, encoding = read_text(path, what)
    sep = sniff_separator(text, ",")
    frame = pd.read_csv(
        io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, index_col=False
    )
    comma = decimal_comma if decimal_comma is not None else sep == ";"
    notes = [f"encoding: {encoding}", f"separator {sep!r}" + (", decimal comma" if comma else "")]
    return RawExport(_text_frame(frame, 2), {}, tuple(notes), comma)


def _read_xlsx(path: Path) -> RawExport:
    try:
        frame = pd.read_excel(path, engine="openpyxl", dtype=str, keep_default_na=False)
    except Exception as exc:  # openpyxl raises many kinds for a corrupt workbook
        raise InputFileError(
            f"{path}: cannot read the Excel workbook ({type(exc).__name__}: {exc}); "
            "export the data again as CSV"
        ) from None
    return RawExport(_text_frame(frame, 2), {}, ("Excel workbook (first sheet)",))


def _number_text(values: pd.Series) -> pd.Series:
    """Numbers from a statistics file as text: 3.0 -> '3', NaN -> ''."""
    if not pd.api.types.is_numeric_dtype(values):  # string variables stay as they are
        return values.astype(object).where(values.notna(), "").astype(str).str.strip()
    num = values.to_numpy(dtype=float)
    whole = np.isfinite(num) & (num == np.round(num))
    text = pd.Series(num, index=values.index).astype(str)
    text[whole] = num[whole].astype(np.int64).astype(str)
    text[np.isnan(num)] = ""
    return text


def _labels_text(labels: dict) -> dict[str, str]:
    out = {}
    for code, label in labels.items():
        key = str(int(code)) if isinstance(code, float) and float(code).is_integer() else str(code)
        out[key] = str(label)
    return out


def _read_stats(path: Path, kind: str) -> RawExport:
    import pyreadstat

    reader = pyreadstat.read_sav if kind == "spss" else pyreadstat.read_dta
    try:
        frame, meta = reader(str(path), apply_value_formats=False, user_missing=True)
    except Exception as exc:  # pyreadstat.ReadstatError and friends
        raise InputFileError(
            f"{path}: cannot read the {'SPSS' if kind == 'spss' else 'Stata'} file ({exc}); "
            "export it again from the survey platform, or as CSV"
        ) from None
    out = pd.DataFrame({c: _number_text(frame[c]) for c in frame.columns})
    out[SOURCE_ROW] = np.arange(1, len(out) + 1)  # case number
    labels = {c: _labels_text(v) for c, v in meta.variable_value_labels.items()}
    note = "value labels and user-missing codes mapped to the codebook through their labels"
    return RawExport(out, labels, (f"{kind.upper()} file; {note}",))


def _read_surveyxact_xml(path: Path) -> RawExport:
    """SurveyXact's XML dataset: repeated respondent elements, one child per variable."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputFileError(
            f"{path}: not well-formed XML ({exc}); download the dataset export again"
        ) from None
    records = [el for el in root.iter() if len(el) and all(len(c) == 0 for c in el)]
    if not records:
        raise InputFileError(
            f"{path}: no respondent records found in the XML (expected repeated elements with "
            "one child element per variable); export the dataset again as XML or as CSV"
        )
    rows = [{c.tag: (c.text or "").strip() for c in rec} for rec in records]
    frame = pd.DataFrame(rows).fillna("")
    return RawExport(_text_frame(frame, 1), {}, ("SurveyXact XML dataset",))


def read_export(path: str | Path, platform: str) -> RawExport:
    """Read one export file of ``platform`` as text cells (no recoding yet)."""
    check_option("--from", platform, PLATFORMS)
    path = existing_file(path, f"the {platform} export")
    suffix = path.suffix.lower()
    if platform in ("spss", "stata"):
        want = (".sav", ".zsav") if platform == "spss" else (".dta",)
        if suffix not in want:
            raise InputFileError(
                f"{path}: a {platform} export must be {' or '.join(want)}, not {suffix!r}"
            )
        return _read_stats(path, platform)
    if suffix == ".xml":
        if platform != "surveyxact":
            raise InputFileError(f"{path}: XML is read only for --from surveyxact")
        return _read_surveyxact_xml(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        return _read_csv(path, f"the {platform} export")
    hint = {".sav": " (for SPSS use --from spss)", ".zsav": " (for SPSS use --from spss)",
            ".dta": " (for Stata use --from stata)"}.get(suffix, "")  # fmt: skip
    raise InputFileError(
        f"{path}: --from {platform} reads .csv, .xlsx"
        + (" or .xml" if platform == "surveyxact" else "")
        + f", not {suffix!r}{hint}"
    )
