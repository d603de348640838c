"""Recorded tracks for the demo's trips, so the live map and the replay have something to show.

The manifests' signals opened and closed the trips at load time; here each trip takes its manifest's times and
gets a GPS track along its planned route (a fix a minute, a little noise, city speeds), stored as if the truck's
device had sent it. Open trips are tracked up to now, or to their last minutes for the overdue one.
"""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
from django.db.models import Count
from django.utils import timezone
from pyproj import Geod

from wastelink.tracking.models import Position, Trip
from wastelink.tracking.services.geography import corridor, inside

GEOD = Geod(ellps="WGS84")
INTERVAL = timedelta(seconds=60)


def _along(coords: list[list[float]], fraction: float) -> tuple[float, float]:
    """The point at `fraction` (0–1) of a polyline's length."""
    legs = [GEOD.inv(a[0], a[1], b[0], b[1])[2] for a, b in zip(coords, coords[1:], strict=False)]
    target = sum(legs) * min(max(fraction, 0.0), 1.0)
    for (a, b), leg in zip(zip(coords, coords[1:], strict=False), legs, strict=True):
        if target <= leg or leg == 0:
            az = GEOD.inv(a[0], a[1], b[0], b[1])[0]
            lon, lat, _ = GEOD.fwd(a[0], a[1], az, target)
            return lon, lat
        target -= leg
    return coords[-1][0], coords[-1][1]


def build_tracks(seed: int) -> int:
    rng = random.Random(seed + 5055)
    now = timezone.now()
    total = 0
    for trip in Trip.objects.select_related("manifest").order_by("id"):
        m = trip.manifest
        if not m.route or not m.picked_up_at:
            continue
        start = m.picked_up_at
        end = m.delivered_at or min(now, m.expected_arrival_at)
        planned = max((m.expected_arrival_at - start).total_seconds(), 600)
        Trip.objects.filter(id=trip.id).update(started_at=start, ended_at=m.delivered_at if trip.state == "closed" else None)
        coords = m.route["coordinates"]
        rows, t = [], start
        while t <= end:
            frac = (t - start).total_seconds() / planned
            lon, lat = _along(coords, frac)
            lon += rng.gauss(0, 0.00008)
            lat += rng.gauss(0, 0.00008)
            rows.append(Position(device_id=trip.device_id, fix_time=t, received_at=t + timedelta(seconds=2), lat=lat,
                                 lon=lon, speed_kmh=round(max(0.0, rng.gauss(48, 8)), 1),
                                 course=round(rng.uniform(0, 360), 0), accuracy=round(abs(rng.gauss(6, 2)), 1),
                                 trip_id=trip.id))  # fmt: skip
            t += INTERVAL
        if not rows:
            continue
        poly = corridor(m.route, m.corridor_width_m)
        if poly is not None:
            flags = inside(poly, np.array([p.lon for p in rows]), np.array([p.lat for p in rows]))
            for p, flag in zip(rows, flags, strict=True):
                p.in_corridor = bool(flag)
        Position.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        total += len(rows)
    for trip_id, n in Trip.objects.annotate(n=Count("positions")).values_list("id", "n"):
        last = Position.objects.filter(trip_id=trip_id).order_by("-fix_time").values_list("fix_time", flat=True).first()
        outside = Position.objects.filter(trip_id=trip_id, in_corridor=False).count()
        Trip.objects.filter(id=trip_id).update(points=n, last_fix_at=last, outside_corridor_points=outside)
    return total
