"""The access boundary of every endpoint in wastelink/permits/api.py.

Reads outside a user's scope answer 404 (the record's existence is not disclosed); writes on a visible record the
user may not change answer 403. Every refused write leaves no trace: no row of the permits context, no audit
record, no notification and no stored file changes.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import make_establishment, make_user
from wastelink.accounts.models import Notification
from wastelink.audit.models import AuditRecord
from wastelink.core.roles import Role
from wastelink.permits.models import (
    ApplicationLine,
    ApplicationVersion,
    AutoApprovalRule,
    Permit,
    PermitApplication,
    PermitLine,
    SupportingDocument,
    WasteStream,
)
from wastelink.permits.schemas import DecisionIn, LineDecision
from wastelink.permits.services import applications as apps
from wastelink.permits.services import review
from wastelink.registry.models import ReceiverLicence

from .conftest import NON_HAZARDOUS, auto_rule, draft

pytestmark = pytest.mark.django_db

EVERYONE = ["gen_a", "gen_a_cert", "gen_b", "receiver", "dispatcher", "driver", "officer_a", "officer_b", "hq",
            "regulator", "admin"]  # fmt: skip
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The shared world creates eleven users; Argon2 would spend seconds per test on passwords nobody checks."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def aw(permit_world):
    """The permit world plus a user at the factory outside the estates, a second receiver and gen_b's stream."""
    w = permit_world
    w.users["gen_out"] = make_user("gen_out", Role.GENERATOR_PREPARER, w.gen_outside.organisation)
    w.receiver2 = make_establishment("10000000000006", "Foxtrot Waste", None, is_receiver=True)
    w.users["receiver2"] = make_user("receiver2", Role.RECEIVER_OPERATOR, w.receiver2.organisation)
    w.stream_b = WasteStream.objects.create(generator=w.gen_b, waste_code_id=NON_HAZARDOUS, name="กระดาษ B",
                                            source_process="office", physical_form="solid", annual_quantity_t=Decimal("9"))  # fmt: skip
    w.stream_out = WasteStream.objects.create(generator=w.gen_outside, waste_code_id=NON_HAZARDOUS, name="กระดาษ C",
                                              source_process="office", physical_form="solid",
                                              annual_quantity_t=Decimal("30"))  # fmt: skip
    return w


# --- helpers --------------------------------------------------------------------------------------------------
def send(client, method: str, url: str, data=None):
    if method == "GET":
        return client.get(url)
    if method == "DELETE":
        return client.delete(url)
    return getattr(client, method.lower())(url, data=json.dumps(data or {}), content_type="application/json")


def snapshot() -> dict:
    tracked = [WasteStream, PermitApplication, ApplicationLine, ApplicationLine.transporters.through,
               ApplicationVersion, SupportingDocument, AutoApprovalRule, Permit, PermitLine, Notification]  # fmt: skip
    data = {m.__name__: list(m.objects.order_by("pk").values()) for m in tracked}
    data["audit"] = AuditRecord.objects.count()
    return data


@contextmanager
def no_trace(media=None):
    before = snapshot()
    files = sorted(p for p in media.rglob("*")) if media is not None and media.exists() else []
    yield
    assert snapshot() == before
    if media is not None:
        assert (sorted(p for p in media.rglob("*")) if media.exists() else []) == files


def refused(w, users, method, url, data=None, *, status, rule=None):
    """Each user's request is refused with `status` and leaves no trace."""
    for u in users:
        with no_trace():
            r = send(w.client(u), method, url, data)
        assert r.status_code == status, (u, method, url, r.status_code, r.content[:300])
        if rule:
            assert r.json()["errors"][0]["rule"] == rule, (u, r.json())


def allowed_reads(w, users, url, status=200):
    for u in users:
        r = w.client(u).get(url)
        assert r.status_code == status, (u, url, r.status_code, r.content[:300])


