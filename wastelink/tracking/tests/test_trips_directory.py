"""The open trips the pipeline keeps between batches: the trips version moves in the transaction of every change
that matters (whoever makes it: a service, a bulk update, another process's SQL), so the next batch sees a trip
opened or closed and a corrected route; repeats of stored points among fresh ones are answered one by one."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from wastelink.core.telemetry import Fix
from wastelink.manifests.models import Manifest
from wastelink.manifests.services import custody
from wastelink.manifests.tests.conftest import manifest_world, new_manifest, sign  # noqa: F401 - fixtures
from wastelink.permits.tests.conftest import permit_world  # noqa: F401 - fixture
from wastelink.tracking.models import Position, Trip, TripsVersion
from wastelink.tracking.services import ingest as pipeline

pytestmark = pytest.mark.django_db

ROUTE = {"type": "LineString", "coordinates": [[101.15, 12.70], [101.25, 12.80]]}
DETOUR = {"type": "LineString", "coordinates": [[101.15, 12.70], [101.30, 12.75], [101.25, 12.80]]}


def version() -> tuple[int, int]:
    return TripsVersion.objects.values_list("trips", "routes").get(id=1)


def in_transit(w) -> tuple[Manifest, Trip]:
    m = new_manifest(w, route=ROUTE)
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    custody.pickup(actor=w.users["driver"], number=m.number, data=sign(m))
    return m, Trip.objects.get(manifest=m)


def send(*points: tuple[float, float, float]) -> list[Position]:
    """Points of dev-1 (seconds after now, lat, lon) in one batch; their stored rows."""
    now = timezone.now()
    fixes = [Fix("dev-1", now + timedelta(seconds=s), lat, lon) for s, lat, lon in points]
    assert {r.status for r in pipeline.ingest(fixes, now=now + timedelta(minutes=1))} == {"accepted"}
    return [Position.objects.get(device_id="dev-1", fix_time=f.fix_time) for f in fixes]


def test_the_version_changes_with_open_trips_and_routes_and_not_with_positions(manifest_world):  # noqa: F811
    before = version()
    m, trip = in_transit(manifest_world)  # a trip inserted
    opened = version()
    assert opened[0] != before[0]
    send((1, 12.75, 101.20))  # positions and the trips' counters: no change
    assert version() == opened
    Manifest.objects.filter(id=m.id).update(
        revision=m.revision + 1
    )  # a revision alone: nothing the pipeline keeps
    assert version() == opened
    Manifest.objects.filter(id=m.id).update(route=DETOUR)
    rerouted = version()
    assert rerouted[0] == opened[0] and rerouted[1] != opened[1]
    Manifest.objects.filter(id=m.id).update(corridor_width_m=800)
    widened = version()
    assert widened[0] == opened[0] and widened[1] != rerouted[1]
    Trip.objects.filter(id=trip.id).update(state=Trip.State.CLOSED)
    closed = version()
    assert closed[0] != widened[0] and closed[1] == widened[1]
    Trip.objects.filter(id=trip.id).update(points=7)  # the trips' counters: no change
    assert version() == closed


def test_the_next_batch_sees_a_trip_closed_and_opened_by_another_process(manifest_world):  # noqa: F811
    m, trip = in_transit(manifest_world)
    assert send((1, 12.75, 101.20))[0].trip_id == trip.id
    with connection.cursor() as cur:  # as another process would, with nothing of this process told
        cur.execute("UPDATE tracking_trip SET state = 'closed' WHERE id = %s", [trip.id])
    assert send((2, 12.76, 101.21))[0].trip_id is None
    with connection.cursor() as cur:
        cur.execute("UPDATE tracking_trip SET state = 'open' WHERE id = %s", [trip.id])
    assert send((3, 12.77, 101.22))[0].trip_id == trip.id


def test_a_route_corrected_by_a_bulk_update_is_used_by_the_next_batch(manifest_world):  # noqa: F811
    m, _trip = in_transit(manifest_world)
    # (12.75, 101.30) is ~5.5 km off the straight route and on the detour.
    assert send((1, 12.75, 101.30))[0].in_corridor is False
    Manifest.objects.filter(id=m.id).update(route=DETOUR)  # no revision bump, no signal
    assert send((2, 12.75, 101.30))[0].in_corridor is True


def test_stored_repeats_among_fresh_points_are_duplicates_and_counted_nowhere(manifest_world):  # noqa: F811
    _m, trip = in_transit(manifest_world)
    now = timezone.now()
    fixes = [Fix("dev-1", now + timedelta(seconds=s), 12.75, 101.20) for s in range(4)]
    later = now + timedelta(minutes=1)
    assert [r.status for r in pipeline.ingest(fixes[:2], now=later)] == ["accepted", "accepted"]
    again = [fixes[2], fixes[0], fixes[3], fixes[1]]
    assert [r.status for r in pipeline.ingest(again, now=later)] == [
        "accepted",
        "duplicate",
        "accepted",
        "duplicate",
    ]
    trip.refresh_from_db()
    assert trip.points == 4 and Position.objects.filter(trip=trip).count() == 4
    assert trip.last_fix_at == fixes[3].fix_time


def test_without_the_version_row_every_batch_looks_its_devices_up(manifest_world):  # noqa: F811
    TripsVersion.objects.all().delete()
    m, trip = in_transit(manifest_world)
    assert send((1, 12.75, 101.20))[0].trip_id == trip.id
    Trip.objects.filter(id=trip.id).update(state=Trip.State.CLOSED)
    assert send((2, 12.76, 101.21))[0].trip_id is None


@pytest.mark.django_db(transaction=True)
def test_the_version_row_comes_back_after_the_tables_are_flushed():
    from django.core.management import call_command

    call_command("flush", "--no-input", verbosity=0)
    assert TripsVersion.objects.filter(id=1).exists()
