"""Memory per open trip: what the ingest pipeline keeps in the process between batches, for 10,000 open trips with
planned routes. Printed, never asserted.

Targets (issue): ≤ 2 KB per open trip; 10,000 open trips in ≤ 100 MB.

The state is filled the way a server fills it: one OsmAnd point from each trip's device through the real pipeline
(`ingest()`, batches of 1,000). What the pipeline then holds per open trip is its device's entry in the device
cache (`DeviceDirectory`) and its entry in the trip cache (`TripDirectory`: start, manifest number, and the
corridor, i.e. the route's vertices in UTM metres). Measured two ways: `tracemalloc` (every Python allocation,
numpy arrays included, that is still alive after a full garbage collection: the pipeline's state is nothing else)
and the growth of the process's resident memory (which also sees memory that C libraries allocate without telling
Python, e.g. GEOS geometries, and the allocator's overhead and fragmentation). The pipeline runs once before the
baseline is taken, so one-time costs (imports, compiled queries, the database's page cache) are not counted.

For comparison, in the same run: the buffered corridor polygons (`geography.corridor`, prepared shapely geometries
in an LRU cache keyed by the route's JSON) for the same 10,000 routes, each tested once so that its index is built:
what the pipeline kept per trip before it switched to route vertices, and what the maps still draw.
"""

from __future__ import annotations

import gc
import io
import os
import time
import tracemalloc
from datetime import datetime, timedelta

import numpy as np
from django.core.management import call_command
from django.utils import timezone

from wastelink.core.telemetry import Fix
from wastelink.tracking.services import geography, ingest

from . import tracking_world
from .precheck import Progress, _cpus

TRIPS = 10_000
TARGET_PER_TRIP = 2_048
TARGET_TOTAL = 100 * 1024 * 1024
BATCH = 1_000


def _rss() -> int:
    """Resident memory of this process, in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _settle() -> tuple[int, int]:
    gc.collect()
    return tracemalloc.get_traced_memory()[0], _rss()


def run(*, seed: int, scale: float = 1.0) -> None:
    t_build = time.perf_counter()
    call_command("setup", verbosity=0, stdout=io.StringIO())
    n = max(1_000, int(TRIPS * scale))
    fleet = tracking_world.build("MEM", n, seed, Progress("open trips", n))
    build_s = time.perf_counter() - t_build
    vertices = [len(r) for r in fleet.routes]
    now = timezone.now()
    fixes = []
    for device, route in zip(fleet.devices, fleet.routes, strict=True):
        lon, lat = route[len(route) // 2]
        fixes.append(Fix(device_id=device, fix_time=now, lat=lat, lon=lon, speed_kmh=40.0))
    routes = [{"type": "LineString", "coordinates": [list(c) for c in r]} for r in fleet.routes]

    # Warm up (imports, query compilation, the database's page cache, pyproj), then empty the caches: the baseline.
    warm = [
        Fix(device_id=f.device_id, fix_time=now - timedelta(seconds=1), lat=f.lat, lon=f.lon)
        for f in fixes[:BATCH]
    ]
    ingest.ingest(warm, now=now)
    geography.inside(geography.corridor(routes[0], 500), np.array([101.0]), np.array([13.0]))

    def empty() -> None:
        ingest.devices.clear()
        ingest.trips.clear()
        geography._corridor.cache_clear()
        gc.collect()

    def fill_pipeline(label: str, at: datetime) -> int:
        """One point from each open trip through the pipeline (within the device cache's 10 s: none is dropped)."""
        bar, accepted = Progress(label, n), 0
        for start in range(0, n, BATCH):
            batch = [Fix(device_id=f.device_id, fix_time=at, lat=f.lat, lon=f.lon, speed_kmh=f.speed_kmh)
                     for f in fixes[start : start + BATCH]]  # fmt: skip
            accepted += sum(r.status == "accepted" for r in ingest.ingest(batch, now=now))
            bar.advance(len(batch))
        return accepted

    def fill_polygons(label: str) -> None:
        bar, probe_x, probe_y = Progress(label, n), np.array([101.0]), np.array([13.0])
        for start in range(0, n, BATCH):
            for route in routes[start : start + BATCH]:
                geography.inside(geography.corridor(route, 500), probe_x, probe_y)
            bar.advance(min(BATCH, n - start))

    # Resident memory, without tracemalloc (its own bookkeeping would be counted).
    empty()
    empty_rss = _rss()
    accepted = fill_pipeline("pipeline (RSS)", now)
    gc.collect()
    state_rss = _rss()
    n_devices, n_trips = len(ingest.devices._cache), len(ingest.trips)
    fill_polygons("polygons (RSS)")
    gc.collect()
    poly_rss = _rss()
    # The same again, traced.
    empty()
    tracemalloc.start()
    empty_traced = tracemalloc.get_traced_memory()[0]
    fill_pipeline("pipeline (traced)", now - timedelta(seconds=2))
    state_traced, _ = _settle()
    fill_polygons("polygons (traced)")
    poly_traced, _ = _settle()
    tracemalloc.stop()
    per_trip = (state_traced - empty_traced) / n
    per_trip_rss = (state_rss - empty_rss) / n
    per_poly = (poly_traced - state_traced) / n
    per_poly_rss = (poly_rss - state_rss) / n

    print()
    print("== memory per open trip (what the ingest pipeline keeps between batches) ==")
    print(f"seed {seed}; scale {scale:g}; {_cpus()} CPU(s); {n:,} open trips, routes of {min(vertices)}–"
          f"{max(vertices)} vertices (mean {sum(vertices) / n:.0f}), 500 m corridors; built in {build_s:.1f} s")  # fmt: skip
    print(f"empty state      traced {empty_traced / 1024:9,.0f} KB   process RSS {empty_rss / 2**20:7,.1f} MB   "
          "(the caches empty: the baseline; RSS growth means something only when this benchmark runs alone)")  # fmt: skip
    print(f"pipeline state   traced {(state_traced - empty_traced) / 1024:9,.0f} KB   RSS +{(state_rss - empty_rss) / 2**20:6,.1f} MB   "
          f"per trip: {per_trip:6,.0f} B traced, {per_trip_rss:6,.0f} B RSS   ({n_devices:,} devices and "
          f"{n_trips:,} trips cached; {accepted:,} points accepted)")  # fmt: skip
    print(f"polygon cache    traced {(poly_traced - state_traced) / 1024:9,.0f} KB   RSS +{(poly_rss - state_rss) / 2**20:6,.1f} MB   "
          f"per trip: {per_poly:6,.0f} B traced, {per_poly_rss:6,.0f} B RSS   (prepared buffered polygons, for "
          "comparison)")  # fmt: skip
    total = per_trip * TRIPS
    verdict = "within" if per_trip <= TARGET_PER_TRIP else "ABOVE"
    verdict_total = "within" if max(total, per_trip_rss * TRIPS) <= TARGET_TOTAL else "ABOVE"
    print(f"target           ≤ 2 KB per trip: {per_trip:,.0f} B traced ({verdict} target; the RSS figure adds the "
          f"allocator's overhead and what the batches left behind); 10,000 trips ≤ 100 MB: {total / 2**20:.1f} MB "
          f"traced, {per_trip_rss * TRIPS / 2**20:.1f} MB RSS ({verdict_total} target); not asserted")  # fmt: skip
