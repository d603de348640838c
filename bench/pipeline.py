"""Ingest pipeline throughput: OsmAnd queries decoded, validated, ordered, judged against their trip's corridor and
written durably, in batches of 1,000, against a raw `executemany` of the same rows into the same table (and, on
PostgreSQL, a raw `COPY` of them).

Targets (issue): ≥ 100,000 points/s on 2 cores, and ≥ 0.5 of the raw insert. Printed, never asserted.

The fleet (`tracking_world`): 2,000 vehicles with devices, each on an open trip with a planned route of 10–50
vertices; 200,000 messages as `parse_qs` gives them, in arrival order, so a batch of 1,000 holds ~1,000 devices
(every device reports every 15 s). What is timed, per batch of 1,000:

- pipeline: `decode_osmand_query` of each message, then `ingest()` of the batch (device lookup, the filter rules,
  de-duplication against the batch and the table, the open trip, the corridor test, the insert, the trips'
  counters, the commit and the hand-over to the live bus), as the OsmAnd endpoints and the JSON batch API call it;
- raw: the rows the pipeline wrote, read back as the database holds them, inserted with one `cursor.executemany`
  per batch in a transaction of its own (the same commits as the pipeline), into the same table after it is
  emptied;
- raw COPY (PostgreSQL only): the same rows, one binary `COPY … FROM STDIN` per batch straight into the table, in a
  transaction of its own: the fastest way in, without the natural key's conflict handling.

Rounds alternate (pipeline, raw, raw COPY, pipeline, …) with the table emptied and the trips' counters reset in
between, so both see the same database size and machine load. The first pipeline round starts with the process's
caches empty (devices, corridors), the later ones with them warm, as in a server that has been running.
"""

from __future__ import annotations

import gc
import inspect
import io
import statistics
import time
from collections import Counter

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from wastelink.core.telemetry import decode_osmand_query
from wastelink.tracking.models import Position, Trip
from wastelink.tracking.services import ingest as ingest_module

from . import tracking_world
from .precheck import Progress, _cpus

TARGET_PPS = 100_000
TARGET_RATIO = 0.5
DEVICES = 2_000
POINTS = 200_000
BATCH = 1_000
ROUNDS = 3
COLUMNS = ["device_id", "fix_time", "received_at", "lat", "lon", "speed_kmh", "course", "altitude", "accuracy",
           "battery", "mock", "attributes", "trip_id", "in_corridor"]  # fmt: skip


def _reset(trip_ids: list[int]) -> None:
    with transaction.atomic():
        Position.objects.all().delete()
        Trip.objects.filter(id__in=trip_ids).update(points=0, outside_corridor_points=0, last_fix_at=None)


def _pipeline(batches, timings_supported: bool, bar: Progress) -> tuple[float, dict[str, float], Counter]:
    stages: dict[str, float] = {"decode": 0.0}
    statuses: Counter = Counter()
    kwargs = {"timings": stages} if timings_supported else {}
    gc.collect()
    t0 = time.perf_counter()
    for batch in batches:
        now = timezone.now()
        t = time.perf_counter()
        fixes = [decode_osmand_query(m, now) for m in batch]
        stages["decode"] += time.perf_counter() - t
        for r in ingest_module.ingest(fixes, now=now, **kwargs):
            statuses[r.status] += 1
        bar.advance(len(batch))
    return time.perf_counter() - t0, stages, statuses


