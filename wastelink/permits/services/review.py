"""Officer review: the queue, taking an application, asking for information, deciding line by line.

Every transition is a conditional UPDATE on the current state: when two officers act at once, one wins and the
other gets 409; a transition the state machine does not allow is 409 as well.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from wastelink.accounts.access import require, role_of
from wastelink.audit import services as audit
from wastelink.core.permit_states import (
    ApplicationState,
    TransitionRefused,
    decision_outcome,
    next_application_state,
)
from wastelink.core.roles import Role
from wastelink.permits.access import can_review, visible_applications
from wastelink.permits.models import ApplicationLine, Permit, PermitApplication, PermitLine
from wastelink.permits.schemas import DecisionIn

from .common import bad, establishment_users, generator_users, next_number, notify, refused, stale
from .facts import requested_period

A = ApplicationState


@dataclass(frozen=True)
class QueueItem:
    application: PermitApplication
    waiting_days: int
    overdue: bool


def review_queue(*, actor, now: datetime | None = None) -> list[QueueItem]:
    """Applications waiting for this officer's decision: overdue first, then the longest waiting."""
    now = now or timezone.now()
    target = settings.WASTELINK["PERMIT_REVIEW_TARGET_DAYS"]
    qs: QuerySet[PermitApplication] = visible_applications(actor).filter(
        state__in=[A.SUBMITTED.value, A.UNDER_REVIEW.value])
    role = role_of(actor)
    if role not in (Role.REGULATOR, Role.ESTATE_OFFICER, Role.HQ_OFFICER, Role.ADMIN):
        return []  # only those who decide have a queue
    if role == Role.REGULATOR:
        qs = qs.filter(route=PermitApplication.Route.REGULATOR)
    elif role in (Role.ESTATE_OFFICER, Role.HQ_OFFICER):
        qs = qs.filter(route=PermitApplication.Route.ESTATE)
    items = []
    for app in qs.select_related("generator", "estate", "assigned_to"):
        days = (now - (app.first_submitted_at or app.submitted_at or now)).days
        items.append(QueueItem(app, days, days > target))
    items.sort(key=lambda i: (not i.overdue, -i.waiting_days, i.application.id))
    return items


def _for_review(actor, application_id: int) -> PermitApplication:
    app = visible_applications(actor).filter(id=application_id).first()
    if app is None:
        from .common import not_found

        raise not_found("application", "คำขอ", "application_id")
    require(can_review(actor, app), "application_id", "decisions on this application", "การพิจารณาคำขอนี้")
    return app


def _transition(app: PermitApplication, action: str, **fields) -> PermitApplication:
    """Move from the state read to the next one, only if nobody moved it meanwhile."""
    try:
        target = next_application_state(app.state, action)
    except TransitionRefused as exc:
        raise refused(exc) from exc
    fields.setdefault("state", target.value)
    updated = PermitApplication.objects.filter(id=app.id, state=app.state).update(revision=F("revision") + 1, **fields)
    if not updated:
        current = PermitApplication.objects.filter(id=app.id).values_list("state", flat=True).first()
        raise refused(TransitionRefused(action, current)) if current != app.state else stale()
    app.refresh_from_db()
    return app


@transaction.atomic
def take(*, actor, application_id: int) -> PermitApplication:
    app = _for_review(actor, application_id)
    before = audit.snapshot(app)
    app = _transition(app, "take", assigned_to=actor)
    audit.record(actor=actor, action="application.take", obj=app, before=before, after=audit.snapshot(app))
    return app


@transaction.atomic
def request_info(*, actor, application_id: int, reason: str) -> PermitApplication:
    app = _for_review(actor, application_id)
    before = audit.snapshot(app)
    app = _transition(app, "request_info", info_request=reason)
    audit.record(actor=actor, action="application.request_info", obj=app, before=before, after=audit.snapshot(app),
                 note=reason)  # fmt: skip
    notify(generator_users(app.generator_id), title_en=f"More information is needed for {app.reference}",
           title_th=f"เจ้าหน้าที่ขอข้อมูลเพิ่มเติมสำหรับคำขอ {app.reference}", url=f"/applications/{app.id}/")  # fmt: skip
    return app


@transaction.atomic
def reject(*, actor, application_id: int, reason: str) -> PermitApplication:
    app = _for_review(actor, application_id)
    before = audit.snapshot(app)
    now = timezone.now()
    app = _transition(app, "reject", decided_at=now, decided_by=audit.actor_name(actor), decision_reason=reason)
    ApplicationLine.objects.filter(application=app).update(decision=ApplicationLine.Decision.REJECTED,
                                                           approved_quantity_t=None, auto_approved=False)  # fmt: skip
    audit.record(actor=actor, action="application.reject", obj=app, before=before, after=audit.snapshot(app),
                 note=reason)  # fmt: skip
    _notify_decision(app)
    return app


