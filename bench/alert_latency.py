"""Point-to-alert latency under live load: mixed traffic at 5,000 points/s through `ingest()`, the real detection
worker beside it (as `wastelink serve` runs it), and the time from handing a rule-firing point to `ingest()` until
its alert is published on the bus.

Target (issue): p99 ≤ 1 s at 5,000 points/s of mixed traffic on 2 cores. Printed, never asserted.

The world (`tracking_world`, prefix "AL"): 5,000 vehicles with devices, each on an open trip (picked up a minute
before the traffic starts) with a planned route and a 500 m corridor, and one hot-spot geofence (a 300 m disc) placed at least 3 km from every ordinary route.
150 of the trips get a straight 20 km route through the hot spot instead, and drive into it at known moments; 150
others make one 20 km jump (a spoofed fix) at known moments. Everything else is ordinary on-route movement.

Traffic: a feeder thread hands `ingest()` a batch of 100 fixes every 20 ms on a fixed schedule (the devices in
turn, so every device reports about once a second, at 25–60 km/h along its route); fix times are the wall clock at
the moment the batch is made (live, never in the future). A 10 s warm-up (every trip seen by the pipeline and the
engine, caches filled) precedes 60 s of measurement. A recorder subscribed to the bus (before the worker) time-stamps
every published batch of positions and every alert.

- alert latency: from the `ingest()` call holding the firing point (the first fix inside the hot spot, or the
  jumped fix) to the publication of its alert on the bus (`hot_spot_entry` / `implausible_movement`, matched by
  trip and fix time);
- baseline: from the `ingest()` call to the publication of that batch's positions on the bus (no detection); the
  same measure is given for the firing points' own batches;
- point due → alert: the same as the alert latency, but from when the schedule wanted the point handed over (the
  feeder falls behind when ingest cannot keep up: this is what a device would see if its point had to queue);
- the detection thread: how long each engine batch takes (and in which stage), how far behind the bus it picks up
  (publication of the oldest message it takes → start of the batch), how many batches wait in its queue.
"""

from __future__ import annotations

import bisect
import gc
import io
import logging
import math
import os
import random
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import shapely
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone
from shapely.geometry import mapping

from wastelink.core.telemetry import Fix
from wastelink.detection.models import Alert
from wastelink.detection.services import engine as engine_module
from wastelink.detection.services.engine import AlertEngine
from wastelink.detection.services.worker import DetectionWorker
from wastelink.manifests.models import Manifest
from wastelink.tracking.bus import get_bus
from wastelink.tracking.models import Geofence, Trip
from wastelink.tracking.services.fences import fence_index
from wastelink.tracking.services.ingest import ingest

from . import tracking_world
from .precheck import Progress, _cpus, percentiles

TARGET_P99_S = 1.0
RATE = 5_000  # points/s
BATCH = 100  # points per ingest() call: 100 every 20 ms
TRIPS = 5_000  # every device reports about once a second
WARMUP_S = 10.0
MEASURE_S = 60.0
HOT_TRIPS = 150  # each drives into the hot spot once: hot_spot_entry
JUMP_TRIPS = 150  # each makes one 20 km jump: implausible_movement
HOT_RADIUS_M = 300.0
HOT_ROUTE_M = 20_000.0
JUMP_M = 20_000.0
DRAIN_S = 30.0  # after the feeder stops: how long to wait for the last alerts
M_PER_DEG = 111_320.0


# --- the world ------------------------------------------------------------------------------------------------


@dataclass
class Mover:
    """A device's position as a function of time: along a polyline (local metres) at a constant speed."""

    lon0: float
    lat0: float
    kx: float  # metres per degree of longitude here
    xs: list[float]
    ys: list[float]
    cum: list[float]  # distance along the line at each vertex
    s0: float  # distance along the line at t0
    t0: float  # perf_counter time
    v: float  # m/s
    noise_m: float

    def at(self, t: float, rng: random.Random) -> tuple[float, float, float]:
        """(lon, lat, course) at time t."""
        s = min(max(self.s0 + self.v * (t - self.t0), 0.0), self.cum[-1])
        k = min(max(bisect.bisect_right(self.cum, s) - 1, 0), len(self.cum) - 2)
        leg = self.cum[k + 1] - self.cum[k] or 1.0
        f = (s - self.cum[k]) / leg
        dx, dy = self.xs[k + 1] - self.xs[k], self.ys[k + 1] - self.ys[k]
        x, y = self.xs[k] + dx * f, self.ys[k] + dy * f
        if self.noise_m:
            x += rng.gauss(0, self.noise_m)
            y += rng.gauss(0, self.noise_m)
        return self.lon0 + x / self.kx, self.lat0 + y / M_PER_DEG, math.degrees(math.atan2(dx, dy)) % 360


