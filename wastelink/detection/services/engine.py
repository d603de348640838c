"""The detection engine: the rules of core/detection.py run over accepted positions, and alerts raised from them.

It listens to the telemetry bus (positions after their commit, trip events) and keeps one `Detector` for the
process. For each batch it looks up which geofences the points lie in (one vectorised query of the fence index),
feeds each trip's points in fix-time order, lets time pass, and writes the firings as `Alert` rows — one per trip,
rule and episode (a unique constraint), so a replay or a restart never duplicates an alert. New alerts are
published on the bus (the live stream) and handed to the notifiers.

Time for silent trips: a trip whose newest fix arrived within `LIVE_LAG` of its fix time is live, and time passes
for it with the wall clock; for the others (replays, uploads of old tracks) time passes with the newest fix time
seen among them. So a replay at any speed raises the alerts live operation would.

A trip first seen by this process (a restart, another process opened it) is warmed up from its stored positions,
so its rules resume where they were. Trips closed elsewhere are noticed by `sync` (every few seconds).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from wastelink.core.detection import (
    FACILITY,
    Detector,
    Firing,
    Observation,
    Place,
    RuleSettings,
    TripPlan,
    Zone,
)
from wastelink.detection.models import Alert
from wastelink.tracking.bus import Message, get_bus
from wastelink.tracking.models import Position, Trip
from wastelink.tracking.services.fences import fence_index

log = logging.getLogger(__name__)

LIVE_LAG = timedelta(minutes=2)  # a fix that arrives within this of its fix time is live


def rule_settings() -> RuleSettings:
    """The rules' parameters: defaults overridden by settings.WASTELINK['DETECTION'] (docs/detection.md)."""
    return RuleSettings.from_mapping(dict(settings.WASTELINK.get("DETECTION", {})))


@dataclass(frozen=True, slots=True)
class TripFacts:
    """What an alert needs of its trip, read once."""

    manifest_id: int
    manifest: str
    vehicle_id: int
    device_id: str
    plate: str
    origin_estate_id: int | None
    destination_estate_id: int | None


