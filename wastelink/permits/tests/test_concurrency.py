"""Two officers act on the same application at the same moment: exactly one wins, the other gets 409.

These tests run with real transactions and one database connection per thread (SQLite queues the writers with
IMMEDIATE transactions and a busy timeout; PostgreSQL re-checks the conditional UPDATE after the first commit).
To make sure both officers have read the application before either writes, each transition pauses between
reading the state and writing it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from conftest import race
from wastelink.accounts.models import User
from wastelink.audit.models import AuditRecord
from wastelink.audit.services import verify_chain
from wastelink.core.findings import Conflict
from wastelink.permits.models import ApplicationLine, Permit, PermitApplication, PermitLine
from wastelink.permits.schemas import DecisionIn, LineDecision
from wastelink.permits.services import applications as apps
from wastelink.permits.services import review

from .conftest import draft

PAUSE_S = 0.3


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The shared world creates eleven users; Argon2 would spend seconds per test on passwords nobody checks."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _writers_queue(writers_queue):
    """SQLite's in-memory test database queues writers as the file database does (conftest.writers_queue)."""



@pytest.fixture
def cworld(reference_data, permit_world):
    """The shared world (conftest.make_establishment / make_user) plus the permit fixtures, on committed data."""
    return permit_world


@pytest.fixture
def widen_the_race(monkeypatch):
    """Pause after the state is read and before the conditional UPDATE, so concurrent callers overlap."""
    original = review.next_application_state

    def slow(state, action):
        target = original(state, action)
        time.sleep(PAUSE_S)
        return target

    monkeypatch.setattr(review, "next_application_state", slow)


def under_review(w) -> PermitApplication:
    app = draft(w, (w.stream_hz, "40", "041"), (w.stream_nh, "20", "011"))
    apps.submit(actor=w.users["gen_a"], application_id=app.id)
    review.take(actor=w.users["officer_a"], application_id=app.id)
    return app


def decide_as(username: str, application_id: int, approve: bool, reason: str = "") -> Callable[[], Any]:
    def call():
        actor = User.objects.get(username=username)  # loaded on the thread's own connection
        return review.decide(actor=actor, application_id=application_id, data=DecisionIn(
            lines=[LineDecision(index=1, approve=approve), LineDecision(index=2, approve=approve)], reason=reason))  # fmt: skip

    return call


@pytest.mark.django_db(transaction=True)
def test_two_officers_approve_at_once_one_wins(cworld, widen_the_race):
    w = cworld
    app = under_review(w)

    results = race(decide_as("officer_a", app.id, True), decide_as("hq", app.id, True))

    winners = [r for r in results if isinstance(r, PermitApplication)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].status == 409 and losers[0].findings[0].rule in ("state.transition", "state.stale")
    assert PermitApplication.objects.get(id=app.id).state == "APPROVED"
    assert Permit.objects.filter(application=app).count() == 1 and Permit.objects.count() == 1
    assert PermitLine.objects.count() == 2
    assert AuditRecord.objects.filter(action="application.approve", object_id=str(app.id)).count() == 1
    assert AuditRecord.objects.filter(action="permit.issue").count() == 1
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_approve_and_reject_at_once_leave_one_consistent_decision(cworld, widen_the_race):
    w = cworld
    app = under_review(w)

    results = race(
        decide_as("officer_a", app.id, True), decide_as("hq", app.id, False, reason="not acceptable")
    )

    assert sum(isinstance(r, PermitApplication) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    app.refresh_from_db()
    decisions = set(ApplicationLine.objects.filter(application=app).values_list("decision", flat=True))
    if app.state == "APPROVED":
        assert decisions == {"approved"} and Permit.objects.count() == 1 and app.decided_by == "officer_a"
    else:
        assert app.state == "REJECTED" and decisions == {"rejected"} and not Permit.objects.exists()
        assert app.decided_by == "hq"
    assert AuditRecord.objects.filter(action__in=["application.approve", "application.reject"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_officers_decide_at_once_through_the_api(cworld, widen_the_race):
    w = cworld
    app = under_review(w)
    body = json.dumps({"lines": [{"index": 1, "approve": True}, {"index": 2, "approve": True}]})
    clients = [w.client("officer_a"), w.client("hq")]
    for c in clients:  # an error must show as its status: the test client's exception hook is process-wide
        c.raise_request_exception = False

    def call(client):
        return lambda: client.post(
            f"/api/v1/applications/{app.id}/decide", data=body, content_type="application/json"
        )

    responses = race(*(call(c) for c in clients))

    assert sorted(r.status_code for r in responses) == [200, 409], [r.content for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["errors"][0]["field"] == "state"
    winner = next(r for r in responses if r.status_code == 200)
    assert winner.json()["state"] == "APPROVED"
    assert Permit.objects.count() == 1 and Permit.objects.get().number == winner.json()["permit_number"]
    assert AuditRecord.objects.filter(action="application.approve").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_officers_take_at_once_one_is_assigned(cworld, widen_the_race):
    w = cworld
    app = draft(w, (w.stream_hz, "40", "041"))
    apps.submit(actor=w.users["gen_a"], application_id=app.id)

    def take_as(username):
        return lambda: review.take(actor=User.objects.get(username=username), application_id=app.id)

    results = race(take_as("officer_a"), take_as("hq"))

    winners = [r for r in results if isinstance(r, PermitApplication)]
    assert len(winners) == 1 and sum(isinstance(r, Conflict) for r in results) == 1, results
    app.refresh_from_db()
    assert app.state == "UNDER_REVIEW" and app.assigned_to_id == winners[0].assigned_to_id
    assert AuditRecord.objects.filter(action="application.take").count() == 1
