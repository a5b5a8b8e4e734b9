"""Inputs of the activity evaluation: a light workspace and the exposure of each kommune.

Exposure to an activity type in a quarter is the number of activities of that type
started in that quarter or the ``window - 1`` quarters before (an activity works for
``window`` quarters from its start quarter; several add). For the annual Nabohjælp
register it is the number started up to the end of the year, capped at ``cap``
(recruitment saturates).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.errors import InputFileError
from botrygt_eval.io import registers, statbank
from botrygt_eval.io.workspace import _EMPTY_COLUMNS, Workspace, load_fixed_files

_NEEDED = {
    "statbank/STRAF11.csv": ("burglaries_quarterly", statbank.load_straf11),
    "statbank/FAM55N.csv": ("households", statbank.load_households),
    "registers/partnerships.csv": ("partnerships", registers.load_partnerships),
    "registers/activities.csv": ("activities", registers.load_activities),
    "registers/nabohjaelp.csv": ("nabohjaelp", registers.load_nabohjaelp),
}
_REQUIRED = ("burglaries_quarterly", "households", "partnerships", "activities")


def load_activity_workspace(
    root: str | Path, quarantine_dir: str | Path | None = None
) -> Workspace:
    """Load only the files the activity evaluation and the KPIs read (fast: no survey).

    The survey fields of the returned :class:`Workspace` are empty; use
    :func:`botrygt_eval.io.workspace.load_workspace` when the survey is needed too.
    """
    root = Path(root)
    tables, reports, absent = load_fixed_files(root, _NEEDED, quarantine_dir)
    missing = [rel for rel, (name, _) in _NEEDED.items() if name in _REQUIRED and rel in absent]
    if missing:
        raise InputFileError(
            f"{root}: the activity evaluation needs {', '.join(missing)}; put the files there "
            "in the formats of docs/DATA_FORMATS.md"
        )
    required = {str(root / rel) for rel, (name, _) in _NEEDED.items() if name in _REQUIRED}
    for report in reports:
        if report.source in required and report.lines == 0:
            raise InputFileError(
                f"{report.source}: the file holds only its header, no data lines; the activity "
                "evaluation needs this table: export it again with its rows"
            )
    return Workspace(
        root=root,
        population=pd.DataFrame(columns=_EMPTY_COLUMNS["population"]),
        burglaries_annual=pd.DataFrame(columns=_EMPTY_COLUMNS["burglaries_annual"]),
        samples=pd.DataFrame(columns=_EMPTY_COLUMNS["samples"]),
        responses=pd.DataFrame(columns=_EMPTY_COLUMNS["responses"]),
        margins={},
        reports=tuple(reports),
        absent=tuple(absent),
        **tables,
    )


def quarter_exposure(
    activities: pd.DataFrame,
    codes: np.ndarray,
    abs_quarter: np.ndarray,
    types: list[str],
    window: int,
) -> np.ndarray:
    """Exposure (rows of ``codes``/``abs_quarter``, one column per type): activities started
    in the quarter or the ``window - 1`` before it."""
    start = pd.to_datetime(activities["start_date"])
    a_q = (4 * start.dt.year + start.dt.quarter - 1).to_numpy("int64")
    lo = int(min(abs_quarter.min(), a_q.min() if len(a_q) else abs_quarter.min()))
    hi = int(abs_quarter.max())
    ucodes = np.unique(codes)
    k = np.searchsorted(ucodes, activities["kommune_kode"].to_numpy("int64"))
    known = (k < len(ucodes)) & (
        ucodes[np.minimum(k, len(ucodes) - 1)] == activities["kommune_kode"]
    )
    t_idx = {t: i for i, t in enumerate(types)}
    j = activities["activity_type"].map(t_idx).to_numpy()
    keep = known.to_numpy() & ~pd.isna(j) & (a_q <= hi)
    grid = np.zeros((len(ucodes), hi - lo + 1 + window, len(types)))
    np.add.at(grid, (k[keep], a_q[keep] - lo, j[keep].astype(int)), 1.0)
    csum = np.cumsum(grid, axis=1)
    shifted = np.concatenate([np.zeros((len(ucodes), window, len(types))), csum[:, :-window]], 1)
    rolling = csum - shifted
    rows = np.searchsorted(ucodes, codes)
    return rolling[rows, abs_quarter - lo]


def year_exposure(
    activities: pd.DataFrame, codes: np.ndarray, years: np.ndarray, types: list[str], cap: int
) -> np.ndarray:
    """Activities of each type started up to the end of the year, capped at ``cap``."""
    start_year = pd.to_datetime(activities["start_date"]).dt.year.to_numpy("int64")
    out = np.zeros((len(codes), len(types)))
    a_code = activities["kommune_kode"].to_numpy("int64")
    a_type = activities["activity_type"].to_numpy()
    for j, t in enumerate(types):  # loop over the few types, not over rows
        m = a_type == t
        counts = (
            (a_code[m][None, :] == codes[:, None]) & (start_year[m][None, :] <= years[:, None])
        ).sum(axis=1)
        out[:, j] = np.minimum(counts, cap)
    return out
