"""Counts per grid cell (or user area) and the raw rates.

Burglaries per 1,000 households per year, Nabohjælpere per 100 households. Households
and members come per 100 m cell and are summed up to 1 km cells; burglaries are
points assigned to the cell that contains them, per quarter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from botrygt_eval.errors import ConfigError
from botrygt_eval.reference.grid import cell_ids, cell_metres, parent_ids, parse_cell_ids


def quarter_labels(dates) -> np.ndarray:
    """``2025K1``-style labels of dates (StatBank's quarter names)."""
    d = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates)))
    year = np.asarray(d.year, dtype=np.int64).astype(str)  # numpy strings on any pandas
    quarter = np.asarray(d.quarter, dtype=np.int64).astype(str)
    return np.char.add(np.char.add(year, "K"), quarter)


def to_cells(ids, cell: str) -> np.ndarray:
    """Cell ids of a finer grid mapped to ``cell`` (100 m -> 1 km); refuse coarse -> fine."""
    ids = np.asarray(ids, dtype=object)
    sizes = parse_cell_ids(ids)["size_m"].to_numpy()
    target = cell_metres(cell)
    if (sizes > target).any():
        raise ConfigError(
            f"cells of {int(sizes.max())} m cannot be split into {cell} cells; "
            "give households and Nabohjælp per 100 m cell, or use --cell 1km"
        )
    return np.where(sizes == target, ids, parent_ids(ids, cell) if len(ids) else ids)


def cell_counts(
    events: pd.DataFrame,
    households: pd.DataFrame,
    members: pd.DataFrame,
    cell: str = "1km",
    periods: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells, by_period): totals per cell and burglaries per cell x quarter.

    ``events``: ``date, east, north``; ``households``: ``cell_id, households``;
    ``members``: ``cell_id, nabohjaelpere``. ``cells`` has ``cell_id, east, north
    (centre), size_m, households, nabohjaelpere, burglaries`` for every cell with
    households or burglaries; ``by_period`` is cells x ``periods`` (all quarters seen
    if None), in the same row order.
    """
    ev_cell = cell_ids(events["east"], events["north"], cell) if len(events) else np.array([])
    ev_period = quarter_labels(events["date"]) if len(events) else np.array([], dtype=str)
    periods = sorted(set(ev_period)) if periods is None else list(periods)
    hh = pd.Series(households["households"].to_numpy(float), index=households["cell_id"])
    hh = hh.groupby(to_cells(hh.index, cell)).sum()
    mem = pd.Series(members["nabohjaelpere"].to_numpy(float), index=members["cell_id"])
    mem = mem.groupby(to_cells(mem.index, cell)).sum()
    ids = np.union1d(hh.index.to_numpy(dtype=str), np.asarray(ev_cell, dtype=str))
    if len(ids) == 0:
        raise ConfigError("no households and no burglaries in this kommune: nothing to map")
    row = np.searchsorted(ids, np.asarray(ev_cell, dtype=str))
    keep = np.isin(ev_period, periods)
    col = np.searchsorted(np.asarray(periods), ev_period[keep])
    by_period = np.zeros((len(ids), len(periods)))
    np.add.at(by_period, (row[keep], col), 1.0)
    centre = parse_cell_ids(ids)
    cells = pd.DataFrame(
        {
            "cell_id": ids.astype(object),
            "east": centre["east"].to_numpy(),
            "north": centre["north"].to_numpy(),
            "size_m": centre["size_m"].to_numpy(),
            "households": hh.reindex(ids, fill_value=0.0).to_numpy(),
            "nabohjaelpere": mem.reindex(ids, fill_value=0.0).to_numpy(),
            "burglaries": by_period.sum(axis=1),
        }
    )
    return cells, pd.DataFrame(by_period, columns=periods)


def add_rates(table: pd.DataFrame, years: float) -> pd.DataFrame:
    """Raw ``rate_per_1000`` (burglaries per 1,000 households per year) and
    ``coverage_per_100`` (Nabohjælpere per 100 households); NaN without households."""
    hh = table["households"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(hh > 0, 1000 * table["burglaries"] / hh / years, np.nan)
        cover = np.where(hh > 0, 100 * table["nabohjaelpere"] / hh, np.nan)
    return table.assign(rate_per_1000=rate, coverage_per_100=cover)


def area_counts(cells_100m: pd.DataFrame, lookup: pd.DataFrame, years: float) -> pd.DataFrame:
    """Totals and raw rates per user area (postal code, parish) from 100 m cell counts.

    ``lookup``: ``cell_id, area`` (each 100 m cell in one area, e.g. by its centre);
    cells missing from the lookup are counted under ``area = "uden for områderne"``.
    """
    if not {"cell_id", "area"} <= set(lookup.columns):
        raise ConfigError("an area lookup needs the columns cell_id and area")
    area = cells_100m["cell_id"].map(lookup.drop_duplicates("cell_id").set_index("cell_id")["area"])
    totals = (
        cells_100m.assign(area=area.fillna("uden for områderne"))
        .groupby("area", sort=True)[["households", "nabohjaelpere", "burglaries"]]
        .sum()
        .reset_index()
    )
    return add_rates(totals, years)