def submit(w, app, user="gen_a"):
    apps.submit(actor=w.users[user], application_id=app.id)
    return app


def outside_draft(w):
    actor = w.users["gen_out"]
    from wastelink.permits.schemas import ApplicationIn, LineIn

    app = apps.create_application(actor=actor, data=ApplicationIn(note="outside"))
    apps.add_line(actor=actor, application_id=app.id, data=LineIn(stream_id=w.stream_out.id, quantity_t=Decimal("10"),
                                                                   method="011", receiver_id=w.receiver.id))  # fmt: skip
    return app


def issued(w, *lines) -> Permit:
    app = submit(w, draft(w, *(lines or ((w.stream_hz, "40", "041"),))))
    review.take(actor=w.users["officer_a"], application_id=app.id)
    n = app.lines.count()
    review.decide(actor=w.users["officer_a"], application_id=app.id,
                  data=DecisionIn(lines=[LineDecision(index=i, approve=True) for i in range(1, n + 1)]))  # fmt: skip
    return Permit.objects.get(application=app)


# --- anonymous ------------------------------------------------------------------------------------------------
def test_every_endpoint_but_verify_needs_a_signed_in_user(aw):
    w = aw
    app = draft(w, (w.stream_hz, "40", "041"))
    permit = issued(w, (w.stream_nh, "10", "011"))
    rule = auto_rule()
    a, n, s = (
        f"/api/v1/applications/{app.id}",
        f"/api/v1/permits/{permit.number}",
        f"/api/v1/streams/{w.stream_hz.id}",
    )
    endpoints = [
        ("GET", "/api/v1/streams"), ("POST", "/api/v1/streams"), ("GET", s), ("PATCH", s),
        ("GET", "/api/v1/applications"), ("POST", "/api/v1/applications"), ("GET", a), ("PATCH", a),
        ("POST", f"{a}/lines"), ("PATCH", f"{a}/lines/1"), ("DELETE", f"{a}/lines/1"), ("POST", f"{a}/documents"),
        ("GET", f"{a}/precheck"), ("POST", f"{a}/submit"), ("GET", f"{a}/versions"), ("GET", "/api/v1/review-queue"),
        ("POST", f"{a}/take"), ("POST", f"{a}/request-info"), ("POST", f"{a}/decide"), ("POST", f"{a}/reject"),
        ("GET", "/api/v1/permits"), ("GET", n), ("GET", f"{n}/certificate.pdf"), ("POST", f"{n}/suspend"),
        ("POST", f"{n}/reinstate"), ("POST", f"{n}/revoke"), ("GET", "/api/v1/auto-approval-rules"),
        ("POST", "/api/v1/auto-approval-rules"), ("DELETE", f"/api/v1/auto-approval-rules/{rule.id}"),
    ]  # fmt: skip
    anonymous = Client()
    for method, url in endpoints:
        with no_trace():
            r = send(anonymous, method, url, {"reason": "because"})
        assert r.status_code == 401, (method, url, r.status_code)
    assert anonymous.get(f"/api/v1/verify/{permit.number}?code={permit.verification_code}").status_code == 200


def test_a_read_only_token_cannot_write(aw):
    w = aw
    reader = w.token_client("gen_a", scopes=("read",))
    assert reader.get(f"/api/v1/streams/{w.stream_hz.id}").status_code == 200
    body = {
        "waste_code": "20 01 01",
        "name": "x",
        "source_process": "y",
        "physical_form": "solid",
        "annual_quantity_t": "1",
    }
    with no_trace():
        r = send(reader, "POST", "/api/v1/streams", body)
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "token.scope"
    assert send(w.token_client("gen_a"), "POST", "/api/v1/streams", body).status_code == 201


