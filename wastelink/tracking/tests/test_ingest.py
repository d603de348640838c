"""The ingest pipeline through its ways in: OsmAnd over HTTP (query, form, JSON), the JSON batch and GPX."""

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from wastelink.core.telemetry import Fix
from wastelink.manifests.services import custody
from wastelink.manifests.tests.conftest import manifest_world, new_manifest, sign  # noqa: F401 - fixtures
from wastelink.permits.tests.conftest import permit_world  # noqa: F401 - fixture
from wastelink.tracking.models import IngestCounter, Position, Trip
from wastelink.tracking.services import group_commit
from wastelink.tracking.services import ingest as pipeline

pytestmark = pytest.mark.django_db


def osm(client, **params):
    return client.get("/osmand", params)


def test_osmand_point_is_stored_once_and_repeats_are_duplicates(manifest_world):  # noqa: F811
    c = Client()
    t = int(timezone.now().timestamp()) - 60
    r = osm(c, id="dev-1", lat="12.70", lon="101.15", timestamp=str(t), speed="10")
    assert r.status_code == 200 and r.content == b"OK\n"
    r = osm(c, id="dev-1", lat="12.70", lon="101.15", timestamp=str(t), speed="10")
    assert r.status_code == 200 and b"duplicate" in r.content
    assert Position.objects.filter(device_id="dev-1").count() == 1
    p = Position.objects.get()
    assert p.speed_kmh == pytest.approx(18.52) and p.trip is None  # no manifest in transit: kept, not judged


def test_unknown_devices_and_bad_points_are_refused_with_a_reason_and_counted(manifest_world):  # noqa: F811
    c = Client()
    assert osm(c, id="nobody", lat="12.7", lon="101.1").status_code == 404
    assert osm(c, id="nobody", lat="12.7", lon="101.1").status_code == 404
    assert IngestCounter.objects.get(device_id="nobody", reason="unknown_device").count == 2
    r = osm(c, id="dev-1", lat="95", lon="101.1")
    assert r.status_code == 400 and b"invalid coordinates" in r.content
    future = (timezone.now() + timedelta(minutes=10)).isoformat()
    assert b"future" in osm(c, id="dev-1", lat="12.7", lon="101.1", timestamp=future).content
    assert osm(c, lat="12.7", lon="101.1").status_code == 400  # no device id
    assert Position.objects.count() == 0


