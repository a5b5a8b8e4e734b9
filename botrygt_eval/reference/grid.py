"""Coordinates and the DST square grid (Det Danske Kvadratnet) in ETRS89 / UTM zone 32N.

Cells are named by size and the lower-left (south-west) corner, northing first,
each coordinate floor-divided by the cell size: ``1km_6176_724`` is the 1 km cell
with corner N 6,176,000 m, E 724,000 m; ``100m_61762_7249`` a 100 m cell inside it.
This is the convention of the national grid made by Statistics Denmark and the
National Survey and Cadastre (DDKN; see the ``kvadratnet`` package documentation,
https://pypi.org/project/kvadratnet/, whose examples ``1km_6223_576`` and
``100m_62237_5756`` follow it). Coordinates are EPSG:25832; WGS84 input
(EPSG:4326, latitude/longitude in degrees) is transformed with pyproj.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from botrygt_eval.errors import ConfigError, InputFileError

CellSize = Literal["100m", "1km"]
CELL_SIZES: dict[str, int] = {"100m": 100, "1km": 1000}
#: Denmark (with Bornholm and Christiansø, a margin of a few km) in EPSG:25832 metres
DK_EAST = (420_000.0, 900_000.0)
DK_NORTH = (6_030_000.0, 6_420_000.0)
#: the same in WGS84 degrees
DK_LAT = (54.4, 57.9)
DK_LON = (7.9, 15.3)


def cell_metres(cell: str) -> int:
    """The side of a cell size name in metres (``"1km"`` -> 1000)."""
    if cell not in CELL_SIZES:
        raise ConfigError(f"cell size {cell!r} is not supported; use one of {list(CELL_SIZES)}")
    return CELL_SIZES[cell]


def wgs84_to_utm32(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) in EPSG:25832 metres from WGS84 latitude/longitude in degrees.

    ETRS89 and WGS84 differ by well under a metre for this purpose (pyproj's default
    null transformation), far below the 100 m grid.
    """
    from pyproj import Transformer

    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    check_wgs84(lat, lon)
    tr = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
    east, north = tr.transform(lon, lat)
    return np.asarray(east, dtype=float), np.asarray(north, dtype=float)


def utm32_to_wgs84(east, north) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) in degrees from EPSG:25832 metres (for maps and checks)."""
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(np.asarray(east, dtype=float), np.asarray(north, dtype=float))
    return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)


def _outside(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    return ~((values >= bounds[0]) & (values <= bounds[1]))


def outside_denmark(east, north) -> np.ndarray:
    """Boolean mask: UTM32 points outside Denmark's extent (or missing)."""
    east = np.asarray(east, dtype=float)
    north = np.asarray(north, dtype=float)
    return _outside(east, DK_EAST) | _outside(north, DK_NORTH)


def check_utm32(east, north) -> None:
    """Raise if any point lies outside Denmark (swapped or degree coordinates, other zones)."""
    east, north = np.atleast_1d(np.asarray(east, float)), np.atleast_1d(np.asarray(north, float))
    bad = outside_denmark(east, north)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        e, n = float(east[i]), float(north[i])
        raise InputFileError(
            f"{int(bad.sum())} point(s) lie outside Denmark in ETRS89/UTM32N (EPSG:25832), "
            f"e.g. east={e:.0f}, north={n:.0f}; Denmark has east {DK_EAST[0]:.0f}-"
            f"{DK_EAST[1]:.0f} and north {DK_NORTH[0]:.0f}-{DK_NORTH[1]:.0f}: check that east "
            "and north are not swapped and that the coordinates are UTM32 metres, not degrees "
            "(give WGS84 as lat/lon columns instead)"
        )


def check_wgs84(lat, lon) -> None:
    """Raise if any WGS84 point lies outside Denmark (swapped latitude and longitude, ...)."""
    lat, lon = np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float))
    bad = _outside(lat, DK_LAT) | _outside(lon, DK_LON)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputFileError(
            f"{int(bad.sum())} WGS84 point(s) lie outside Denmark, e.g. lat={lat[i]}, "
            f"lon={lon[i]}; Denmark has latitude {DK_LAT[0]}-{DK_LAT[1]} and "
            f"longitude {DK_LON[0]}-{DK_LON[1]}: check that latitude and longitude are not swapped"
        )


def cell_ids(east, north, cell: CellSize = "1km") -> np.ndarray:
    """DST kvadratnet ids (``1km_<N/1000>_<E/1000>``, floor division) of UTM32 points."""
    size = cell_metres(cell)
    east = np.atleast_1d(np.asarray(east, dtype=float))
    north = np.atleast_1d(np.asarray(north, dtype=float))
    check_utm32(east, north)
    n = np.floor(north / size).astype(np.int64).astype(str)
    e = np.floor(east / size).astype(np.int64).astype(str)
    return np.char.add(np.char.add(np.char.add(f"{cell}_", n), "_"), e).astype(object)


def parse_cell_ids(ids) -> pd.DataFrame:
    """Size, south-west corner and centre of each cell id: columns ``size_m, east0, north0,
    east, north`` (metres); an id that is not a kvadratnet name raises with the example."""
    ids = pd.Series(np.asarray(ids, dtype=object), dtype=object)
    parts = ids.astype(str).str.extract(r"^(100m|1km)_(\d+)_(\d+)$")
    bad = parts[0].isna()
    if bad.any():
        raise InputFileError(
            f"{int(bad.sum())} cell id(s) are not DST kvadratnet names, e.g. "
            f"{ids[bad].iloc[0]!r}; use names like '1km_6176_724' or '100m_61762_7249' "
            "(size, northing, easting of the south-west corner)"
        )
    size = parts[0].map(CELL_SIZES).to_numpy(dtype=np.int64)
    north0 = parts[1].astype(np.int64).to_numpy() * size
    east0 = parts[2].astype(np.int64).to_numpy() * size
    return pd.DataFrame(
        {
            "size_m": size,
            "east0": east0,
            "north0": north0,
            "east": east0 + size / 2,
            "north": north0 + size / 2,
        },
        index=ids.index,
    )


def parent_ids(ids, parent: CellSize = "1km") -> np.ndarray:
    """The id of the larger cell that contains each (smaller) cell."""
    corners = parse_cell_ids(ids)
    size = cell_metres(parent)
    if (corners["size_m"] > size).any():
        raise ConfigError(f"a cell larger than the parent size {parent!r} has no parent of it")
    return cell_ids(corners["east0"].to_numpy(), corners["north0"].to_numpy(), parent)