def _raw(rows: list[tuple], bar: Progress) -> float:
    table = connection.ops.quote_name(Position._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
    gc.collect()
    t0 = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(sql, chunk)
        bar.advance(len(chunk))
    return time.perf_counter() - t0


def _raw_copy(rows: list[tuple], bar: Progress) -> float:
    """Binary COPY of the rows straight into the table, a batch per transaction (PostgreSQL)."""
    table = connection.ops.quote_name(Position._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    types = [f.db_type(connection).split("(")[0] for f in (Position._meta.get_field(c) for c in COLUMNS)]
    # The JSON as read back (text), sent as jsonb without being parsed and dumped again.
    j = COLUMNS.index("attributes")
    rows = [(*r[:j], Jsonb(r[j], dumps=str), *r[j + 1 :]) for r in rows]
    gc.collect()
    t0 = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        with transaction.atomic(), connection.cursor() as cur:
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in chunk:
                    copy.write_row(row)
        bar.advance(len(chunk))
    return time.perf_counter() - t0


def _stored_rows() -> list[tuple]:
    """The rows as the database holds them (text times and JSON on SQLite), in insertion order."""
    table = connection.ops.quote_name(Position._meta.db_table)
    cols = [connection.ops.quote_name(c) for c in COLUMNS]
    if connection.vendor == "postgresql":
        cols[COLUMNS.index("attributes")] = '"attributes"::text'
    with connection.cursor() as cur:
        cur.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY id")
        return list(cur.fetchall())


def run(*, seed: int, scale: float = 1.0, rounds: int = ROUNDS) -> None:
    t_build = time.perf_counter()
    call_command("setup", verbosity=0, stdout=io.StringIO())
    n_dev = max(100, int(DEVICES * scale))
    n_pts = max(10_000, int(POINTS * scale))
    bar = Progress("fleet", n_dev)
    fleet = tracking_world.build("PL", n_dev, seed, bar)
    msgs = tracking_world.messages(fleet, n_pts, seed)
    batches = [msgs[i : i + BATCH] for i in range(0, len(msgs), BATCH)]
    build_s = time.perf_counter() - t_build
    timings_supported = "timings" in inspect.signature(ingest_module.ingest).parameters
    # The 200,000 messages (and later the rows read back) are the benchmark's, not the server's: keep the garbage
    # collector from walking them on every full collection, which would be charged to whichever stage runs then.
    gc.collect()
    gc.freeze()

    pipe_runs: list[tuple[float, dict[str, float], Counter]] = []
    raw_runs: list[float] = []
    copy_runs: list[float] = []
    postgres = connection.vendor == "postgresql"
    rows: list[tuple] = []
    for k in range(rounds):
        _reset(fleet.trip_ids)
        pipe_runs.append(
            _pipeline(batches, timings_supported, Progress(f"pipeline {k + 1}/{rounds}", len(msgs)))
        )
        if not rows:
            rows = _stored_rows()
            gc.collect()
            gc.freeze()
            outside_total = sum(Trip.objects.filter(id__in=fleet.trip_ids)
                                .values_list("outside_corridor_points", flat=True))  # fmt: skip
            flagged_outside = sum(1 for r in rows if r[-1] is False or r[-1] == 0)
        _reset(fleet.trip_ids)
        raw_runs.append(_raw(rows, Progress(f"raw {k + 1}/{rounds}", len(rows))))
        if postgres:
            _reset(fleet.trip_ids)
            copy_runs.append(_raw_copy(rows, Progress(f"raw COPY {k + 1}/{rounds}", len(rows))))
    statuses = pipe_runs[0][2]
    gc.unfreeze()
    _reset(fleet.trip_ids)

    n = len(msgs)
    pipe_pps = [n / s for s, _st, _c in pipe_runs]
    raw_pps = [len(rows) / s for s in raw_runs]
    warm = pipe_pps[1:] or pipe_pps
    pipe_med, raw_med = statistics.median(warm), statistics.median(raw_pps)
    ratio = pipe_med / raw_med
    db = _db()
    print()
    print("== ingest pipeline throughput (decode → validate → order → corridor → durable write) ==")
    print(
        f"seed {seed}; scale {scale:g}; {db}; {_cpus()} CPU(s); fleet and messages built in {build_s:.1f} s"
    )
    print(f"fleet: {n_dev:,} devices on open trips, routes of 10–50 vertices, 500 m corridors; "
          f"{n:,} messages in batches of {BATCH:,}")  # fmt: skip
    print("statuses: " + ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items()))
          + f"; points outside their corridor {flagged_outside:,} (trips' counters: {outside_total:,})")  # fmt: skip
    print(f"rounds: {rounds} (the first with cold caches); points/s per round:")
    for k, ((s, _st, _c), r) in enumerate(zip(pipe_runs, raw_runs, strict=True)):
        c = f"   raw COPY {len(rows) / copy_runs[k]:9,.0f}/s ({copy_runs[k]:5.2f} s)" if copy_runs else ""
        print(f"  round {k + 1}: pipeline {n / s:9,.0f}/s ({s:5.2f} s)   raw executemany {len(rows) / r:9,.0f}/s "
              f"({r:5.2f} s){c}")  # fmt: skip
    print(f"pipeline   {pipe_med:9,.0f} points/s (median of the warm rounds)")
    print(f"baseline   {raw_med:9,.0f} rows/s   (raw executemany of the same {len(rows):,} rows, median)")
    if copy_runs:
        copy_med = statistics.median(len(rows) / s for s in copy_runs)
        print(f"baseline 2 {copy_med:9,.0f} rows/s   (raw binary COPY of the same rows, median)")
        print(f"ratio      {ratio:.2f} of raw executemany, {pipe_med / copy_med:.2f} of raw COPY")
    else:
        print(f"ratio      {ratio:.2f} of raw (raw COPY: PostgreSQL only)")
    stages = _median_stages([st for _s, st, _c in (pipe_runs[1:] or pipe_runs)])
    total = sum(stages.values())
    wall = statistics.median(s for s, _st, _c in (pipe_runs[1:] or pipe_runs))
    split = "  ".join(
        f"{k} {v:5.2f} s ({v / wall:4.0%}, {v / n * 1e6:5.1f} µs/pt)" for k, v in stages.items()
    )
    print(f"stages     {split}; other {max(0.0, wall - total):5.2f} s")
    verdict_pps = "within" if pipe_med >= TARGET_PPS else "BELOW"
    verdict_ratio = "within" if ratio >= TARGET_RATIO else "BELOW"
    print(f"target     ≥ {TARGET_PPS:,} points/s: {pipe_med:,.0f} ({verdict_pps} target); ≥ {TARGET_RATIO} of raw: "
          f"{ratio:.2f} ({verdict_ratio} target); not asserted")  # fmt: skip


def _median_stages(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = list(runs[0])
    return {k: statistics.median(r.get(k, 0.0) for r in runs) for k in keys}


def _db() -> str:
    if connection.vendor == "sqlite":
        return f"SQLite {connection.Database.sqlite_version}"
    version = getattr(connection, "pg_version", 0)
    return f"{connection.vendor} {version // 10000}.{version % 10000}" if version else connection.vendor