def _mover(route: list[tuple[float, float]], s0: float, t0: float, v: float, noise_m: float) -> Mover:
    lon0, lat0 = route[0]
    kx = M_PER_DEG * math.cos(math.radians(lat0))
    xs = [(lon - lon0) * kx for lon, _ in route]
    ys = [(lat - lat0) * M_PER_DEG for _, lat in route]
    cum = [0.0]
    for k in range(1, len(route)):
        cum.append(cum[-1] + math.hypot(xs[k] - xs[k - 1], ys[k] - ys[k - 1]))
    return Mover(lon0, lat0, kx, xs, ys, cum, s0, t0, v, noise_m)


def _disc(lon: float, lat: float, radius_m: float, sides: int = 32) -> shapely.Polygon:
    kx = M_PER_DEG * math.cos(math.radians(lat))
    return shapely.Polygon([(lon + radius_m * math.sin(a) / kx, lat + radius_m * math.cos(a) / M_PER_DEG)
                            for a in (2 * math.pi * i / sides for i in range(sides))])  # fmt: skip


def _hot_spot_place(routes: list[list[tuple[float, float]]]) -> tuple[float, float]:
    """A place at least 3 km (≈ 0.027°) from every ordinary route: no ordinary trip drives into the hot spot."""
    lines = [shapely.LineString(r) for r in routes]
    tree = shapely.STRtree(lines)
    for lat in (13.0, 12.9, 13.1, 12.8, 13.2, 12.7, 13.3, 13.5, 12.5, 13.8, 12.2, 14.2):
        for lon in (101.1, 101.3, 100.9, 101.5, 100.7, 101.7, 100.5, 102.0, 102.4, 102.8):
            if not len(tree.query(shapely.Point(lon, lat), predicate="dwithin", distance=0.035)):
                return lon, lat
    return 103.5, 14.8  # far from the generated region whatever the seed


@dataclass
class World:
    devices: list[str]
    trip_ids: list[int]
    movers: list[Mover]
    hot: shapely.Polygon
    hot_center: tuple[float, float]
    hot_trips: dict[int, float]  # device index → moment of entry (perf_counter)
    jumps: dict[int, float]  # device index → moment of the jump (perf_counter)


