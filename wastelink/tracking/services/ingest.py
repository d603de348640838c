"""The ingest pipeline: validate → known device → de-duplicate → assign to the open trip → corridor check →
durable batch write → publish. One path for every way in (OsmAnd HTTP, JSON batch, GPX).

A point is acknowledged only after its transaction commits. (device_id, fix_time) is the natural key, so a repeat
of an acknowledged point is answered 'duplicate' and changes nothing: clients may retry freely. Late points are
stored like any other; readers order by fix time.

The cost per point does not grow with the number of devices and trips in a batch (docs/benchmarks.md): a batch
takes three statements whatever its size (the trips version, the insert, the update of the trips' counters; on
PostgreSQL the insert is a binary COPY into a staging table and one move), and looks devices' open trips up only
after trips or routes changed; rows are written as plain tuples, not model instances; the insert itself tells which
points were stored already; every point is tested against its trip's corridor in one vectorised call. Between
batches the process keeps, per device, its vehicle and transporter (`DeviceDirectory`, for 10 s) and its open trip,
and per open trip its start, manifest number and corridor (`TripDirectory`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import F
from django.db.models.constants import OnConflict
from django.utils import timezone

from wastelink.core.telemetry import Fix, problem
from wastelink.manifests.models import Manifest
from wastelink.registry.models import Vehicle
from wastelink.tracking.bus import get_bus
from wastelink.tracking.models import IngestCounter, Position, Trip, TripsVersion

from .geography import PolygonCorridor, RouteCorridor, route_corridor, within_corridors

CHUNK = 1_000  # rows or keys in one statement: well under every backend's limit on query parameters


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
            # A new dict rather than clear(): a lookup running in another thread keeps reading the one it holds.
            self._cache = {}
            self._loaded_at = time.monotonic()
        cache = self._cache
        missing = [d for d in device_ids if d not in cache]
        if missing:
            found: dict[str, tuple[int, int]] = {}
            for start in range(0, len(missing), CHUNK):
                found.update((d, (v, t)) for d, v, t in Vehicle.objects.filter(
                    gps_device_id__in=missing[start : start + CHUNK], active=True)
                    .values_list("gps_device_id", "id", "transporter_id"))  # fmt: skip
            for d in missing:
                cache[d] = found.get(d)
        return {d: cache.get(d) for d in device_ids}

    def clear(self) -> None:
        self._cache = {}


@dataclass(slots=True)
class OpenTrip:
    """What a batch needs of an open trip, kept between batches (about 200 bytes, and the route's vertices)."""

    id: int
    started_at: datetime
    started_raw: Any  # started_at as the database returns it (text on SQLite): compared on every batch
    manifest_id: int
    revision: int  # the manifest's: bumped by every change to it (a corrected route among them)
    manifest: str  # the manifest's number, for the live stream
    corridor: RouteCorridor | PolygonCorridor | None
    route_hash: int  # of the route and the corridor width: the corridor is rebuilt only when they change
    loaded_at: float


class TripDirectory:
    """Open trips by device, for the ingest pipeline.

    Which trip is open for a device must be seen by the next point after a trip opens or closes. The directory keeps
    the answer per device and reads one row a batch, the trips version (`TripsVersion`), which database triggers
    change in the same transaction as any change that matters (a trip opened, closed or moved to another device or
    start; a manifest's route or corridor width corrected); when it changed, the devices are looked up again (one
    indexed query for the devices of a batch not looked up since), and after a route changed, every trip's manifest
    too. Without the version row (triggers missing) every batch looks its devices up.

    Per open trip the directory keeps its start, its manifest's id, revision and number and the corridor built from
    the planned route. An entry is read again when the start, the manifest or its revision differ from what was
    read before, after a route changed, or after `ttl_s` (the whole map too); the corridor is rebuilt only when the
    route or the width read back differ. Entries not used for `2 × ttl_s` are dropped.
    """

    ttl_s = 60.0
    maxsize = 50_000

    def __init__(self) -> None:
        self._cache: dict[int, OpenTrip] = {}
        self._by_device: dict[str, OpenTrip | None] = {}
        self._version: tuple[int, int] | None = None
        self._mapped_at = 0.0
        self._routes_at = 0.0  # entries read before this are read again
        self._lock = threading.Lock()
        self._swept_at = time.monotonic()

    def lookup(self, device_ids: set[str]) -> dict[str, OpenTrip]:
        if not device_ids:
            return {}
        version = _statements().trips_version()
        now = time.monotonic()
        with self._lock:
            if version is None or version != self._version or now - self._mapped_at > self.ttl_s:
                if version is not None and self._version is not None and version[1] != self._version[1]:
                    self._routes_at = now  # a route changed: every trip's entry is read again
                # A new dict rather than clear(): a lookup running in another thread keeps the one it holds.
                self._by_device = {}
                self._version, self._mapped_at = version, now
            by_device = self._by_device
            missing = [d for d in device_ids if d not in by_device]
        if missing:
            found = self._resolve(missing, now)
            with self._lock:
                for d in missing:
                    by_device[d] = found.get(d)
        return {d: entry for d in device_ids if (entry := by_device.get(d)) is not None}

    def _resolve(self, device_ids: list[str], now: float) -> dict[str, OpenTrip]:
        open_rows = _statements().open_trips(device_ids)  # newest start first
        cache = self._cache
        found: dict[int, OpenTrip] = {}
        stale: dict[int, OpenTrip | None] = {}
        with self._lock:
            for trip_id, _device, started_raw, manifest_id, revision in open_rows:
                entry = cache.get(trip_id)
                if entry is None or entry.manifest_id != manifest_id or entry.started_raw != started_raw:
                    stale[trip_id] = None
                elif (entry.revision != revision or now - entry.loaded_at > self.ttl_s
                      or entry.loaded_at < self._routes_at):  # fmt: skip
                    stale[trip_id] = entry
                else:
                    found[trip_id] = entry
        if stale:
            raw_start = {row[0]: row[2] for row in open_rows}
            loaded: list[tuple] = []
            stale_ids = list(stale)
            for start in range(0, len(stale_ids), CHUNK):
                loaded += Trip.objects.filter(id__in=stale_ids[start : start + CHUNK]).values_list(
                    "id", "started_at", "manifest_id", "manifest__revision", "manifest__number", "manifest__route",
                    "manifest__corridor_width_m")  # fmt: skip
            fresh = []
            for trip_id, started_at, manifest_id, revision, number, route, width in loaded:
                route_hash = hash((json.dumps(route, sort_keys=True), int(width)))
                before = stale.get(trip_id)
                if before is not None and before.route_hash == route_hash:
                    corridor = before.corridor
                else:
                    corridor = route_corridor(route, width)
                fresh.append(OpenTrip(trip_id, started_at, raw_start[trip_id], manifest_id, revision, number,
                                      corridor, route_hash, now))  # fmt: skip
            with self._lock:
                for entry in fresh:
                    cache.pop(entry.id, None)  # re-inserted last: the oldest entries come first
                    cache[entry.id] = entry
                    found[entry.id] = entry
                while len(cache) > self.maxsize:
                    cache.pop(next(iter(cache)), None)
        if now - self._swept_at > self.ttl_s:
            with self._lock:
                self._swept_at = now
                for trip_id in [k for k, e in cache.items() if now - e.loaded_at > 2 * self.ttl_s]:
                    cache.pop(trip_id, None)
        # As before: with several open trips for a device, the one that started first wins (rows come newest first).
        by_device: dict[str, OpenTrip] = {}
        for trip_id, device, *_rest in open_rows:
            entry = found.get(trip_id)
            if entry is not None:
                by_device[device] = entry
        return by_device

    def clear(self) -> None:
        with self._lock:
            self._cache = {}
            self._by_device = {}

    def __len__(self) -> int:
        return len(self._cache)


devices = DeviceDirectory()
trips = TripDirectory()

_COLUMNS = ("device_id", "fix_time", "received_at", "lat", "lon", "speed_kmh", "course", "altitude", "accuracy",
            "battery", "mock", "attributes", "trip", "in_corridor")  # fmt: skip


class _Statements:
    """The pipeline's statements on SQLite (and what PostgreSQL's share): key lists as IN lists, `executemany` for
    rows. The insert relies on SQLite's single writer (see `insert`), so another backend needs statements of its own.

    Values are passed as the model fields would write them (`to_db` for times; JSON text), so the natural key is
    matched exactly as the unique index holds it.
    """

    def __init__(self) -> None:
        ops, q = connection.ops, connection.ops.quote_name
        fields = [Position._meta.get_field(name) for name in _COLUMNS]
        self.position, self.trip = q(Position._meta.db_table), q(Trip._meta.db_table)
        self.manifest = q(Manifest._meta.db_table)
        self.version_sql = f"SELECT trips, routes FROM {q(TripsVersion._meta.db_table)} WHERE id = 1"
        self.column_types = [f.db_type(connection) for f in fields]
        key = [Position._meta.get_field("device_id"), Position._meta.get_field("fix_time")]
        self.conflict = ops.on_conflict_suffix_sql(key, OnConflict.IGNORE, None, None)
        self.insert_head = (f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {self.position} "
                            f"({', '.join(q(f.column) for f in fields)})")  # fmt: skip
        zone = connection.timezone
        field = Position._meta.get_field("fix_time")
        adapt = ops.adapt_datetimefield_value

        def to_db(value: datetime) -> Any:  # a time as the DateTimeField writes it
            if value.tzinfo is None:  # naive: the field warns and reads it in the default time zone
                return field.get_db_prep_save(value, connection)
            return adapt(value)

        def to_sqlite(
            value: datetime,
        ) -> Any:  # the same as SQLite's adapt_datetimefield_value, without the calls
            if value.tzinfo is None:
                return field.get_db_prep_save(value, connection)
            return str(value.astimezone(zone).replace(tzinfo=None))

        self.to_db: Callable[[datetime], Any] = to_sqlite if connection.vendor == "sqlite" and zone else to_db
        encoder = Position._meta.get_field("attributes").encoder
        texts: dict[tuple, str] = {}

        def to_json(value: dict[str, Any]) -> str:
            # A device sends the same few extra fields point after point ({"charge": "true"}): their text is kept,
            # keyed by the fields, rather than encoded again (1.5 µs a point). Text values only (as a query
            # gives them): as keys, 1, 1.0 and True are the same.
            if not all(type(v) is str for v in value.values()):
                return json.dumps(value, cls=encoder)
            key = tuple(value.items())
            text = texts.get(key)
            if text is None:
                if len(texts) >= 4096:
                    texts.clear()
                text = texts[key] = json.dumps(value, cls=encoder)
            return text

        self.to_json: Callable[[dict[str, Any]], str] = to_json
        limit = connection.features.max_query_params or 65_535
        if connection.vendor == "sqlite":  # the real limit (32,766 since SQLite 3.32; Django assumes 999)
            connection.ensure_connection()
            limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self.chunk = max(1, min(CHUNK, limit - 1))  # devices in one statement

    def trips_version(self) -> tuple[int, int] | None:
        """The trips version (see `TripsVersion`): trips and routes, or None without its row."""
        with connection.cursor() as cur:
            cur.execute(self.version_sql)
            row = cur.fetchone()
        return (row[0], row[1]) if row else None

    def open_trips(self, device_ids: list[str]) -> list[tuple[int, str, Any, int, int]]:
        """(trip, device, started_at as read, manifest, manifest revision) of the devices' open trips, newest
        first."""
        rows: list[tuple[int, str, Any, int, int]] = []
        with connection.cursor() as cur:
            for start in range(0, len(device_ids), self.chunk):
                chunk = device_ids[start : start + self.chunk]
                cur.execute(
                    f"SELECT t.id, t.device_id, t.started_at, t.manifest_id, m.revision FROM {self.trip} t "
                    f"JOIN {self.manifest} m ON m.id = t.manifest_id WHERE t.state = %s AND t.device_id IN "
                    f"({', '.join(['%s'] * len(chunk))}) ORDER BY t.started_at DESC",
                    [Trip.State.OPEN.value, *chunk],
                )  # fmt: skip
                rows += cur.fetchall()
        rows.sort(key=lambda r: r[2], reverse=True)  # across chunks too
        return rows

    def insert(self, rows: list[tuple]) -> set[tuple[str, Any]]:
        """The rows, repeats of the natural key ignored (as bulk_create(ignore_conflicts=True) does); the keys
        (device, fix time as written) of those not written because the key was stored already.

        When fewer rows were written than given, the ones written are the newest that many by id: ids only grow,
        and this transaction holds SQLite's one write lock (from BEGIN IMMEDIATE, at the latest from its first
        write) until it ends, so no other connection wrote in between."""
        if not rows:
            return set()
        with connection.cursor() as cur:
            cur.executemany(
                f"{self.insert_head} VALUES ({', '.join(['%s'] * len(_COLUMNS))}) {self.conflict}", rows
            )
            written = cur.rowcount
            if written == len(rows):
                return set()
            # CAST: the time as stored (text), not converted by its declared type, so that it matches the key sent.
            cur.execute(
                f"SELECT device_id, CAST(fix_time AS TEXT) FROM {self.position} ORDER BY id DESC LIMIT %s",
                [written],
            )
            return {(r[0], r[1]) for r in rows} - set(cur.fetchall())

    def update_trips(self, updates: list[tuple[int, int, int, Any]]) -> None:
        """(trip, points, outside the corridor, latest fix time): counters added, the last fix time only moved
        forward; in trip order, so that concurrent batches lock trips in the same order."""
        with connection.cursor() as cur:
            cur.executemany(
                f"UPDATE {self.trip} SET points = points + %s, outside_corridor_points = outside_corridor_points + %s, "
                "last_fix_at = CASE WHEN last_fix_at IS NULL OR last_fix_at < %s THEN %s ELSE last_fix_at END "
                "WHERE id = %s",
                [(n, outside, latest, latest, trip_id) for trip_id, n, outside, latest in updates],
            )  # fmt: skip


class _PostgresStatements(_Statements):
    """PostgreSQL: whole columns as arrays (`unnest`), one round trip per statement instead of one per row; the
    rows themselves by binary COPY (see `insert`)."""

    def open_trips(self, device_ids: list[str]) -> list[tuple[int, str, Any, int, int]]:
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT t.id, t.device_id, t.started_at, t.manifest_id, m.revision FROM {self.trip} t "
                f"JOIN {self.manifest} m ON m.id = t.manifest_id WHERE t.state = %s AND t.device_id = ANY(%s::text[]) "
                "ORDER BY t.started_at DESC",
                [Trip.State.OPEN.value, device_ids],
            )  # fmt: skip
            return list(cur.fetchall())

    stage = "wastelink_position_stage"

    def __init__(self) -> None:
        super().__init__()
        q = connection.ops.quote_name
        # The staging table: the position's columns and types, the JSON as text (cast when moved, as the arrays
        # were); binary COPY needs each column's type by name, without its modifier ("varchar(64)" → "varchar").
        staged = ["text" if t == "jsonb" else t for t in self.column_types]
        self.copy_types = [t.split("(")[0] for t in staged]
        columns = [q(Position._meta.get_field(name).column) for name in _COLUMNS]
        self.create_stage = (f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.stage} "
                             f"({', '.join(f'{c} {t}' for c, t in zip(columns, staged, strict=True))}) "
                             "ON COMMIT DELETE ROWS")  # fmt: skip
        self.copy_sql = f"COPY {self.stage} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        moved = [
            f"{c}::jsonb" if t == "jsonb" else c for c, t in zip(columns, self.column_types, strict=True)
        ]
        # The move answers the keys it did not write (stored already): an anti-join of what it read and what it
        # wrote, a few hundred microseconds a batch, so that no look-up of stored repeats is needed before.
        self.move_sql = (f"WITH moved AS (DELETE FROM {self.stage} RETURNING *), "
                         f"written AS ({self.insert_head} SELECT {', '.join(moved)} FROM moved {self.conflict} "
                         "RETURNING device_id, fix_time) "
                         "SELECT m.device_id, m.fix_time FROM moved m WHERE NOT EXISTS (SELECT 1 FROM written w "
                         "WHERE w.device_id = m.device_id AND w.fix_time = m.fix_time)")  # fmt: skip

    def insert(self, rows: list[tuple]) -> set[tuple[str, Any]]:
        """Binary COPY into a temporary staging table, then one INSERT … SELECT … ON CONFLICT DO NOTHING that
        empties it again, all in the batch's transaction. The staging table is the session's own (no other
        session sees it or waits for it) and holds rows only within a batch: the move deletes what it reads, and
        a commit empties it in place (`ON COMMIT DELETE ROWS`), so no dead rows pile up in it (temporary tables are
        never vacuumed). `IF NOT EXISTS` on every batch (a lookup, no write once it exists) rather than a note of
        which sessions have it: a rolled-back first batch takes the table with it, and a pooler may hand the
        connection another server session."""
        with connection.cursor() as cur:
            cur.execute(self.create_stage)
            with cur.cursor.copy(self.copy_sql) as copy:
                copy.set_types(self.copy_types)
                for row in rows:
                    copy.write_row(row)
            cur.execute(self.move_sql)
            return set(cur.fetchall())

    def update_trips(self, updates: list[tuple[int, int, int, Any]]) -> None:
        ids, points, outside, latest = (list(c) for c in zip(*updates, strict=True))
        with connection.cursor() as cur:
            cur.execute(
                f"WITH locked AS MATERIALIZED (SELECT id FROM {self.trip} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE) "
                f"UPDATE {self.trip} t SET points = t.points + v.n, outside_corridor_points = t.outside_corridor_points "
                "+ v.o, last_fix_at = CASE WHEN t.last_fix_at IS NULL OR t.last_fix_at < v.l THEN v.l ELSE "
                "t.last_fix_at END FROM unnest(%s::bigint[], %s::integer[], %s::integer[], %s::timestamptz[]) "
                "AS v(id, n, o, l) WHERE t.id = v.id AND t.id IN (SELECT id FROM locked)",
                [ids, ids, points, outside, latest],
            )  # fmt: skip


