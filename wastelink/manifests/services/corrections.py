"""Corrections after signatures (a new version with a reason) and linked manifests for rejected loads."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wastelink.accounts.access import require
from wastelink.audit import services as audit
from wastelink.core.roles import Role
from wastelink.manifests.access import GENERATOR, TRANSPORTER, acts_for, is_officer_for
from wastelink.manifests.models import Manifest, ManifestVersion
from wastelink.manifests.schemas import CorrectionIn, ManifestIn, RerouteIn
from wastelink.permits.services.common import bad
from wastelink.registry.models import Driver

from .custody import create_manifest, get_manifest
from .document import document_of

CORRECTABLE = ("driver_id", "container_type", "container_count", "physical_form", "expected_arrival_at", "route")
TRANSPORTER_CORRECTABLE = frozenset({"driver_id", "expected_arrival_at", "route"})


def _ensure_first_version(m: Manifest) -> None:
    if not m.versions.exists():
        ManifestVersion.objects.create(manifest=m, version=m.version, content=document_of(m),
                                       created_by=m.created_by, reason="as signed")  # fmt: skip


@transaction.atomic
def correct(*, actor, number: str, data: CorrectionIn) -> Manifest:
    """Change facts after signing: the generator (before receipt), the transporter (driver, arrival time) or an
    officer. The earlier version stays readable, and the change names the fields."""
    m = get_manifest(actor=actor, number=number)
    as_generator = acts_for(actor, m.generator_id, GENERATOR)
    as_transporter = acts_for(actor, m.transporter_id, TRANSPORTER)
    as_officer = is_officer_for(actor, m)
    require(as_generator or as_transporter or as_officer, "number", "this manifest", "เอกสารนี้")
    if m.state in ("DRAFT", "CANCELLED", "COMPLETED"):
        raise bad("manifest.correct_state", "number",
                  "a draft is edited directly; cancelled and completed manifests are closed",
                  "ฉบับร่างแก้ไขได้โดยตรง ส่วนเอกสารที่ยกเลิกหรือเสร็จสิ้นแล้วแก้ไขไม่ได้")  # fmt: skip
    changes: dict[str, Any] = {k: v for k, v in data.model_dump(exclude_unset=True).items() if k in CORRECTABLE}
    changes = {k: v for k, v in changes.items() if v is not None}
    if data.route_id is not None:  # the transporter (or the generator) picks an approved route
        from .route_library import library_route

        chosen = library_route(data.route_id, m.generator_id, m.receiver_id)
        changes["route"], changes["corridor_width_m"] = chosen.geometry, chosen.corridor_width_m
    elif "route" in changes:
        from .route_library import checked_route

        checked_route(changes["route"])
    if not changes:
        raise bad("correction.empty", "body", "nothing to correct", "ไม่มีข้อมูลที่ต้องแก้ไข")
    if not as_officer:
        # The generator corrects until the receiver has signed; the transporter only its own facts.
        require(not as_generator or m.state != "RECEIVED", "number", "this manifest after receipt (an officer may)",
                "เอกสารนี้หลังผู้รับลงนามแล้ว (เจ้าหน้าที่แก้ไขได้)")  # fmt: skip
        require(not as_transporter or set(changes) - {"corridor_width_m"} <= TRANSPORTER_CORRECTABLE, "number",
                "more than the driver and the arrival time", "ข้อมูลอื่นนอกจากพนักงานขับรถและเวลาถึง")  # fmt: skip
    if "driver_id" in changes and not Driver.objects.filter(id=changes["driver_id"], transporter_id=m.transporter_id).exists():
        raise bad("driver.unknown", "driver_id", "no such driver of this transporter", "ไม่พบพนักงานขับรถนี้")
    if "expected_arrival_at" in changes and changes["expected_arrival_at"] <= m.planned_pickup_at:
        raise bad("manifest.window", "expected_arrival_at", "the expected arrival must be after the planned pickup",
                  "เวลาถึงที่คาดต้องหลังเวลารับของ")  # fmt: skip
    m = Manifest.objects.select_for_update().get(id=m.id)
    _ensure_first_version(m)
    before = audit.snapshot(m)
    changed = sorted(k for k, v in changes.items() if getattr(m, k) != v)
    if not changed:
        raise bad("correction.empty", "body", "nothing to correct: every value given is the current one",
                  "ไม่มีข้อมูลที่ต้องแก้ไข: ค่าที่ให้มาเหมือนเดิมทั้งหมด")  # fmt: skip
    for k, v in changes.items():
        setattr(m, k, v)
    m.version += 1
    m.revision += 1
    m.save()
    ManifestVersion.objects.create(manifest=m, version=m.version, content=document_of(m), reason=data.reason,
                                   changed=changed, created_by=audit.actor_name(actor))  # fmt: skip
    audit.record(actor=actor, action="manifest.correct", obj=m, before=before, after=audit.snapshot(m),
                 note=f"version {m.version}: {', '.join(changed)}; {data.reason}")  # fmt: skip
    return m


@transaction.atomic
def reroute(*, actor, number: str, data: RerouteIn) -> Manifest:
    """A rejected or partly rejected load goes back to the generator, or on to an alternate receiver, on a new
    manifest linked to this one. Created by the generator (it stays liable for its waste)."""
    m = get_manifest(actor=actor, number=number)
    require(acts_for(actor, m.generator_id, GENERATOR) or acts_for(actor, m.generator_id, {Role.GENERATOR_CERTIFIER}),
            "number", "this manifest", "เอกสารนี้")  # fmt: skip
    if m.state not in ("RECEIVED", "COMPLETED") or m.acceptance not in ("partial", "rejected"):
        raise bad("reroute.not_rejected", "number", "only a rejected or partly rejected load is sent on",
                  "ส่งต่อได้เฉพาะของที่ถูกปฏิเสธทั้งหมดหรือบางส่วน")  # fmt: skip
    if data.relation == "alternate":
        if not (data.permit_number and data.permit_line):
            raise bad("reroute.permit", "permit_number", "name the permit line covering the alternate receiver",
                      "ระบุรายการในใบอนุญาตที่ครอบคลุมผู้รับรายใหม่")  # fmt: skip
        permit_number, permit_line = data.permit_number, data.permit_line
    else:
        permit_number, permit_line = m.permit_line.permit.number, m.permit_line.index
    child = create_manifest(actor=actor, generator_id=m.generator_id, parent=m, relation=data.relation, data=ManifestIn(
        permit_number=permit_number, permit_line=permit_line, vehicle_id=data.vehicle_id,
        declared_quantity=data.quantity_kg, unit="kg", container_type=m.container_type,
        container_count=m.container_count, physical_form=m.physical_form,
        planned_pickup_at=data.planned_pickup_at, expected_arrival_at=data.expected_arrival_at))  # fmt: skip
    if data.relation == "return":
        # Back to where it came from: the generator receives it; the permit line is not drawn again.
        Manifest.objects.filter(id=child.id).update(receiver_id=m.generator_id, revision=F("revision") + 1)
        child.refresh_from_db()
    audit.record(actor=actor, action="manifest.reroute", obj=child, after=audit.snapshot(child),
                 note=f"{data.relation} of {m.number} at {timezone.now().isoformat()}")  # fmt: skip
    return child
