"""The alert lifecycle through the API and the services: every allowed transition with its *_by/*_at fields, audit
record and bus message; every refused one (409, nothing written); bad input (4xx naming the field); who may act;
token scopes."""

from __future__ import annotations

import json

import pytest

from wastelink.audit.models import AuditRecord
from wastelink.audit.services import verify_chain
from wastelink.core import detection as rules
from wastelink.core.alert_states import AlertState
from wastelink.core.findings import Conflict, DomainError, Forbidden
from wastelink.detection.models import Alert
from wastelink.detection.services import alerts as services
from wastelink.tracking.bus import get_bus

from . import test_alerts_fixtures as fx
from .test_alerts_fixtures import make_alert

pytestmark = pytest.mark.django_db

# The shared fixtures, bound here so that pytest finds them for this module.
_fast_password_hashing = fx._fast_password_hashing
alert_world = fx.alert_world
manifest_world = fx.manifest_world
permit_world = fx.permit_world

S = AlertState
BODIES = {
    "acknowledge": {"note": "looking"},
    "dispatch": {"inspector": "นายสมศักดิ์ ใจดี", "note": "from the Rayong office"},
    "resolve": {"resolution": "false_alarm", "note": "driver's lunch stop, rest area not drawn yet"},
}
ALLOWED = {
    (S.OPEN, "acknowledge"): S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, "dispatch"): S.DISPATCHED,
    (S.OPEN, "resolve"): S.RESOLVED,
    (S.ACKNOWLEDGED, "resolve"): S.RESOLVED,
    (S.DISPATCHED, "resolve"): S.RESOLVED,
}


def post(client, alert_id, action, body=None):
    return client.post(f"/api/v1/alerts/{alert_id}/{action}", data=json.dumps(body if body is not None else {}),
                       content_type="application/json")  # fmt: skip


@pytest.fixture
def published():
    got: list[dict] = []
    unsubscribe = get_bus().subscribe(lambda messages: got.extend(messages))
    yield got
    unsubscribe()


@pytest.mark.parametrize(("state", "action"), sorted(ALLOWED, key=str))
def test_allowed_transitions(alert_world, state, action, published, django_capture_on_commit_callbacks):
    w = alert_world
    alert = make_alert(w.trip, state=state.value)
    with django_capture_on_commit_callbacks(execute=True):
        r = post(w.client("officer_a"), alert.id, action, BODIES[action])
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["state"] == ALLOWED[(state, action)].value
    alert.refresh_from_db()
    officer = w.users["officer_a"]
    if action == "acknowledge":
        assert alert.acknowledged_by == officer and alert.acknowledged_at is not None
        assert body["acknowledged_by"] == "officer_a"
    if action == "dispatch":
        assert alert.inspector == "นายสมศักดิ์ ใจดี" and alert.dispatched_by == officer and alert.dispatched_at
        assert body["inspector"] == "นายสมศักดิ์ ใจดี"
    if action == "resolve":
        assert alert.resolution == "false_alarm" and alert.resolved_by == officer and alert.resolved_at
        assert alert.resolution_note.startswith("driver's lunch stop")
        # Resolving an alert nobody acknowledged acknowledges it at the same moment.
        assert alert.acknowledged_at is not None
        if state == S.OPEN:
            assert alert.acknowledged_at == alert.resolved_at and alert.acknowledged_by == officer
    record = AuditRecord.objects.get(action=f"alert.{action}", object_id=str(alert.id))
    assert record.actor == "officer_a" and record.before["state"] == state.value
    assert record.after["state"] == body["state"] and "evidence" not in record.after
    assert record.note == BODIES[action]["note"]
    assert [h["action"] for h in body["history"]] == [f"alert.{action}"]
    updates = [m for m in published if m["type"] == "alert_updated"]
    assert len(updates) == 1 and updates[0]["id"] == alert.id and updates[0]["state"] == body["state"]
    assert updates[0]["trip"] == w.trip.id and updates[0]["device_id"] == "dev-1"
    assert updates[0]["manifest"] == w.trip.manifest.number
    assert verify_chain().ok


@pytest.mark.parametrize(("state", "action"), [(s, a) for s in S for a in BODIES if (s, a) not in ALLOWED])
def test_refused_transitions_answer_409_and_change_nothing(alert_world, state, action):
    w = alert_world
    alert = make_alert(w.trip, state=state.value)
    before = Alert.objects.filter(id=alert.id).values().get()
    r = post(w.client("officer_a"), alert.id, action, BODIES[action])
    assert r.status_code == 409, r.content
    error = r.json()["errors"][0]
    assert error["rule"] == "state.transition" and error["field"] == "state"
    assert state.value in error["message_en"] and error["message_th"]
    assert Alert.objects.filter(id=alert.id).values().get() == before
    assert not AuditRecord.objects.filter(object_type="detection.alert").exists()


