"""Alert fixtures (no tests here): a load of gen_a (estate A, map-ta-phut) in transit on the transporter's truck to
the receiver (outside the estates), and alert rows written directly, as the engine would write them."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from wastelink.core import detection as rules
from wastelink.detection.models import Alert
from wastelink.manifests.services import custody
from wastelink.manifests.tests.conftest import manifest_world, new_manifest, sign  # noqa: F401 - fixture re-export
from wastelink.permits.tests.conftest import permit_world  # noqa: F401 - fixture re-export
from wastelink.tracking.models import Trip

ROUTE = {"type": "LineString", "coordinates": [[101.15, 12.70], [101.25, 12.80]]}
_episodes = count()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The shared world creates a dozen users; Argon2 would spend seconds per test on passwords nobody checks."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def in_transit(w) -> Trip:
    m = new_manifest(w, route=ROUTE)
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    custody.pickup(actor=w.users["driver"], number=m.number, data=sign(m))
    return Trip.objects.select_related("manifest", "vehicle").get(manifest=m)


def make_alert(trip: Trip, *, rule: str = rules.UNAUTHORISED_STOP, severity: str | None = None,
               state: str = "open", raised_at=None, origin=True, destination=False, **extra) -> Alert:  # fmt: skip
    """One alert on the trip, as the engine raises it (origin and destination estates from the manifest)."""
    raised_at = raised_at or timezone.now()
    fired = raised_at - timedelta(seconds=30)
    m = trip.manifest
    facts = {
        rules.UNAUTHORISED_STOP: {"minutes_stopped": 12.5, "radius_m": 200.0},
        rules.HOT_SPOT_ENTRY: {"zone": "fence:9", "zone_name": "บ่อดินร้าง หนองแฟบ"},
        rules.CORRIDOR_DEVIATION: {"minutes_outside": 3.0, "points_outside": 4},
    }.get(rule, {})
    fields = dict(
        trip=trip, manifest=m, vehicle=trip.vehicle, rule=rule, severity=severity or rules.SEVERITY[rule],
        episode_at=fired - timedelta(minutes=10, seconds=next(_episodes)), fired_at=fired, raised_at=raised_at,
        lat=12.76, lon=101.21, facts=facts,
        evidence=[[(fired - timedelta(minutes=i)).isoformat(), 12.75 + i / 1000, 101.2] for i in range(5, -1, -1)],
        origin_estate_id=m.generator.estate_id if origin else None,
        destination_estate_id=m.receiver.estate_id if destination else None, state=state,
    )  # fmt: skip
    # An alert made in a later state carries what the earlier steps wrote.
    if state in ("acknowledged", "dispatched", "resolved"):
        fields["acknowledged_at"] = raised_at + timedelta(minutes=2)
    if state in ("dispatched",):
        fields.update(inspector="ทีมตรวจ 1", dispatched_at=raised_at + timedelta(minutes=5))
    if state == "resolved":
        fields.update(
            resolution="confirmed", resolution_note="found", resolved_at=raised_at + timedelta(minutes=30)
        )
    for name in ("origin_estate", "destination_estate"):
        if name in extra:
            fields.pop(f"{name}_id")
    fields.update(extra)
    return Alert.objects.create(**fields)


@pytest.fixture
def alert_world(manifest_world):  # noqa: F811
    w = manifest_world
    w.trip = in_transit(w)
    return w
