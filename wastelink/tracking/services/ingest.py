"""The ingest pipeline: validate → known device → de-duplicate → assign to the open trip → corridor check →
durable batch write → publish. One path for every way in (OsmAnd HTTP, JSON batch, GPX).

A point is acknowledged only after its transaction commits. (device_id, fix_time) is the natural key, so a repeat
of an acknowledged point is answered 'duplicate' and changes nothing: clients may retry freely. Late points are
stored like any other; readers order by fix time.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wastelink.core.telemetry import Fix, problem
from wastelink.registry.models import Vehicle
from wastelink.tracking.bus import get_bus
from wastelink.tracking.models import IngestCounter, Position, Trip

from .geography import corridor, inside


@dataclass(frozen=True, slots=True)
class Result:
    index: int
    status: str  # accepted / duplicate / rejected / unknown_device
    reason: str = ""


class DeviceDirectory:
    """device id → vehicle id and transporter, cached for a few seconds (devices change rarely)."""

    ttl_s = 10.0

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, int] | None] = {}
        self._loaded_at = 0.0

    def lookup(self, device_ids: set[str]) -> dict[str, tuple[int, int] | None]:
        if time.monotonic() - self._loaded_at > self.ttl_s:
            self._cache.clear()
            self._loaded_at = time.monotonic()
        missing = [d for d in device_ids if d not in self._cache]
        if missing:
            found = {d: (v, t) for d, v, t in Vehicle.objects.filter(gps_device_id__in=missing, active=True)
                     .values_list("gps_device_id", "id", "transporter_id")}  # fmt: skip
            for d in missing:
                self._cache[d] = found.get(d)
        return {d: self._cache[d] for d in device_ids}

    def clear(self) -> None:
        self._cache.clear()


devices = DeviceDirectory()


def ingest(fixes: list[Fix], *, now: datetime | None = None, allowed_transporter: int | None = None) -> list[Result]:
    """Store a batch of fixes; a result per fix, in order. `allowed_transporter` limits a transporter's token to its
    own vehicles' devices."""
    now = now or timezone.now()
    results: list[Result | None] = [None] * len(fixes)
    refused: dict[tuple[str, str], int] = defaultdict(int)
    directory = devices.lookup({f.device_id for f in fixes})
    candidates: list[tuple[int, Fix]] = []
    for i, fix in enumerate(fixes):
        known = directory.get(fix.device_id)
        if known is None or (allowed_transporter is not None and known[1] != allowed_transporter):
            results[i] = Result(i, "unknown_device", "unknown device")
            refused[(fix.device_id, "unknown_device")] += 1
            continue
        reason = problem(fix, now)
        if reason:
            results[i] = Result(i, "rejected", reason)
            refused[(fix.device_id, reason.split(":")[0][:80])] += 1
            continue
        candidates.append((i, fix))

    published: list[dict] = []
    with transaction.atomic():
        # Repeats inside the batch, then repeats of points already stored (one query for the batch).
        seen: set[tuple[str, datetime]] = set()
        unique: list[tuple[int, Fix]] = []
        for i, fix in candidates:
            key = (fix.device_id, fix.fix_time)
            if key in seen:
                results[i] = Result(i, "duplicate")
            else:
                seen.add(key)
                unique.append((i, fix))
        stored = set()
        if unique:
            times = [f.fix_time for _, f in unique]
            stored = set(Position.objects.filter(device_id__in={f.device_id for _, f in unique},
                                                 fix_time__gte=min(times), fix_time__lte=max(times))
                         .values_list("device_id", "fix_time"))  # fmt: skip
        fresh = []
        for i, fix in unique:
            if (fix.device_id, fix.fix_time) in stored:
                results[i] = Result(i, "duplicate")
            else:
                fresh.append((i, fix))

        trips = {t.device_id: t for t in Trip.objects.filter(state=Trip.State.OPEN, device_id__in={f.device_id for _, f in fresh})
                 .select_related("manifest")}  # fmt: skip
        rows: list[Position] = []
        per_trip: dict[int, list[Position]] = defaultdict(list)
        for i, fix in fresh:
            trip = trips.get(fix.device_id)
            if trip is not None and fix.fix_time < trip.started_at:
                trip = None  # a late point from before the pickup belongs to no trip
            pos = Position(device_id=fix.device_id, fix_time=fix.fix_time, received_at=now, lat=fix.lat, lon=fix.lon,
                           speed_kmh=fix.speed_kmh, course=fix.course, altitude=fix.altitude, accuracy=fix.accuracy,
                           battery=fix.battery, mock=fix.mock, attributes=fix.attributes, trip=trip)  # fmt: skip
            rows.append(pos)
            if trip is not None:
                per_trip[trip.id].append(pos)
            results[i] = Result(i, "accepted")

        trip_by_id = {t.id: t for t in trips.values()}
        for trip_id, positions in per_trip.items():
            trip = trip_by_id[trip_id]
            poly = corridor(trip.manifest.route, trip.manifest.corridor_width_m)
            if poly is not None:
                flags = inside(poly, np.array([p.lon for p in positions]), np.array([p.lat for p in positions]))
                for p, flag in zip(positions, flags, strict=True):
                    p.in_corridor = bool(flag)
        Position.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        for trip_id, positions in per_trip.items():
            latest = max(p.fix_time for p in positions)
            outside = sum(1 for p in positions if p.in_corridor is False)
            Trip.objects.filter(id=trip_id).update(points=F("points") + len(positions),
                                                   outside_corridor_points=F("outside_corridor_points") + outside)  # fmt: skip
            Trip.objects.filter(id=trip_id).filter(last_fix_at__isnull=True).update(last_fix_at=latest)
            Trip.objects.filter(id=trip_id, last_fix_at__lt=latest).update(last_fix_at=latest)
        for key, n in refused.items():
            _count(key[0], key[1], n, now)
        published = [{"type": "position", "device_id": p.device_id, "fix_time": p.fix_time.isoformat(), "lat": p.lat,
                      "lon": p.lon, "speed_kmh": p.speed_kmh, "course": p.course,
                      "trip": p.trip_id, "manifest": p.trip.manifest.number if p.trip_id else None,
                      "in_corridor": p.in_corridor} for p in rows]  # fmt: skip
        transaction.on_commit(lambda: get_bus().publish(published))
    return [r for r in results if r is not None]


def _count(device_id: str, reason: str, n: int, now: datetime) -> None:
    updated = IngestCounter.objects.filter(device_id=device_id[:64], reason=reason).update(count=F("count") + n, last_seen=now)
    if not updated:
        IngestCounter.objects.get_or_create(device_id=device_id[:64], reason=reason, defaults={"count": n, "last_seen": now})
