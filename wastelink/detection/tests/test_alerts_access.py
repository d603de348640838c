"""Who sees which alerts (list and detail), what the parties may not read, the filters and their bad values, pages
of the list, and alert messages on the live stream."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from wastelink.core import detection as rules
from wastelink.detection.services import alerts as services
from wastelink.tracking.access import message_visible, stream_scope
from wastelink.tracking.models import Trip

from . import test_alerts_fixtures as fx
from .test_alerts_fixtures import make_alert

pytestmark = pytest.mark.django_db

# The shared fixtures, bound here so that pytest finds them for this module.
_fast_password_hashing = fx._fast_password_hashing
alert_world = fx.alert_world
manifest_world = fx.manifest_world
permit_world = fx.permit_world

# The load starts in estate A (gen_a) and goes to a receiver outside the estates, on the transporter's truck.
SEES = {"officer_a": True, "officer_b": False, "hq": True, "regulator": True, "admin": True, "dispatcher": True,
        "driver": True, "gen_a": True, "gen_a_cert": True, "gen_b": False, "receiver": True}  # fmt: skip


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [a["id"] for a in response.json()["items"]]


OFFICIALS = {"officer_a", "officer_b", "hq", "regulator", "admin"}


@pytest.mark.parametrize(("username", "sees"), sorted(SEES.items()))
def test_list_and_detail_follow_the_trips_and_parties_see_only_resolved_alerts(alert_world, username, sees):
    """Officials see the alerts of their trips in every state; the parties only once resolved (an open alert may
    have an inspector on the way)."""
    w = alert_world
    open_alert = make_alert(w.trip)
    resolved = make_alert(w.trip, rule=rules.OVERDUE, state="resolved")
    client = w.client(username)
    expected = {a.id for a in (open_alert, resolved) if sees and (username in OFFICIALS or a is resolved)}
    assert set(ids(client.get("/api/v1/alerts"))) == expected
    for alert in (open_alert, resolved):
        r = client.get(f"/api/v1/alerts/{alert.id}")
        if alert.id in expected:
            assert r.status_code == 200 and r.json()["manifest"] == w.trip.manifest.number
        else:
            assert r.status_code == 404 and r.json()["errors"][0]["field"] == "alert_id"
    assert client.get("/api/v1/alerts/987654").status_code == 404


def test_estate_officers_see_alerts_of_loads_ending_in_their_estates(alert_world):
    w = alert_world
    ending_in_b = make_alert(w.trip, origin=False, destination_estate=w.estate_b)
    nowhere = make_alert(w.trip, origin=False)  # neither end in an estate
    assert ids(w.client("officer_b").get("/api/v1/alerts")) == [ending_in_b.id]
    assert ids(w.client("officer_a").get("/api/v1/alerts")) == []
    assert set(ids(w.client("hq").get("/api/v1/alerts"))) == {ending_in_b.id}
    assert set(ids(w.client("regulator").get("/api/v1/alerts"))) == {ending_in_b.id, nowhere.id}


def test_parties_read_less_than_officials(alert_world):
    w = alert_world
    alert = make_alert(w.trip, rule=rules.HOT_SPOT_ENTRY, state="dispatched")
    services.resolve(
        actor=w.users["officer_a"], alert_id=alert.id, resolution="confirmed", note="caught at the pond"
    )
    official = w.client("officer_a").get(f"/api/v1/alerts/{alert.id}").json()
    assert official["facts"]["zone_name"] == "บ่อดินร้าง หนองแฟบ" and official["inspector"] == "ทีมตรวจ 1"
    assert official["resolution_note"] == "caught at the pond" and official["history"]
    party = w.client("dispatcher").get(f"/api/v1/alerts/{alert.id}").json()
    assert "zone_name" not in party["facts"] and "zone" not in party["facts"]  # hot spots are for officials
    assert party["inspector"] == "" and party["resolution_note"] == "" and party["history"] == []
    assert party["resolution"] == "confirmed" and party["resolved_by"] is None and party["actions"] == []


def test_detail_carries_the_evidence_track(alert_world):
    w = alert_world
    alert = make_alert(w.trip)
    body = w.client("officer_a").get(f"/api/v1/alerts/{alert.id}").json()
    assert len(body["evidence"]) == 6 and set(body["evidence"][0]) == {"fix_time", "lat", "lon"}
    assert body["facts"] == {"minutes_stopped": 12.5, "radius_m": 200.0}
    assert body["actions"] == ["acknowledge", "resolve"] and body["origin_estate"] == "map-ta-phut"
    assert body["vehicle"] == "701234" and body["device_id"] == "dev-1" and body["trip"] == w.trip.id


def test_malformed_evidence_is_skipped_not_a_500(alert_world):
    w = alert_world
    alert = make_alert(
        w.trip, evidence=[["2026-01-01T00:00:00+00:00", 12.7, 101.2], ["bad"], None, [1, "x", 3]]
    )
    body = w.client("officer_a").get(f"/api/v1/alerts/{alert.id}").json()
    assert len(body["evidence"]) == 1


# --- filters --------------------------------------------------------------------------------------------------
@pytest.fixture
def several(alert_world):
    w = alert_world
    now = timezone.now()
    old = make_alert(w.trip, rule=rules.CORRIDOR_DEVIATION, raised_at=now - timedelta(days=3))
    stop = make_alert(
        w.trip, rule=rules.UNAUTHORISED_STOP, raised_at=now - timedelta(hours=1), state="acknowledged"
    )
    hot = make_alert(w.trip, rule=rules.HOT_SPOT_ENTRY, raised_at=now, destination=True,
                     destination_estate=w.estate_b)  # fmt: skip
    return w, old, stop, hot


def test_filters(several):
    w, old, stop, hot = several
    c = w.client("regulator")
    assert ids(c.get("/api/v1/alerts")) == [hot.id, stop.id, old.id]  # newest first
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(c.get("/api/v1/alerts", {"since": since})) == [hot.id, stop.id]
    assert ids(c.get("/api/v1/alerts", {"rule": "hot_spot_entry"})) == [hot.id]
    assert ids(c.get("/api/v1/alerts", {"rule": "hot_spot_entry,corridor_deviation"})) == [hot.id, old.id]
    assert ids(c.get("/api/v1/alerts", {"state": "acknowledged"})) == [stop.id]
    assert ids(c.get("/api/v1/alerts", {"state": "open,acknowledged", "rule": "unauthorised_stop"})) == [
        stop.id
    ]
    assert ids(c.get("/api/v1/alerts", {"severity": "high"})) == [hot.id, stop.id]
    assert ids(c.get("/api/v1/alerts", {"estate": "bangpoo"})) == [hot.id]
    assert ids(c.get("/api/v1/alerts", {"estate": "map-ta-phut"})) == [hot.id, stop.id, old.id]
    assert ids(c.get("/api/v1/alerts", {"estate": "padaeng"})) == []


def test_since_forms(several):
    w, old, stop, hot = several
    c = w.client("regulator")
    day_ago = timezone.localtime(timezone.now() - timedelta(days=1))
    # Without an offset the time is Bangkok time; a '+' left unencoded in the query arrives as a space.
    assert ids(c.get("/api/v1/alerts", {"since": day_ago.strftime("%Y-%m-%dT%H:%M:%S")})) == [hot.id, stop.id]
    raw = day_ago.strftime("%Y-%m-%dT%H:%M:%S") + "+07:00"
    assert ids(c.get(f"/api/v1/alerts?since={raw}")) == [hot.id, stop.id]
    assert ids(c.get("/api/v1/alerts", {"since": day_ago.date().isoformat()})) == [hot.id, stop.id]
    assert ids(c.get("/api/v1/alerts", {"since": "2000-01-01T00:00:00Z"})) == [hot.id, stop.id, old.id]


def test_pages_of_the_list(several):
    w, old, stop, hot = several
    c = w.client("regulator")
    body = c.get("/api/v1/alerts", {"limit": 2}).json()
    assert body["count"] == 3 and [a["id"] for a in body["items"]] == [hot.id, stop.id]
    body = c.get("/api/v1/alerts", {"limit": 2, "offset": 2}).json()
    assert body["count"] == 3 and [a["id"] for a in body["items"]] == [old.id]


@pytest.mark.parametrize(("query", "field", "status"), [
    ({"since": "yesterday"}, "since", 400),
    ({"since": "2026-13-01T00:00:00"}, "since", 400),
    ({"since": "2026-02-30"}, "since", 400),
    ({"rule": "speeding"}, "rule", 400),
    ({"rule": "overdue,speeding"}, "rule", 400),
    ({"state": "closed"}, "state", 400),
    ({"severity": "critical"}, "severity", 400),
    ({"estate": "atlantis"}, "estate", 400),
    ({"limit": "0"}, "limit", 422),
    ({"limit": "many"}, "limit", 422),
    ({"offset": "-1"}, "offset", 422),
    ({"rule": "x" * 300}, "rule", 422),
])  # fmt: skip
def test_bad_filter_values_name_the_field(alert_world, query, field, status):
    r = alert_world.client("officer_a").get("/api/v1/alerts", query)
    assert r.status_code == status, r.content
    error = r.json()["errors"][0]
    assert error["field"] == field and error["message_en"] and error["message_th"]


def test_nul_in_a_filter_is_400(alert_world):
    r = alert_world.client("officer_a").get("/api/v1/alerts?rule=over%00due")
    assert r.status_code == 400 and r.json()["errors"][0]["rule"] == "input.nul"


# --- the live stream ------------------------------------------------------------------------------------------
def message(alert, kind="alert"):
    return services.message(kind, alert)


def test_alert_messages_are_scoped_like_positions(alert_world):
    w = alert_world
    alert = make_alert(w.trip)
    msg = message(alert)
    assert msg["type"] == "alert" and msg["trip"] == w.trip.id and msg["device_id"] == "dev-1"
    assert {"id", "trip", "device_id", "manifest", "vehicle", "rule", "severity", "state", "fired_at", "raised_at",
            "lat", "lon"} <= set(msg)  # fmt: skip
    for username, sees in SEES.items():
        assert message_visible(stream_scope(w.users[username]), msg) is sees, username


def test_alerts_on_a_just_closed_trip_still_reach_the_officers(alert_world):
    """A delivery claimed away from the receiver fires as the trip closes: the stream still carries it."""
    w = alert_world
    alert = make_alert(w.trip)
    Trip.objects.filter(id=w.trip.id).update(state="closed", ended_at=timezone.now() - timedelta(minutes=5))
    assert message_visible(stream_scope(w.users["officer_a"]), message(alert))
    Trip.objects.filter(id=w.trip.id).update(ended_at=timezone.now() - timedelta(hours=3))
    assert not message_visible(stream_scope(w.users["officer_a"]), message(alert))
    assert message_visible(stream_scope(w.users["dispatcher"]), message(alert))  # its own vehicle, by device
