"""Writers in the workspace's formats: StatBank exports (Danish) and comma-separated registers.

Byte-identical for the same input: fixed float format, fixed row order, ``\\n`` line ends.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: StatBank's order of the regions in area lists, with their StatBank names
REGION_ORDER = (1084, 1085, 1083, 1082, 1081)
FLOAT_FORMAT = "%.10g"


def area_rows(kommuner: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """OMRÅDE labels in StatBank order and how each row sums the kommuner (and Christiansø).

    Returns the labels, a membership matrix (areas x kommuner) and a 0/1 vector saying
    which areas include Christiansø (the national total and its own row).
    """
    codes = kommuner["kommune_kode"].to_numpy()
    labels = ["Hele landet"]
    rows = [np.ones(len(codes))]
    chr_in = [1.0]
    for region in REGION_ORDER:
        members = kommuner[kommuner["region_kode"] == region]
        labels.append(str(members["region"].iloc[0]))
        rows.append((kommuner["region_kode"] == region).to_numpy(dtype=float))
        chr_in.append(0.0)
        for code, name in zip(members["kommune_kode"], members["kommune"], strict=True):
            labels.append(str(name))
            rows.append((codes == code).astype(float))
            chr_in.append(0.0)
            if code == 400:  # StatBank lists Christiansø after Bornholm
                labels.append("Christiansø")  # code 411, outside every region
                rows.append(np.zeros(len(codes)))
                chr_in.append(1.0)
    return labels, np.vstack(rows), np.asarray(chr_in)


def write_statbank(path: Path, columns: dict[str, np.ndarray]) -> Path:
    """Semicolon-separated, UTF-8 with BOM, one column per variable then INDHOLD."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(columns)
    frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig", lineterminator="\n")
    return path


def _text(values: pd.Series) -> np.ndarray:
    """A column as strings: integers as is, floats as ``%.10g``, dates ISO, missing empty.

    Floats are formatted once per distinct value (a sample's inclusion probabilities
    take one value per stratum), which keeps writing fast and the bytes fixed.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object)
    missing = values.isna().to_numpy()
    if pd.api.types.is_integer_dtype(values):
        ints = values.fillna(0).to_numpy(dtype=np.int64)
        text = ints.astype(str).astype(object)
    elif pd.api.types.is_float_dtype(values):
        floats = values.to_numpy(dtype=float, na_value=np.nan)
        uniq, inverse = np.unique(np.where(missing, 0.0, floats), return_inverse=True)
        text = np.array([FLOAT_FORMAT % v for v in uniq], dtype=object)[inverse]
    else:
        text = values.astype(object).to_numpy().copy()
    text[missing] = ""
    return text


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Comma-separated UTF-8 (no BOM), ISO dates, floats as ``%.10g``, empty for missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = pd.DataFrame({c: _text(frame[c]) for c in frame.columns})
    text.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path
