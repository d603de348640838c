"""Geofences in memory: estate boundaries, generator and receiver sites, rest areas and officer-drawn hot spots.

All fences are held in one STRtree and queried for a whole batch of points at once; the index is rebuilt only when
the fences change (a cheap fingerprint of the tables is checked every few seconds).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from django.db.models import Count, Max
from pyproj import Geod
from shapely.geometry import shape

from wastelink.registry.models import Establishment, Estate
from wastelink.tracking.models import Geofence

SITE_RADIUS_M = 300  # a generator's or receiver's site, around its registered location
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Fence:
    key: str  # "estate:<code>", "site:<establishment id>", "fence:<id>"
    kind: str  # estate / site / rest_area / hot_spot
    name: str
    establishment_id: int | None = None
    receiver: bool = False  # a site of a licensed receiver: a waste facility (detection: wrong destination)


def _circle(lat: float, lon: float, radius_m: float, sides: int = 16):
    pts = [_GEOD.fwd(lon, lat, 360.0 * i / sides, radius_m)[:2] for i in range(sides)]
    return shapely.Polygon(pts)


class FenceIndex:
    check_every_s = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fingerprint: tuple | None = None
        self._checked_at = 0.0
        self._tree: shapely.STRtree | None = None
        self._fences: list[Fence] = []

    def _current_fingerprint(self) -> tuple:
        fences = Geofence.objects.filter(active=True).aggregate(n=Count("id"), t=Max("created_at"), m=Max("id"))
        estates = Estate.objects.aggregate(t=Max("updated_at"))
        sites = Establishment.objects.filter(lat__isnull=False).aggregate(n=Count("id"), t=Max("updated_at"))
        return (fences["n"], fences["t"], fences["m"], estates["t"], sites["n"], sites["t"])

    def _build(self) -> None:
        geoms, fences = [], []
        for e in Estate.objects.exclude(boundary=None).only("code", "name_en", "boundary"):
            geoms.append(shape(e.boundary))
            fences.append(Fence(f"estate:{e.code}", "estate", e.name_en))
        for est in Establishment.objects.filter(lat__isnull=False, lon__isnull=False).filter(
                is_generator=True) | Establishment.objects.filter(lat__isnull=False, lon__isnull=False, is_receiver=True):  # fmt: skip
            geoms.append(_circle(est.lat, est.lon, SITE_RADIUS_M))
            fences.append(Fence(f"site:{est.id}", "site", est.name_en or est.name_th, est.id, est.is_receiver))
        for g in Geofence.objects.filter(active=True):
            geoms.append(shape(g.geometry))
            fences.append(Fence(f"fence:{g.id}", g.kind, g.name, g.establishment_id))
        self._tree = shapely.STRtree(geoms) if geoms else None
        self._fences = fences

    def refresh(self, force: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            if not force and now - self._checked_at < self.check_every_s and self._fingerprint is not None:
                return
            self._checked_at = now
            fingerprint = self._current_fingerprint()
            if force or fingerprint != self._fingerprint:
                self._build()
                self._fingerprint = fingerprint

    def hits(self, lons: np.ndarray, lats: np.ndarray) -> list[list[Fence]]:
        """For each point, the fences it lies in (one vectorised tree query for the whole batch)."""
        self.refresh()
        out: list[list[Fence]] = [[] for _ in range(len(lons))]
        if self._tree is None or len(lons) == 0:
            return out
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        point_idx, fence_idx = self._tree.query(points, predicate="within")
        for p, f in zip(point_idx.tolist(), fence_idx.tolist(), strict=True):
            out[p].append(self._fences[f])
        return out


fence_index = FenceIndex()
