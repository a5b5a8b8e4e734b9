"""Local monitoring (issue #11): burglaries, Nabohjælp and households on the DST square grid.

Geocoded burglaries are personal data: only suppressed aggregates leave
:func:`local_monitoring` (docs/MONITORING.md).
"""

from botrygt_eval.monitoring.local import (
    CELL_COLUMNS,
    LocalMonitoring,
    area_monitoring,
    load_area_lookup,
    local_monitoring,
)

__all__ = [
    "CELL_COLUMNS",
    "LocalMonitoring",
    "area_monitoring",
    "load_area_lookup",
    "local_monitoring",
]
