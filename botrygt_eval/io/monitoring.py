"""The local monitoring inputs in ``lokal/``: geocoded burglaries, households and Nabohjælp per cell.

Comma-separated UTF-8 (or Danish Excel ``;``) like the registers (docs/DATA_FORMATS.md).
Burglaries carry ETRS89/UTM32N ``east``/``north`` metres or WGS84 ``lat``/``lon`` degrees
(converted); a point outside Denmark, a missing date or an unknown cell id is quarantined
with its reason, never dropped silently. These files are personal data (police data,
confidential): they are read, aggregated and never written anywhere else.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from botrygt_eval.io._common import CsvTable
from botrygt_eval.io.quarantine import LoadResult
from botrygt_eval.io.schemas import kommune_column
from botrygt_eval.reference.grid import DK_LAT, DK_LON, outside_denmark, wgs84_to_utm32

CELL_ID_PATTERN = r"^(100m|1km)_\d+_\d+$"
BURGLARY_COLUMNS = ["kommune_kode", "date", "east", "north", "lat", "lon"]
HOUSEHOLD_COLUMNS = ["kommune_kode", "cell_id", "households"]
NABOHJAELP_CELL_COLUMNS = ["kommune_kode", "cell_id", "nabohjaelpere"]


def _cell() -> pa.Column:
    return pa.Column(
        str,
        pa.Check.str_matches(
            CELL_ID_PATTERN, error="cell_id is not a DST grid name like 1km_6176_724"
        ),
    )


def _count(name: str) -> pa.Column:
    return pa.Column("int64", pa.Check.ge(0, error=f"{name} is negative"), coerce=True)


GEO_BURGLARIES = pa.DataFrameSchema(
    {
        "kommune_kode": kommune_column(),
        "date": pa.Column("datetime64[ns]", coerce=True),
        "east": pa.Column(float, coerce=True),
        "north": pa.Column(float, coerce=True),
        "lat": pa.Column(float, nullable=True, coerce=True),
        "lon": pa.Column(float, nullable=True, coerce=True),
    },
    name="geo_burglaries",
)
CELL_HOUSEHOLDS = pa.DataFrameSchema(
    {"kommune_kode": kommune_column(), "cell_id": _cell(), "households": _count("households")},
    unique=["kommune_kode", "cell_id"],
    name="cell_households",
)
CELL_NABOHJAELP = pa.DataFrameSchema(
    {
        "kommune_kode": kommune_column(),
        "cell_id": _cell(),
        "nabohjaelpere": _count("nabohjaelpere"),
    },
    unique=["kommune_kode", "cell_id"],
    name="cell_nabohjaelp",
)


def load_geo_burglaries(path: str | Path, quarantine_dir: str | Path | None = None) -> LoadResult:
    """Geocoded burglaries. ``.data``: ``kommune_kode, date, east, north`` (EPSG:25832 metres).

    Rows with only ``lat``/``lon`` are converted from WGS84; rows without coordinates or
    outside Denmark are quarantined (swapped coordinates are the usual cause).
    """
    reg = CsvTable(
        path, "the geocoded burglaries", BURGLARY_COLUMNS, {"east", "north", "lat", "lon"}
    )
    reg.kommune()
    reg.date("date", required=True)
    for col in ("east", "north", "lat", "lon"):
        reg.number(col, whole=False)
    f = reg.frame
    has_utm = f["east"].notna() & f["north"].notna()
    has_wgs = f["lat"].notna() & f["lon"].notna()
    reg.problems.add(
        ~has_utm & ~has_wgs, "no coordinates: give east and north (UTM32) or lat and lon (WGS84)"
    )
    lat, lon = f["lat"].astype(float), f["lon"].astype(float)
    wgs_ok = has_wgs & lat.between(*DK_LAT) & lon.between(*DK_LON)
    reg.problems.add(
        ~has_utm & has_wgs & ~wgs_ok,
        "lat/lon outside Denmark (are latitude and longitude swapped?)",
    )
    convert = (~has_utm & wgs_ok).to_numpy()
    if convert.any():
        e, n = wgs84_to_utm32(lat[convert].to_numpy(), lon[convert].to_numpy())
        f.loc[convert, "east"], f.loc[convert, "north"] = e, n
    utm_bad = has_utm & pd.Series(outside_denmark(f["east"], f["north"]), index=f.index)
    reg.problems.add(
        utm_bad,
        "east/north outside Denmark in ETRS89/UTM32N (swapped, or degrees given as metres?)",
    )
    result = reg.result(GEO_BURGLARIES, None, quarantine_dir)
    data = result.data[["kommune_kode", "date", "east", "north"]]
    return _with_data(result, data)


def _with_data(result: LoadResult, data: pd.DataFrame) -> LoadResult:
    from dataclasses import replace

    return replace(result, data=data.reset_index(drop=True))


def load_cell_households(path: str | Path, quarantine_dir: str | Path | None = None) -> LoadResult:
    """Households per DST grid cell. ``.data``: ``kommune_kode, cell_id, households``."""
    reg = CsvTable(path, "the households per grid cell", HOUSEHOLD_COLUMNS)
    reg.kommune()
    reg.number("households", whole=True, required=True)
    return reg.result(CELL_HOUSEHOLDS, ["kommune_kode", "cell_id"], quarantine_dir)


def load_cell_nabohjaelp(path: str | Path, quarantine_dir: str | Path | None = None) -> LoadResult:
    """Nabohjælp members per DST grid cell. ``.data``: ``kommune_kode, cell_id, nabohjaelpere``."""
    reg = CsvTable(path, "the Nabohjælp members per grid cell", NABOHJAELP_CELL_COLUMNS)
    reg.kommune()
    reg.number("nabohjaelpere", whole=True, required=True)
    return reg.result(CELL_NABOHJAELP, ["kommune_kode", "cell_id"], quarantine_dir)


def keep_kommune(result: LoadResult, kommune_kode: int) -> pd.DataFrame:
    """The rows of one kommune (a file may hold several)."""
    data = result.data
    return data.loc[data["kommune_kode"].to_numpy() == int(kommune_kode)].reset_index(drop=True)


__all__ = [
    "load_geo_burglaries",
    "load_cell_households",
    "load_cell_nabohjaelp",
    "keep_kommune",
]