_statements_by_alias: dict[str, _Statements] = {}


def _statements() -> _Statements:
    statements = _statements_by_alias.get(connection.alias)
    if statements is None:
        kinds = {"postgresql": _PostgresStatements, "sqlite": _Statements}
        if connection.vendor not in kinds:
            raise ImproperlyConfigured(
                f"the ingest pipeline runs on SQLite or PostgreSQL, not {connection.vendor}"
            )
        statements = _statements_by_alias[connection.alias] = kinds[connection.vendor]()
    return statements


def _corridor_flags(points: list[tuple[int, Fix, Any]], assigned: list[OpenTrip | None]) -> list[bool | None]:
    """Inside its trip's corridor or not, for every point on a trip with a planned route, in one vectorised call;
    None for the others."""
    flags: list[bool | None] = [None] * len(points)
    judged = [k for k, trip in enumerate(assigned) if trip is not None and trip.corridor is not None]
    if not judged:
        return flags
    slot: dict[int, int] = {}
    corridors: list[RouteCorridor | PolygonCorridor] = []
    which = np.empty(len(judged), dtype=np.intp)
    lons = np.empty(len(judged), dtype=np.float64)
    lats = np.empty(len(judged), dtype=np.float64)
    for j, k in enumerate(judged):
        trip = assigned[k]
        assert trip is not None and trip.corridor is not None
        s = slot.get(trip.id)
        if s is None:
            s = slot[trip.id] = len(corridors)
            corridors.append(trip.corridor)
        which[j] = s
        fix = points[k][1]
        lons[j], lats[j] = fix.lon, fix.lat
    for k, flag in zip(judged, within_corridors(corridors, which, lons, lats).tolist(), strict=True):
        flags[k] = flag
    return flags


