"""Disclosure control for cell tables: no published cell with a burglary count below the threshold.

Geocoded burglaries are personal data (the victims' homes). The rule, applied to one
table of cells of one size:

1. a cell with at least ``threshold`` burglaries is published as it is;
2. 100 m cells with fewer (zero included) are merged into their 1 km parent:
   one row per parent (``cell_id`` the 1 km id, ``merged=True``) pooling those small cells;
   1 km cells (and pools) still below ``threshold`` are hidden (``suppressed=True``,
   counts removed);
3. secondary suppression: if the hidden burglaries sum to 1 .. ``threshold - 1`` (so the
   kommune total minus the published cells would reveal them), the smallest published
   non-zero cells are hidden too until the hidden total reaches ``threshold``.

Zeros are merged too: a 100 m cell missing from the table while DST publishes its
households would otherwise reveal that it had 1 to ``threshold - 1`` burglaries. A
hidden row only says "fewer than ``threshold``", zero included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from botrygt_eval.errors import ConfigError
from botrygt_eval.reference.grid import parent_ids, parse_cell_ids

COUNT = "burglaries"


def _check(cells: pd.DataFrame, threshold: int) -> None:
    if threshold < 1:
        raise ConfigError(f"the disclosure threshold must be at least 1, got {threshold}")
    for col in ("cell_id", COUNT):
        if col not in cells.columns:
            raise ConfigError(f"the cell table needs a {col!r} column for disclosure control")


def suppress_cells(
    cells: pd.DataFrame,
    threshold: int = 5,
    sum_columns: tuple[str, ...] = ("households", "nabohjaelpere"),
) -> pd.DataFrame:
    """The publishable table: rows with ``merged`` and ``suppressed`` flags, small cells pooled.

    ``cells`` holds one row per cell of one size with ``cell_id`` and ``burglaries``;
    ``sum_columns`` are added up when cells are pooled; every other column of a pooled
    or hidden row is missing (NaN), to be recomputed from the pooled counts.
    """
    _check(cells, threshold)
    cells = cells.reset_index(drop=True)
    count = cells[COUNT].to_numpy(dtype=float)
    small = count < threshold
    size = parse_cell_ids(cells["cell_id"])["size_m"].to_numpy()
    keep = cells.loc[~small].assign(merged=False)
    pools = []
    to_merge = small & (size < 1000)
    if to_merge.any():
        sub = cells.loc[to_merge, ["cell_id", COUNT, *[c for c in sum_columns if c in cells]]]
        sub = sub.assign(cell_id=parent_ids(sub["cell_id"], "1km"))
        pooled = sub.groupby("cell_id", sort=True).sum(numeric_only=True).reset_index()
        pools.append(pooled.assign(merged=True))
    alone = cells.loc[
        small & ~to_merge, ["cell_id", COUNT, *[c for c in sum_columns if c in cells]]
    ]
    pools.append(alone.assign(merged=False))
    pooled = pd.concat(pools, ignore_index=True)
    out = pd.concat([keep, pooled], ignore_index=True)
    return _hide(out, threshold, keys=("cell_id", "merged"))


def suppress_areas(areas: pd.DataFrame, threshold: int = 5, key: str = "area") -> pd.DataFrame:
    """The publishable table of user areas (postal codes, parishes): steps 2-3 of the rule
    without pooling (areas have no parent): areas below ``threshold`` are hidden, and
    more if the hidden total could be worked out from the kommune total."""
    if threshold < 1:
        raise ConfigError(f"the disclosure threshold must be at least 1, got {threshold}")
    if key not in areas.columns or COUNT not in areas.columns:
        raise ConfigError(f"the area table needs {key!r} and {COUNT!r} columns")
    return _hide(areas.reset_index(drop=True), threshold, keys=(key,))


def _hide(out: pd.DataFrame, threshold: int, keys: tuple[str, ...]) -> pd.DataFrame:
    """Flag rows below ``threshold`` (and, against differencing, the smallest published
    non-zero rows until the hidden total reaches ``threshold``) and blank their values."""
    hidden = out[COUNT] < threshold
    hidden_total = out.loc[hidden, COUNT].sum()
    if 0 < hidden_total < threshold:  # secondary suppression against differencing
        candidates = out.loc[~hidden & (out[COUNT] > 0), COUNT].sort_values(kind="stable")
        need = np.cumsum(candidates.to_numpy()) + hidden_total
        n_more = int(np.searchsorted(need, threshold, side="left")) + 1
        hidden.loc[candidates.index[:n_more]] = True
    out["suppressed"] = hidden.to_numpy()
    value_cols = [c for c in out.columns if c not in (*keys, "suppressed")]
    out.loc[out["suppressed"], value_cols] = np.nan
    return out


def published_ok(table: pd.DataFrame, threshold: int) -> bool:
    """True when every published row has at least ``threshold`` burglaries (the guarantee)."""
    return bool((table.loc[~table["suppressed"], COUNT] >= threshold).all())
