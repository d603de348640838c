"""Two officers act on the same alert at the same moment: exactly one wins, the other gets 409.

Real transactions, one database connection per thread (conftest.race); SQLite queues the writers (IMMEDIATE
transactions, conftest.writers_queue), PostgreSQL re-checks the conditional UPDATE after the first commit. Each
transition pauses between reading the state and writing it, so that both officers have read it before either
writes.
"""

from __future__ import annotations

import json
import time

import pytest

from conftest import race
from wastelink.accounts.models import User
from wastelink.audit.models import AuditRecord
from wastelink.audit.services import verify_chain
from wastelink.core.findings import Conflict
from wastelink.detection.models import Alert
from wastelink.detection.services import alerts as services

from . import test_alerts_fixtures as fx
from .test_alerts_fixtures import in_transit, make_alert

# The shared fixtures, bound here so that pytest finds them for this module.
_fast_password_hashing = fx._fast_password_hashing
manifest_world = fx.manifest_world
permit_world = fx.permit_world

PAUSE_S = 0.3


@pytest.fixture(autouse=True)
def _writers_queue(writers_queue):
    """SQLite's in-memory test database queues writers as the file database does (conftest.writers_queue)."""



@pytest.fixture
def committed(reference_data, manifest_world):  # noqa: F811
    w = manifest_world
    w.trip = in_transit(w)
    return w


@pytest.fixture
def widen_the_race(monkeypatch):
    original = services.next_state

    def slow(state, action):
        target = original(state, action)
        time.sleep(PAUSE_S)
        return target

    monkeypatch.setattr(services, "next_state", slow)


def as_user(username: str, fn, **kwargs):
    def call():
        return fn(
            actor=User.objects.get(username=username), **kwargs
        )  # loaded on the thread's own connection

    return call


@pytest.mark.django_db(transaction=True)
def test_two_officers_acknowledge_at_once_one_wins(committed, widen_the_race):
    alert = make_alert(committed.trip)

    results = race(as_user("officer_a", services.acknowledge, alert_id=alert.id),
                   as_user("hq", services.acknowledge, alert_id=alert.id))  # fmt: skip

    winners = [r for r in results if isinstance(r, Alert)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].status == 409 and losers[0].findings[0].rule in ("state.transition", "state.stale")
    alert.refresh_from_db()
    assert alert.state == "acknowledged" and alert.acknowledged_by_id == winners[0].acknowledged_by_id
    assert AuditRecord.objects.filter(action="alert.acknowledge", object_id=str(alert.id)).count() == 1
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_dispatch_and_resolve_at_once_leave_one_consistent_outcome(committed, widen_the_race):
    """Either one wins and the other gets 409, or (when the database runs them one after the other) the dispatch
    comes first and the resolution after it, which the lifecycle allows. Never a resolution undone by a dispatch."""
    alert = make_alert(committed.trip, state="acknowledged")

    dispatched, resolved = race(
        as_user("officer_a", services.dispatch, alert_id=alert.id, inspector="ทีมตรวจ 3"),
        as_user("hq", services.resolve, alert_id=alert.id, resolution="false_alarm", note="known GPS fault"),
    )

    assert all(isinstance(r, Alert | Conflict) for r in (dispatched, resolved)), (dispatched, resolved)
    alert.refresh_from_db()
    records = list(AuditRecord.objects.filter(action__in=["alert.dispatch", "alert.resolve"]).order_by("seq"))
    if isinstance(dispatched, Alert) and isinstance(resolved, Alert):
        assert [r.action for r in records] == ["alert.dispatch", "alert.resolve"]
        assert (
            alert.state == "resolved" and alert.inspector == "ทีมตรวจ 3" and alert.resolution == "false_alarm"
        )
    elif isinstance(resolved, Alert):
        assert dispatched.findings[0].rule == "state.transition"  # dispatching a resolved alert is refused
        assert [r.action for r in records] == ["alert.resolve"]
        assert alert.state == "resolved" and alert.dispatched_at is None and alert.inspector == ""
    else:
        assert (
            isinstance(dispatched, Alert) and resolved.findings[0].rule == "state.stale"
        )  # reload, then resolve
        assert [r.action for r in records] == ["alert.dispatch"]
        assert alert.state == "dispatched" and alert.resolution == "" and alert.resolved_at is None
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_two_officers_resolve_at_once_through_the_api(committed, widen_the_race):
    w = committed
    alert = make_alert(w.trip)
    clients = [w.client("officer_a"), w.client("regulator")]
    for c in clients:  # an error must show as its status: the test client's exception hook is process-wide
        c.raise_request_exception = False
    bodies = [
        {"resolution": "confirmed", "note": "drums found"},
        {"resolution": "false_alarm", "note": "rest stop"},
    ]

    def call(client, body):
        return lambda: client.post(f"/api/v1/alerts/{alert.id}/resolve", data=json.dumps(body),
                                   content_type="application/json")  # fmt: skip

    responses = race(*(call(c, b) for c, b in zip(clients, bodies, strict=True)))

    assert sorted(r.status_code for r in responses) == [200, 409], [r.content for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["errors"][0]["field"] == "state"
    winner = next(r for r in responses if r.status_code == 200).json()
    alert.refresh_from_db()
    assert alert.state == "resolved" and alert.resolution == winner["resolution"]
    assert AuditRecord.objects.filter(action="alert.resolve").count() == 1
