"""CPR-shaped values: ``DDMMYY-XXXX`` or ``DDMMYYXXXX`` with a valid day and month.

A match must stand on its own: not glued to letters or digits (a 16-hex-character
pseudonym never matches) and not the digits after a decimal point (``0.0101901234``).
29 February is accepted in every year (the century is in the serial number, which is
not checked: CPR numbers without a valid modulus-11 check digit are issued since 2007).
Frames are checked column by column by joining the column into one string and
searching it once (one C-level scan per column, no Python loop over rows); integer
columns are checked too, since a CPR column read from CSV becomes int64 (leading zero lost).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from botrygt_eval.privacy.patterns import (  # noqa: F401 (re-exported: the text-level half)
    CPR_FULL_RE,
    CPR_PATTERN,
    CPR_RE,
    REDACTED,
    contains_cpr,
    redact_cpr,
)


def _integral_candidates(values: np.ndarray) -> np.ndarray:
    """Positions of integers that are a CPR number once zero-padded to 10 digits."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        cand = np.flatnonzero(np.isfinite(v) & (v >= 1e8) & (v < 3.2e9) & (v == np.floor(v)))
    if not len(cand):
        return cand
    padded = pd.Series(v[cand].astype(np.int64)).astype(str).str.zfill(10)
    return cand[padded.str.match(CPR_FULL_RE).to_numpy()]


def cpr_mask(column: pd.Series) -> np.ndarray:
    """Boolean array: which values of ``column`` hold a CPR-shaped value."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        hit = cpr_mask(pd.Series(column.cat.categories))
        codes = column.cat.codes.to_numpy()
        return np.where(codes >= 0, hit[np.maximum(codes, 0)] if len(hit) else False, False)
    if pd.api.types.is_bool_dtype(column.dtype):
        return np.zeros(len(column), dtype=bool)
    if pd.api.types.is_numeric_dtype(column.dtype):
        out = np.zeros(len(column), dtype=bool)
        out[_integral_candidates(column.to_numpy(dtype=float, na_value=np.nan))] = True
        return out
    text = column.astype(str)
    if not contains_cpr("\n".join(text.tolist())):  # one scan; the usual case ends here
        return np.zeros(len(column), dtype=bool)
    return text.str.contains(CPR_RE).to_numpy(dtype=bool)


def frame_cpr_hits(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per column with CPR-shaped values: the row positions holding them (column names too)."""
    hits: dict[str, np.ndarray] = {}
    names = [str(c) for c in frame.columns]
    if contains_cpr("\n".join(names)):
        hits["<column names>"] = np.flatnonzero([contains_cpr(n) for n in names])
    for i, name in enumerate(names):
        mask = cpr_mask(frame.iloc[:, i])
        if mask.any():
            hits[name] = np.flatnonzero(mask)
    if not isinstance(frame.index, pd.RangeIndex):
        mask = cpr_mask(pd.Series(frame.index.astype(str)))
        if mask.any():
            hits["<index>"] = np.flatnonzero(mask)
    return hits


def normalise_cpr(column: pd.Series) -> pd.Series:
    """CPR numbers as 10-digit strings (hyphen and spaces removed, a lost leading zero restored).

    Values that are not a CPR number afterwards become <NA>.
    """
    if pd.api.types.is_numeric_dtype(column.dtype):
        v = column.to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(v) & (v == np.floor(v)) & (v >= 0) & (v < 1e10)
        text = pd.Series(pd.NA, index=column.index, dtype="string")
        text[ok] = pd.Series(v[ok].astype(np.int64)).astype(str).str.zfill(10).to_numpy()
    else:
        text = column.astype("string").str.replace(r"[\s-]", "", regex=True)
    valid = text.str.fullmatch(CPR_FULL_RE.pattern.strip("^$")).fillna(False).astype(bool)
    return text.where(valid, pd.NA)