def build_world(
    seed: int, n_trips: int, n_hot: int, n_jump: int, measure_from: float, measure_s: float
) -> World:
    """The fleet, the hot spot, the event trips' routes and schedules. `measure_from` is the perf_counter time
    at which measurement will start (the feeder's schedule is fixed to it)."""
    bar = Progress("fleet", n_trips)
    fleet = tracking_world.build("AL", n_trips, seed, bar)
    rng = random.Random(f"{seed}-alerts")
    order = list(range(n_trips))
    rng.shuffle(order)
    hot_idx, jump_idx = order[:n_hot], order[n_hot : n_hot + n_jump]
    ordinary_routes = [fleet.routes[i] for i in range(n_trips) if i not in set(hot_idx)]
    c_lon, c_lat = _hot_spot_place(ordinary_routes)
    hot = _disc(c_lon, c_lat, HOT_RADIUS_M)
    Geofence.objects.create(kind=Geofence.Kind.HOT_SPOT, name="bench hot spot", geometry=mapping(hot),
                            min_lon=hot.bounds[0], min_lat=hot.bounds[1], max_lon=hot.bounds[2], max_lat=hot.bounds[3],
                            created_by="bench")  # fmt: skip
    # Event moments, evenly spread over the measurement, the two kinds alternating.
    n_events = n_hot + n_jump
    span = measure_s - 2.0  # the last moments leave every device time to report once more
    moments = [measure_from + (k + 0.5) * span / n_events for k in range(n_events)]
    kinds = (["hot", "jump"] * n_events)[:n_events] if n_hot == n_jump else rng.sample(
        ["hot"] * n_hot + ["jump"] * n_jump, n_events)  # fmt: skip
    hot_moments = iter([m for m, k in zip(moments, kinds, strict=True) if k == "hot"])
    jump_moments = iter([m for m, k in zip(moments, kinds, strict=True) if k == "jump"])
    hot_trips = {i: next(hot_moments) for i in hot_idx}
    jumps = {i: next(jump_moments) for i in jump_idx}
    # The hot-spot trips' routes: straight, 20 km, through the hot spot's centre, from every direction.
    kx = M_PER_DEG * math.cos(math.radians(c_lat))
    manifests = dict(
        Trip.objects.filter(id__in=[fleet.trip_ids[i] for i in hot_idx]).values_list("id", "manifest_id")
    )
    changed = []
    routes = list(fleet.routes)
    for j, i in enumerate(hot_idx):
        a = j * 2.399963  # the golden angle: headings spread evenly
        dx, dy = math.sin(a) * HOT_ROUTE_M / 2, math.cos(a) * HOT_ROUTE_M / 2
        route = [(round(c_lon - dx / kx, 6), round(c_lat - dy / M_PER_DEG, 6)),
                 (round(c_lon + dx / kx, 6), round(c_lat + dy / M_PER_DEG, 6))]  # fmt: skip
        routes[i] = route
        changed.append(Manifest(id=manifests[fleet.trip_ids[i]],
                                route={"type": "LineString", "coordinates": [list(c) for c in route]}))  # fmt: skip
    Manifest.objects.bulk_update(changed, ["route"], batch_size=500)
    # Picked up a minute ago: the warm-up's first fixes come well within the signal-loss threshold (a trip that has
    # not reported for 10 minutes since its pickup is a signal loss).
    Trip.objects.filter(id__in=fleet.trip_ids).update(started_at=timezone.now() - timedelta(minutes=1))
    movers = []
    for i, route in enumerate(routes):
        if i in hot_trips:
            v = 11.0  # 40 km/h; at the moment of entry it is at the disc's edge
            movers.append(_mover(route, HOT_ROUTE_M / 2 - HOT_RADIUS_M, hot_trips[i], v, 0.0))
        else:
            length = _mover(route, 0, 0, 0, 0).cum[-1]
            movers.append(
                _mover(route, rng.uniform(0.05, 0.5) * length, measure_from, rng.uniform(7.0, 16.7), 3.0)
            )
    fence_index.refresh(force=True)
    return World(fleet.devices, fleet.trip_ids, movers, hot, (c_lon, c_lat), hot_trips, jumps)


# --- measurement ----------------------------------------------------------------------------------------------


@dataclass
class Event:
    kind: str  # hot_spot_entry / implausible_movement
    trip_id: int
    fix_time: datetime
    handed: float  # perf_counter when its batch was handed to ingest()
    due: float  # when the schedule wanted it handed (the feeder may run behind)
    batch_key: tuple[str, str]


def _iso(value: datetime | str) -> str:
    """A message's fix time as text (it travels as a datetime in the process, docs/tracking.md)."""
    return value if isinstance(value, str) else value.isoformat()


class Recorder:
    """Subscribed to the bus before the worker: the publication time of every batch of positions and every alert."""

    def __init__(self) -> None:
        self.positions: dict[tuple[str, str], float] = {}  # first message's (device, fix time) → published
        self.alerts: list[tuple[float, dict]] = []
        self.other: Counter = Counter()

    def __call__(self, messages: list[dict]) -> None:
        t = time.perf_counter()
        first = messages[0]
        kind = first.get("type")
        if kind == "position":
            self.positions[(first["device_id"], _iso(first["fix_time"]))] = t
        else:
            for m in messages:
                if m.get("type") == "alert":
                    self.alerts.append((t, m))
                else:
                    self.other[m.get("type")] += 1


@dataclass
class Feed:
    """What the feeder thread did."""

    batches: list[tuple[float, float, float, tuple[str, str], int, bool]] = field(default_factory=list)
    # (due, handed, returned, first key, points, measured)
    events: list[Event] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    cpu_s: float = 0.0
    error: BaseException | None = None


