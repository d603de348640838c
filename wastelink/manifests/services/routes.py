"""Planned routes: a GeoJSON LineString in Thailand; the tracking context buffers it into a corridor."""

from __future__ import annotations

import json
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from wastelink.core.geometry import THAILAND_BBOX, GeometryError


def parse_route(data: Any) -> BaseGeometry:
    if not isinstance(data, dict) or data.get("type") != "LineString":
        raise GeometryError("must be a GeoJSON LineString")
    try:  # JSON has no NaN or Infinity: such a route could neither be stored nor drawn
        json.dumps(data, allow_nan=False)
    except ValueError as exc:
        raise GeometryError("has values that are not finite numbers") from exc
    try:
        line = shape(data)
    except Exception as exc:  # shapely raises several types on malformed coordinates
        raise GeometryError(f"has malformed coordinates ({exc})") from exc
    if line.is_empty or len(line.coords) < 2:
        raise GeometryError("needs at least two points")
    minx, miny, maxx, maxy = line.bounds
    if minx < THAILAND_BBOX[0] or maxx > THAILAND_BBOX[2] or miny < THAILAND_BBOX[1] or maxy > THAILAND_BBOX[3]:
        raise GeometryError("lies outside Thailand (are longitude and latitude swapped?)")
    return line
