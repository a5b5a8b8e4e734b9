"""Writers in the workspace's formats: StatBank exports (Danish) and comma-separated registers.

Byte-identical for the same input: fixed float format, fixed row order, ``\\n`` line ends.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.io.writers import write_csv  # noqa: F401 (the simulator's CSV writer)

#: StatBank's order of the regions in area lists, with their StatBank names
REGION_ORDER = (1084, 1085, 1083, 1082, 1081)


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