# --- streams --------------------------------------------------------------------------------------------------
def test_stream_reads(aw):
    w = aw
    url = f"/api/v1/streams/{w.stream_hz.id}"
    allowed_reads(w, ["gen_a", "gen_a_cert", "officer_a", "hq", "regulator", "admin"], url)
    allowed_reads(w, ["gen_b", "officer_b", "receiver", "dispatcher", "driver"], url, status=404)
    out = f"/api/v1/streams/{w.stream_out.id}"
    allowed_reads(w, ["regulator", "admin"], out)
    allowed_reads(w, ["gen_a", "officer_a", "officer_b", "hq"], out, status=404)

    def listed(u):
        return {s["id"] for s in w.client(u).get("/api/v1/streams").json()}

    mine = {w.stream_hz.id, w.stream_nh.id}
    assert listed("gen_a") == mine and listed("officer_a") == mine
    assert listed("gen_b") == {w.stream_b.id} and listed("officer_b") == {w.stream_b.id}
    assert listed("hq") == mine | {w.stream_b.id}
    assert listed("regulator") == mine | {w.stream_b.id, w.stream_out.id}
    assert listed("receiver") == set() and listed("dispatcher") == set()
    assert {
        s["id"] for s in w.client("gen_b").get(f"/api/v1/streams?generator_id={w.gen_a.id}").json()
    } == set()


def test_stream_declaration_only_by_the_generator(aw):
    w = aw
    body = {"waste_code": "16 02 11*", "name": "แบตเตอรี่", "source_process": "maintenance", "physical_form": "solid",
            "annual_quantity_t": "2.5"}  # fmt: skip
    refused(w, ["officer_a", "officer_b", "hq", "regulator", "receiver", "dispatcher", "driver"], "POST",
            "/api/v1/streams", body, status=403, rule="access.denied")  # fmt: skip
    r = send(w.client("gen_a_cert"), "POST", "/api/v1/streams", body)
    assert r.status_code == 201, r.json()
    assert r.json()["generator_id"] == w.gen_a.id and r.json()["waste_code"] == "160211"
    assert AuditRecord.objects.filter(action="stream.declare", object_id=str(r.json()["id"])).count() == 1


def test_stream_changes_only_by_the_generator(aw):
    w = aw
    url = f"/api/v1/streams/{w.stream_hz.id}"
    refused(
        w, ["gen_b", "officer_b", "receiver", "dispatcher"], "PATCH", url, {"name": "hijacked"}, status=404
    )
    refused(
        w,
        ["officer_a", "hq", "regulator"],
        "PATCH",
        url,
        {"name": "hijacked"},
        status=403,
        rule="access.denied",
    )
    r = send(w.client("gen_a_cert"), "PATCH", url, {"annual_quantity_t": "120"})
    assert r.status_code == 200 and Decimal(r.json()["annual_quantity_t"]) == Decimal("120")


# --- applications ---------------------------------------------------------------------------------------------
def test_application_reads(aw):
    w = aw
    app = draft(w, (w.stream_hz, "40", "041"))
    base = f"/api/v1/applications/{app.id}"
    # A draft is the factory's working copy: only its own users see it.
    for suffix in ("", "/precheck", "/versions"):
        allowed_reads(w, ["gen_a", "gen_a_cert"], base + suffix)
        allowed_reads(w, ["officer_a", "hq", "regulator", "admin", "gen_b", "officer_b", "receiver", "dispatcher",
                          "driver", "gen_out"], base + suffix, status=404)  # fmt: skip
    apps.submit(actor=w.users["gen_a"], application_id=app.id)
    for suffix in ("", "/precheck", "/versions"):
        allowed_reads(w, ["gen_a", "gen_a_cert", "officer_a", "hq", "regulator", "admin"], base + suffix)
        allowed_reads(
            w,
            ["gen_b", "officer_b", "receiver", "dispatcher", "driver", "gen_out"],
            base + suffix,
            status=404,
        )
    for u, seen in [("gen_a", True), ("officer_a", True), ("hq", True), ("regulator", True), ("gen_b", False),
                    ("officer_b", False), ("receiver", False), ("gen_out", False)]:  # fmt: skip
        ids = {a["id"] for a in w.client(u).get("/api/v1/applications").json()}
        assert (app.id in ids) == seen, u


