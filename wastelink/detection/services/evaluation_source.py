"""Alerts from the database as evaluation records: which scenario trip each tracking trip carried.

A tracking trip is mapped to its scenario trip:

1. by its manifest: `wastelink scenario load` numbers a scenario trip's manifest `SIM-<trip id>`
   (`simulation.load.manifest_number`); a trip whose manifest carries a truth trip's number is that trip;
2. otherwise by device and time, among the truth lines with the trip's `device_id`:
   a. one candidate is the answer;
   b. with several, the candidates whose time window (the line's `start`/`end`, from the scenario file when given,
      else the span of its incidents) overlaps the trip's [started_at, ended_at] (an open trip: onwards) are kept,
      and of those the one whose window starts nearest the trip's start is the answer;
   c. none overlapping, or no window to compare: the trip is not mapped, and its alerts count as alerts on trips
      that are not in the truth.

A load may move a scenario in time (a scenario in the future of the wall clock is moved back so that it ends now).
Its trips' pickups keep the move: with the scenario's trip starts given, each alert's fix times are moved back by
(trip started_at − scenario start) before they are compared with the truth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import F

from wastelink.core.evaluation import AlertRecord, TruthTrip
from wastelink.detection.models import Alert
from wastelink.simulation.load import manifest_number
from wastelink.tracking.models import Trip


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return max(a[0], b[0]) <= min(a[1], b[1])


def _by_time(trip: Any, candidates: list[TruthTrip]) -> TruthTrip | None:
    if len(candidates) == 1:
        return candidates[0]
    started = trip.started_at.timestamp()
    span = (started, trip.ended_at.timestamp() if trip.ended_at else math.inf)
    scored = []
    for c in candidates:
        window = c.window()
        if window is not None and _overlaps(span, window):
            scored.append((abs(window[0] - started), c.trip, c))
    if not scored:
        return None
    return min(scored, key=lambda s: s[:2])[2]


def scenario_trip_ids(truth: Iterable[TruthTrip], trips: Iterable[Any] | None = None) -> dict[int, str]:
    """{tracking Trip id: scenario trip id} for the trips that can be mapped. `trips`: objects with id, device_id,
    started_at, ended_at and, optionally, manifest_number; by default the database's trips of the truth's devices
    and of its `SIM-` manifests."""
    lines = list(truth)
    by_number = {manifest_number(line.trip): line.trip for line in lines}
    by_device: dict[str, list[TruthTrip]] = {}
    for line in lines:
        by_device.setdefault(line.device_id, []).append(line)
    if trips is None:
        trips = (Trip.objects.filter(device_id__in=list(by_device)) | Trip.objects.filter(
            manifest__number__in=list(by_number))).annotate(manifest_number=F("manifest__number")).only(
            "id", "device_id", "started_at", "ended_at")  # fmt: skip
    out: dict[int, str] = {}
    for trip in trips:
        number = getattr(trip, "manifest_number", None) or ""
        named = by_number.get(number)
        if named is not None:
            out[trip.id] = named
            continue
        if number.startswith(manifest_number("")):
            continue  # another scenario's trip (its own SIM- number): never matched by device and time
        chosen = _by_time(trip, by_device.get(trip.device_id, []))
        if chosen is not None:
            out[trip.id] = chosen.trip
    return out


def alerts_from_database(
    truth: Iterable[TruthTrip], *, starts: Mapping[str, float] | None = None
) -> list[AlertRecord]:
    """The alerts on the trips of the truth (by manifest number or device), each with its scenario trip (None when
    not mapped), their fix times moved back by the load's move in time where the scenario `starts` tell it.
    Alerts on other trips are not part of the evaluation."""
    lines = list(truth)
    mapping = scenario_trip_ids(lines)
    devices = {line.device_id for line in lines}
    starts = starts or {}
    shift: dict[int, float] = {}
    for trip in Trip.objects.filter(id__in=list(mapping)).only("id", "started_at"):
        scenario_start = starts.get(mapping[trip.id])
        if scenario_start is not None:
            shift[trip.id] = trip.started_at.timestamp() - scenario_start
    rows = Alert.objects.filter(trip_id__in=list(mapping)) | Alert.objects.filter(trip__device_id__in=devices)
    out = []
    for a in rows.order_by("fired_at", "id").only("trip_id", "rule", "fired_at", "raised_at", "episode_at"):
        moved = shift.get(a.trip_id, 0.0)
        out.append(AlertRecord(trip=mapping.get(a.trip_id), rule=a.rule, fired_at=a.fired_at.timestamp() - moved,
                               raised_at=a.raised_at.timestamp(), episode_at=a.episode_at.timestamp() - moved))  # fmt: skip
    return out
