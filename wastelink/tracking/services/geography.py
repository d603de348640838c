"""Corridors and geofences in memory: planned routes buffered in metres, tested with vectorised shapely calls.

Thailand spans UTM zones 47 and 48; zone 47N (EPSG:32647) keeps distortion small enough for a 500 m corridor
anywhere in the country. Corridors are cached per trip and rebuilt only when the route changes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32647", always_xy=True)
TO_WGS = Transformer.from_crs("EPSG:32647", "EPSG:4326", always_xy=True)


def _utm(xs, ys):
    return TO_UTM.transform(xs, ys)


def _wgs(xs, ys):
    return TO_WGS.transform(xs, ys)


@lru_cache(maxsize=20_000)
def _corridor(route_key: str, width_m: int) -> BaseGeometry:
    import json

    line = shape(json.loads(route_key))
    buffered = shapely.transform(line, _utm, interleaved=False).buffer(width_m, cap_style="round")
    shapely.prepare(buffered)
    return buffered


def corridor(route: dict | None, width_m: int) -> BaseGeometry | None:
    """The corridor polygon in UTM metres, or None when the manifest planned no route."""
    if not route:
        return None
    import json

    return _corridor(json.dumps(route, sort_keys=True), int(width_m))


def inside(polygon_utm: BaseGeometry, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Vectorised: which of the WGS84 points fall inside a polygon given in UTM metres."""
    xs, ys = TO_UTM.transform(lons, lats)
    return shapely.contains_xy(polygon_utm, np.asarray(xs), np.asarray(ys))


def corridor_wgs84(route: dict | None, width_m: int) -> dict | None:
    """The corridor as GeoJSON in WGS84, for maps."""
    poly = corridor(route, width_m)
    if poly is None:
        return None
    return shapely.geometry.mapping(shapely.transform(poly.simplify(5), _wgs, interleaved=False))