def test_application_creation_only_by_generator_editors(aw):
    w = aw
    refused(w, ["officer_a", "hq", "regulator", "receiver", "dispatcher", "driver", "admin"], "POST",
            "/api/v1/applications", {"note": "x"}, status=403)  # fmt: skip
    r = send(w.client("gen_a_cert"), "POST", "/api/v1/applications", {"note": "by the certifier"})
    assert r.status_code == 201 and r.json()["generator_id"] == w.gen_a.id and r.json()["state"] == "DRAFT"
    assert r.json()["route"] == "estate" and r.json()["estate"] == "map-ta-phut"
    r = send(w.client("gen_out"), "POST", "/api/v1/applications", {"note": "outside"})
    assert r.status_code == 201 and r.json()["route"] == "regulator" and r.json()["estate"] is None


def test_application_edits_only_by_the_generator(aw):
    w = aw
    app = draft(w, (w.stream_hz, "40", "041"), (w.stream_nh, "20", "011"))
    base = f"/api/v1/applications/{app.id}"
    line = {"stream_id": w.stream_nh.id, "quantity_t": "1", "method": "011", "receiver_id": w.receiver.id}
    writes = [("PATCH", base, {"note": "hijacked"}), ("POST", f"{base}/lines", line),
              ("PATCH", f"{base}/lines/1", {"quantity_t": "1"}), ("DELETE", f"{base}/lines/2", None),
              ("POST", f"{base}/submit", None)]  # fmt: skip
    for method, url, body in writes:
        refused(w, ["gen_b", "officer_b", "receiver", "dispatcher", "gen_out"], method, url, body, status=404)
        # Officials do not see a draft at all (it is the factory's working copy): 404, not 403.
        refused(w, ["officer_a", "hq", "regulator"], method, url, body, status=404)
    cert = w.client("gen_a_cert")
    assert send(cert, "PATCH", base, {"note": "certified"}).status_code == 200
    assert send(cert, "POST", f"{base}/lines", line).status_code == 201
    assert send(cert, "PATCH", f"{base}/lines/1", {"quantity_t": "39"}).status_code == 200
    assert send(cert, "DELETE", f"{base}/lines/3").status_code == 204
    r = send(cert, "POST", f"{base}/submit")
    assert r.status_code == 200 and r.json()["state"] == "SUBMITTED"
    assert ApplicationVersion.objects.get(application=app).submitted_by == "gen_a_cert"


def test_lines_may_name_only_the_generators_own_stream_and_real_parties(aw):
    w = aw
    app = draft(w)
    url = f"/api/v1/applications/{app.id}/lines"
    ok = {"stream_id": w.stream_nh.id, "quantity_t": "1", "method": "011", "receiver_id": w.receiver.id}
    for change, field in [({"stream_id": w.stream_b.id}, "stream_id"), ({"receiver_id": w.gen_b.id}, "receiver_id"),
                          ({"transporter_ids": [w.receiver.id]}, "transporter_ids"), ({"method": "999"}, "method")]:  # fmt: skip
        with no_trace():
            r = send(w.client("gen_a"), "POST", url, {**ok, **change})
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == field, (change, r.json())


