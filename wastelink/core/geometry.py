"""Geometry in memory: boundary polygons, GeoJSON checks and bounding boxes (shapely 2 + pyproj).

Geometry is stored as GeoJSON text with bbox columns; it is never tested point by point in the database.
"""

from __future__ import annotations

import json
import math
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

WGS84 = Geod(ellps="WGS84")
# Thailand and its neighbours, generously: a boundary outside this box is almost surely a lat/lon swap.
THAILAND_BBOX = (97.0, 5.0, 106.5, 21.0)


class GeometryError(ValueError):
    """A geometry that cannot be accepted, with the reason."""


def generated_boundary(
    lat: float, lon: float, radius_m: float, *, sides: int = 12, seed: int = 0
) -> dict[str, Any]:
    """A demo boundary: an irregular polygon of about `radius_m` around the centre (no real boundaries are public)."""
    lons, lats = [], []
    for i in range(sides):
        azimuth = 360.0 * i / sides
        # Deterministic irregularity so estates do not all look like coins.
        wobble = 0.75 + 0.25 * math.sin(seed * 7.1 + i * 2.3) ** 2
        lon_i, lat_i, _ = WGS84.fwd(lon, lat, azimuth, radius_m * wobble)
        lons.append(round(lon_i, 6))
        lats.append(round(lat_i, 6))
    ring = list(zip(lons, lats, strict=True))
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def parse_area_geojson(data: Any) -> BaseGeometry:
    """Accepts a GeoJSON Polygon or MultiPolygon, or a Feature / one-feature FeatureCollection holding one.

    Raises GeometryError naming what is wrong; never returns an invalid or empty geometry.
    """
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise GeometryError(f"is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise GeometryError("must be a GeoJSON object")
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or len(features) != 1:
            raise GeometryError("a FeatureCollection must hold exactly one feature")
        data = features[0]
        kind = data.get("type") if isinstance(data, dict) else None
    if kind == "Feature":
        data = data.get("geometry")
        kind = data.get("type") if isinstance(data, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryError("geometry must be a Polygon or MultiPolygon")
    try:
        geom = shape(data)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise GeometryError(f"has malformed coordinates ({exc})") from exc
    if geom.is_empty:
        raise GeometryError("is empty")
    if not geom.is_valid:
        raise GeometryError(f"is not a valid polygon ({shapely.is_valid_reason(geom)})")
    minx, miny, maxx, maxy = geom.bounds
    bx0, by0, bx1, by1 = THAILAND_BBOX
    if minx < bx0 or maxx > bx1 or miny < by0 or maxy > by1:
        raise GeometryError("lies outside Thailand (are longitude and latitude swapped?)")
    return geom


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    return dict(mapping(geom))


def bbox(geom: BaseGeometry) -> tuple[float, float, float, float]:
    return tuple(float(v) for v in geom.bounds)  # type: ignore[return-value]


def area_hectares(geom: BaseGeometry) -> float:
    area, _ = WGS84.geometry_area_perimeter(geom)
    return abs(area) / 10_000.0
