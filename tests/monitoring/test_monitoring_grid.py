"""DST grid: known coordinates, an independent closed-form UTM projection, ids and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from botrygt_eval.errors import ConfigError, InputFileError
from botrygt_eval.reference.grid import (
    cell_ids,
    parent_ids,
    parse_cell_ids,
    utm32_to_wgs84,
    wgs84_to_utm32,
)


def utm_closed_form(lat_deg: float, lon_deg: float, zone: int = 32) -> tuple[float, float]:
    """Transverse Mercator on GRS80 by Snyder (1987, USGS PP 1395, eqs. 8-9 to 8-10):
    an independent check of pyproj (accurate to well below a metre within a zone)."""
    a, f, k0 = 6378137.0, 1 / 298.257222101, 0.9996
    e2 = f * (2 - f)
    ep2 = e2 / (1 - e2)
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    lon0 = math.radians(-183 + 6 * zone)
    n = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    t = math.tan(lat) ** 2
    c = ep2 * math.cos(lat) ** 2
    aa = math.cos(lat) * (lon - lon0)
    m = a * (
        (1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256) * lat
        - (3 * e2 / 8 + 3 * e2**2 / 32 + 45 * e2**3 / 1024) * math.sin(2 * lat)
        + (15 * e2**2 / 256 + 45 * e2**3 / 1024) * math.sin(4 * lat)
        - (35 * e2**3 / 3072) * math.sin(6 * lat)
    )
    east = 500000 + k0 * n * (
        aa + (1 - t + c) * aa**3 / 6 + (5 - 18 * t + t * t + 72 * c - 58 * ep2) * aa**5 / 120
    )
    north = k0 * (
        m
        + n
        * math.tan(lat)
        * (
            aa**2 / 2
            + (5 - t + 9 * c + 4 * c * c) * aa**4 / 24
            + (61 - 58 * t + t * t + 600 * c - 330 * ep2) * aa**6 / 720
        )
    )
    return east, north


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(55.6757, 12.5691), (57.0488, 9.9217), (55.3959, 10.3883), (55.1000, 14.7000)],
)
def test_projection_agrees_with_closed_form(lat, lon):
    e, n = wgs84_to_utm32(lat, lon)
    e_ref, n_ref = utm_closed_form(lat, lon)
    assert abs(float(e) - e_ref) < 0.5  # Bornholm is 5 degrees off the central meridian
    assert abs(float(n) - n_ref) < 0.5


def test_raadhuspladsen_cells():
    # Rådhuspladsen, København: E 724,404 N 6,175,762 (closed form above agrees to < 0.5 m);
    # the brief's "1km_6176_724" guess was a kilometre off in northing
    e, n = wgs84_to_utm32(55.6757, 12.5691)
    assert round(float(e)) == 724404 and round(float(n)) == 6175762
    assert cell_ids(e, n, "1km")[0] == "1km_6175_724"
    assert cell_ids(e, n, "100m")[0] == "100m_61757_7244"
    lat, lon = utm32_to_wgs84(e, n)
    assert abs(float(lat) - 55.6757) < 1e-9 and abs(float(lon) - 12.5691) < 1e-9


def test_ids_floor_and_put_northing_first():
    east = np.array([724000.0, 724999.9, 724000.0, 599999.0])
    north = np.array([6176000.0, 6176999.9, 6175999.9, 6100000.0])
    assert list(cell_ids(east, north, "1km")) == [
        "1km_6176_724",
        "1km_6176_724",
        "1km_6175_724",
        "1km_6100_599",
    ]
    # the example tiles of the kvadratnet documentation: 1km_6223_576 contains 100m_62237_5756
    assert parent_ids(["100m_62237_5756"], "1km")[0] == "1km_6223_575"
    assert parent_ids(["100m_62237_5766"], "1km")[0] == "1km_6223_576"


def test_centre_and_corner_round_trip():
    frame = parse_cell_ids(["1km_6176_724", "100m_61762_7249"])
    assert frame["east0"].tolist() == [724000, 724900]
    assert frame["north0"].tolist() == [6176000, 6176200]
    assert frame["east"].tolist() == [724500.0, 724950.0]
    assert frame["north"].tolist() == [6176500.0, 6176250.0]
    back = cell_ids(frame["east"], frame["north"], "1km")
    assert list(back) == ["1km_6176_724", "1km_6176_724"]


def test_errors_name_the_problem():
    with pytest.raises(InputFileError, match="swapped"):
        cell_ids([6176000.0], [724000.0])  # east and north swapped
    with pytest.raises(InputFileError, match="degrees"):
        cell_ids([12.57], [55.68])
    with pytest.raises(InputFileError, match="latitude and longitude"):
        wgs84_to_utm32(12.57, 55.68)
    with pytest.raises(InputFileError, match="1km_6176_724"):
        parse_cell_ids(["6176_724"])
    with pytest.raises(ConfigError, match="250m"):
        cell_ids([724000.0], [6176000.0], "250m")
