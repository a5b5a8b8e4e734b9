"""Tidy CSV files the way the workspace expects them, byte for byte.

Used by the simulator for its files and by ``responses import`` for the files it writes,
so an imported platform export and a simulated responses file are the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.privacy.guard import check_no_cpr

FLOAT_FORMAT = "%.10g"


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
    check_no_cpr(frame, path)  # no CPR number leaves through the workspace writer
    path.parent.mkdir(parents=True, exist_ok=True)
    text = pd.DataFrame({c: _text(frame[c]) for c in frame.columns})
    text.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path