def feeder(
    world: World, start: float, end: float, measure_from: float, seed: int, feed: Feed, bar: Progress
) -> None:
    rng = random.Random(f"{seed}-feed")
    interval = BATCH / RATE
    n = len(world.devices)
    cursor = 0
    entered: set[int] = set()
    jumped: set[int] = set()
    reported = [False] * n
    cpu0 = time.thread_time()
    try:
        k = 0
        while True:
            due = start + k * interval
            if due >= end:
                break
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            now = datetime.now(UTC)
            t = time.perf_counter()
            fixes: list[Fix] = []
            fired: list[tuple[str, int, datetime]] = []
            for j in range(BATCH):
                i = (cursor + j) % n
                lon, lat, course = world.movers[i].at(t, rng)
                if i in world.hot_trips and i not in entered and shapely.contains_xy(world.hot, lon, lat):
                    entered.add(i)
                    if t >= measure_from:
                        fired.append(("hot_spot_entry", i, now))
                elif i in world.jumps and i not in jumped and t >= world.jumps[i] and reported[i]:
                    # (only after the device has reported once: a jump is judged against the fix before it)
                    jumped.add(i)
                    lat += JUMP_M / M_PER_DEG
                    fired.append(("implausible_movement", i, now))
                reported[i] = True
                fixes.append(Fix(world.devices[i], now, lat, lon, speed_kmh=round(world.movers[i].v * 3.6, 1),
                                 course=round(course, 1), accuracy=5.0, battery=80.0))  # fmt: skip
            cursor = (cursor + BATCH) % n
            key = (fixes[0].device_id, now.isoformat())
            handed = time.perf_counter()
            results = ingest(fixes, now=now)
            returned = time.perf_counter()
            measured = due >= measure_from
            feed.batches.append((due, handed, returned, key, len(fixes), measured))
            for r in results:
                feed.statuses[r.status] += 1
            for kind, i, fix_time in fired:
                feed.events.append(Event(kind, world.trip_ids[i], fix_time, handed, due, key))
            bar.advance(len(fixes))
            k += 1
    except BaseException as exc:  # reported by the main thread
        feed.error = exc
    finally:
        feed.cpu_s = time.thread_time() - cpu0
        connections.close_all()


class EngineProbe:
    """Times the engine's batches and their stages, wrapping the methods of this one engine instance (the worker
    and the engine themselves are unchanged)."""

    STAGES = ("_observe", "_advance", "_maybe_sync", "_raise")

    def __init__(self, engine: AlertEngine, recorder: Recorder) -> None:
        self.recorder = recorder
        self.handles: list[
            tuple[float, float, int, float | None, float]
        ] = []  # start, seconds, messages, behind, cpu
        self.stages: Counter = Counter()
        handle = engine.handle
        for name in self.STAGES:
            setattr(engine, name, self._timed(name.strip("_"), getattr(engine, name)))

        def timed_handle(messages, now=None):
            t0, c0 = time.perf_counter(), time.thread_time()
            first = messages[0] if messages else None
            published = None
            if first is not None and first.get("type") == "position":
                published = recorder.positions.get((first["device_id"], _iso(first["fix_time"])))
            try:
                return handle(messages, now)
            finally:
                t1 = time.perf_counter()
                behind = t0 - published if published is not None else None
                self.handles.append((t0, t1 - t0, len(messages), behind, time.thread_time() - c0))

        engine.handle = timed_handle
        # The notifier (called by _raise after each alert is published): timed on its own.
        try:
            from wastelink.detection.services import notify
        except ImportError:
            notify = None
        self._notify = notify
        if notify is not None:
            self._alert_raised = notify.alert_raised
            notify.alert_raised = self._timed("notify (within raise)", notify.alert_raised)

    def close(self) -> None:
        if self._notify is not None:
            self._notify.alert_raised = self._alert_raised

    def _timed(self, stage: str, method):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.stages[stage] += time.perf_counter() - t0

        return timed


