"""Hotspots named by a user's area lookup (postal districts): which area a grid cell lies in."""

from __future__ import annotations

import numpy as np
import pandas as pd

from botrygt_eval.monitoring.local import area_of_cells
from botrygt_eval.reports.local import hotspot_table

LOOKUP = pd.DataFrame(
    {
        "cell_id": ["100m_61760_7240", "100m_61761_7240", "100m_61762_7241",  # 3 in 2200
                    "100m_61765_7245", "100m_61769_7249",  # 2 in 2100, same 1 km cell
                    "100m_61770_7240", "100m_61771_7240"],  # 1km_6177_724: a 1-1 tie
        "area": ["2200 København N", "2200 København N", "2200 København N",
                 "2100 København Ø", "2100 København Ø",
                 "2400 København NV", "2000 Frederiksberg"],
    }
)  # fmt: skip


def test_a_km_cell_takes_the_area_most_of_its_looked_up_cells_lie_in():
    got = area_of_cells(["1km_6176_724", "1km_6177_724", "100m_61765_7245", "1km_6000_600"],
                        LOOKUP)  # fmt: skip
    assert got.iloc[0] == "2200 København N"  # 3 against 2
    assert got.iloc[1] == "2000 Frederiksberg"  # tie: alphabetically first
    assert got.iloc[2] == "2100 København Ø"  # a 100 m cell has its own area
    assert pd.isna(got.iloc[3])  # not covered: no name invented


def test_the_hotspot_table_names_the_area_before_the_direction():
    cells = pd.DataFrame(
        {
            "cell_id": ["1km_6176_724", "1km_6000_600", "1km_6177_724"],
            "east": [724_500.0, 600_500.0, 724_500.0],
            "north": [6_176_500.0, 6_000_500.0, 6_177_500.0],
            "households": [900.0, 800.0, 700.0],
            "burglaries": [30.0, 20.0, 2.0],
            "rate_shrunk": [30.0, 20.0, 5.0],
            "rate_low": [20.0, 10.0, 1.0],
            "rate_high": [40.0, 30.0, 9.0],
            "coverage_per_100": [1.0, 2.0, 3.0],
            "gap_index": [0.5, 0.995, 0.2],
            "hotspot": [True, True, False],
            "suppressed": [False, False, False],
        }
    )
    plain = hotspot_table(cells)
    named = hotspot_table(cells, areas=LOOKUP)
    assert named["placering"].iloc[0] == f"2200 København N ({plain['placering'].iloc[0]})"
    assert named["placering"].iloc[1] == plain["placering"].iloc[1]  # outside the lookup
    assert len(named) == 2 and np.array_equal(named["nr"], [1, 2])