def test_form_post_and_json_body(manifest_world):  # noqa: F811
    c = Client()
    r = c.post("/osmand", {"id": "dev-1", "lat": "12.71", "lon": "101.16", "timestamp": "1764300000"})
    assert r.status_code == 200
    body = {"location": {"timestamp": "2025-11-28T03:21:00Z", "coords": {"latitude": 12.72, "longitude": 101.17,
                                                                          "speed": 10}}, "device_id": "dev-1"}  # fmt: skip
    r = c.post("/osmand", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 200 and Position.objects.count() == 2
    assert c.post("/osmand", data="{oops", content_type="application/json").status_code == 400


def test_a_trip_opens_at_pickup_collects_points_with_the_corridor_and_closes_on_delivery(manifest_world):  # noqa: F811
    w = manifest_world
    route = {"type": "LineString", "coordinates": [[101.15, 12.70], [101.25, 12.80]]}
    m = new_manifest(w, route=route)
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    custody.pickup(actor=w.users["driver"], number=m.number, data=sign(m))
    trip = Trip.objects.get(manifest=m)
    assert trip.state == "open" and trip.device_id == "dev-1"
    c = Client()
    t0 = int(trip.started_at.timestamp()) + 60
    assert osm(c, id="dev-1", lat="12.75", lon="101.20", timestamp=str(t0)).status_code == 200  # on the route
    assert osm(c, id="dev-1", lat="12.75", lon="101.30", timestamp=str(t0 + 30)).status_code == 200  # ~10 km off
    # A late point is accepted and ordered by fix time; one from before the pickup belongs to no trip.
    assert osm(c, id="dev-1", lat="12.74", lon="101.19", timestamp=str(t0 - 30)).status_code == 200
    assert osm(c, id="dev-1", lat="12.70", lon="101.15", timestamp=str(t0 - 600)).status_code == 200
    flags = list(Position.objects.filter(trip=trip).order_by("fix_time").values_list("in_corridor", flat=True))
    assert flags == [True, True, False]
    trip.refresh_from_db()
    assert trip.points == 3 and trip.outside_corridor_points == 1
    assert trip.last_fix_at == datetime.fromtimestamp(t0 + 30, tz=UTC)
    custody.deliver(actor=w.users["driver"], number=m.number)
    trip.refresh_from_db()
    assert trip.state == "closed"
    assert osm(c, id="dev-1", lat="12.80", lon="101.25", timestamp=str(t0 + 60)).status_code == 200
    assert Position.objects.filter(trip=trip).count() == 3  # after delivery: kept, outside the trip


def test_json_batch_gives_a_result_per_point_and_is_scoped_to_the_transporter(manifest_world):  # noqa: F811
    w = manifest_world
    client = w.token_client("dispatcher", scopes=("telemetry",))
    now = timezone.now()
    points = [{"device_id": "dev-1", "fix_time": (now - timedelta(seconds=i)).isoformat(), "lat": 12.7, "lon": 101.1}
              for i in range(3)]  # fmt: skip
    points += [points[0], {"device_id": "dev-1", "fix_time": now.isoformat(), "lat": None, "lon": None},
               {"device_id": "other", "fix_time": now.isoformat(), "lat": 12.7, "lon": 101.1}]  # fmt: skip
    r = client.post("/api/v1/telemetry", data=json.dumps({"points": points}), content_type="application/json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert [x["status"] for x in body["results"]] == ["accepted"] * 3 + ["duplicate", "rejected", "unknown_device"]
    assert body["accepted"] == 3 and body["results"][4]["reason"].startswith("empty fix")
    too_many = {"points": [points[0]] * 1001}
    assert client.post("/api/v1/telemetry", data=json.dumps(too_many), content_type="application/json").status_code == 422
    # A generator's token may not send positions.
    gen = w.token_client("gen_a", scopes=("telemetry",))
    assert gen.post("/api/v1/telemetry", data=json.dumps({"points": points[:1]}), content_type="application/json").status_code == 403


def test_gpx_upload(manifest_world):  # noqa: F811
    w = manifest_world
    gpx = """<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
    <trkpt lat="12.70" lon="101.15"><time>2026-11-20T01:00:00Z</time></trkpt>
    <trkpt lat="12.71" lon="101.16"><time>2026-11-20T01:00:30Z</time></trkpt>
    </trkseg></trk></gpx>"""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = w.token_client("dispatcher", scopes=("telemetry",))
    r = client.post("/api/v1/telemetry/gpx", {"device_id": "dev-1", "file": SimpleUploadedFile("t.gpx", gpx.encode())})
    assert r.status_code == 200 and r.json()["accepted"] == 2
    bad = client.post("/api/v1/telemetry/gpx", {"device_id": "dev-1", "file": SimpleUploadedFile("t.gpx", b"<nope")})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "file"


@pytest.fixture
def held_ingest(monkeypatch):
    """The pipeline replaced for the group-commit tests: each batch's devices recorded, the first batch held until
    `release` is set (so that the next requests queue behind it), a batch holding "bad" failed, "dup" answered
    duplicate."""
    batches: list[list[str]] = []
    release = threading.Event()

    def fake_ingest(fixes, *, now=None, **_kwargs):
        batches.append([f.device_id for f in fixes])
        if len(batches) == 1:
            release.wait(10)
        if any(f.device_id == "bad" for f in fixes):
            raise RuntimeError("boom")
        return [pipeline.Result(i, "duplicate" if f.device_id == "dup" else "accepted") for i, f in enumerate(fixes)]

    monkeypatch.setattr(pipeline, "ingest", fake_ingest)
    return batches, release


def test_group_commit_writes_concurrent_points_together_and_keeps_errors_to_their_own_request(held_ingest):
    """OsmAnd over HTTP: points of concurrent requests share a transaction; each request gets its own result, and a
    point that fails the batch fails only its own request (the others are retried alone)."""
    batches, release = held_ingest
    commit = group_commit.GroupCommit()
    now = timezone.now()
    outcome: dict[str, str] = {}

    def send(device: str) -> None:
        try:
            outcome[device] = commit.submit(Fix(device_id=device, fix_time=now, lat=12.7, lon=101.1), now).status
        except RuntimeError:
            outcome[device] = "error"

    first = threading.Thread(target=send, args=("d0",))
    first.start()
    deadline = time.monotonic() + 10
    while not batches and time.monotonic() < deadline:
        time.sleep(0.01)
    others = [threading.Thread(target=send, args=(d,)) for d in ["d1", "d2", "dup", "bad", "d3"]]
    for t in others:
        t.start()
    while len(commit._pending) < len(others) and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for t in [first, *others]:
        t.join(10)
    assert outcome == {"d0": "accepted", "d1": "accepted", "d2": "accepted", "dup": "duplicate", "bad": "error",
                       "d3": "accepted"}  # fmt: skip
    assert batches[0] == ["d0"] and sorted(batches[1]) == ["bad", "d1", "d2", "d3", "dup"]
    assert sorted(b[0] for b in batches[2:]) == ["bad", "d1", "d2", "d3", "dup"] and all(len(b) == 1 for b in batches[2:])
    assert not commit._busy and not commit._pending


def test_async_group_commit_answers_each_request_from_one_writer_and_keeps_errors_to_their_own(held_ingest):
    """The OsmAnd port's group commit: requests awaiting on an event loop, one writer thread. While the first batch
    is being written the others queue, and are written together next; each gets its own result, and a point that
    fails the batch fails only its own request."""
    batches, release = held_ingest
    commit = group_commit.AsyncGroupCommit()
    now = timezone.now()

    async def send(device: str) -> str:
        try:
            return (await commit.submit(Fix(device_id=device, fix_time=now, lat=12.7, lon=101.1), now)).status
        except RuntimeError:
            return "error"

    async def scenario() -> dict[str, str]:
        first = asyncio.create_task(send("d0"))
        while not batches:
            await asyncio.sleep(0.01)
        devices = ["d1", "d2", "dup", "bad", "d3"]
        others = [asyncio.create_task(send(d)) for d in devices]
        await asyncio.sleep(0.05)  # all queued behind the first batch
        release.set()
        results = await asyncio.wait_for(asyncio.gather(first, *others), 10)
        return dict(zip(["d0", *devices], results, strict=True))

    try:
        outcome = asyncio.run(scenario())
        assert outcome == {"d0": "accepted", "d1": "accepted", "d2": "accepted", "dup": "duplicate", "bad": "error",
                           "d3": "accepted"}  # fmt: skip
        assert batches[0] == ["d0"] and batches[1] == ["d1", "d2", "dup", "bad", "d3"]
        assert sorted(b[0] for b in batches[2:]) == ["bad", "d1", "d2", "d3", "dup"]
        assert all(len(b) == 1 for b in batches[2:])
    finally:
        commit.stop()
    assert not commit._thread.is_alive()


def test_async_group_commit_outlives_a_request_whose_event_loop_closed(held_ingest):
    """A request that went away with its event loop (a server stopping) must not take the writer thread with it:
    the next request is still answered."""
    _batches, release = held_ingest
    commit = group_commit.AsyncGroupCommit()
    now = timezone.now()
    fix = Fix(device_id="d", fix_time=now, lat=12.7, lon=101.1)

    async def gone() -> None:
        task = asyncio.create_task(commit.submit(fix, now))
        await asyncio.sleep(0.05)
        task.cancel()

    try:
        asyncio.run(gone())  # its loop is closed when the writer answers
        writer = commit._thread
        release.set()
        assert asyncio.run(asyncio.wait_for(commit.submit(fix, now), 10)).status == "accepted"
        assert commit._thread is writer and writer.is_alive()  # the same thread, not one started again
    finally:
        commit.stop()