def test_estate_review_boundary(aw):
    w = aw
    app = submit(w, draft(w, (w.stream_hz, "40", "041")))
    base = f"/api/v1/applications/{app.id}"
    decision = {"lines": [{"index": 1, "approve": True}]}
    for action, body in [("take", None), ("decide", decision), ("request-info", {"reason": "more please"}),
                         ("reject", {"reason": "not acceptable"})]:  # fmt: skip
        refused(
            w,
            ["officer_b", "receiver", "dispatcher", "gen_b", "gen_out"],
            "POST",
            f"{base}/{action}",
            body,
            status=404,
        )
        refused(
            w,
            ["regulator", "gen_a", "gen_a_cert"],
            "POST",
            f"{base}/{action}",
            body,
            status=403,
            rule="access.denied",
        )
    # HQ supervises every estate: it may take and decide.
    assert send(w.client("hq"), "POST", f"{base}/take").status_code == 200
    refused(w, ["officer_b", "gen_b"], "POST", f"{base}/decide", decision, status=404)
    refused(w, ["regulator", "gen_a"], "POST", f"{base}/decide", decision, status=403)
    r = send(w.client("hq"), "POST", f"{base}/decide", decision)
    assert r.status_code == 200 and r.json()["state"] == "APPROVED" and r.json()["decided_by"] == "hq"


def test_estate_officer_decides_own_estate(aw):
    w = aw
    app = submit(w, draft(w, (w.stream_hz, "40", "041")))
    officer = w.client("officer_a")
    assert send(officer, "POST", f"/api/v1/applications/{app.id}/take").status_code == 200
    r = send(
        officer, "POST", f"/api/v1/applications/{app.id}/decide", {"lines": [{"index": 1, "approve": True}]}
    )
    assert r.status_code == 200 and r.json()["permit_number"]


def test_outside_applications_are_routed_to_the_regulator(aw):
    w = aw
    estate_app = submit(w, draft(w, (w.stream_hz, "40", "041")))
    app = outside_draft(w)
    submit(w, app, user="gen_out")
    app.refresh_from_db()
    assert app.route == "regulator" and app.estate_id is None

    def queue(u):
        r = w.client(u).get("/api/v1/review-queue")
        assert r.status_code == 200
        return [q["id"] for q in r.json()]

    assert queue("regulator") == [app.id]
    assert queue("officer_a") == [estate_app.id] and queue("hq") == [estate_app.id]
    assert queue("officer_b") == [] and queue("gen_b") == [] and queue("receiver") == []

    base = f"/api/v1/applications/{app.id}"
    allowed_reads(w, ["officer_a", "officer_b", "hq", "gen_a"], base, status=404)
    refused(w, ["officer_a", "officer_b", "hq"], "POST", f"{base}/take", status=404)
    regulator = w.client("regulator")
    assert send(regulator, "POST", f"{base}/take").json()["state"] == "UNDER_REVIEW"
    refused(
        w,
        ["officer_a", "hq"],
        "POST",
        f"{base}/decide",
        {"lines": [{"index": 1, "approve": True}]},
        status=404,
    )
    r = send(
        regulator,
        "POST",
        f"{base}/decide",
        {"lines": [{"index": 1, "approve": True, "approved_quantity_t": "8"}]},
    )
    assert r.status_code == 200 and r.json()["state"] == "APPROVED" and r.json()["decided_by"] == "regulator"
    assert Permit.objects.get(application=app).estate_id is None


def test_the_regulator_reads_estate_applications_but_does_not_decide_them(aw):
    w = aw
    app = submit(w, draft(w, (w.stream_hz, "40", "041")))
    review.take(actor=w.users["officer_a"], application_id=app.id)
    assert w.client("regulator").get(f"/api/v1/applications/{app.id}").status_code == 200
    refused(w, ["regulator"], "POST", f"/api/v1/applications/{app.id}/decide",
            {"lines": [{"index": 1, "approve": True}]}, status=403, rule="access.denied")  # fmt: skip
    assert PermitApplication.objects.get(id=app.id).state == "UNDER_REVIEW"


# --- documents ------------------------------------------------------------------------------------------------
def upload(client, app, content: bytes, name="process.pdf", kind="process"):
    return client.post(f"/api/v1/applications/{app.id}/documents",
                       {"kind": kind, "file": SimpleUploadedFile(name, content, "application/pdf")})  # fmt: skip