def _when(value: datetime | str) -> datetime:
    """A message's time: a datetime from ingest in this process, ISO 8601 text from elsewhere."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _zones(lons: list[float], lats: list[float]) -> list[tuple[Zone, ...]]:
    if not lons:
        return []
    hits = fence_index.hits(np.array(lons, dtype=float), np.array(lats, dtype=float))
    return [tuple(Zone(FACILITY if f.kind == "site" and f.receiver else f.kind, f.key, f.name) for f in fences)
            for fences in hits]  # fmt: skip


def _place(establishment) -> Place:
    return Place(f"site:{establishment.id}", establishment.lat, establishment.lon)


class AlertEngine:
    sync_every_s = 5.0
    advance_every_s = 1.0

    def __init__(self, rules: RuleSettings | None = None, *, wall_clock: bool = True) -> None:
        """`wall_clock=False` for replays: time is only ever the fixes' (no trip counts as live)."""
        self.detector = Detector(rules or rule_settings())
        self.wall_clock = wall_clock
        self.lock = threading.RLock()
        self.facts: dict[int, TripFacts] = {}
        self.live: set[int] = set()  # trips whose fixes arrive as they are made
        self.replay_clock: datetime | None = None  # newest fix time among the other trips
        self._synced_at: datetime | None = None
        self._advanced_at = 0.0
        self.raised = 0

    # --- the bus ---------------------------------------------------------------------------------------------

    def handle(self, messages: list[Message], now: datetime | None = None) -> list[Alert]:
        """One batch from the bus: positions, trip events. Returns the alerts raised."""
        now = now or timezone.now()
        positions = [m for m in messages if m.get("type") == "position" and m.get("trip")]
        closed = [m["trip"] for m in messages if m.get("type") == "trip_closed"]
        opened = {m["trip"] for m in messages if m.get("type") == "trip_opened"}
        with self.lock:
            firings: list[Firing] = []
            if opened - set(
                self.detector.trips
            ):  # judged from the pickup: a device that never reports is a silence
                firings += self._open(opened - set(self.detector.trips), live_since=now)
            if positions:
                firings += self._observe(positions, now)
            for trip_id in closed:
                firings += self._close(trip_id)
            firings += self._maybe_sync(now)
            # Time passing is judged at most once a second: it visits every open trip, and a silent trip's alert
            # carries the fix time its silence reached the threshold, whenever it is noticed.
            if time.monotonic() - self._advanced_at >= self.advance_every_s:
                firings += self._advance(now)
            return self._raise(firings, now)

    def tick(self, now: datetime | None = None) -> list[Alert]:
        """Time passes without positions (the worker calls this every second); closed trips are noticed."""
        now = now or timezone.now()
        with self.lock:
            return self._raise(self._maybe_sync(now) + self._advance(now), now)

    # --- rules -----------------------------------------------------------------------------------------------

    def _observe(self, positions: list[Message], now: datetime) -> list[Firing]:
        fresh = {m["trip"] for m in positions} - set(self.detector.trips)
        firings: list[Firing] = []
        if fresh:
            first: dict[int, datetime] = {}
            for m in positions:
                if m["trip"] in fresh:
                    t = _when(m["fix_time"])
                    first[m["trip"]] = min(t, first.get(m["trip"], t))
            firings = self._open(fresh, first)
        rows = [(_when(m["fix_time"]), m["trip"], m["lat"], m["lon"], m.get("in_corridor"),
                 m.get("speed_kmh")) for m in positions if m["trip"] in self.detector.trips]  # fmt: skip
        return firings + self._feed(rows, now)

    def _feed(self, rows: list[tuple], now: datetime | None) -> list[Firing]:
        """(fix time, trip, lat, lon, in corridor, speed) rows through the rules, in fix-time order."""
        rows.sort(key=lambda r: r[0])
        zones = _zones([r[3] for r in rows], [r[2] for r in rows])
        out: list[Firing] = []
        for (fix_time, trip_id, lat, lon, in_corridor, speed), where in zip(rows, zones, strict=True):
            out += self.detector.observe(trip_id, Observation(fix_time, lat, lon, in_corridor, where, speed))
            if now is not None and self.wall_clock and now - fix_time <= LIVE_LAG:
                self.live.add(trip_id)
            elif now is not None:
                self.live.discard(trip_id)
                if self.replay_clock is None or fix_time > self.replay_clock:
                    self.replay_clock = fix_time
        return out

    def _open(self, trip_ids: set[int], before: dict[int, datetime] | None = None,
              live_since: datetime | None = None) -> list[Firing]:  # fmt: skip
        """Trips new to this process: their plans, and their stored positions so far (the rules resume)."""
        trips = (Trip.objects.filter(id__in=trip_ids, state=Trip.State.OPEN)
                 .select_related("vehicle", "manifest", "manifest__generator", "manifest__receiver"))  # fmt: skip
        opened = []
        for trip in trips:
            m = trip.manifest
            self.facts[trip.id] = TripFacts(m.id, m.number, trip.vehicle_id, trip.device_id, trip.vehicle.plate,
                                            m.generator.estate_id, m.receiver.estate_id)  # fmt: skip
            self.detector.open(TripPlan(trip.id, trip.started_at, _place(m.generator), _place(m.receiver),
                                        m.expected_arrival_at))  # fmt: skip
            opened.append(trip.id)
            if live_since is not None and self.wall_clock and live_since - trip.started_at <= LIVE_LAG:
                self.live.add(trip.id)  # picked up just now: the wall clock keeps its time until its fixes do
        if not opened:
            return []
        stored = Position.objects.filter(trip_id__in=opened).order_by("fix_time")
        rows = []
        for p in stored.values_list(
            "fix_time", "trip_id", "lat", "lon", "in_corridor", "speed_kmh"
        ).iterator():
            if before and p[1] in before and p[0] >= before[p[1]]:
                continue  # the batch being handled brings these
            rows.append(p)
        return self._feed(rows, None) if rows else []

    def _close(self, trip_id: int) -> list[Firing]:
        trip = Trip.objects.filter(id=trip_id).only("ended_at", "state").first()
        if trip_id not in self.detector.trips or trip is None:
            return []
        out = self.detector.deliver(trip_id, trip.ended_at or timezone.now())
        self.detector.close(trip_id)
        self.live.discard(trip_id)
        return out

    def _maybe_sync(self, now: datetime) -> list[Firing]:
        if self._synced_at is not None and (now - self._synced_at).total_seconds() < self.sync_every_s:
            return []
        self._synced_at = now
        return self._sync()

    def _sync(self) -> list[Firing]:
        """Trips closed by another process (or while the bus message was missed)."""
        held = list(self.detector.trips)
        if not held:
            return []
        still_open = set(Trip.objects.filter(id__in=held, state=Trip.State.OPEN).values_list("id", flat=True))
        out: list[Firing] = []
        for trip_id in held:
            if trip_id not in still_open:
                out += self._close(trip_id)
        return out

    def _advance(self, now: datetime) -> list[Firing]:
        self._advanced_at = time.monotonic()
        out: list[Firing] = []
        replayed = [t for t in self.detector.trips if t not in self.live]
        if self.replay_clock is not None and replayed:
            out += self.detector.advance(self.replay_clock, trips=replayed)
        if self.live:
            out += self.detector.advance(now, trips=list(self.live))
        return out

    # --- alerts ----------------------------------------------------------------------------------------------

    def _raise(self, firings: list[Firing], now: datetime) -> list[Alert]:
        """The batch's firings as alerts, in one transaction (a savepoint each: an episode already raised is
        skipped); published and handed to the notifiers once committed."""
        if not firings:
            return []
        raised: list[tuple[Alert, TripFacts]] = []
        updated: list[tuple[Alert, TripFacts]] = []
        with transaction.atomic():
            for firing in firings:
                facts = self.facts.get(firing.trip_id)
                if facts is None:
                    continue
                if firing.update:
                    alert = self._update(firing)
                    if alert is not None:
                        updated.append((alert, facts))
                    continue
                alert = Alert(trip_id=firing.trip_id, manifest_id=facts.manifest_id, vehicle_id=facts.vehicle_id,
                              rule=firing.rule, severity=firing.severity, episode_at=firing.episode,
                              fired_at=firing.fired_at, raised_at=now, lat=firing.lat, lon=firing.lon,
                              facts=firing.facts, evidence=firing.evidence, origin_estate_id=facts.origin_estate_id,
                              destination_estate_id=facts.destination_estate_id)  # fmt: skip
                try:
                    with transaction.atomic():
                        alert.save()
                except IntegrityError:
                    continue  # this episode's alert exists already (a replay, a restart)
                raised.append((alert, facts))
        self.raised += len(raised)
        get_bus().publish([alert_message("alert", a, f.device_id, f.manifest, f.plate) for a, f in raised]
                          + [alert_message("alert_updated", a, f.device_id, f.manifest, f.plate) for a, f in updated])  # fmt: skip
        for alert, _facts in raised:
            notifier.send(alert.id)
        return [a for a, _f in raised]

    @staticmethod
    def _update(firing: Firing) -> Alert | None:
        with transaction.atomic():
            alert = (Alert.objects.select_for_update()
                     .filter(trip_id=firing.trip_id, rule=firing.rule, episode_at=firing.episode).first())  # fmt: skip
            if alert is None:
                return None
            alert.facts = {**alert.facts, **firing.facts}
            alert.evidence = firing.evidence or alert.evidence
            if firing.severity == Alert.Severity.HIGH:
                alert.severity = Alert.Severity.HIGH
            alert.save(update_fields=["facts", "evidence", "severity"])
            return alert


