"""`wastelink scenario replay`: a loaded scenario's points through the platform's own ingest pipeline, in fix-time
order, with each claimed delivery at its time; detection runs on the bus as it does in the server.

As fast as the machine allows by default (the rules judge by fix time, so the alerts are those of a live run), or
paced (`speed` × real time). The alerts raised are the platform's `Alert` rows; `wastelink evaluate` compares them
with the scenario's ground truth.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from wastelink.audit import services as audit
from wastelink.core.detection import RuleSettings
from wastelink.core.manifest_rules import ManifestState
from wastelink.core.telemetry import Fix
from wastelink.detection.services.engine import AlertEngine, rule_settings
from wastelink.manifests.models import Manifest
from wastelink.manifests.signals import manifest_delivered, manifest_in_transit
from wastelink.tracking.bus import get_bus
from wastelink.tracking.models import Trip
from wastelink.tracking.services.ingest import ingest

from .load import ACTOR, ScenarioError, manifest_number, time_of


@dataclass
class Replayed:
    points: int = 0
    accepted: int = 0
    deliveries: int = 0
    alerts: int = 0
    seconds: float = 0.0


def settings_for(scenario: dict) -> RuleSettings:
    base = {k: v for k, v in vars(rule_settings()).items() if k != "threshold_minutes"}
    try:
        return RuleSettings.from_mapping({**base, **scenario.get("settings", {})})
    except ValueError as exc:
        raise ScenarioError("settings", str(exc)) from exc


def _events(scenario: dict) -> tuple[list[tuple], dict[str, timedelta]]:
    """All points and deliveries in time order, with each trip's shift (from its loaded manifest's pickup)."""
    shifts: dict[str, timedelta] = {}
    events: list[tuple] = []
    pickups = dict(Manifest.objects.filter(number__in=[manifest_number(t["id"]) for t in scenario["trips"]])
                   .values_list("number", "planned_pickup_at"))  # fmt: skip
    device = {v["id"]: v["device_id"] for v in scenario["world"]["vehicles"]}
    for i, t in enumerate(scenario["trips"]):
        picked = pickups.get(manifest_number(t["id"]))
        if picked is None:
            raise ScenarioError(f"trips[{i}]", "not loaded: run `wastelink scenario load` first")
        shift = shifts[t["id"]] = picked - time_of(t["start"], f"trips[{i}].start")
        events.append((picked, -1, t["id"]))  # the pickup, before any fix of the same second
        for p in t["points"]:
            at = time_of(p[0], f"trips[{i}].points") + shift
            speed = float(p[3]) if len(p) > 3 and p[3] is not None else None
            events.append((at, 0, device[t["vehicle"]], float(p[1]), float(p[2]), speed))
        if t.get("delivered_at"):
            events.append((time_of(t["delivered_at"], f"trips[{i}].delivered_at") + shift, 1, t["id"]))
    events.sort(key=lambda e: (e[0], e[1]))  # by time; at the same time a pickup, then fixes, then a delivery
    return events, shifts


def _move(trip_key: str, at: datetime, before: ManifestState, after: ManifestState, stamp: str, signal) -> bool:
    """The scenario's pickup (SCHEDULED → IN_TRANSIT) or delivery claim (IN_TRANSIT → DELIVERED) at its time,
    audited, with the manifest signal that opens or closes the trip."""
    with transaction.atomic():
        manifest = (Manifest.objects.select_for_update()
                    .filter(number=manifest_number(trip_key), state=before.value).first())  # fmt: skip
        if manifest is None:
            return False
        manifest.state = after.value
        setattr(manifest, stamp, at)
        manifest.save(update_fields=["state", stamp])
        audit.record(actor=ACTOR, action=f"manifest.{after.value.lower()}", obj=manifest, note="by the scenario")
        signal.send(sender=Manifest, manifest=manifest)
    return True


def _pick_up(trip_key: str, at: datetime) -> bool:
    return _move(trip_key, at, ManifestState.SCHEDULED, ManifestState.IN_TRANSIT, "picked_up_at", manifest_in_transit)


def _deliver(trip_key: str, at: datetime) -> bool:
    return _move(trip_key, at, ManifestState.IN_TRANSIT, ManifestState.DELIVERED, "delivered_at", manifest_delivered)


def replay(scenario: dict, *, speed: float | None = None, window_s: float = 10.0, live: bool = False,
           detect: bool = True, stop: Callable[[], bool] | None = None,
           progress: Callable[[int, int], None] | None = None) -> Replayed:  # fmt: skip
    """Send the scenario's points (in windows of `window_s` seconds of fix time) and deliveries, in time order.

    `live`: each window waits for the wall clock to reach its fix times (a fleet driving now; fixes are never in
    the future). `detect=False` leaves detection to the process's own worker (the server's), instead of running an
    engine of the replay's own that keeps time by the fixes alone."""
    events, _shifts = _events(scenario)
    engine = AlertEngine(settings_for(scenario), wall_clock=False)
    unsubscribe = get_bus().subscribe(engine.handle) if detect else (lambda: None)
    out = Replayed(points=sum(1 for e in events if e[1] == 0))
    started, first = time.perf_counter(), events[0][0] if events else None
    raised_before = engine.raised
    try:
        batch: list[Fix] = []
        window_end = first + timedelta(seconds=window_s) if first else None
        for event in events:
            at = event[0]
            if batch and (at >= window_end or event[1] != 0):
                out.accepted += _send(batch)
                batch = []
                if progress:
                    progress(out.accepted, out.points)
            if at >= window_end:
                window_end = at + timedelta(seconds=window_s)
                if stop is not None and stop():
                    break
                if live:
                    _wait_until(at)
                elif speed and first:
                    _pace(started, (at - first).total_seconds() / speed)
            if event[1] == 0:
                batch.append(Fix(device_id=event[2], fix_time=at, lat=event[3], lon=event[4], speed_kmh=event[5]))
            elif event[1] < 0:
                _pick_up(event[2], at)
            else:
                out.deliveries += _deliver(event[2], at)
        if batch:
            out.accepted += _send(batch)
        if progress:
            progress(out.points, out.points)
    finally:
        unsubscribe()
    out.alerts = engine.raised - raised_before
    out.seconds = time.perf_counter() - started
    return out


def _send(batch: list[Fix]) -> int:
    return sum(1 for r in ingest(batch, now=timezone.now()) if r.status in ("accepted", "duplicate"))


def _wait_until(moment: datetime) -> None:
    wait = (moment - timezone.now()).total_seconds()
    if wait > 0:
        time.sleep(wait)


def _pace(started: float, due_s: float) -> None:
    wait = due_s - (time.perf_counter() - started)
    if wait > 0:
        time.sleep(wait)


def open_scenario_trips(scenario: dict) -> int:
    return Trip.objects.filter(manifest__number__in=[manifest_number(t["id"]) for t in scenario["trips"]],
                               state=Trip.State.OPEN).count()  # fmt: skip
