"""The engine end to end: positions through the real ingest pipeline, the bus, the rules, and alerts in the database."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from wastelink.detection.models import Alert
from wastelink.detection.services.engine import AlertEngine
from wastelink.manifests.services import custody
from wastelink.manifests.tests.conftest import manifest_world, new_manifest, sign  # noqa: F401 - fixtures
from wastelink.permits.tests.conftest import permit_world  # noqa: F401 - fixture
from wastelink.tracking.bus import get_bus
from wastelink.tracking.models import Trip

pytestmark = pytest.mark.django_db

ROUTE = {"type": "LineString", "coordinates": [[101.15, 12.70], [101.25, 12.80]]}


@pytest.fixture
def trip(manifest_world):  # noqa: F811
    w = manifest_world
    w.gen_a.lat, w.gen_a.lon = 12.70, 101.15
    w.gen_a.save()
    w.receiver.lat, w.receiver.lon = 12.80, 101.25
    w.receiver.save()
    m = new_manifest(w, route=ROUTE)
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    custody.pickup(actor=w.users["driver"], number=m.number, data=sign(m))
    t = Trip.objects.get(manifest=m)
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    Trip.objects.filter(id=t.id).update(started_at=start)
    t.refresh_from_db()
    t.world = w
    return t


@pytest.fixture
def engine_on_bus():
    engine = AlertEngine()
    seen: list[dict] = []
    stop = [get_bus().subscribe(engine.handle), get_bus().subscribe(seen.extend)]
    engine.seen = seen
    yield engine
    for unsubscribe in stop:
        unsubscribe()


def send(django_capture_on_commit_callbacks, points):
    """OsmAnd points (seconds after the trip start, lat, lon), each committed and published as live ingest does."""
    c = Client()
    for t, lat, lon in points:
        with django_capture_on_commit_callbacks(execute=True):
            r = c.get("/osmand", {"id": "dev-1", "lat": f"{lat}", "lon": f"{lon}", "timestamp": str(t)})
        assert r.status_code == 200, r.content


def on_route(fraction):
    return 12.70 + 0.10 * fraction, 101.15 + 0.10 * fraction


def test_a_deviation_raises_one_alert_on_the_stream_and_replays_and_restarts_add_none(trip, engine_on_bus,
                                                                                      django_capture_on_commit_callbacks):  # fmt: skip
    t0 = int(trip.started_at.timestamp())
    track = [(t0 + 30 * i, *on_route(i / 40)) for i in range(10)]  # on the route, every 30 s
    lat, lon = on_route(9 / 40)
    # Off to the east at ~70 km/h: 380 m from the line (inside the 500 m corridor), then farther for 3 minutes.
    track += [(t0 + 270 + 30 * k, lat, lon + 0.005 * k) for k in range(1, 9)]
    send(django_capture_on_commit_callbacks, track)
    alerts = list(Alert.objects.all())
    assert [a.rule for a in alerts] == ["corridor_deviation"]
    alert = alerts[0]
    assert alert.manifest_id == trip.manifest_id and alert.vehicle_id == trip.vehicle_id
    assert alert.origin_estate_id == trip.world.gen_a.estate_id
    # Fired by fix time: outside since halfway between 300 s and 330 s, two minutes later is 435 s → the 450 s fix.
    assert alert.episode_at.timestamp() == t0 + 315 and alert.fired_at.timestamp() == t0 + 450
    assert alert.evidence and alert.evidence[-1][1:] == [round(lat, 6), round(lon + 0.03, 6)]
    pushed = [m for m in engine_on_bus.seen if m["type"] == "alert"]
    assert len(pushed) == 1 and pushed[0]["id"] == alert.id and pushed[0]["rule"] == "corridor_deviation"
    # The same points again are duplicates; a new engine (a restart) warms up from the stored track and adds nothing.
    send(django_capture_on_commit_callbacks, track)
    restarted = AlertEngine()
    restarted.handle([{"type": "position", "trip": trip.id, "device_id": "dev-1", "lat": lat, "lon": lon + 0.045,
                       "fix_time": datetime.fromtimestamp(t0 + 540, tz=UTC).isoformat(),
                       "in_corridor": False}])  # fmt: skip
    assert Alert.objects.count() == 1


def test_a_live_trip_that_falls_silent_raises_signal_loss_with_the_wall_clock(trip, engine_on_bus,
                                                                              django_capture_on_commit_callbacks):  # fmt: skip
    now = timezone.now().replace(microsecond=0)
    Trip.objects.filter(id=trip.id).update(started_at=now - timedelta(minutes=5))
    last = int(now.timestamp()) - 30
    send(django_capture_on_commit_callbacks, [(last - 60, *on_route(0.1)), (last, *on_route(0.12))])
    engine = engine_on_bus
    assert engine.tick(now + timedelta(minutes=5)) == []
    raised = engine.tick(now + timedelta(minutes=11))
    assert [a.rule for a in raised] == ["signal_loss"]
    assert raised[0].fired_at.timestamp() == last + 600  # the fix time it fired: ten minutes after the last fix


def test_delivery_claimed_away_from_the_receiver_raises_wrong_destination(trip, engine_on_bus,
                                                                          django_capture_on_commit_callbacks):  # fmt: skip
    now = timezone.now().replace(microsecond=0)
    Trip.objects.filter(id=trip.id).update(started_at=now - timedelta(minutes=11))
    base = int(now.timestamp()) - 600
    send(django_capture_on_commit_callbacks, [(base + 30 * i, *on_route(i / 40)) for i in range(12)])
    with django_capture_on_commit_callbacks(execute=True):
        custody.deliver(actor=trip.world.users["driver"], number=trip.manifest.number)
    assert list(Alert.objects.values_list("rule", flat=True)) == ["wrong_destination"]
    assert Alert.objects.get().facts["metres_from_receiver"] > 5_000
