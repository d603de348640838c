"""Permits after issue: suspend, reinstate, revoke (reason required), expire at the end of validity."""

from __future__ import annotations

import hmac
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wastelink.accounts.access import require
from wastelink.audit import services as audit
from wastelink.core.findings import DomainError
from wastelink.core.permit_states import PermitState, TransitionRefused, next_permit_state
from wastelink.permits.access import can_supervise_permit, visible_permits
from wastelink.permits.models import Permit

from .common import generator_users, not_found, notify, refused, stale

LABELS = {"suspend": ("suspended", "ถูกพักใช้"), "reinstate": ("reinstated", "กลับมามีผล"),
          "revoke": ("revoked", "ถูกเพิกถอน"), "expire": ("expired", "หมดอายุ")}  # fmt: skip


def get_permit(*, actor, number: str) -> Permit:
    permit = visible_permits(actor).filter(number=number).first()
    if permit is None:
        raise not_found("permit", "ใบอนุญาต", "number")
    return permit


@transaction.atomic
def change_permit_state(*, actor, number: str, action: str, reason: str) -> Permit:
    permit = get_permit(actor=actor, number=number)
    require(can_supervise_permit(actor, permit), "number", "this permit", "ใบอนุญาตนี้")
    return _apply(actor, permit, action, reason)


def _apply(actor, permit: Permit, action: str, reason: str) -> Permit:
    try:
        target = next_permit_state(permit.state, action)
    except TransitionRefused as exc:
        raise refused(exc) from exc
    before = audit.snapshot(permit)
    updated = Permit.objects.filter(id=permit.id, state=permit.state).update(
        state=target.value, state_reason=reason, state_changed_at=timezone.now(), revision=F("revision") + 1)  # fmt: skip
    if not updated:
        raise stale()
    permit.refresh_from_db()
    audit.record(actor=actor, action=f"permit.{action}", obj=permit, before=before, after=audit.snapshot(permit),
                 note=reason)  # fmt: skip
    en, th = LABELS[action]
    notify(generator_users(permit.generator_id), title_en=f"Permit {permit.number} {en}",
           title_th=f"ใบอนุญาตเลขที่ {permit.number} {th}", url=f"/permits/{permit.number}/")  # fmt: skip
    return permit


def expire_due(*, today: date | None = None) -> int:
    """Mark permits past their validity EXPIRED (each audited). Cheap when nothing is due."""
    today = today or timezone.localdate()
    done = 0
    for permit in Permit.objects.filter(state__in=[PermitState.ACTIVE, PermitState.SUSPENDED], valid_until__lt=today):
        with transaction.atomic():
            try:
                _apply("system:expiry", permit, "expire", f"validity ended on {permit.valid_until.isoformat()}")
                done += 1
            except DomainError:  # changed meanwhile (409): picked up next round if still due
                continue
    return done


def verify_public(*, number: str, code: str) -> Permit | None:
    """The public verification lookup: both the number and the code from the certificate's QR must match."""
    permit = Permit.objects.select_related("generator").filter(number=number).first()
    if permit is None or not code or not hmac.compare_digest(permit.verification_code, code):
        return None
    return permit