def test_the_whole_way_through(alert_world):
    w = alert_world
    alert = make_alert(w.trip)
    client = w.client("hq")
    assert post(client, alert.id, "acknowledge").json()["state"] == "acknowledged"  # an empty body is fine
    assert post(client, alert.id, "dispatch", {"inspector": "ทีมตรวจ 2"}).json()["state"] == "dispatched"
    body = post(
        client, alert.id, "resolve", {"resolution": "confirmed", "note": "drums found in the pond"}
    ).json()
    assert body["state"] == "resolved" and body["resolution"] == "confirmed" and body["actions"] == []
    assert [h["action"] for h in body["history"]] == ["alert.acknowledge", "alert.dispatch", "alert.resolve"]
    assert body["acknowledged_at"] <= body["dispatched_at"] <= body["resolved_at"]


def test_acknowledge_without_any_body(alert_world):
    w = alert_world
    alert = make_alert(w.trip)
    r = w.client("officer_a").post(f"/api/v1/alerts/{alert.id}/acknowledge", content_type="application/json")
    assert r.status_code == 200, r.content


@pytest.mark.parametrize("action", list(BODIES))
def test_a_form_instead_of_json_is_415_never_500(alert_world, action):
    w = alert_world
    alert = make_alert(w.trip, state="acknowledged" if action == "dispatch" else "open")
    client = w.client("officer_a")
    client.raise_request_exception = False
    r = client.post(f"/api/v1/alerts/{alert.id}/{action}", BODIES[action])  # multipart form
    assert r.status_code == 415, r.content
    assert r.json()["errors"][0]["field"] == "body"
    r = client.post(
        f"/api/v1/alerts/{alert.id}/{action}", "note=x", content_type="application/x-www-form-urlencoded"
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body"


@pytest.mark.parametrize(("action", "body", "field"), [
    ("dispatch", {}, "inspector"),
    ("dispatch", {"inspector": "   "}, "inspector"),
    ("dispatch", {"inspector": "x" * 201}, "inspector"),
    ("resolve", {"resolution": "maybe", "note": "x"}, "resolution"),
    ("resolve", {"resolution": "confirmed"}, "note"),
    ("resolve", {"resolution": "confirmed", "note": " "}, "note"),
    ("resolve", {"note": "x"}, "resolution"),
    ("acknowledge", {"note": "x" * 4001}, "note"),
    ("acknowledge", {"colour": "red"}, "colour"),
    ("dispatch", {"inspector": 42}, "inspector"),
])  # fmt: skip
def test_bad_input_names_the_field(alert_world, action, body, field):
    w = alert_world
    alert = make_alert(w.trip, state="acknowledged" if action == "dispatch" else "open")
    r = post(w.client("officer_a"), alert.id, action, body)
    assert r.status_code == 422, r.content
    assert r.json()["errors"][0]["field"] == field
    assert Alert.objects.get(id=alert.id).state == alert.state


def test_malformed_json_and_nul_are_400(alert_world):
    w = alert_world
    alert = make_alert(w.trip, state="acknowledged")
    client = w.client("officer_a")
    r = client.post(f"/api/v1/alerts/{alert.id}/dispatch", data="{not json", content_type="application/json")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body"
    r = post(client, alert.id, "dispatch", {"inspector": "a\u0000b"})
    assert r.status_code == 400 and r.json()["errors"][0]["rule"] == "input.nul"


def test_services_check_input_themselves(alert_world):
    """Called without the API's schema (a script, the pages), the service refuses the same input with 400."""
    w = alert_world
    alert = make_alert(w.trip, state="acknowledged")
    with pytest.raises(DomainError) as info:
        services.dispatch(actor=w.users["officer_a"], alert_id=alert.id, inspector=" ")
    assert info.value.status == 400 and info.value.findings[0].field == "inspector"
    with pytest.raises(DomainError) as info:
        services.resolve(actor=w.users["officer_a"], alert_id=alert.id, resolution="confirmed", note="")
    assert info.value.findings[0].field == "note"


@pytest.mark.parametrize("username", ["dispatcher", "driver", "gen_a", "gen_a_cert", "receiver"])
def test_parties_read_but_may_not_act(alert_world, username):
    """A resolved alert: the parties read it and may not act (403); an open one they cannot see at all (404)."""
    w = alert_world
    alert = make_alert(w.trip, state="resolved")
    hidden = make_alert(w.trip, rule=rules.OVERDUE)
    client = w.client(username)
    assert client.get(f"/api/v1/alerts/{alert.id}").json()["actions"] == []
    for action, body in BODIES.items():
        r = post(client, alert.id, action, body)
        assert r.status_code == 403, (action, r.content)
        assert r.json()["errors"][0]["rule"] == "access.denied"
        assert post(client, hidden.id, action, body).status_code == 404
    assert Alert.objects.get(id=alert.id).state == "resolved" and Alert.objects.get(id=hidden.id).state == "open"


@pytest.mark.parametrize("username", ["officer_b", "gen_b"])
def test_actions_on_alerts_you_cannot_see_are_404(alert_world, username):
    w = alert_world
    alert = make_alert(w.trip)
    for action, body in BODIES.items():
        r = post(w.client(username), alert.id, action, body)
        assert r.status_code == 404, (action, r.content)
        assert r.json()["errors"][0]["field"] == "alert_id"
    assert post(w.client("officer_a"), 999999, "acknowledge").status_code == 404


@pytest.mark.parametrize("username", ["officer_a", "hq", "regulator", "admin"])
def test_every_official_may_act(alert_world, username):
    w = alert_world
    alert = make_alert(w.trip)
    assert post(w.client(username), alert.id, "acknowledge").status_code == 200


def test_a_stale_read_is_refused_with_409(alert_world, monkeypatch):
    """Two officers read OPEN; the second's conditional UPDATE finds the state moved on and changes nothing."""
    w = alert_world
    alert = make_alert(w.trip)
    original = services.next_state

    def moved_meanwhile(state, action):
        target = original(state, action)
        Alert.objects.filter(id=alert.id).update(
            state="resolved", resolution="confirmed"
        )  # the other officer
        return target

    monkeypatch.setattr(services, "next_state", moved_meanwhile)
    with pytest.raises(Conflict) as info:
        services.acknowledge(actor=w.users["officer_a"], alert_id=alert.id)
    assert info.value.findings[0].rule == "state.transition" and "resolved" in str(info.value)
    alert.refresh_from_db()  # (the whole transaction rolled back, the other officer's write too: one test thread)
    assert alert.acknowledged_by is None and alert.acknowledged_at is None
    assert not AuditRecord.objects.filter(action="alert.acknowledge").exists()


def test_a_stale_read_still_allowed_is_refused_as_stale(alert_world, monkeypatch):
    """Read OPEN, meanwhile acknowledged by someone else: resolving is still allowed, but on a stale reading, so
    the answer is 409 'reload and try again' rather than a wrong transition."""
    w = alert_world
    alert = make_alert(w.trip)
    original = services.next_state
    calls = []

    def moved_meanwhile(state, action):
        calls.append(state)
        if len(calls) == 1:
            Alert.objects.filter(id=alert.id).update(state="acknowledged")
        return original(state, action)

    monkeypatch.setattr(services, "next_state", moved_meanwhile)
    with pytest.raises(Conflict) as info:
        services.resolve(actor=w.users["officer_a"], alert_id=alert.id, resolution="confirmed", note="x")
    assert info.value.findings[0].rule == "state.stale" and "reload" in info.value.findings[0].message_en


def test_services_refuse_parties_with_403(alert_world):
    w = alert_world
    alert = make_alert(w.trip, state="resolved")
    with pytest.raises(Forbidden):
        services.acknowledge(actor=w.users["dispatcher"], alert_id=alert.id)


def test_token_scopes(alert_world):
    w = alert_world
    alert = make_alert(w.trip)
    reader = w.token_client("officer_a", scopes=("read",))
    assert reader.get("/api/v1/alerts").status_code == 200
    assert reader.get(f"/api/v1/alerts/{alert.id}").status_code == 200
    r = post(reader, alert.id, "acknowledge")
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "token.scope"
    device = w.token_client("officer_a", scopes=("telemetry",))
    assert device.get("/api/v1/alerts").status_code == 403
    assert post(device, alert.id, "acknowledge").status_code == 403
    writer = w.token_client("officer_a", scopes=("read", "write"))
    assert post(writer, alert.id, "acknowledge").status_code == 200
    from django.test import Client

    assert Client().get("/api/v1/alerts").status_code == 401
    assert Alert.objects.get(id=alert.id).acknowledged_by == w.users["officer_a"]
