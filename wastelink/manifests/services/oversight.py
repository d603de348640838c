"""What officers watch: overdue manifests, discrepancies to review, and the mass balance that reconciles the
generators' "out" with the receivers' "in"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from wastelink.accounts.access import require, visible_establishments
from wastelink.accounts.models import User
from wastelink.audit import services as audit
from wastelink.core.manifest_rules import Balance, DeadlineFacts, ShipmentFacts, mass_balance, overdue_reasons
from wastelink.manifests.access import is_officer_for, visible_manifests
from wastelink.manifests.models import Manifest
from wastelink.permits.models import WasteStream
from wastelink.permits.services.common import bad

from .custody import get_manifest, tolerance


def officers_for(m: Manifest) -> list[User]:
    estates = {e for e in (m.generator.estate_id, m.receiver.estate_id) if e}
    if not estates:
        return list(User.objects.filter(role="regulator", is_active=True))
    return list(User.objects.filter(role="estate_officer", organisation__estates__in=estates, is_active=True).distinct())


def _deadlines() -> tuple[int, int]:
    cfg = settings.WASTELINK
    return cfg["MANIFEST_RECEIPT_HOURS"], cfg["MANIFEST_TRANSIT_GRACE_HOURS"]


def overdue(m: Manifest, now: datetime | None = None) -> list[str]:
    receipt, grace = _deadlines()
    return overdue_reasons(DeadlineFacts(m.state, m.delivered_at, m.expected_arrival_at), now or timezone.now(),
                           receipt_hours=receipt, transit_grace_hours=grace)  # fmt: skip


@dataclass(frozen=True)
class OverdueItem:
    manifest: Manifest
    reasons: list[str]
    late_by: timedelta


def overdue_manifests(*, actor, now: datetime | None = None) -> list[OverdueItem]:
    """Loads past their deadline, the latest first: not received in time, or not arrived within the window."""
    now = now or timezone.now()
    receipt, grace = _deadlines()
    qs = visible_manifests(actor).filter(
        Q(state="DELIVERED", delivered_at__lt=now - timedelta(hours=receipt))
        | Q(state__in=["SCHEDULED", "IN_TRANSIT"], expected_arrival_at__lt=now - timedelta(hours=grace)))
    items = []
    for m in qs:
        reasons = overdue(m, now)
        deadline = (m.delivered_at + timedelta(hours=receipt)) if "receipt" in reasons else (
            m.expected_arrival_at + timedelta(hours=grace))  # fmt: skip
        items.append(OverdueItem(m, reasons, now - deadline))
    items.sort(key=lambda i: i.late_by, reverse=True)
    return items


def open_discrepancies(*, actor):
    return visible_manifests(actor).filter(discrepancy=True, discrepancy_reviewed_by="").order_by("received_at")


@transaction.atomic
def explain_discrepancy(*, actor, number: str, code: str, reason: str, new_waste_code: str | None) -> Manifest:
    from wastelink.core.roles import Role
    from wastelink.manifests.access import acts_for
    from wastelink.registry.models import WasteCode

    m = get_manifest(actor=actor, number=number)
    require(acts_for(actor, m.receiver_id, {Role.RECEIVER_OPERATOR, Role.RECEIVER_CERTIFIER}), "number",
            "this manifest's discrepancy", "ความคลาดเคลื่อนของเอกสารนี้")  # fmt: skip
    if not m.discrepancy or m.discrepancy_reviewed_by:
        raise bad("discrepancy.none_open", "number", "there is no open discrepancy on this manifest",
                  "ไม่มีความคลาดเคลื่อนที่รอคำอธิบาย")  # fmt: skip
    new = None
    if code == "B":
        new = WasteCode.objects.filter(code=(new_waste_code or "").replace(" ", ""), level="entry").first()
        if new is None:
            raise bad("discrepancy.new_code", "new_waste_code", "code B needs the waste number actually received",
                      "รหัส B ต้องระบุรหัสของเสียที่ได้รับจริง")  # fmt: skip
    before = audit.snapshot(m)
    Manifest.objects.filter(id=m.id).update(discrepancy_code=code, discrepancy_reason=reason, discrepancy_new_code=new)
    m.refresh_from_db()
    audit.record(actor=actor, action="manifest.discrepancy.explain", obj=m, before=before, after=audit.snapshot(m))
    return m


@transaction.atomic
def review_discrepancy(*, actor, number: str, note: str) -> Manifest:
    m = get_manifest(actor=actor, number=number)
    require(is_officer_for(actor, m), "number", "the review of this discrepancy", "การตรวจสอบความคลาดเคลื่อนนี้")
    if not m.discrepancy or m.discrepancy_reviewed_by:
        raise bad("discrepancy.none_open", "number", "there is no open discrepancy on this manifest",
                  "ไม่มีความคลาดเคลื่อนที่รอการตรวจสอบ")  # fmt: skip
    if not m.discrepancy_code:
        raise bad("discrepancy.unexplained", "number", "the receiver has not explained the discrepancy yet",
                  "ผู้รับยังไม่ได้อธิบายความคลาดเคลื่อน")  # fmt: skip
    before = audit.snapshot(m)
    Manifest.objects.filter(id=m.id).update(discrepancy_reviewed_by=audit.actor_name(actor), discrepancy_review_note=note)
    m.refresh_from_db()
    audit.record(actor=actor, action="manifest.discrepancy.review", obj=m, before=before, after=audit.snapshot(m),
                 note=note)  # fmt: skip
    return m


@dataclass(frozen=True)
class StreamBalance:
    stream: WasteStream
    balance: Balance


def balance_report(*, actor, date_from: date, date_to: date, generator_id: int | None = None) -> list[StreamBalance]:
    """Per generator stream over [date_from, date_to]: declared (the yearly figure pro rata) vs shipped vs
    received vs treated, from the manifests picked up in the period."""
    if date_to < date_from:
        raise bad("period.order", "date_to", "the period ends before it starts", "ช่วงเวลาไม่ถูกต้อง")
    if (date_to - date_from).days > 3 * 366:
        raise bad("period.length", "date_to", "ask for at most three years at a time", "ขอได้ไม่เกินสามปีต่อครั้ง")
    generators = visible_establishments(actor).filter(is_generator=True)
    if generator_id:
        generators = generators.filter(id=generator_id)
    streams = list(WasteStream.objects.filter(generator__in=generators).select_related("generator", "waste_code"))
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(date_from, time.min), tz)
    end = timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min), tz)
    by_stream: dict[int, list[ShipmentFacts]] = {}
    now = timezone.now()
    manifests = Manifest.objects.filter(permit_line__stream__in=streams, picked_up_at__gte=start, picked_up_at__lt=end)
    for m in manifests.select_related("permit_line"):
        by_stream.setdefault(m.permit_line.stream_id, []).append(ShipmentFacts(
            state=m.state, declared_t=m.declared_t,
            received_t=(m.received_kg / 1000) if m.received_kg is not None else None,
            final_method=m.final_method_id, permitted_method=m.permit_line.method_id, overdue=bool(overdue(m, now))))  # fmt: skip
    days = Decimal((date_to - date_from).days + 1)
    out = []
    for s in streams:
        declared = (s.annual_quantity_t * days / Decimal(365)).quantize(Decimal("0.001"))
        out.append(StreamBalance(s, mass_balance(declared, by_stream.get(s.id, []), tolerance())))
    return out