@transaction.atomic
def decide(*, actor, application_id: int, data: DecisionIn) -> PermitApplication:
    """Decide every line: approve (with an optional quantity cap and conditions) or reject."""
    app = _for_review(actor, application_id)
    if app.state != A.UNDER_REVIEW.value:  # "approve" may leave SUBMITTED only for the auto-approval table
        raise refused(TransitionRefused("decide", app.state))
    lines = {ln.index: ln for ln in app.lines.select_related("stream")}
    given = {d.index: d for d in data.lines}
    if len(given) != len(data.lines):
        raise bad("decision.duplicate", "lines", "each line may be decided once", "ตัดสินแต่ละรายการได้ครั้งเดียว")
    missing = sorted(set(lines) - set(given))
    unknown = sorted(set(given) - set(lines))
    if unknown:
        raise bad("decision.unknown_line", "lines", f"no such line(s): {unknown}", f"ไม่มีรายการ {unknown}")
    if missing:
        raise bad("decision.missing_line", "lines", f"decide every line; missing: {missing}",
                  f"ต้องตัดสินทุกรายการ ยังขาด: {missing}")  # fmt: skip
    for d in data.lines:
        if d.approve and d.approved_quantity_t is not None and d.approved_quantity_t > lines[d.index].quantity_t:
            raise bad("decision.cap", f"lines[{d.index}].approved_quantity_t",
                      "the approved quantity may not exceed the quantity applied for",
                      "ปริมาณที่อนุญาตต้องไม่เกินปริมาณที่ขอ")  # fmt: skip
    outcome = decision_outcome([given[i].approve for i in sorted(lines)])
    if outcome == A.REJECTED and not data.reason.strip():
        raise bad("decision.reason", "reason", "a rejection needs a reason", "การไม่อนุญาตต้องระบุเหตุผล")
    action = {A.APPROVED: "approve", A.PARTIALLY_APPROVED: "partially_approve", A.REJECTED: "reject"}[outcome]
    before = audit.snapshot(app)
    now = timezone.now()
    app = _transition(app, action, decided_at=now, decided_by=audit.actor_name(actor), decision_reason=data.reason)
    for index, ln in lines.items():
        d = given[index]
        ln.decision = ApplicationLine.Decision.APPROVED if d.approve else ApplicationLine.Decision.REJECTED
        ln.approved_quantity_t = (d.approved_quantity_t or ln.quantity_t) if d.approve else None
        ln.conditions, ln.decision_note = d.conditions, d.note
        ln.save(update_fields=["decision", "approved_quantity_t", "conditions", "decision_note"])
    audit.record(actor=actor, action=f"application.{action}", obj=app, before=before, after=audit.snapshot(app),
                 note=data.reason)  # fmt: skip
    if outcome != A.REJECTED:
        issue_permit(actor=actor, application=app, conditions=data.conditions)
    _notify_decision(app)
    return app


def approve_by_table(app: PermitApplication, auto_lines) -> None:
    """Every line is covered by the auto-approval table: approve now, as the regulator's automatic e-licence does."""
    actor = "system:auto-approval"
    before = audit.snapshot(app)
    now = timezone.now()
    app = _transition(app, "approve", decided_at=now, decided_by=actor, auto_decided=True,
                      decision_reason="auto-approval table")  # fmt: skip
    for ln, rule in auto_lines:
        ApplicationLine.objects.filter(id=ln.id).update(
            decision=ApplicationLine.Decision.APPROVED, approved_quantity_t=ln.quantity_t, auto_approved=True,
            decision_note=f"auto-approval table rule #{rule.id}")  # fmt: skip
    rules = ", ".join(f"#{rule.id} ({rule})" for _, rule in auto_lines)
    audit.record(actor=actor, action="application.approve", obj=app, before=before, after=audit.snapshot(app),
                 note=f"decided by the auto-approval table: {rules}")  # fmt: skip
    issue_permit(actor=actor, application=app, conditions="")
    _notify_decision(app)


def issue_permit(*, actor, application: PermitApplication, conditions: str) -> Permit:
    start, end = requested_period()
    permit = Permit.objects.create(
        number=next_number("KO1"), application=application, generator=application.generator,
        estate=application.estate, valid_from=start, valid_until=end, conditions=conditions,
        issued_at=timezone.now(), issued_by=audit.actor_name(actor), verification_code=secrets.token_urlsafe(9)[:12],
    )  # fmt: skip
    approved = application.lines.filter(decision=ApplicationLine.Decision.APPROVED).prefetch_related("transporters")
    for n, ln in enumerate(approved.select_related("stream").order_by("index"), start=1):
        pl = PermitLine.objects.create(
            permit=permit, index=n, application_line=ln, stream=ln.stream, waste_code_id=ln.stream.waste_code_id,
            method_id=ln.method_id, receiver_id=ln.receiver_id, approved_quantity_t=ln.approved_quantity_t,
            remaining_quantity_t=ln.approved_quantity_t, conditions=ln.conditions,
        )  # fmt: skip
        pl.transporters.set(ln.transporters.all())
    audit.record(actor=actor, action="permit.issue", obj=permit, after=audit.snapshot(permit))
    return permit


def _notify_decision(app: PermitApplication) -> None:
    label = {A.APPROVED.value: ("approved", "อนุญาต"), A.PARTIALLY_APPROVED.value: ("partially approved", "อนุญาตบางรายการ"),
             A.REJECTED.value: ("rejected", "ไม่อนุญาต")}[app.state]  # fmt: skip
    parties = set(app.lines.values_list("receiver_id", flat=True)) | set(
        app.lines.values_list("transporters__id", flat=True)) - {None}  # fmt: skip
    users = list(generator_users(app.generator_id))
    if app.state != A.REJECTED.value:
        users += list(establishment_users(parties))
    notify(users, title_en=f"กอ.1 application {app.reference}: {label[0]}",
           title_th=f"คำขอ กอ.1 เลขที่ {app.reference}: {label[1]}", url=f"/applications/{app.id}/")  # fmt: skip
