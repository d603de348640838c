"""The pre-check rules through the database: facts gathered from the registry and from live permits, submission
refused on errors (nothing written), accepted with warnings, and the auto-approval table."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from wastelink.audit.models import AuditRecord
from wastelink.core.findings import DomainError, Severity
from wastelink.permits.models import (
    ApplicationLine,
    ApplicationVersion,
    Permit,
    PermitApplication,
    WasteStream,
)
from wastelink.permits.schemas import DecisionIn, LineDecision, LinePatch
from wastelink.permits.services import applications as apps
from wastelink.permits.services import permits as permit_services
from wastelink.permits.services import review
from wastelink.registry.models import ReceiverLicence, TransporterLicence, Vehicle, WasteCode

from .conftest import auto_rule, draft

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The shared world creates eleven users; Argon2 would spend seconds per test on passwords nobody checks."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def rules_of(app) -> list[tuple[str, str, str]]:
    return sorted((f.rule, str(f.severity), f.field) for f in apps.precheck(app))


def issue_permit(w, *lines) -> Permit:
    """A live permit through the services: gen_a submits, officer_a takes and approves every line."""
    app = draft(w, *lines)
    apps.submit(actor=w.users["gen_a"], application_id=app.id)
    review.take(actor=w.users["officer_a"], application_id=app.id)
    review.decide(actor=w.users["officer_a"], application_id=app.id,
                  data=DecisionIn(lines=[LineDecision(index=i, approve=True) for i in range(1, len(lines) + 1)]))  # fmt: skip
    return Permit.objects.get(application=app)


def licence() -> ReceiverLicence:
    return ReceiverLicence.objects.get(licence_no="RL-1")


def test_a_clean_application_passes(permit_world):
    w = permit_world
    assert rules_of(draft(w, (w.stream_hz, "40", "041"), (w.stream_nh, "20", "011"))) == []


# --- receiver licence -----------------------------------------------------------------------------------------
def test_receiver_without_licence(permit_world):
    w = permit_world
    licence().delete()
    assert rules_of(draft(w, (w.stream_hz, "40", "041"))) == [("KO1-RCV-LIC", "error", "lines[1].receiver")]


def test_receiver_licence_expired(permit_world):
    w = permit_world
    ReceiverLicence.objects.update(valid_until=timezone.localdate() - timedelta(days=1))
    assert rules_of(draft(w, (w.stream_hz, "40", "041"))) == [("KO1-RCV-LIC", "error", "lines[1].receiver")]


def test_receiver_licence_suspended(permit_world):
    w = permit_world
    ReceiverLicence.objects.update(suspended=True)
    assert rules_of(draft(w, (w.stream_hz, "40", "041"))) == [("KO1-RCV-LIC", "error", "lines[1].receiver")]


def test_receiver_licence_not_covering_the_method(permit_world):
    w = permit_world
    app = draft(w, (w.stream_nh, "10", "011"), (w.stream_hz, "40", "049"))
    findings = apps.precheck(app)
    assert [(f.rule, f.field) for f in findings] == [("KO1-RCV-LIC", "lines[2].receiver")]
    assert "049" in findings[0].message_en and "160211" in findings[0].message_en


def test_receiver_licence_not_covering_the_code(permit_world):
    w = permit_world
    other = WasteStream.objects.create(generator=w.gen_a, waste_code_id="160213", name="จอภาพเสีย",
                                       source_process="assembly", physical_form="solid", annual_quantity_t=Decimal("5"))  # fmt: skip
    assert rules_of(draft(w, (other, "1", "041"))) == [("KO1-RCV-LIC", "error", "lines[1].receiver")]


def test_receiver_suspended(permit_world):
    w = permit_world
    w.receiver.status = "suspended"
    w.receiver.save()
    assert rules_of(draft(w, (w.stream_hz, "40", "041"))) == [
        ("KO1-RCV-STATUS", "error", "lines[1].receiver")
    ]


def test_receiver_licence_ending_before_the_permit_warns(permit_world):
    w = permit_world
    ReceiverLicence.objects.update(valid_until=timezone.localdate() + timedelta(days=100))
    assert rules_of(draft(w, (w.stream_hz, "40", "041"))) == [
        ("KO1-RCV-LIC-ENDS", "warning", "lines[1].receiver")
    ]


# --- capacity -------------------------------------------------------------------------------------------------
def test_capacity_exhausted_by_another_live_permit(permit_world):
    w = permit_world
    permit = issue_permit(w, (w.stream_hz, "40", "041"))
    ReceiverLicence.objects.update(annual_capacity_t=Decimal("60"))  # 20 t left
    app = draft(w, (w.stream_nh, "30", "011"))
    findings = apps.precheck(app)
    assert [(f.rule, f.severity, f.field) for f in findings] == [
        ("KO1-RCV-CAP", Severity.ERROR, "lines[1].quantity_t")
    ]
    assert "20" in findings[0].message_en

    # A revoked permit no longer holds capacity.
    permit_services.change_permit_state(actor=w.users["officer_a"], number=permit.number, action="revoke",
                                        reason="closed down")  # fmt: skip
    assert rules_of(app) == []


def test_capacity_still_held_by_a_suspended_permit(permit_world):
    w = permit_world
    permit = issue_permit(w, (w.stream_hz, "40", "041"))
    permit_services.change_permit_state(actor=w.users["officer_a"], number=permit.number, action="suspend",
                                        reason="inspection")  # fmt: skip
    ReceiverLicence.objects.update(annual_capacity_t=Decimal("60"))
    assert rules_of(draft(w, (w.stream_nh, "30", "011"))) == [("KO1-RCV-CAP", "error", "lines[1].quantity_t")]


def test_capacity_counts_every_line_to_the_same_receiver(permit_world):
    w = permit_world
    ReceiverLicence.objects.update(annual_capacity_t=Decimal("50"))
    app = draft(w, (w.stream_hz, "30", "041"), (w.stream_nh, "30", "011"))
    assert rules_of(app) == [("KO1-RCV-CAP", "error", "lines[1].quantity_t"),
                             ("KO1-RCV-CAP", "error", "lines[2].quantity_t")]  # fmt: skip


def test_capacity_nearly_used_warns(permit_world):
    w = permit_world
    issue_permit(w, (w.stream_hz, "40", "041"))
    ReceiverLicence.objects.update(annual_capacity_t=Decimal("72"))  # 32 t left; 30 t is over 90 %
    assert rules_of(draft(w, (w.stream_nh, "30", "011"))) == [
        ("KO1-RCV-CAP-NEAR", "warning", "lines[1].quantity_t")
    ]


# --- method and transport of hazardous waste ------------------------------------------------------------------
def test_non_hazardous_only_method_for_hm_waste(permit_world):
    w = permit_world
    assert rules_of(draft(w, (w.stream_hz, "40", "082"))) == [("KO1-MTH-HAZ", "error", "lines[1].method")]


def test_non_hazardous_only_method_for_non_hazardous_waste(permit_world):
    w = permit_world
    assert rules_of(draft(w, (w.stream_nh, "20", "082"))) == []


def test_hazardous_stream_without_transporter(permit_world):
    w = permit_world
    assert rules_of(draft(w, (w.stream_hz, "40", "041", []))) == [
        ("KO1-TRN-HAZ", "error", "lines[1].transporters")
    ]


def test_non_hazardous_stream_needs_no_transporter(permit_world):
    w = permit_world
    assert rules_of(draft(w, (w.stream_nh, "20", "011", []))) == []


def test_hazardous_stream_with_transporter_lacking_a_hazardous_licence(permit_world):
    w = permit_world
    TransporterLicence.objects.update(hazardous_approved=False)
    assert rules_of(draft(w, (w.stream_hz, "40", "041"))) == [
        ("KO1-TRN-HAZ", "error", "lines[1].transporters")
    ]


def test_hazardous_stream_with_transporter_whose_licence_expired(permit_world):
    w = permit_world
    TransporterLicence.objects.update(valid_until=timezone.localdate() - timedelta(days=1))
    assert rules_of(draft(w, (w.stream_hz, "40", "041"))) == [
        ("KO1-TRN-HAZ", "error", "lines[1].transporters")
    ]


@pytest.mark.parametrize("change", [{"gps_device_id": None}, {"gps_device_id": ""}, {"hazardous_approved": False},
                                    {"active": False}])  # fmt: skip
def test_hazardous_stream_with_transporter_without_gps_hazardous_vehicle(permit_world, change):
    w = permit_world
    Vehicle.objects.update(**change)
    assert rules_of(draft(w, (w.stream_hz, "40", "041"))) == [
        ("KO1-TRN-HAZ", "error", "lines[1].transporters")
    ]


# --- quantity -------------------------------------------------------------------------------------------------
def test_quantity_above_the_declared_stream(permit_world):
    w = permit_world
    assert rules_of(draft(w, (w.stream_hz, "100.001", "041"))) == [
        ("KO1-QTY", "error", "lines[1].quantity_t")
    ]


def test_quantity_split_over_two_lines_above_the_declared_stream(permit_world):
    w = permit_world
    app = draft(w, (w.stream_hz, "60", "041"), (w.stream_hz, "41", "011"))
    assert rules_of(app) == [
        ("KO1-QTY", "error", "lines[1].quantity_t"),
        ("KO1-QTY", "error", "lines[2].quantity_t"),
    ]


def test_quantity_split_over_two_lines_up_to_the_declared_stream(permit_world):
    w = permit_world
    assert rules_of(draft(w, (w.stream_hz, "60", "041"), (w.stream_hz, "40", "011"))) == []


# --- overlap --------------------------------------------------------------------------------------------------
def test_overlap_with_an_active_permit(permit_world):
    w = permit_world
    permit = issue_permit(w, (w.stream_hz, "40", "041"))
    app = draft(w, (w.stream_nh, "10", "011"), (w.stream_hz, "40", "041"))
    findings = apps.precheck(app)
    assert [(f.rule, f.field) for f in findings] == [("KO1-OVERLAP", "lines[2].stream")]
    assert permit.number in findings[0].message_en


def test_no_overlap_with_another_method(permit_world):
    w = permit_world
    issue_permit(w, (w.stream_hz, "40", "041"))
    assert rules_of(draft(w, (w.stream_hz, "40", "011"))) == []


def test_no_overlap_when_the_earlier_permit_was_revoked(permit_world):
    w = permit_world
    permit = issue_permit(w, (w.stream_hz, "40", "041"))
    permit_services.change_permit_state(actor=w.users["officer_a"], number=permit.number, action="revoke",
                                        reason="replaced")  # fmt: skip
    assert rules_of(draft(w, (w.stream_hz, "40", "041"))) == []


def test_no_overlap_when_the_earlier_permit_expired(permit_world):
    w = permit_world
    permit = issue_permit(w, (w.stream_hz, "40", "041"))
    assert permit_services.expire_due(today=permit.valid_until + timedelta(days=1)) == 1
    assert rules_of(draft(w, (w.stream_hz, "40", "041"))) == []


# --- generator ------------------------------------------------------------------------------------------------
def test_suspended_generator(permit_world):
    w = permit_world
    app = draft(w, (w.stream_nh, "20", "011"))
    w.gen_a.status = "suspended"
    w.gen_a.save()
    app.refresh_from_db()
    assert rules_of(app) == [("KO1-GEN-STATUS", "error", "generator.status")]


def test_generator_with_invalid_registration(permit_world):
    w = permit_world
    app = draft(w, (w.stream_nh, "20", "011"))
    w.gen_a.registration_no = "92000000000001"  # 9 is no issuing agency
    w.gen_a.save()
    app.refresh_from_db()
    assert rules_of(app) == [("KO1-GEN-REG", "error", "generator.registration_no")]


def test_application_without_lines(permit_world):
    w = permit_world
    assert rules_of(draft(w)) == [("KO1-LINES", "error", "lines")]


def test_unverified_hazard_mark_warns(permit_world):
    w = permit_world
    assert (
        WasteCode.objects.get(code="170503").th_mark == ""
        and WasteCode.objects.get(code="170503").eu_hazardous
    )
    licence().waste_codes.add("170503")
    soil = WasteStream.objects.create(generator=w.gen_a, waste_code_id="170503", name="ดินปนเปื้อน",
                                      source_process="site", physical_form="solid", annual_quantity_t=Decimal("5"))  # fmt: skip
    assert rules_of(draft(w, (soil, "5", "041"))) == [("KO1-MARK-EU", "warning", "lines[1].stream")]


# --- submission -----------------------------------------------------------------------------------------------
def post(client, url, data=None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


def test_submit_with_an_error_is_refused_and_leaves_no_trace(permit_world):
    w = permit_world
    app = draft(w, (w.stream_nh, "10", "011"), (w.stream_hz, "40", "082"))
    audits, revision = AuditRecord.objects.count(), PermitApplication.objects.get(id=app.id).revision
    r = post(w.client("gen_a"), f"/api/v1/applications/{app.id}/submit")
    assert r.status_code == 400, r.json()
    errors = r.json()["errors"]
    assert [(e["rule"], e["severity"], e["field"]) for e in errors] == [
        ("KO1-MTH-HAZ", "error", "lines[2].method")
    ]
    assert errors[0]["message_en"] and errors[0]["message_th"]
    app.refresh_from_db()
    assert app.state == "DRAFT" and app.version == 0 and app.revision == revision and app.submitted_at is None
    assert not ApplicationVersion.objects.filter(application=app).exists()
    assert AuditRecord.objects.count() == audits


def test_submit_service_raises_with_every_error(permit_world):
    w = permit_world
    app = draft(w, (w.stream_hz, "120", "082", []))
    with pytest.raises(DomainError) as exc:
        apps.submit(actor=w.users["gen_a"], application_id=app.id)
    assert {f.rule for f in exc.value.findings} == {"KO1-QTY", "KO1-MTH-HAZ", "KO1-TRN-HAZ"}
    assert all(f.severity == Severity.ERROR for f in exc.value.findings)
    assert PermitApplication.objects.get(id=app.id).state == "DRAFT"


def test_submit_with_only_warnings_is_accepted_and_stores_them(permit_world):
    w = permit_world
    ReceiverLicence.objects.update(valid_until=timezone.localdate() + timedelta(days=100))
    app = draft(w, (w.stream_hz, "40", "041"))
    r = post(w.client("gen_a_cert"), f"/api/v1/applications/{app.id}/submit")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["state"] == "SUBMITTED" and body["version"] == 1
    assert [(f["rule"], f["severity"], f["field"]) for f in body["findings"]] == [
        ("KO1-RCV-LIC-ENDS", "warning", "lines[1].receiver")]  # fmt: skip
    app.refresh_from_db()
    assert [f["rule"] for f in app.findings] == ["KO1-RCV-LIC-ENDS"]
    version = ApplicationVersion.objects.get(application=app)
    assert version.version == 1 and [f["rule"] for f in version.findings] == ["KO1-RCV-LIC-ENDS"]
    assert version.content["lines"][0]["quantity_t"] == "40.000"


def test_precheck_endpoint_reports_without_changing_anything(permit_world):
    w = permit_world
    app = draft(w, (w.stream_hz, "120", "041"))
    audits = AuditRecord.objects.count()
    r = w.client("gen_a").get(f"/api/v1/applications/{app.id}/precheck")
    assert r.status_code == 200
    assert [(f["rule"], f["field"]) for f in r.json()] == [("KO1-QTY", "lines[1].quantity_t")]
    assert PermitApplication.objects.get(id=app.id).state == "DRAFT" and AuditRecord.objects.count() == audits


# --- auto-approval --------------------------------------------------------------------------------------------
def test_every_line_covered_by_the_table_is_approved_at_once(permit_world):
    w = permit_world
    rule = auto_rule()
    app = draft(w, (w.stream_nh, "20", "082"))
    r = post(w.client("gen_a"), f"/api/v1/applications/{app.id}/submit")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (
        body["state"] == "APPROVED"
        and body["auto_decided"] is True
        and body["decided_by"] == "system:auto-approval"
    )
    assert body["permit_number"]
    assert [(ln["decision"], ln["auto_approved"], ln["approved_quantity_t"]) for ln in body["lines"]] == [
        ("approved", True, "20.000")]  # fmt: skip
    permit = Permit.objects.get(application=app)
    assert permit.number == body["permit_number"] and permit.state == "ACTIVE"
    assert [(pl.waste_code_id, pl.method_id, pl.approved_quantity_t) for pl in permit.lines.all()] == [
        ("200101", "082", Decimal("20"))]  # fmt: skip
    approve = AuditRecord.objects.get(action="application.approve", object_id=str(app.id))
    assert approve.actor == "system:auto-approval"
    assert f"#{rule.id}" in approve.note and "auto-approval table" in approve.note
    assert AuditRecord.objects.filter(action="permit.issue", actor="system:auto-approval").count() == 1


def test_only_some_lines_covered_are_marked_and_the_application_waits(permit_world):
    w = permit_world
    rule = auto_rule()
    app = draft(w, (w.stream_nh, "20", "082"), (w.stream_hz, "40", "041"))
    app, _ = apps.submit(actor=w.users["gen_a"], application_id=app.id)
    assert app.state == "SUBMITTED" and not app.auto_decided
    lines = {ln.index: ln for ln in ApplicationLine.objects.filter(application=app)}
    assert (lines[1].auto_approved, lines[1].decision, lines[1].approved_quantity_t) == (
        True,
        "approved",
        Decimal("20"),
    )
    assert f"#{rule.id}" in lines[1].decision_note
    assert (lines[2].auto_approved, lines[2].decision, lines[2].approved_quantity_t) == (
        False,
        "pending",
        None,
    )
    assert not Permit.objects.filter(application=app).exists()
    assert not AuditRecord.objects.filter(action="application.approve").exists()


def test_a_covered_line_with_a_warning_is_not_auto_approved(permit_world):
    w = permit_world
    auto_rule()
    ReceiverLicence.objects.update(valid_until=timezone.localdate() + timedelta(days=100))
    app = draft(w, (w.stream_nh, "20", "082"))
    app, findings = apps.submit(actor=w.users["gen_a"], application_id=app.id)
    assert [f.rule for f in findings] == ["KO1-RCV-LIC-ENDS"]
    assert app.state == "SUBMITTED"
    assert ApplicationLine.objects.get(application=app).auto_approved is False
    assert not Permit.objects.filter(application=app).exists()


@pytest.mark.parametrize("rule_kw", [{"receiver_type": "105"}, {"method": "011"}])
def test_a_rule_for_another_receiver_type_or_method_does_not_apply(permit_world, rule_kw):
    w = permit_world
    auto_rule(**rule_kw)
    app = draft(w, (w.stream_nh, "20", "082"))
    app, _ = apps.submit(actor=w.users["gen_a"], application_id=app.id)
    assert app.state == "SUBMITTED" and not ApplicationLine.objects.get(application=app).auto_approved


def test_a_retired_rule_does_not_apply(permit_world):
    w = permit_world
    rule = auto_rule()
    rule.active = False
    rule.save()
    app, _ = apps.submit(actor=w.users["gen_a"], application_id=draft(w, (w.stream_nh, "20", "082")).id)
    assert app.state == "SUBMITTED" and not Permit.objects.filter(application=app).exists()


def test_resubmission_recomputes_the_auto_approval_marks(permit_world):
    """A line auto-approved at the first submission and then changed so the table no longer covers it must not
    stay marked approved on the next version."""
    w = permit_world
    auto_rule()
    app = draft(w, (w.stream_nh, "20", "082"), (w.stream_hz, "40", "041"))
    apps.submit(actor=w.users["gen_a"], application_id=app.id)
    assert ApplicationLine.objects.get(application=app, index=1).auto_approved
    review.take(actor=w.users["officer_a"], application_id=app.id)
    review.request_info(actor=w.users["officer_a"], application_id=app.id, reason="use recycling instead")
    apps.update_line(actor=w.users["gen_a"], application_id=app.id, index=1, data=LinePatch(method="011"))
    app, _ = apps.submit(actor=w.users["gen_a"], application_id=app.id)
    assert app.state == "SUBMITTED" and app.version == 2
    line1 = ApplicationLine.objects.get(application=app, index=1)
    assert (line1.auto_approved, line1.decision, line1.approved_quantity_t) == (False, "pending", None)
