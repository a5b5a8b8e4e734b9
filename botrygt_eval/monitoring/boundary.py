"""A kommune boundary from the user's GeoJSON file, as rings in EPSG:25832 metres.

Read with the ``json`` module (no GIS stack needed). Polygons and multipolygons are
accepted, bare or inside a Feature/FeatureCollection. Coordinates in metres (ETRS89 /
UTM 32N, EPSG:25832, as Danish agencies publish them) are used as they are; WGS84
longitude/latitude (the GeoJSON standard, RFC 7946) is converted with pyproj. A
``crs`` member naming one of the two decides; without one the number range decides.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from botrygt_eval.errors import InputFileError
from botrygt_eval.reference.grid import DK_EAST, DK_NORTH, wgs84_to_utm32

_POLYGONS = ("Polygon", "MultiPolygon")


def _geometries(obj: dict) -> list[dict]:
    kind = obj.get("type")
    if kind == "FeatureCollection":
        return [g for f in obj.get("features", []) for g in _geometries(f)]
    if kind == "Feature":
        return _geometries(obj["geometry"]) if obj.get("geometry") else []
    if kind == "GeometryCollection":
        return [g for part in obj.get("geometries", []) for g in _geometries(part)]
    if kind in _POLYGONS:
        return [obj]
    return []


def _rings(geom: dict) -> list[np.ndarray]:
    polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    return [np.asarray(ring, dtype=float)[:, :2] for poly in polygons for ring in poly]


def _declared_crs(obj: dict) -> str | None:
    name = str(obj.get("crs", {}).get("properties", {}).get("name", ""))
    if name.endswith(("25832", "EPSG::25832")):
        return "utm32"
    if name.endswith(("4326", "CRS84")):
        return "wgs84"
    return None


def read_boundary(source: str | Path | dict) -> list[np.ndarray]:
    """The rings (outer edges and holes) of every polygon in ``source``, as ``(n, 2)`` arrays
    of (east, north) metres in EPSG:25832.

    ``source`` is a GeoJSON file path or an already parsed GeoJSON object.
    """
    if isinstance(source, dict):
        obj, where = source, "the boundary object"
    else:
        path = Path(source)
        if not path.exists():
            raise InputFileError(f"boundary file {path} does not exist; give a GeoJSON file")
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise InputFileError(f"{path} is not valid JSON ({err}); give a GeoJSON file") from err
        where = str(path)
    rings = [r for g in _geometries(obj) for r in _rings(g)]
    if not rings:
        raise InputFileError(f"{where} holds no Polygon or MultiPolygon; a kommune boundary "
                             "must be a polygon (GeoJSON)")  # fmt: skip
    allxy = np.concatenate(rings)
    crs = _declared_crs(obj)
    if crs is None:
        east_ok = (allxy[:, 0] >= DK_EAST[0]) & (allxy[:, 0] <= DK_EAST[1])
        north_ok = (allxy[:, 1] >= DK_NORTH[0]) & (allxy[:, 1] <= DK_NORTH[1])
        degrees = (np.abs(allxy[:, 0]) <= 180) & (np.abs(allxy[:, 1]) <= 90)
        if (east_ok & north_ok).all():
            crs = "utm32"
        elif degrees.all():
            crs = "wgs84"
        else:
            raise InputFileError(f"{where}: coordinates are neither EPSG:25832 metres in Denmark "
                                 "nor WGS84 degrees; reproject the boundary to EPSG:25832")  # fmt: skip
    if crs == "wgs84":
        try:
            converted = []
            for r in rings:
                east, north = wgs84_to_utm32(r[:, 1], r[:, 0])  # GeoJSON order is lon, lat
                converted.append(np.column_stack([east, north]))
        except Exception as err:
            raise InputFileError(f"{where}: WGS84 boundary outside Denmark ({err})") from err
        rings = converted
    return rings