class _CountNotifierFailures(logging.Filter):
    """The engine logs each notifier failure with its traceback; count them instead of printing 300 tracebacks."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.first = ""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("notifying alert"):
            self.count += 1
            if not self.first and record.exc_info:
                self.first = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
            return False
        return True


class GcPauses:
    """Garbage-collector passes during the run (every thread waits for them): generation, seconds, when."""

    def __init__(self) -> None:
        self.passes: list[tuple[int, float, float]] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.passes.append((info["generation"], time.perf_counter() - self._started, self._started))


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def run(*, seed: int, scale: float = 1.0) -> None:
    t_build = time.perf_counter()
    call_command("setup", verbosity=0, stdout=io.StringIO())
    n_trips = max(500, int(TRIPS * scale))
    measure_s = max(15.0, MEASURE_S * scale)
    n_hot = max(50, int(HOT_TRIPS * scale))
    n_jump = max(50, int(JUMP_TRIPS * scale))
    warmup_s = WARMUP_S
    # The schedule starts when the world is built: it is made on a provisional origin, then shifted.
    provisional = time.perf_counter() + 1e6
    world = build_world(seed, n_trips, n_hot, n_jump, provisional, measure_s)
    build_s = time.perf_counter() - t_build
    start = time.perf_counter() + 0.5
    measure_from = start + warmup_s
    shift = measure_from - provisional
    for mover in world.movers:
        mover.t0 += shift
    world.hot_trips = {i: m + shift for i, m in world.hot_trips.items()}
    world.jumps = {i: m + shift for i, m in world.jumps.items()}
    end = measure_from + measure_s

    gc.collect()
    gc.freeze()  # the world's objects are the benchmark's, not the server's
    recorder = Recorder()
    bus = get_bus()
    unsubscribe = bus.subscribe(recorder)  # before the worker: it sees each batch first
    engine = AlertEngine()
    probe = EngineProbe(engine, recorder)
    worker = DetectionWorker(engine)
    queue_samples: list[int] = []
    run_worker = worker._run

    def run_and_close() -> None:  # the worker's own loop; its database connection is closed when it ends
        try:
            run_worker()
        finally:
            connections.close_all()

    worker._run = run_and_close
    notifier_log = _CountNotifierFailures()
    engine_module.log.addFilter(notifier_log)
    alerts_before = Alert.objects.count()
    load_before = os.getloadavg()
    cpu_before = os.times()
    gc_passes = GcPauses()
    gc.callbacks.append(gc_passes)
    rss_before = _rss_mb()
    worker.start()
    feed = Feed()
    total_points = int((end - start) * RATE)
    bar = Progress("traffic", total_points)
    thread = threading.Thread(
        target=feeder, args=(world, start, end, measure_from, seed, feed, bar), name="feeder"
    )
    thread.start()
    while thread.is_alive():
        queue_samples.append(worker._queue.qsize())
        thread.join(0.05)
    # Drain: wait for the last alerts (or DRAIN_S).
    expected = {(e.trip_id, e.fix_time) for e in feed.events}
    drain_until = time.perf_counter() + DRAIN_S
    while time.perf_counter() < drain_until:
        seen = {(m["trip"], datetime.fromisoformat(m["fired_at"])) for _t, m in list(recorder.alerts)}
        if expected <= seen and worker._queue.qsize() == 0:
            break
        time.sleep(0.05)
    worker.stop()
    probe.close()
    cpu_after = os.times()
    load_after = os.getloadavg()
    unsubscribe()
    engine_module.log.removeFilter(notifier_log)
    gc.callbacks.remove(gc_passes)
    rss_after = _rss_mb()
    held = sum(len(state.recent) for state in list(engine.detector.trips.values()))
    gc.unfreeze()
    if feed.error is not None:
        raise feed.error
    alerts_stored = Alert.objects.count() - alerts_before

    _report(seed=seed, scale=scale, world=world, feed=feed, recorder=recorder, probe=probe,
            queue_samples=queue_samples, build_s=build_s, warmup_s=warmup_s, measure_s=measure_s,
            measure_from=measure_from, cpu=(cpu_before, cpu_after), load=(load_before, load_after),
            notifier=notifier_log, alerts_stored=alerts_stored, raised=engine.raised, gc_passes=gc_passes,
            memory=(rss_before, rss_after, held, len(engine.detector.trips)))  # fmt: skip


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8,.1f} ms"


def _row(label: str, samples: list[float]) -> str:
    if len(samples) < 2:
        return f"  {label:<40} {len(samples):>6}  (too few samples)"
    p = percentiles(samples)
    return (f"  {label:<40} {len(samples):>6,} {_ms(p['p50'])} {_ms(p['p95'])} {_ms(p['p99'])} "
            f"{_ms(p['max'])}")  # fmt: skip


def _report(*, seed, scale, world, feed, recorder, probe, queue_samples, build_s, warmup_s, measure_s, measure_from,
            cpu, load, notifier, alerts_stored, raised, gc_passes, memory) -> None:  # fmt: skip
    measured = [b for b in feed.batches if b[5]]
    pts = sum(b[4] for b in measured)
    span = (measured[-1][1] - measured[0][1]) + BATCH / RATE if measured else 1.0
    behind_schedule = [b[1] - b[0] for b in measured]
    baseline = []
    for _due, handed, _ret, key, _n, _m in measured:
        published = recorder.positions.get(key)
        if published is not None:
            baseline.append(published - handed)
    alerts = {(m["trip"], datetime.fromisoformat(m["fired_at"]), m["rule"]): t for t, m in recorder.alerts}
    handles = sorted(probe.handles)
    starts = [h[0] for h in handles]
    lat: dict[str, list[float]] = {"hot_spot_entry": [], "implausible_movement": []}
    ingest_part, queue_part, engine_part, from_due = [], [], [], []
    missing = []
    matched_keys = set()
    for e in feed.events:
        key = (e.trip_id, e.fix_time, e.kind)
        t_alert = alerts.get(key)
        if t_alert is None:
            missing.append(e)
            continue
        matched_keys.add(key)
        lat[e.kind].append(t_alert - e.handed)
        from_due.append(t_alert - e.due)
        published = recorder.positions.get(e.batch_key)
        if published is not None:
            ingest_part.append(published - e.handed)
            k = bisect.bisect_left(starts, published)
            pickup = starts[k] if k < len(starts) and starts[k] <= t_alert else published
            queue_part.append(pickup - published)
            engine_part.append(t_alert - pickup)
    all_lat = lat["hot_spot_entry"] + lat["implausible_movement"]
    unexpected = Counter(m["rule"] for t, m in recorder.alerts
                         if (m["trip"], datetime.fromisoformat(m["fired_at"]), m["rule"]) not in matched_keys)  # fmt: skip
    in_window = [h for h in handles if h[0] >= measure_from]
    cpu_s = (cpu[1].user - cpu[0].user) + (cpu[1].system - cpu[0].system)
    wall = cpu[1].elapsed - cpu[0].elapsed

    print()
    print("== point-to-alert latency under load (ingest → bus → detection worker → alert on the bus) ==")
    print(f"seed {seed}; scale {scale:g}; {_db()}; {_cpus()} CPU(s); load average {load[0][0]:.2f} before, "
          f"{load[1][0]:.2f} after; world built in {build_s:.1f} s")  # fmt: skip
    c_lon, c_lat = world.hot_center
    print(f"world: {len(world.devices):,} open trips (planned routes, 500 m corridors); hot spot: a "
          f"{HOT_RADIUS_M:.0f} m disc at {c_lat:.3f} N {c_lon:.3f} E, ≥ 3 km from every ordinary route; "
          f"{len(world.hot_trips)} trips drive into it, {len(world.jumps)} make a {JUMP_M / 1000:.0f} km jump")  # fmt: skip
    print(f"traffic: {BATCH} fixes every {BATCH / RATE * 1000:.0f} ms (fixed schedule) from a feeder thread; "
          f"each device about every {len(world.devices) / RATE:.1f} s; live fix times; warm-up {warmup_s:.0f} s, "
          f"measured {measure_s:.0f} s")  # fmt: skip
    print(f"achieved: {pts:,} points in {span:.1f} s = {pts / span:,.0f} points/s (target rate {RATE:,}); "
          f"statuses " + ", ".join(f"{k} {v:,}" for k, v in sorted(feed.statuses.items())))  # fmt: skip
    p = percentiles(behind_schedule) if len(behind_schedule) > 1 else None
    if p:
        print(f"feeder behind its schedule (handed − due): p50 {p['p50'] * 1000:.1f} ms, p99 {p['p99'] * 1000:.1f} ms,"
              f" max {p['max'] * 1000:.1f} ms")  # fmt: skip
    n_events = len(feed.events)
    print(f"alerts: {n_events} firing points handed over, {n_events - len(missing)} alerts published for them, "
          f"{len(missing)} missing (after a {DRAIN_S:.0f} s drain); other alerts: "
          + (", ".join(f"{k} {v}" for k, v in sorted(unexpected.items())) or "none")
          + f"; alerts raised {raised}, stored {alerts_stored}")  # fmt: skip
    for e in missing[:5]:  # what the trip got instead, if anything
        same = [f"{m['rule']} at {(datetime.fromisoformat(m['fired_at']) - e.fix_time).total_seconds():+.1f} s"
                for _t, m in recorder.alerts if m["trip"] == e.trip_id]  # fmt: skip
        print(f"  missing: {e.kind} of trip {e.trip_id} at {e.fix_time:%H:%M:%S.%f}; the trip's alerts: "
              + (", ".join(same) or "none"))  # fmt: skip
    if notifier.count:
        print(f"notifier: {notifier.count} failures logged by the engine (suppressed here): {notifier.first}")
    print(f"  {'latency':<40} {'n':>6} {'p50':>11} {'p95':>11} {'p99':>11} {'max':>11}")
    print(_row("point → alert on the bus", all_lat))
    print(_row("  hot_spot_entry", lat["hot_spot_entry"]))
    print(_row("  implausible_movement", lat["implausible_movement"]))
    print(_row("    of which ingest (→ position on bus)", ingest_part))
    print(_row("    waiting for the detection thread", queue_part))
    print(_row("    engine batch until the alert", engine_part))
    print(_row("baseline: point → position on bus", baseline))
    print(_row("point due (schedule) → alert", from_due))
    if len(all_lat) > 1 and len(baseline) > 1:
        a99, b99 = percentiles(all_lat)["p99"], percentiles(baseline)["p99"]
        print(
            f"ratio: alert p99 / baseline p99 = {a99 / b99:,.1f}×  ({a99 * 1000:,.1f} ms / {b99 * 1000:,.1f} ms)"
        )
    if in_window:
        sizes = [h[2] for h in in_window]
        durations = [h[1] for h in in_window]
        behind = [h[3] for h in in_window if h[3] is not None]
        window = (
            max(h[0] + h[1] for h in in_window) - measure_from
        )  # longer than measure_s if the feeder lagged
        busy = sum(durations) / window
        print(f"detection thread (measured window): {len(in_window):,} engine batches of {statistics.mean(sizes):,.0f} "
              f"positions on average (max {max(sizes):,}); busy {busy:.0%} of the wall time; CPU "
              f"{sum(h[4] for h in in_window) / window:.0%} of a core")  # fmt: skip
        print(_row("engine batch duration", durations))
        print(_row("time behind the bus (at pickup)", behind))
        total = sum(probe.stages.values()) or 1.0
        total -= probe.stages.get("notify (within raise)", 0.0)  # counted in raise already
        stage_text = ", ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in probe.stages.most_common())
        print(f"  engine stages over the whole run: {stage_text}")
    if queue_samples:
        print(f"  queue depth (lists of ~{BATCH} positions, sampled every 50 ms): mean "
              f"{statistics.mean(queue_samples):.1f}, max {max(queue_samples)}")  # fmt: skip
    full = [p for p in gc_passes.passes if p[0] == 2]
    longest = max(gc_passes.passes, key=lambda p: p[1], default=None)
    if longest is not None:
        print(f"garbage collector: {len(gc_passes.passes):,} passes, {sum(p[1] for p in gc_passes.passes):.2f} s in all; "
              f"{len(full)} full (generation 2) taking {sum(p[1] for p in full) * 1000:,.0f} ms, the longest "
              f"{max((p[1] for p in full), default=0) * 1000:,.0f} ms; longest pass of any generation "
              f"{longest[1] * 1000:,.0f} ms")  # fmt: skip
    rss0, rss1, held, open_trips = memory
    print(f"memory: process RSS {rss0:,.0f} → {rss1:,.0f} MB over the run; the engine holds {open_trips:,} trips and "
          f"{held:,} recent observations (its evidence window)")  # fmt: skip
    print(f"process CPU {cpu_s:.1f} s over {wall:.1f} s wall ({cpu_s / wall:.0%} of one core); feeder thread "
          f"{feed.cpu_s:.1f} s")  # fmt: skip
    if all_lat:
        p99 = percentiles(all_lat)["p99"] if len(all_lat) > 1 else all_lat[0]
        verdict = "within" if p99 <= TARGET_P99_S else "ABOVE"
        print(f"target     p99 ≤ {TARGET_P99_S:g} s at {RATE:,} points/s: p99 {p99 * 1000:,.0f} ms ({verdict} target) "
              f"at {pts / span:,.0f} points/s; not asserted")  # fmt: skip


def _db() -> str:
    if connection.vendor == "sqlite":
        return f"SQLite {connection.Database.sqlite_version}"
    version = getattr(connection, "pg_version", 0)
    return f"{connection.vendor} {version // 10000}.{version % 10000}" if version else connection.vendor
