"""Synthetic response files that follow the instrument (for tests and demos).

Answers are drawn independently per item (uniform over substantive codes, with
a small share of 98/99 and of skipped non-required items), then routing is
applied: items whose filter is not met are blanked. No realism is intended;
the simulator in ``botrygt_eval.simulate`` produces realistic data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.instrument.bank import Instrument, as_instrument
from botrygt_eval.instrument.routing import asked_mask

_HEX = np.frombuffer(b"0123456789abcdef", dtype="S1")


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random 16-hex-character ids, without a Python loop."""
    raw = rng.integers(0, 256, size=(n, 8), dtype=np.uint8)
    nibbles = np.stack([raw >> 4, raw & 15], axis=-1).reshape(n, 16)
    return np.ascontiguousarray(_HEX[nibbles]).view("S16").ravel().astype(str)


def synthetic_responses(
    year: int | Instrument,
    n: int,
    seed: int,
    *,
    special_share: float = 0.05,
    skip_share: float = 0.02,
    root: str | Path | None = None,
) -> pd.DataFrame:
    """``n`` valid responses to the ``year`` questionnaire, reproducible from ``seed``."""
    inst = as_instrument(year, root)
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"resp_id": _hex_ids(rng, n), "year": inst.year})
    specials = np.asarray(inst.special_codes, dtype=float)
    for item in inst.items:  # items in questionnaire order, so filters exist before routed items
        codes = np.asarray(item.substantive_codes, dtype=float)
        values = codes[rng.integers(0, len(codes), size=n)]
        u = rng.random(n)
        values = np.where(
            u < special_share, specials[rng.integers(0, len(specials), size=n)], values
        )
        if not item.required:
            values = np.where(u > 1 - skip_share, np.nan, values)
        frame[item.id] = values
        frame.loc[~asked_mask(item.relevant, frame), item.id] = np.nan
    return frame