@pytest.mark.parametrize("content, content_type, name", [(PDF, "application/pdf", "plan.pdf"),
                                                          (PNG, "image/png", "map.png"), (JPEG, "image/jpeg", "photo.jpg")])  # fmt: skip
def test_upload_a_document(aw, media, content, content_type, name):
    w = aw
    app = draft(w, (w.stream_hz, "40", "041"))
    r = upload(w.client("gen_a"), app, content, name=name, kind="site_plan")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert (body["kind"], body["content_type"], body["size"], body["original_name"]) == ("site_plan", content_type,
                                                                                          len(content), name)  # fmt: skip
    doc = SupportingDocument.objects.get(id=body["id"])
    assert doc.file.read() == content
    assert AuditRecord.objects.filter(action="application.document.add", object_id=str(doc.id)).count() == 1
    assert [d["sha256"] for d in w.client("gen_a_cert").get(f"/api/v1/applications/{app.id}").json()["documents"]] == [
        body["sha256"]]  # fmt: skip


@pytest.mark.parametrize("content", [b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64, b"just some text\n",
                                     b"<html><body>%PDF-</body></html>"])  # fmt: skip
def test_a_file_that_is_not_a_pdf_png_or_jpeg_is_refused_whatever_its_name(aw, media, content):
    w = aw
    app = draft(w, (w.stream_hz, "40", "041"))
    with no_trace(media):
        r = upload(w.client("gen_a"), app, content, name="x.pdf")
    assert r.status_code == 400
    assert [(e["rule"], e["field"]) for e in r.json()["errors"]] == [("document.type", "file")]


def test_an_oversized_file_is_refused(aw, media, settings):
    w = aw
    settings.WASTELINK = {**settings.WASTELINK, "DOCUMENT_MAX_BYTES": 1024}
    app = draft(w, (w.stream_hz, "40", "041"))
    with no_trace(media):
        r = upload(w.client("gen_a"), app, PDF + b"0" * 1024)
    assert r.status_code == 400
    assert [(e["rule"], e["field"]) for e in r.json()["errors"]] == [("document.size", "file")]
    assert upload(w.client("gen_a"), app, PDF).status_code == 201  # under the limit


def test_an_unknown_document_kind_is_refused(aw, media):
    w = aw
    app = draft(w, (w.stream_hz, "40", "041"))
    with no_trace(media):
        r = upload(w.client("gen_a"), app, PDF, kind="selfie")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "kind"


def test_upload_to_a_submitted_application_is_409(aw, media):
    w = aw
    app = submit(w, draft(w, (w.stream_hz, "40", "041")))
    with no_trace(media):
        r = upload(w.client("gen_a"), app, PDF)
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "state.transition"


def test_only_the_generator_uploads(aw, media):
    w = aw
    app = draft(w, (w.stream_hz, "40", "041"))
    for users, status in [
        (["gen_b", "officer_b", "receiver", "gen_out"], 404),
        (["officer_a", "hq", "regulator"], 404),  # a draft is invisible to officials
    ]:
        for u in users:
            with no_trace(media):
                r = upload(w.client(u), app, PDF)
            assert r.status_code == status, (u, r.status_code)


# --- permits --------------------------------------------------------------------------------------------------
def test_permit_reads(aw):
    w = aw
    permit = issued(w)
    url = f"/api/v1/permits/{permit.number}"
    allowed_reads(w, ["gen_a", "gen_a_cert", "receiver", "dispatcher", "driver", "officer_a", "hq", "regulator",
                      "admin"], url)  # fmt: skip
    allowed_reads(w, ["receiver2", "gen_b", "officer_b", "gen_out"], url, status=404)
    for u, seen in [("receiver", True), ("dispatcher", True), ("gen_a", True), ("officer_a", True),
                    ("receiver2", False), ("gen_b", False), ("officer_b", False)]:  # fmt: skip
        numbers = [p["number"] for p in w.client(u).get("/api/v1/permits").json()]
        assert numbers == ([permit.number] if seen else []), u


