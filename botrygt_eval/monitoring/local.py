"""The one high-level entry point: a kommune's suppressed cell table, hotspots and near-repeat."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

#: columns of :attr:`LocalMonitoring.cells`, in order (docs/MONITORING.md)
CELL_COLUMNS = [
    "cell_id",
    "east",
    "north",
    "size_m",
    "households",
    "burglaries",
    "nabohjaelpere",
    "rate_per_1000",
    "rate_shrunk",
    "rate_low",
    "rate_high",
    "coverage_per_100",
    "gap_index",
    "gi_z",
    "gi_q",
    "hotspot",
    "suppressed",
]

CellSize = Literal["100m", "1km"]


@dataclass(frozen=True)
class LocalMonitoring:
    """A kommune's monitoring result: only aggregates that passed disclosure control.

    ``cells``: one row per published (or hidden) grid cell, columns :data:`CELL_COLUMNS`
    (``east``/``north`` are the cell centre in ETRS89/UTM32N metres); hidden cells
    carry ``suppressed=True`` and no counts. ``near_repeat``: the Knox table per
    distance x time band. ``summary``: counts, settings and the hotspot list.
    """

    kommune_kode: int
    cells: pd.DataFrame
    near_repeat: pd.DataFrame
    summary: dict = field(default_factory=dict)


def local_monitoring(
    workspace_dir: str | Path,
    kommune: int | str,
    cell: CellSize = "1km",
    threshold: int = 5,
    seed: int = 2018,
) -> LocalMonitoring:
    """Stub (to be filled in): an empty, correctly-shaped result."""
    cells = pd.DataFrame({c: pd.Series(dtype=float) for c in CELL_COLUMNS})
    cells["cell_id"] = cells["cell_id"].astype(object)
    cells["hotspot"] = cells["hotspot"].astype(bool)
    cells["suppressed"] = cells["suppressed"].astype(bool)
    near = pd.DataFrame(
        columns=["distance_band", "time_band", "observed", "expected", "ratio", "p_value"]
    )
    return LocalMonitoring(
        int(kommune),
        cells,
        near,
        {"threshold": threshold, "cell": cell, "n_cells": int(np.int64(0))},
    )
