"""The alert pages: the queue, one alert (with its actions for officials, read-only for the parties), the rules'
dashboard, the live map's alert list, and the navigation."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from wastelink.core import detection as rules
from wastelink.detection.models import Alert
from wastelink.detection.services import alerts as services

from . import test_alerts_fixtures as fx
from .test_alerts_fixtures import make_alert

pytestmark = pytest.mark.django_db

# The shared fixtures, bound here so that pytest finds them for this module.
_fast_password_hashing = fx._fast_password_hashing
alert_world = fx.alert_world
manifest_world = fx.manifest_world
permit_world = fx.permit_world


def english(client):
    client.cookies["django_language"] = "en"
    return client


def test_queue_for_an_officer_puts_open_alerts_first(alert_world):
    w = alert_world
    now = timezone.now()
    acked = make_alert(w.trip, rule=rules.HOT_SPOT_ENTRY, state="acknowledged", raised_at=now)
    low = make_alert(w.trip, rule=rules.OVERDUE, raised_at=now - timedelta(hours=2))
    high = make_alert(w.trip, rule=rules.UNAUTHORISED_STOP, raised_at=now - timedelta(hours=3))
    resolved = make_alert(w.trip, rule=rules.SIGNAL_LOSS, state="resolved", raised_at=now)
    r = w.client("officer_a").get("/alerts/")
    assert r.status_code == 200
    body = r.content.decode()
    order = [body.index(f'href="/alerts/{a.id}/"') for a in (high, low, acked)]
    assert order == sorted(order)  # open before acknowledged; within open, high before low
    assert f'href="/alerts/{resolved.id}/"' not in body  # the default view hides resolved alerts
    assert w.trip.manifest.number in body and "701234" in body
    assert "บ่อดินร้าง หนองแฟบ" in body  # the place, named by the hot spot
    everything = w.client("officer_a").get("/alerts/", {"state": "all"}).content.decode()
    assert f'href="/alerts/{resolved.id}/"' in everything


def test_queue_filters_and_a_bad_filter(alert_world):
    w = alert_world
    stop = make_alert(w.trip, rule=rules.UNAUTHORISED_STOP)
    hot = make_alert(w.trip, rule=rules.HOT_SPOT_ENTRY)
    c = w.client("officer_a")
    body = c.get("/alerts/", {"rule": "hot_spot_entry", "severity": "high", "estate": "map-ta-phut",
                              "q": w.trip.manifest.number}).content.decode()  # fmt: skip
    assert f'href="/alerts/{hot.id}/"' in body and f'href="/alerts/{stop.id}/"' not in body
    body = c.get("/alerts/", {"q": "70-1234"}).content.decode()  # a plate as people write it
    assert f'href="/alerts/{hot.id}/"' in body
    r = c.get("/alerts/", {"rule": "speeding", "since": "soon"})
    assert (
        r.status_code == 200 and "speeding" in r.content.decode()
    )  # the refusal is shown, the queue still is
    assert not re.search(r'href="/alerts/\d+/"', w.client("officer_b").get("/alerts/").content.decode())


def test_detail_for_an_officer_shows_the_map_facts_and_actions(alert_world):
    w = alert_world
    alert = make_alert(w.trip, rule=rules.HOT_SPOT_ENTRY)
    c = english(w.client("officer_a"))
    body = c.get(f"/alerts/{alert.id}/").content.decode()
    assert 'name="action" value="acknowledge"' in body and 'name="action" value="resolve"' in body
    assert 'name="action" value="dispatch"' not in body  # acknowledge first
    assert "Entered the hot spot “บ่อดินร้าง หนองแฟบ”." in body
    data = json.loads(
        body.split('<script id="alert-map-data" type="application/json">')[1].split("</script>")[0]
    )
    assert len(data["evidence"]) == 6 and data["fired"] == [12.76, 101.21]
    assert data["corridor"]["type"] == "Polygon" and data["route"]["type"] == "LineString"
    assert "vendor/leaflet/leaflet.js" in body


def test_thai_first(alert_world):
    w = alert_world
    alert = make_alert(w.trip)
    body = w.client("officer_a").get(f"/alerts/{alert.id}/").content.decode()
    assert "จอดนิ่ง 12.5 นาที" in body and "ปีเป็นพุทธศักราช" in body


def test_officer_acts_through_the_page(alert_world):
    w = alert_world
    alert = make_alert(w.trip)
    c = w.client("officer_a")
    url = f"/alerts/{alert.id}/"
    assert c.post(url, {"action": "acknowledge", "note": "seen"}).status_code == 302
    r = c.post(url, {"action": "dispatch", "inspector": ""}, follow=True)  # refused: the name is required
    assert Alert.objects.get(id=alert.id).state == "acknowledged" and "inspector" in r.content.decode()
    c.post(url, {"action": "dispatch", "inspector": "ทีมตรวจ 2", "note": "on the way"})
    c.post(url, {"action": "resolve", "resolution": "confirmed", "note": "drums in the pond"})
    alert.refresh_from_db()
    assert alert.state == "resolved" and alert.inspector == "ทีมตรวจ 2" and alert.resolution == "confirmed"
    body = english(c).get(url).content.decode()
    assert "History" in body and "drums in the pond" in body and "ทีมตรวจ 2" in body
    assert 'name="action"' not in body  # resolved is final: no more forms
    r = c.post(url, {"action": "acknowledge"}, follow=True)  # a stale form: refused with a message, not a 500
    assert r.status_code == 200 and Alert.objects.get(id=alert.id).state == "resolved"


@pytest.mark.parametrize("username", ["dispatcher", "gen_a", "receiver"])
def test_parties_read_only(alert_world, username):
    w = alert_world
    alert = make_alert(w.trip, rule=rules.HOT_SPOT_ENTRY, state="resolved")
    c = w.client(username)
    queue = c.get("/alerts/")
    assert queue.status_code == 200 and f'href="/alerts/{alert.id}/"' in queue.content.decode()
    body = c.get(f"/alerts/{alert.id}/").content.decode()
    assert 'name="action"' not in body and "ทีมตรวจ 1" not in body and "บ่อดินร้าง" not in body
    assert c.post(f"/alerts/{alert.id}/", {"action": "resolve", "resolution": "false_alarm",
                                             "note": "not us"}).status_code == 403  # fmt: skip
    assert Alert.objects.get(id=alert.id).state == "resolved"
    assert c.get("/alerts/dashboard/").status_code == 404


def test_pages_of_alerts_you_cannot_see_are_404(alert_world):
    w = alert_world
    alert = make_alert(w.trip)
    for username in ("officer_b", "gen_b"):
        c = w.client(username)
        assert c.get(f"/alerts/{alert.id}/").status_code == 404
        assert c.post(f"/alerts/{alert.id}/", {"action": "acknowledge"}).status_code == 404
    assert w.client("officer_a").get("/alerts/424242/").status_code == 404


def test_dashboard_counts_precision_and_time_to_acknowledge(alert_world):
    w = alert_world
    now = timezone.now()
    officer = w.users["officer_a"]
    for resolution in ("confirmed", "confirmed", "confirmed", "false_alarm"):
        a = make_alert(w.trip, rule=rules.UNAUTHORISED_STOP, raised_at=now - timedelta(minutes=20))
        services.resolve(actor=officer, alert_id=a.id, resolution=resolution, note="checked")
    make_alert(w.trip, rule=rules.CORRIDOR_DEVIATION)
    make_alert(w.trip, rule=rules.CORRIDOR_DEVIATION, raised_at=now - timedelta(days=60))
    board = services.dashboard(actor=officer, since=now - timedelta(days=30))
    stop = next(s for s in board.rules if s.rule == rules.UNAUTHORISED_STOP)
    assert (stop.total, stop.confirmed, stop.false_alarm, stop.precision) == (4, 3, 1, 0.75)
    assert 19 <= stop.median_ack_minutes <= 21
    corridor = next(s for s in board.rules if s.rule == rules.CORRIDOR_DEVIATION)
    assert corridor.total == 1 and corridor.open_count == 1 and corridor.precision is None
    assert board.total.total == 5 and board.total.resolved_count == 4
    assert services.dashboard(actor=officer).total.total == 6
    assert services.dashboard(actor=w.users["officer_b"]).total.total == 0
    body = english(w.client("officer_a")).get("/alerts/dashboard/").content.decode()
    assert "75 %" in body and "no resolutions yet" in body
    assert w.client("officer_a").get("/alerts/dashboard/", {"days": "all"}).status_code == 200
    assert w.client("hq").get("/alerts/dashboard/", {"days": "bogus"}).status_code == 200


def test_live_map_lists_alerts_and_navigation_groups_tracking(alert_world):
    w = alert_world
    body = w.client("officer_a").get("/live/").content.decode()
    assert 'id="alert-list"' in body and "/api/v1/alerts?state=open,acknowledged,dispatched" in body
    assert 'class="navgroup' in body
    for href in ("/live/", "/vehicles/status/", "/alerts/", "/alerts/dashboard/"):
        assert f'href="{href}"' in body, href
    gen = w.client("gen_a").get("/").content.decode()
    assert 'href="/alerts/"' in gen and 'href="/alerts/dashboard/"' not in gen
    nav = w.client("officer_a").get("/alerts/").content.decode()
    assert 'class="navgroup active"' in nav


def test_anonymous_users_are_sent_to_login(alert_world):
    from django.test import Client

    for path in ("/alerts/", "/alerts/dashboard/", "/alerts/1/"):
        assert Client().get(path).status_code == 302