def alert_message(kind: str, alert: Alert, device_id: str, manifest: str, plate: str = "") -> Message:
    return {"type": kind, "id": alert.id, "trip": alert.trip_id, "device_id": device_id, "manifest": manifest,
            "vehicle": alert.vehicle_id, "plate": plate, "rule": alert.rule, "severity": alert.severity, "state": alert.state,
            "fired_at": alert.fired_at.isoformat(), "raised_at": alert.raised_at.isoformat(), "lat": alert.lat,
            "lon": alert.lon}  # fmt: skip


class Notifier:
    """The notifiers (webhooks, email, in-app notices) for each new alert. In a server (`background`, set by the
    detection worker) they run off the detection thread: they read and write the database and talk to the network,
    and an alert storm must not hold up the next alerts. Elsewhere (a command replaying a scenario, tests) they run
    in line, so nothing is left behind when the process ends; `flush` waits for what is queued."""

    def __init__(self) -> None:
        self.background = False
        self._queue: queue.Queue[int] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, alert_id: int) -> None:
        if not self.background:
            self._notify(alert_id)
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="alert-notifier", daemon=True)
                self._thread.start()
        self._queue.put(alert_id)

    def flush(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self._queue.unfinished_tasks

    def _run(self) -> None:
        from django.db import close_old_connections

        while True:
            alert_id = self._queue.get()
            try:
                self._notify(alert_id)
            finally:
                self._queue.task_done()
                close_old_connections()

    @staticmethod
    def _notify(alert_id: int) -> None:
        from wastelink.detection.services import notify

        try:
            alert = Alert.objects.filter(id=alert_id).first()
            if alert is not None:
                notify.alert_raised(alert)
        except Exception:  # a notifier's failure must never lose the alert or stop detection
            log.exception("notifying alert %s failed", alert_id)


notifier = Notifier()