def test_a_receiver_sees_a_permit_only_while_named_on_one_of_its_lines(aw):
    w = aw
    ReceiverLicence.objects.create(receiver=w.receiver2, licence_no="RL-2", factory_type_id="106",
                                   annual_capacity_t=Decimal("500"), valid_from=ReceiverLicence.objects.get().valid_from,
                                   valid_until=ReceiverLicence.objects.get().valid_until).waste_codes.set([NON_HAZARDOUS])  # fmt: skip
    ReceiverLicence.objects.get(licence_no="RL-2").methods.set(["011"])
    app = draft(w, (w.stream_hz, "40", "041"))
    from wastelink.permits.schemas import LineIn

    apps.add_line(actor=w.users["gen_a"], application_id=app.id, data=LineIn(
        stream_id=w.stream_nh.id, quantity_t=Decimal("5"), method="011", receiver_id=w.receiver2.id))  # fmt: skip
    submit(w, app)
    review.take(actor=w.users["officer_a"], application_id=app.id)
    review.decide(actor=w.users["officer_a"], application_id=app.id, data=DecisionIn(
        lines=[LineDecision(index=1, approve=True), LineDecision(index=2, approve=False)]))  # fmt: skip
    number = Permit.objects.get(application=app).number
    assert w.client("receiver").get(f"/api/v1/permits/{number}").status_code == 200
    assert w.client("receiver2").get(f"/api/v1/permits/{number}").status_code == 404  # its line was rejected


def test_certificate_only_for_those_who_see_the_permit(aw):
    w = aw
    permit = issued(w)
    url = f"/api/v1/permits/{permit.number}/certificate.pdf"
    allowed_reads(w, ["receiver2", "gen_b", "officer_b", "gen_out"], url, status=404)
    r = w.client("receiver").get(url)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF-")


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_permit_supervision_only_by_the_officers_of_the_estate(aw, action):
    w = aw
    permit = issued(w)
    url = f"/api/v1/permits/{permit.number}/{action}"
    body = {"reason": "inspection found a breach"}
    refused(w, ["officer_b", "receiver2", "gen_b", "gen_out"], "POST", url, body, status=404)
    refused(w, ["gen_a", "gen_a_cert", "receiver", "dispatcher", "driver", "regulator"], "POST", url, body,
            status=403, rule="access.denied")  # fmt: skip
    r = send(w.client("officer_a"), "POST", url, body)
    assert r.status_code == 200 and r.json()["state"] == {"suspend": "SUSPENDED", "revoke": "REVOKED"}[action]
    assert AuditRecord.objects.filter(action=f"permit.{action}", actor="officer_a").count() == 1


def test_reinstate_only_by_the_officers_of_the_estate_and_hq(aw):
    w = aw
    permit = issued(w)
    send(w.client("officer_a"), "POST", f"/api/v1/permits/{permit.number}/suspend", {"reason": "inspection"})
    url = f"/api/v1/permits/{permit.number}/reinstate"
    refused(w, ["officer_b", "receiver2"], "POST", url, {"reason": "fixed"}, status=404)
    refused(w, ["gen_a", "receiver", "regulator"], "POST", url, {"reason": "fixed"}, status=403)
    r = send(w.client("hq"), "POST", url, {"reason": "fixed"})
    assert r.status_code == 200 and r.json()["state"] == "ACTIVE"


def test_a_regulator_routed_permit_is_supervised_by_the_regulator(aw):
    w = aw
    app = submit(w, outside_draft(w), user="gen_out")
    regulator = w.users["regulator"]
    review.take(actor=regulator, application_id=app.id)
    review.decide(
        actor=regulator, application_id=app.id, data=DecisionIn(lines=[LineDecision(index=1, approve=True)])
    )
    url = f"/api/v1/permits/{Permit.objects.get(application=app).number}/suspend"
    refused(w, ["officer_a", "hq"], "POST", url, {"reason": "check"}, status=404)
    assert send(w.client("regulator"), "POST", url, {"reason": "check"}).status_code == 200


