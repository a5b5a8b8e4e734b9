"""Derived outcomes (fear_burglary, prevention_index, ...), defined by the item bank.

Each item lists the outcomes it measures and the answer codes that count as 1.
An ``indicator`` outcome is 1/0 from its single item; a ``count`` outcome is the
number of its items answered with a positive code. An outcome is missing (NaN)
when any item it needs is empty (not asked, skipped) or 98/99. Because the
definitions come from the year's bank, a recoded scale changes the definition
with it; ``instrument diff`` says when that breaks comparability across years.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.errors import InputFileError
from botrygt_eval.instrument.bank import Instrument, as_instrument


def outcome_items(inst: Instrument, outcome: str) -> list[tuple[str, tuple[int, ...]]]:
    """(item id, positive codes) of every item that measures ``outcome``."""
    return [(i.id, m.positive) for i in inst.items for m in i.measures if m.outcome == outcome]


def derive_outcomes(
    responses: pd.DataFrame, year: int | Instrument, root: str | Path | None = None
) -> pd.DataFrame:
    """``responses`` with one added float column per derived outcome of ``year``'s bank."""
    inst = as_instrument(year, root)
    needed = sorted({item for o in inst.outcomes for item, _ in outcome_items(inst, o)})
    missing = [c for c in needed if c not in responses.columns]
    if missing:
        raise InputFileError(
            f"the responses lack item column(s) {', '.join(missing)} needed for the derived outcomes "
            f"of {inst.year}; load the {inst.year} response file with its full set of items"
        )
    out = responses.copy()
    for name in inst.outcomes:
        parts = outcome_items(inst, name)
        values = np.column_stack(
            [
                pd.to_numeric(responses[item], errors="coerce").to_numpy(dtype=float)
                for item, _ in parts
            ]
        )
        substantive = np.column_stack(
            [
                np.isin(values[:, k], inst.item(item).substantive_codes)
                for k, (item, _) in enumerate(parts)
            ]
        )
        positive = np.column_stack([np.isin(values[:, k], pos) for k, (_, pos) in enumerate(parts)])
        score = positive.sum(axis=1).astype(float)
        score[~substantive.all(axis=1)] = np.nan
        out[name] = score
    return out