def _rows(sql: _Statements, points: list[tuple[int, Fix, Any]], assigned: list[OpenTrip | None],
          flags: list[bool | None], received: Any) -> list[tuple]:  # fmt: skip
    """The positions' rows, in `_COLUMNS` order, values as the fields would write them."""
    to_json = sql.to_json
    return [(fix.device_id, fix_time, received, fix.lat, fix.lon, fix.speed_kmh, fix.course, fix.altitude,
             fix.accuracy, fix.battery, bool(fix.mock), to_json(fix.attributes), trip.id if trip is not None else None,
             flag) for (_i, fix, fix_time), trip, flag in zip(points, assigned, flags, strict=True)]  # fmt: skip


def ingest(fixes: list[Fix], *, now: datetime | None = None, allowed_transporter: int | None = None,
           timings: dict[str, float] | None = None) -> list[Result]:  # fmt: skip
    """Store a batch of fixes; a result per fix, in order. `allowed_transporter` limits a transporter's token to its
    own vehicles' devices. `timings`, when given, accumulates seconds per stage (validate, corridor, write)."""
    clock = time.perf_counter()
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

    with transaction.atomic():
        sql = _statements()
        to_db = sql.to_db
        # Repeats inside the batch; repeats of points already stored are found by the insert itself (below).
        seen: set[tuple[str, datetime]] = set()
        unique: list[tuple[int, Fix, Any]] = []  # (index, fix, fix time as the unique index holds it)
        for i, fix in candidates:
            key = (fix.device_id, fix.fix_time)
            if key in seen:
                results[i] = Result(i, "duplicate")
            else:
                seen.add(key)
                unique.append((i, fix, to_db(fix.fix_time)))

        open_trips = trips.lookup({f.device_id for _, f, _t in unique})
        assigned: list[OpenTrip | None] = []
        for _i, fix, _t in unique:
            trip = open_trips.get(fix.device_id)
            if trip is not None and fix.fix_time < trip.started_at:
                trip = None  # a late point from before the pickup belongs to no trip
            assigned.append(trip)
        split = time.perf_counter()
        flags = _corridor_flags(unique, assigned)
        split2 = time.perf_counter()

        # Written with the natural key's conflicts ignored; what was not written was stored already (a client's
        # retry, or another process's write of the same point): answered `duplicate` and counted nowhere.
        repeats = sql.insert(_rows(sql, unique, assigned, flags, to_db(now)))
        if repeats:
            keep: list[int] = []
            for k, (i, fix, fix_time) in enumerate(unique):
                if (fix.device_id, fix_time) in repeats:
                    results[i] = Result(i, "duplicate")
                else:
                    keep.append(k)
            unique, assigned, flags = ([seq[k] for k in keep] for seq in (unique, assigned, flags))

        published: list[dict] = []
        per_trip: dict[int, list] = {}  # trip id → [points, outside the corridor, latest fix time]
        for (i, fix, _t), trip, flag in zip(unique, assigned, flags, strict=True):
            trip_id = trip.id if trip is not None else None
            if trip_id is not None:
                counts = per_trip.get(trip_id)
                if counts is None:
                    per_trip[trip_id] = [1, 1 if flag is False else 0, fix.fix_time]
                else:
                    counts[0] += 1
                    counts[1] += 1 if flag is False else 0
                    if fix.fix_time > counts[2]:
                        counts[2] = fix.fix_time
            results[i] = Result(i, "accepted")
            published.append({"type": "position", "device_id": fix.device_id, "fix_time": fix.fix_time,
                              "lat": fix.lat, "lon": fix.lon, "speed_kmh": fix.speed_kmh, "course": fix.course,
                              "trip": trip_id, "manifest": trip.manifest if trip is not None else None,
                              "in_corridor": flag})  # fmt: skip
        if per_trip:
            sql.update_trips([(trip_id, n, outside, to_db(latest))
                              for trip_id, (n, outside, latest) in sorted(per_trip.items())])  # fmt: skip
        for key, n in refused.items():
            _count(key[0], key[1], n, now)
        transaction.on_commit(lambda: get_bus().publish(published))
    if timings is not None:
        end = time.perf_counter()
        for stage, seconds in (
            ("validate", split - clock),
            ("corridor", split2 - split),
            ("write", end - split2),
        ):
            timings[stage] = timings.get(stage, 0.0) + seconds
    return [r for r in results if r is not None]


def _count(device_id: str, reason: str, n: int, now: datetime) -> None:
    updated = IngestCounter.objects.filter(device_id=device_id[:64], reason=reason).update(
        count=F("count") + n, last_seen=now
    )
    if not updated:
        IngestCounter.objects.get_or_create(
            device_id=device_id[:64], reason=reason, defaults={"count": n, "last_seen": now}
        )
