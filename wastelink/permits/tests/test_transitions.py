"""The application and permit state machines: every (state, action) pair in core/permit_states.py, and the same
transitions through the API (409 when refused), reasons, editing rules, versions, decisions and expiry."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from itertools import product

import pytest
from django.test import Client

from wastelink.audit.models import AuditRecord
from wastelink.core.permit_states import (
    APPLICATION_TRANSITIONS,
    DECIDED,
    EDITABLE,
    PERMIT_TRANSITIONS,
    REASON_REQUIRED,
    ApplicationState,
    PermitState,
    TransitionRefused,
    decision_outcome,
    next_application_state,
    next_permit_state,
)
from wastelink.permits.models import ApplicationLine, ApplicationVersion, Permit, PermitApplication
from wastelink.permits.services import applications as apps
from wastelink.permits.services import permits as permit_services

from .conftest import draft

A, P = ApplicationState, PermitState

# The allowed transitions, written out independently of the module's tables.
ALLOWED_APPLICATION = {
    (A.DRAFT, "submit"): A.SUBMITTED,
    (A.INFO_REQUESTED, "submit"): A.SUBMITTED,
    (A.SUBMITTED, "take"): A.UNDER_REVIEW,
    (A.UNDER_REVIEW, "request_info"): A.INFO_REQUESTED,
    (A.UNDER_REVIEW, "approve"): A.APPROVED,
    (A.SUBMITTED, "approve"): A.APPROVED,  # only the auto-approval table approves straight from SUBMITTED
    (A.UNDER_REVIEW, "partially_approve"): A.PARTIALLY_APPROVED,
    (A.UNDER_REVIEW, "reject"): A.REJECTED,
}
APPLICATION_ACTIONS = [
    "submit",
    "take",
    "request_info",
    "approve",
    "partially_approve",
    "reject",
    "edit",
    "expire",
    "",
]
ALLOWED_PERMIT = {
    (P.ACTIVE, "suspend"): P.SUSPENDED,
    (P.SUSPENDED, "reinstate"): P.ACTIVE,
    (P.ACTIVE, "revoke"): P.REVOKED,
    (P.SUSPENDED, "revoke"): P.REVOKED,
    (P.ACTIVE, "expire"): P.EXPIRED,
    (P.SUSPENDED, "expire"): P.EXPIRED,
}
PERMIT_ACTIONS = ["suspend", "reinstate", "revoke", "expire", "approve", "bogus"]


def test_the_tables_name_exactly_the_expected_actions():
    assert set(APPLICATION_TRANSITIONS) == {a for _, a in ALLOWED_APPLICATION}
    assert set(PERMIT_TRANSITIONS) == {a for _, a in ALLOWED_PERMIT}


@pytest.mark.parametrize("state, action", list(product(list(A), APPLICATION_ACTIONS)))
def test_every_application_state_and_action(state, action):
    if (state, action) in ALLOWED_APPLICATION:
        assert next_application_state(state.value, action) == ALLOWED_APPLICATION[(state, action)]
    else:
        with pytest.raises(TransitionRefused) as exc:
            next_application_state(state.value, action)
        assert (exc.value.action, exc.value.state) == (action, state.value)
        assert state.value in str(exc.value)


@pytest.mark.parametrize("state, action", list(product(list(P), PERMIT_ACTIONS)))
def test_every_permit_state_and_action(state, action):
    if (state, action) in ALLOWED_PERMIT:
        assert next_permit_state(state.value, action) == ALLOWED_PERMIT[(state, action)]
    else:
        with pytest.raises(TransitionRefused) as exc:
            next_permit_state(state.value, action)
        assert (exc.value.action, exc.value.state) == (action, state.value)


@pytest.mark.parametrize("state", [P.REVOKED, P.EXPIRED])
def test_revoked_and_expired_permits_are_final(state):
    for action in PERMIT_TRANSITIONS:
        with pytest.raises(TransitionRefused):
            next_permit_state(state.value, action)


def test_decided_applications_are_final():
    for state, action in product(DECIDED, APPLICATION_TRANSITIONS):
        with pytest.raises(TransitionRefused):
            next_application_state(state.value, action)


def test_editable_decided_and_reason_sets():
    assert EDITABLE == {A.DRAFT, A.INFO_REQUESTED}
    assert DECIDED == {A.APPROVED, A.PARTIALLY_APPROVED, A.REJECTED}
    assert REASON_REQUIRED == {"reject", "suspend", "revoke", "request_info"}


@pytest.mark.parametrize("decisions, outcome", [
    ([True], A.APPROVED), ([True, True, True], A.APPROVED), ([True, False], A.PARTIALLY_APPROVED),
    ([False, True, False], A.PARTIALLY_APPROVED), ([False], A.REJECTED), ([False, False], A.REJECTED), ([], A.REJECTED),
])  # fmt: skip
def test_decision_outcome(decisions, outcome):
    assert decision_outcome(decisions) == outcome


# --- through the API ------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The shared world creates eleven users; Argon2 would spend seconds per test on passwords nobody checks."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def post(client, url, data=None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data=json.dumps(data), content_type="application/json")


def state_of(app) -> str:
    return PermitApplication.objects.get(id=app.id).state


def rules(r) -> list[tuple[str, str]]:
    return [(e["rule"], e["field"]) for e in r.json()["errors"]]


def assert_refused(r, status=409):
    assert r.status_code == status, (r.status_code, r.content)
    return r.json()["errors"]


def submitted(w, *lines):
    app = draft(w, *(lines or ((w.stream_hz, "40", "041"), (w.stream_nh, "20", "011"))))
    assert post(w.client("gen_a"), f"/api/v1/applications/{app.id}/submit").status_code == 200
    return app


def under_review(w, *lines):
    app = submitted(w, *lines)
    assert post(w.client("officer_a"), f"/api/v1/applications/{app.id}/take").status_code == 200
    return app


def approve_all(w, app, officer="officer_a") -> str:
    n = ApplicationLine.objects.filter(application=app).count()
    r = post(w.client(officer), f"/api/v1/applications/{app.id}/decide",
             {"lines": [{"index": i, "approve": True} for i in range(1, n + 1)]})  # fmt: skip
    assert r.status_code == 200, r.json()
    return r.json()["permit_number"]


@pytest.mark.django_db
def test_take_on_a_draft_is_404_and_taking_twice_is_409(permit_world):
    w = permit_world
    app = draft(w, (w.stream_hz, "40", "041"))
    # Officials do not see drafts at all.
    assert post(w.client("officer_a"), f"/api/v1/applications/{app.id}/take").status_code == 404
    assert state_of(app) == "DRAFT"
    post(w.client("gen_a"), f"/api/v1/applications/{app.id}/submit")
    assert post(w.client("officer_a"), f"/api/v1/applications/{app.id}/take").status_code == 200
    errors = assert_refused(post(w.client("officer_a"), f"/api/v1/applications/{app.id}/take"))
    assert errors[0]["rule"] == "state.transition" and errors[0]["field"] == "state"
    assert state_of(app) == "UNDER_REVIEW"


@pytest.mark.django_db
def test_take_twice_is_409(permit_world):
    w = permit_world
    app = under_review(w)
    assert_refused(post(w.client("hq"), f"/api/v1/applications/{app.id}/take"))
    assert PermitApplication.objects.get(id=app.id).assigned_to == w.users["officer_a"]


@pytest.mark.django_db
@pytest.mark.parametrize("decisions", [[True, True], [True, False], [False, False]])
def test_decide_on_submitted_without_take_is_409(permit_world, decisions):
    w = permit_world
    app = submitted(w)
    audits = AuditRecord.objects.count()
    r = post(w.client("officer_a"), f"/api/v1/applications/{app.id}/decide",
             {"lines": [{"index": i, "approve": a} for i, a in enumerate(decisions, 1)], "reason": "not this way"})  # fmt: skip
    assert_refused(r)
    assert state_of(app) == "SUBMITTED"
    assert not Permit.objects.filter(application=app).exists()
    assert AuditRecord.objects.count() == audits
    assert set(ApplicationLine.objects.filter(application=app).values_list("decision", flat=True)) == {
        "pending"
    }


@pytest.mark.django_db
def test_reject_and_request_info_on_submitted_without_take_are_409(permit_world):
    w = permit_world
    app = submitted(w)
    officer = w.client("officer_a")
    assert_refused(post(officer, f"/api/v1/applications/{app.id}/reject", {"reason": "incomplete"}))
    assert_refused(
        post(officer, f"/api/v1/applications/{app.id}/request-info", {"reason": "site plan please"})
    )
    assert state_of(app) == "SUBMITTED"


@pytest.mark.django_db
def test_submit_twice_is_409(permit_world):
    w = permit_world
    app = submitted(w)
    assert_refused(post(w.client("gen_a"), f"/api/v1/applications/{app.id}/submit"))
    app.refresh_from_db()
    assert app.state == "SUBMITTED" and app.version == 1
    assert ApplicationVersion.objects.filter(application=app).count() == 1


@pytest.mark.django_db
def test_request_info_on_an_approved_application_is_409(permit_world):
    w = permit_world
    app = under_review(w)
    approve_all(w, app)
    assert_refused(post(w.client("officer_a"), f"/api/v1/applications/{app.id}/request-info",
                        {"reason": "one more thing"}))  # fmt: skip
    assert state_of(app) == "APPROVED"


@pytest.mark.django_db
def test_deciding_a_decided_application_again_is_409(permit_world):
    w = permit_world
    app = under_review(w)
    approve_all(w, app)
    officer = w.client("officer_a")
    assert_refused(post(officer, f"/api/v1/applications/{app.id}/decide",
                        {"lines": [{"index": 1, "approve": False}, {"index": 2, "approve": False}], "reason": "no"}))  # fmt: skip
    assert_refused(post(officer, f"/api/v1/applications/{app.id}/reject", {"reason": "changed my mind"}))
    assert state_of(app) == "APPROVED" and Permit.objects.filter(application=app).count() == 1


@pytest.mark.django_db
def test_submit_a_rejected_application_is_409(permit_world):
    w = permit_world
    app = under_review(w)
    assert (
        post(
            w.client("officer_a"), f"/api/v1/applications/{app.id}/reject", {"reason": "wrong receiver"}
        ).status_code
        == 200
    )
    assert_refused(post(w.client("gen_a"), f"/api/v1/applications/{app.id}/submit"))
    assert state_of(app) == "REJECTED"
    assert set(ApplicationLine.objects.filter(application=app).values_list("decision", flat=True)) == {
        "rejected"
    }


@pytest.mark.django_db
def test_permit_transitions_through_the_api(permit_world):
    w = permit_world
    number = approve_all(w, under_review(w))
    officer = w.client("officer_a")
    url = f"/api/v1/permits/{number}"

    assert_refused(post(officer, f"{url}/reinstate", {"reason": "was never suspended"}))  # ACTIVE
    r = post(officer, f"{url}/suspend", {"reason": "spill under investigation"})
    assert (
        r.status_code == 200
        and r.json()["state"] == "SUSPENDED"
        and r.json()["state_reason"] == "spill under investigation"
    )
    assert_refused(post(officer, f"{url}/suspend", {"reason": "again"}))
    assert post(officer, f"{url}/reinstate", {"reason": "cleared"}).json()["state"] == "ACTIVE"
    assert post(officer, f"{url}/revoke", {"reason": "repeated breaches"}).json()["state"] == "REVOKED"
    for action in ("suspend", "reinstate", "revoke"):
        errors = assert_refused(post(officer, f"{url}/{action}", {"reason": "after revocation"}))
        assert errors[0]["rule"] == "state.transition"
    assert Permit.objects.get(number=number).state == "REVOKED"
    assert list(AuditRecord.objects.filter(object_type="permits.permit").values_list("action", flat=True)) == [
        "permit.issue", "permit.suspend", "permit.reinstate", "permit.revoke"]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "ab", "   ", None])
@pytest.mark.parametrize("action", ["reject", "request-info", "suspend", "revoke"])
def test_reason_required(permit_world, action, reason):
    w = permit_world
    app = under_review(w)
    if action in ("suspend", "revoke"):
        number = approve_all(w, app)
        url = f"/api/v1/permits/{number}/{action}"
    else:
        url = f"/api/v1/applications/{app.id}/{action}"
    audits, before = (
        AuditRecord.objects.count(),
        (state_of(app), list(Permit.objects.values_list("state", flat=True))),
    )
    body = {} if reason is None else {"reason": reason}
    r = post(w.client("officer_a"), url, body)
    assert r.status_code == 422, r.content
    assert "reason" in [e["field"] for e in r.json()["errors"]]
    assert AuditRecord.objects.count() == audits
    assert (state_of(app), list(Permit.objects.values_list("state", flat=True))) == before


@pytest.mark.django_db
def test_a_three_character_reason_is_enough(permit_world):
    w = permit_world
    app = under_review(w)
    r = post(w.client("officer_a"), f"/api/v1/applications/{app.id}/request-info", {"reason": "map"})
    assert (
        r.status_code == 200 and r.json()["state"] == "INFO_REQUESTED" and r.json()["info_request"] == "map"
    )


@pytest.mark.django_db
def test_info_requested_edit_and_resubmit_keeps_both_versions(permit_world):
    w = permit_world
    gen, officer = w.client("gen_a"), w.client("officer_a")
    app = under_review(w)
    r = post(officer, f"/api/v1/applications/{app.id}/request-info", {"reason": "ปริมาณสูงเกินไป ลดลงได้หรือไม่"})
    assert r.json()["state"] == "INFO_REQUESTED"

    r = patch(gen, f"/api/v1/applications/{app.id}/lines/1", {"quantity_t": "25"})
    assert r.status_code == 200, r.json()
    assert Decimal(r.json()["quantity_t"]) == Decimal("25")
    r = post(gen, f"/api/v1/applications/{app.id}/submit")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "SUBMITTED" and r.json()["version"] == 2 and r.json()["info_request"] == ""

    versions = gen.get(f"/api/v1/applications/{app.id}/versions").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert [v["content"]["lines"][0]["quantity_t"] for v in versions] == ["40.000", "25.000"]
    assert all(v["submitted_by"] == "gen_a" for v in versions)
    assert officer.get(f"/api/v1/applications/{app.id}/versions").json() == versions

    # Back in the queue; the officer takes it again and decides on version 2.
    assert post(officer, f"/api/v1/applications/{app.id}/take").json()["state"] == "UNDER_REVIEW"
    number = approve_all(w, app)
    assert Permit.objects.get(number=number).lines.get(index=1).approved_quantity_t == Decimal("25")


@pytest.mark.django_db
def test_drafts_are_editable_but_submitted_applications_are_not(permit_world):
    w = permit_world
    gen = w.client("gen_a")
    app = draft(w, (w.stream_hz, "40", "041"), (w.stream_nh, "20", "011"))
    base = f"/api/v1/applications/{app.id}"
    assert patch(gen, f"{base}/lines/1", {"quantity_t": "30"}).status_code == 200
    assert patch(gen, base, {"note": "changed"}).status_code == 200
    assert gen.delete(f"{base}/lines/2").status_code == 204
    assert post(gen, f"{base}/lines", {"stream_id": w.stream_nh.id, "quantity_t": "20", "method": "011",
                                        "receiver_id": w.receiver.id}).status_code == 201  # fmt: skip
    assert post(gen, f"{base}/submit").status_code == 200

    lines_before = list(ApplicationLine.objects.filter(application=app).values())
    revision, audits = PermitApplication.objects.get(id=app.id).revision, AuditRecord.objects.count()
    for r in (patch(gen, f"{base}/lines/1", {"quantity_t": "10"}), patch(gen, base, {"note": "later"}),
              gen.delete(f"{base}/lines/1"),
              post(gen, f"{base}/lines", {"stream_id": w.stream_nh.id, "quantity_t": "1", "method": "011",
                                          "receiver_id": w.receiver.id})):  # fmt: skip
        errors = assert_refused(r)
        assert errors[0]["rule"] == "state.transition"
    assert list(ApplicationLine.objects.filter(application=app).values()) == lines_before
    assert (
        PermitApplication.objects.get(id=app.id).revision == revision
        and AuditRecord.objects.count() == audits
    )


@pytest.mark.django_db
def test_decide_must_cover_every_line(permit_world):
    w = permit_world
    app = under_review(w)
    r = post(
        w.client("officer_a"),
        f"/api/v1/applications/{app.id}/decide",
        {"lines": [{"index": 1, "approve": True}]},
    )
    assert r.status_code == 400
    assert rules(r) == [("decision.missing_line", "lines")] and "2" in r.json()["errors"][0]["message_en"]
    assert state_of(app) == "UNDER_REVIEW" and not Permit.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("lines, rule", [
    ([{"index": 1, "approve": True}, {"index": 2, "approve": True}, {"index": 3, "approve": True}], "decision.unknown_line"),
    ([{"index": 1, "approve": True}, {"index": 1, "approve": False}, {"index": 2, "approve": True}], "decision.duplicate"),
])  # fmt: skip
def test_decide_refuses_unknown_and_duplicate_lines(permit_world, lines, rule):
    w = permit_world
    app = under_review(w)
    r = post(w.client("officer_a"), f"/api/v1/applications/{app.id}/decide", {"lines": lines})
    assert r.status_code == 400 and rules(r) == [(rule, "lines")]
    assert state_of(app) == "UNDER_REVIEW"


@pytest.mark.django_db
def test_decide_refuses_a_cap_above_the_applied_quantity(permit_world):
    w = permit_world
    app = under_review(w, (w.stream_hz, "40", "041"))
    audits = AuditRecord.objects.count()
    r = post(w.client("officer_a"), f"/api/v1/applications/{app.id}/decide",
             {"lines": [{"index": 1, "approve": True, "approved_quantity_t": "40.001"}]})  # fmt: skip
    assert r.status_code == 400 and rules(r) == [("decision.cap", "lines[1].approved_quantity_t")]
    assert (
        state_of(app) == "UNDER_REVIEW"
        and not Permit.objects.exists()
        and AuditRecord.objects.count() == audits
    )
    r = post(w.client("officer_a"), f"/api/v1/applications/{app.id}/decide",
             {"lines": [{"index": 1, "approve": True, "approved_quantity_t": "40"}]})  # fmt: skip
    assert r.status_code == 200 and r.json()["state"] == "APPROVED"


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   "])
def test_rejecting_every_line_needs_a_reason(permit_world, reason):
    w = permit_world
    app = under_review(w)
    r = post(w.client("officer_a"), f"/api/v1/applications/{app.id}/decide",
             {"lines": [{"index": 1, "approve": False}, {"index": 2, "approve": False}], "reason": reason})  # fmt: skip
    assert r.status_code == 400 and rules(r) == [("decision.reason", "reason")]
    assert state_of(app) == "UNDER_REVIEW"


@pytest.mark.django_db
def test_rejecting_every_line_with_a_reason(permit_world):
    w = permit_world
    app = under_review(w)
    r = post(w.client("officer_a"), f"/api/v1/applications/{app.id}/decide",
             {"lines": [{"index": 1, "approve": False}, {"index": 2, "approve": False}], "reason": "ผู้รับไม่เหมาะสม"})  # fmt: skip
    assert r.status_code == 200 and r.json()["state"] == "REJECTED" and r.json()["permit_number"] is None
    assert not Permit.objects.exists()
    assert AuditRecord.objects.filter(action="application.reject", note="ผู้รับไม่เหมาะสม").count() == 1


@pytest.mark.django_db
def test_expiry_marks_the_permit_expired_and_verify_shows_it(permit_world):
    w = permit_world
    number = approve_all(w, under_review(w))
    permit = Permit.objects.get(number=number)
    assert permit_services.expire_due(today=permit.valid_until) == 0  # still valid on its last day
    assert Permit.objects.get(number=number).state == "ACTIVE"

    assert permit_services.expire_due(today=permit.valid_until + timedelta(days=1)) == 1
    permit.refresh_from_db()
    assert permit.state == "EXPIRED" and permit.valid_until.isoformat() in permit.state_reason
    record = AuditRecord.objects.get(action="permit.expire", object_id=str(permit.id))
    assert (
        record.actor == "system:expiry"
        and record.before["state"] == "ACTIVE"
        and record.after["state"] == "EXPIRED"
    )
    assert (
        permit_services.expire_due(today=permit.valid_until + timedelta(days=2)) == 0
    )  # final: nothing more to do

    r = Client().get(f"/api/v1/verify/{number}?code={permit.verification_code}")
    assert r.status_code == 200 and r.json()["state"] == "EXPIRED"
    assert_refused(post(w.client("officer_a"), f"/api/v1/permits/{number}/reinstate", {"reason": "please"}))


@pytest.mark.django_db
def test_expiry_also_ends_a_suspended_permit_but_not_a_revoked_one(permit_world):
    w = permit_world
    first = approve_all(w, under_review(w, (w.stream_hz, "40", "041")))
    second = approve_all(w, under_review(w, (w.stream_nh, "20", "011")))
    permit_services.change_permit_state(
        actor=w.users["officer_a"], number=first, action="suspend", reason="audit"
    )
    permit_services.change_permit_state(
        actor=w.users["officer_a"], number=second, action="revoke", reason="closed"
    )
    day = Permit.objects.get(number=first).valid_until + timedelta(days=1)
    assert permit_services.expire_due(today=day) == 1
    assert dict(Permit.objects.values_list("number", "state")) == {first: "EXPIRED", second: "REVOKED"}


@pytest.mark.django_db
def test_officer_marks_no_apps_editable_after_decision(permit_world):
    """An applicant cannot change the lines of an approved application (the permit rests on them)."""
    w = permit_world
    app = under_review(w)
    approve_all(w, app)
    assert_refused(patch(w.client("gen_a"), f"/api/v1/applications/{app.id}/lines/1", {"quantity_t": "99"}))
    assert apps.content_of(app)["lines"][0]["quantity_t"] == "40.000"