# --- auto-approval table --------------------------------------------------------------------------------------
def test_anyone_signed_in_reads_the_table(aw):
    w = aw
    rule = auto_rule()
    for u in ("gen_a", "receiver", "officer_a", "regulator"):
        assert [r["id"] for r in w.client(u).get("/api/v1/auto-approval-rules").json()] == [rule.id]


def test_only_the_admin_adds_to_the_table(aw):
    w = aw
    body = {"waste_code": "20 01 01", "method": "082", "receiver_type": "106", "note": "paper to recycling"}
    refused(w, ["gen_a", "receiver", "dispatcher", "officer_a", "hq", "regulator"], "POST",
            "/api/v1/auto-approval-rules", body, status=403, rule="access.denied")  # fmt: skip
    r = send(w.client("admin"), "POST", "/api/v1/auto-approval-rules", body)
    assert r.status_code == 201, r.json()
    assert (r.json()["waste_code"], r.json()["method"], r.json()["receiver_type"]) == ("200101", "082", "106")
    assert AuditRecord.objects.filter(action="auto_rule.add", actor="admin").count() == 1
    refused(w, ["admin"], "POST", "/api/v1/auto-approval-rules", body, status=409, rule="auto_rule.exists")


def test_the_table_refuses_a_non_hazardous_only_method_for_hazardous_waste(aw):
    w = aw
    with no_trace():
        r = send(w.client("admin"), "POST", "/api/v1/auto-approval-rules",
                 {"waste_code": "16 02 11", "method": "082", "receiver_type": "106"})  # fmt: skip
    assert r.status_code == 400
    assert [(e["rule"], e["field"]) for e in r.json()["errors"]] == [("KO1-MTH-HAZ", "method")]


def test_only_the_admin_retires_a_rule(aw):
    w = aw
    rule = auto_rule()
    url = f"/api/v1/auto-approval-rules/{rule.id}"
    refused(w, ["gen_a", "officer_a", "hq", "regulator", "receiver"], "DELETE", url, status=403)
    assert w.client("admin").delete(url).status_code == 204
    assert AutoApprovalRule.objects.get(id=rule.id).active is False
    refused(w, ["admin"], "DELETE", url, status=404)


# --- public verification --------------------------------------------------------------------------------------
def test_public_verification(aw):
    w = aw
    permit = issued(w)
    other = issued(w, (w.stream_nh, "10", "011"))
    public = Client()
    r = public.get(f"/api/v1/verify/{permit.number}?code={permit.verification_code}")
    assert r.status_code == 200
    assert r.json() == {"number": permit.number, "holder_th": w.gen_a.name_th, "holder_en": w.gen_a.name_en,
                        "valid_from": permit.valid_from.isoformat(), "valid_until": permit.valid_until.isoformat(),
                        "state": "ACTIVE"}  # fmt: skip
    assert public.get(f"/api/v1/verify/{permit.number}?code=wrong-code").status_code == 404
    assert public.get(f"/api/v1/verify/{permit.number}?code={other.verification_code}").status_code == 404
    assert public.get(f"/api/v1/verify/KO1-0000-999999?code={permit.verification_code}").status_code == 404
    assert public.get(f"/api/v1/verify/{permit.number}").status_code == 422


def test_public_verification_shows_a_revoked_permit_as_revoked(aw):
    w = aw
    permit = issued(w)
    send(
        w.client("officer_a"), "POST", f"/api/v1/permits/{permit.number}/revoke", {"reason": "serious breach"}
    )
    r = Client().get(f"/api/v1/verify/{permit.number}?code={permit.verification_code}")
    assert r.json()["state"] == "REVOKED" and "serious breach" not in r.content.decode()
    assert permit.valid_until - permit.valid_from == timedelta(days=364)
