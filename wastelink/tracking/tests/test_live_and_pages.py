"""Live scoping and the tracking pages."""

import pytest
from django.test import Client

from wastelink.manifests.services import custody
from wastelink.manifests.tests.conftest import manifest_world, new_manifest, sign  # noqa: F401 - fixtures
from wastelink.permits.tests.conftest import permit_world  # noqa: F401 - fixture
from wastelink.tracking.access import message_visible, stream_scope
from wastelink.tracking.models import Trip

pytestmark = pytest.mark.django_db


def in_transit(w):
    m = new_manifest(w, route={"type": "LineString", "coordinates": [[101.15, 12.70], [101.25, 12.80]]})
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    custody.pickup(actor=w.users["driver"], number=m.number, data=sign(m))
    return Trip.objects.get(manifest=m)


def test_stream_scope_follows_estates_and_ownership(manifest_world):  # noqa: F811
    w = manifest_world
    trip = in_transit(w)
    msg = {"type": "position", "trip": trip.id, "device_id": "dev-1"}
    other = {"type": "position", "trip": None, "device_id": "dev-999"}
    for user, sees in [("officer_a", True), ("officer_b", False), ("hq", True), ("regulator", True), ("admin", True),
                       ("dispatcher", True), ("gen_a", True), ("gen_b", False), ("receiver", True)]:  # fmt: skip
        assert message_visible(stream_scope(w.users[user]), msg) is sees, user
    # A transporter also follows its own vehicles outside trips; an officer does not see unrelated devices.
    assert message_visible(stream_scope(w.users["dispatcher"]), {"trip": None, "device_id": "dev-1"})
    assert not message_visible(stream_scope(w.users["officer_a"]), other)


def test_stream_requires_a_session():
    assert Client().get("/live/stream").status_code == 401


def test_pages_render_and_are_scoped(manifest_world):  # noqa: F811
    w = manifest_world
    trip = in_transit(w)
    Client().get("/osmand", {"id": "dev-1", "lat": "12.75", "lon": "101.2",
                             "timestamp": str(int(trip.started_at.timestamp()) + 5)})  # fmt: skip
    officer = w.client("officer_a")
    for path in ("/live/", "/live/state.json", "/vehicles/status/", f"/trips/{trip.id}/replay/", f"/trips/{trip.id}/track.json"):
        assert officer.get(path).status_code == 200, path
    state = officer.get("/live/state.json").json()
    assert state["trips"][0]["manifest"] == trip.manifest.number and state["trips"][0]["corridor"]["type"] == "Polygon"
    assert (state["trips"][0]["last"]["lat"], state["trips"][0]["last"]["lon"]) == (12.75, 101.2)
    track = officer.get(f"/trips/{trip.id}/track.json").json()
    assert len(track["points"]) == 1 and track["points"][0]["in"] is True
    assert w.client("officer_b").get(f"/trips/{trip.id}/replay/").status_code == 404
    assert w.client("officer_b").get("/live/state.json").json()["trips"] == []
    status = w.client("dispatcher").get("/vehicles/status/").content.decode()
    assert "701234" in status
    # The officer of the estate the trip starts in follows the truck on it; another estate's officer does not.
    assert "701234" in officer.get("/vehicles/status/").content.decode()
    assert "701234" not in w.client("officer_b").get("/vehicles/status/").content.decode()


def test_retention_keeps_a_simplified_track(manifest_world):  # noqa: F811
    from datetime import timedelta

    from django.core.management import call_command

    from wastelink.tracking.models import Position

    w = manifest_world
    trip = in_transit(w)
    c = Client()
    start = int(trip.started_at.timestamp())
    for i in range(5):
        c.get("/osmand", {"id": "dev-1", "lat": str(12.70 + i * 0.01), "lon": str(101.15 + i * 0.01), "timestamp": str(start + 10 + i)})
    custody.deliver(actor=w.users["driver"], number=trip.manifest.number)
    from django.db.models import F

    Position.objects.update(fix_time=F("fix_time") - timedelta(days=400))
    call_command("tracking", "purge", "--older-than-days", "180")
    trip.refresh_from_db()
    assert Position.objects.count() == 0 and trip.simplified_track["type"] == "LineString"


def test_vehicle_status_tells_moving_stopped_silent_and_never(manifest_world):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    from wastelink.registry.models import Vehicle

    w = manifest_world
    trip = in_transit(w)
    Vehicle.objects.create(transporter=w.transporter, plate="709999", province="ระยอง", kind="truck_10w",
                           capacity_kg=15000, gps_device_id="dev-2")  # fmt: skip
    dispatcher = w.client("dispatcher")

    def statuses() -> dict[str, tuple[str, object]]:
        rows = dispatcher.get("/vehicles/status/").context["rows"]
        return {r["vehicle"].plate: (r["status"], r["trip"] and r["trip"].id) for r in rows}

    def point(seconds_ago: float, knots: str) -> None:
        t = timezone.now() - timedelta(seconds=seconds_ago)
        assert Client().get("/osmand", {"id": "dev-1", "lat": "12.75", "lon": "101.2", "speed": knots,
                                        "timestamp": t.isoformat()}).status_code == 200  # fmt: skip

    assert statuses() == {"701234": ("never", trip.id), "709999": ("never", None)}
    point(15 * 60, "20")  # the latest fix, a quarter of an hour ago
    assert statuses()["701234"] == ("no_signal", trip.id)
    point(30, "0")
    assert statuses()["701234"] == ("stopped", trip.id)
    point(10, "20")  # 37 km/h
    point(60, "0")  # a late point does not hide the newer one
    assert statuses()["701234"] == ("moving", trip.id)
