"""Custody of a load: draft → schedule (generator signs; permit quantity drawn) → pickup (transporter signs) →
deliver → receive (receiver signs with the weighed quantity) → complete; cancel before pickup.

Each step is a conditional UPDATE on the state read, so concurrent steps get 409; signatures are checked against
the order generator → transporter → receiver and against the hash of the document the signer was shown.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from wastelink.accounts.access import require
from wastelink.audit import services as audit
from wastelink.core.findings import Conflict, Finding, error, warning
from wastelink.core.manifest_rules import (
    ManifestState,
    ManifestTransitionRefused,
    SignerRole,
    Tolerance,
    is_discrepant,
    next_state,
    signature_in_order,
    to_tonnes,
)
from wastelink.core.permit_states import PermitState
from wastelink.core.roles import Role
from wastelink.core.waste_codes import is_hazardous
from wastelink.manifests.access import GENERATOR, RECEIVER, TRANSPORTER, acts_for, visible_manifests
from wastelink.manifests.models import Manifest, Signature
from wastelink.manifests.schemas import CompleteIn, ManifestIn, ReceiveIn, SignIn
from wastelink.permits.models import PermitLine
from wastelink.permits.services.common import bad, establishment_users, next_number, not_found, notify
from wastelink.registry.models import Driver, ManagementMethod, Vehicle, WasteCode

from .document import document_hash

M = ManifestState


def tolerance() -> Tolerance:
    cfg = settings.WASTELINK
    return Tolerance(Decimal(str(cfg["MANIFEST_TOLERANCE_FRACTION"])), Decimal(str(cfg["MANIFEST_TOLERANCE_MIN_KG"])))


def get_manifest(*, actor, number: str) -> Manifest:
    if "\x00" in number:  # no manifest number holds one, and PostgreSQL cannot compare it
        raise not_found("manifest", "เอกสารกำกับการขนส่ง", "number")
    m = visible_manifests(actor).select_related("permit_line__permit", "driver").filter(number=number).first()
    if m is None:
        raise not_found("manifest", "เอกสารกำกับการขนส่ง", "number")
    return m


def _refused(exc: ManifestTransitionRefused) -> Conflict:
    return Conflict(error("state.transition", "state", str(exc), f"ทำรายการ '{exc.action}' ไม่ได้ในสถานะ {exc.state}"))


def _move(m: Manifest, action: str, **fields) -> Manifest:
    try:
        target = next_state(m.state, action)
    except ManifestTransitionRefused as exc:
        raise _refused(exc) from exc
    updated = Manifest.objects.filter(id=m.id, state=m.state).update(state=target.value, revision=F("revision") + 1,
                                                                      **fields)  # fmt: skip
    if not updated:
        current = Manifest.objects.filter(id=m.id).values_list("state", flat=True).first()
        raise _refused(ManifestTransitionRefused(action, current or "?"))
    m.refresh_from_db()
    return m


def _sign(actor, m: Manifest, role: SignerRole, data: SignIn) -> Signature:
    """Record a signature: in order, once per role, over the document the signer was shown."""
    signed = list(m.signatures.order_by("signed_at", "id").values_list("role", flat=True))
    if not signature_in_order(signed, role):
        raise Conflict(error("signature.order", "role", f"the {role.value} may not sign now: signatures go generator "
                             "→ transporter → receiver", "ลงนามผิดลำดับ: ผู้ก่อกำเนิด → ผู้ขนส่ง → ผู้รับ"))  # fmt: skip
    current = document_hash(m)
    if data.document_sha256 != current:
        raise Conflict(error("signature.document_changed", "document_sha256",
                             "the manifest changed since you viewed it; review it again before signing",
                             "เอกสารมีการเปลี่ยนแปลงหลังจากที่ท่านเปิดดู กรุณาตรวจสอบอีกครั้งก่อนลงนาม"))  # fmt: skip
    try:
        with transaction.atomic():
            return Signature.objects.create(manifest=m, role=role.value, signer=actor,
                                            signer_name=actor.get_full_name() or actor.username,
                                            signed_at=timezone.now(), document_sha256=current,
                                            manifest_version=m.version)  # fmt: skip
    except IntegrityError as exc:
        raise Conflict(error("signature.duplicate", "role", f"the {role.value} has signed already",
                             "ลงนามแล้ว")) from exc  # fmt: skip


def _permit_line(actor_generator_id: int, number: str, index: int) -> PermitLine:
    line = (PermitLine.objects.select_related("permit", "waste_code", "receiver")
            .filter(permit__number=number, index=index, permit__generator_id=actor_generator_id).first())  # fmt: skip
    if line is None:
        raise bad("permit_line.unknown", "permit_line", "no such line on a permit of your factory",
                  "ไม่พบรายการนี้ในใบอนุญาตของโรงงาน")  # fmt: skip
    today = timezone.localdate()
    if line.permit.state != PermitState.ACTIVE or not (line.permit.valid_from <= today <= line.permit.valid_until):
        raise bad("permit.not_active", "permit_number", f"permit {number} is not in force ({line.permit.state})",
                  f"ใบอนุญาต {number} ไม่มีผลใช้บังคับ")  # fmt: skip
    return line


def _check_vehicle(line: PermitLine, vehicle_id: int, driver_id: int | None) -> tuple[Vehicle, Driver | None]:
    vehicle = Vehicle.objects.select_related("transporter").filter(id=vehicle_id, active=True).first()
    if vehicle is None:
        raise bad("vehicle.unknown", "vehicle_id", "no such active vehicle", "ไม่พบยานพาหนะนี้")
    if not line.transporters.filter(id=vehicle.transporter_id).exists():
        raise bad("vehicle.transporter", "vehicle_id", "the vehicle's transporter is not named on the permit line",
                  "ผู้ขนส่งของยานพาหนะนี้ไม่ได้ระบุไว้ในใบอนุญาต")  # fmt: skip
    if is_hazardous(line.waste_code.mark) and not (vehicle.hazardous_approved and vehicle.gps_device_id):
        raise bad("vehicle.hazardous", "vehicle_id", "hazardous waste needs an approved vehicle with a GPS device",
                  "ของเสียอันตรายต้องใช้ยานพาหนะที่ได้รับอนุญาตและติดตั้ง GPS")  # fmt: skip
    driver = None
    if driver_id is not None:
        driver = Driver.objects.filter(id=driver_id, transporter_id=vehicle.transporter_id).first()
        if driver is None:
            raise bad("driver.unknown", "driver_id", "no such driver of this transporter", "ไม่พบพนักงานขับรถนี้")
    return vehicle, driver


@transaction.atomic
def create_manifest(*, actor, data: ManifestIn, generator_id: int | None = None, parent: Manifest | None = None,
                    relation: str = "") -> Manifest:  # fmt: skip
    from wastelink.accounts.access import own_establishment_id

    generator_id = generator_id or own_establishment_id(actor)
    require(generator_id is not None and acts_for(actor, generator_id, GENERATOR), "generator",
            "manifests of this factory", "เอกสารกำกับการขนส่งของโรงงานนี้")  # fmt: skip
    line = _permit_line(generator_id, data.permit_number, data.permit_line)
    vehicle, driver = _check_vehicle(line, data.vehicle_id, data.driver_id)
    if data.expected_arrival_at <= data.planned_pickup_at:
        raise bad("manifest.window", "expected_arrival_at", "the expected arrival must be after the planned pickup",
                  "เวลาถึงที่คาดต้องหลังเวลารับของ")  # fmt: skip
    declared_t = to_tonnes(data.declared_quantity, data.unit)
    if declared_t * 1000 > vehicle.capacity_kg * Decimal("1.1"):
        raise bad("manifest.capacity", "declared_quantity", f"more than the vehicle carries ({vehicle.capacity_kg} kg)",
                  f"เกินความจุของยานพาหนะ ({vehicle.capacity_kg} กก.)")  # fmt: skip
    route, width = data.route, data.corridor_width_m
    if data.route_id is not None:
        from .route_library import library_route

        chosen = library_route(data.route_id, generator_id, line.receiver_id)
        route, width = chosen.geometry, chosen.corridor_width_m
    elif route is not None:
        from .route_library import checked_route

        checked_route(route)
    m = Manifest.objects.create(
        number=next_number("MF"), permit_line=line, generator_id=generator_id, transporter=vehicle.transporter,
        receiver=line.receiver, vehicle=vehicle, driver=driver, waste_code=line.waste_code,
        declared_quantity=data.declared_quantity, unit=data.unit, declared_t=declared_t,
        container_type=data.container_type, container_count=data.container_count, physical_form=data.physical_form,
        planned_pickup_at=data.planned_pickup_at, expected_arrival_at=data.expected_arrival_at, route=route,
        corridor_width_m=width, created_by=audit.actor_name(actor), parent=parent, relation=relation,
    )  # fmt: skip
    audit.record(actor=actor, action="manifest.create", obj=m, after=audit.snapshot(m))
    return m


@transaction.atomic
def schedule(*, actor, number: str, data: SignIn) -> Manifest:
    """The generator's certifier signs; the declared quantity is drawn from the permit line, atomically."""
    m = get_manifest(actor=actor, number=number)
    require(acts_for(actor, m.generator_id, {Role.GENERATOR_CERTIFIER}), "number",
            "this manifest (the generator's certifier signs)", "เอกสารนี้ (ผู้รับรองของผู้ก่อกำเนิดเป็นผู้ลงนาม)")  # fmt: skip
    next_state_or_409(m, "schedule")
    line = m.permit_line
    if line.permit.state != PermitState.ACTIVE or line.permit.valid_until < timezone.localdate():
        raise bad("permit.not_active", "permit_number", "the permit is no longer in force", "ใบอนุญาตไม่มีผลใช้บังคับแล้ว")
    # The drawdown: one conditional UPDATE, so parallel schedules can never over-issue the permit. A load going
    # back to its generator was drawn when it first left and is not drawn again.
    if _draws(m):
        drawn = PermitLine.objects.filter(id=line.id, remaining_quantity_t__gte=m.declared_t).update(
            remaining_quantity_t=F("remaining_quantity_t") - m.declared_t)  # fmt: skip
        if not drawn:
            left = PermitLine.objects.get(id=line.id).remaining_quantity_t
            raise bad("permit.quantity", "declared_quantity", f"the permit line has {left} t left; this load is {m.declared_t} t",
                      f"ปริมาณคงเหลือตามใบอนุญาต {left} ตัน ไม่พอสำหรับ {m.declared_t} ตัน")  # fmt: skip
    before = audit.snapshot(m)
    _sign(actor, m, SignerRole.GENERATOR, data)
    m = _move(m, "schedule", scheduled_at=timezone.now())
    audit.record(actor=actor, action="manifest.schedule", obj=m, before=before, after=audit.snapshot(m),
                 note=f"generator signed; {m.declared_t} t drawn from {line.permit.number} line {line.index}" if _draws(m)
                 else f"generator signed; a return of {m.parent_id and m.parent.number}, not drawn again")  # fmt: skip
    notify(establishment_users([m.transporter_id, m.receiver_id]), title_en=f"Manifest {m.number} scheduled",
           title_th=f"เอกสารกำกับการขนส่ง {m.number} พร้อมรับของ", url=f"/manifests/{m.number}/")  # fmt: skip
    return m


def _draws(m: Manifest) -> bool:
    """Whether scheduling the manifest draws its quantity from the permit line (a return does not)."""
    return m.relation != Manifest.Relation.RETURN


def next_state_or_409(m: Manifest, action: str) -> None:
    try:
        next_state(m.state, action)
    except ManifestTransitionRefused as exc:
        raise _refused(exc) from exc


@transaction.atomic
def pickup(*, actor, number: str, data: SignIn) -> Manifest:
    m = get_manifest(actor=actor, number=number)
    require(acts_for(actor, m.transporter_id, TRANSPORTER), "number", "this manifest (the transporter signs at pickup)",
            "เอกสารนี้ (ผู้ขนส่งลงนามเมื่อรับของ)")  # fmt: skip
    next_state_or_409(m, "pickup")
    before = audit.snapshot(m)
    _sign(actor, m, SignerRole.TRANSPORTER, data)
    m = _move(m, "pickup", picked_up_at=timezone.now())
    audit.record(actor=actor, action="manifest.pickup", obj=m, before=before, after=audit.snapshot(m))
    from wastelink.manifests.signals import manifest_in_transit

    manifest_in_transit.send(sender=Manifest, manifest=m)
    return m


@transaction.atomic
def deliver(*, actor, number: str) -> Manifest:
    m = get_manifest(actor=actor, number=number)
    require(acts_for(actor, m.transporter_id, TRANSPORTER) or acts_for(actor, m.receiver_id, RECEIVER), "number",
            "this manifest", "เอกสารนี้")  # fmt: skip
    before = audit.snapshot(m)
    m = _move(m, "deliver", delivered_at=timezone.now())
    audit.record(actor=actor, action="manifest.deliver", obj=m, before=before, after=audit.snapshot(m))
    from wastelink.manifests.signals import manifest_delivered

    manifest_delivered.send(sender=Manifest, manifest=m)
    return m


@transaction.atomic
def receive(*, actor, number: str, data: ReceiveIn) -> tuple[Manifest, list[Finding]]:
    """The receiver's certifier signs with the weighed quantity; a difference beyond tolerance is a discrepancy."""
    m = get_manifest(actor=actor, number=number)
    require(_may_sign_receipt(actor, m), "number",
            "this manifest (the receiver's certifier signs receipt)", "เอกสารนี้ (ผู้รับรองของผู้รับเป็นผู้ลงนาม)")  # fmt: skip
    next_state_or_409(m, "receive")
    weighed_kg = to_tonnes(data.weighed_quantity, data.unit) * 1000
    declared_kg = m.declared_t * 1000
    # A difference beyond tolerance, a load not fully accepted, or a code the receiver reports (B: another waste
    # than declared, even at the declared weight) is a discrepancy for the officer.
    discrepant = (is_discrepant(declared_kg, weighed_kg, tolerance()) or data.acceptance != "full"
                  or bool(data.discrepancy_code))  # fmt: skip
    new_code = None
    if data.discrepancy_code == "B":
        if not data.new_waste_code:
            raise bad("discrepancy.new_code", "new_waste_code", "code B needs the waste number actually received",
                      "รหัส B ต้องระบุรหัสของเสียที่ได้รับจริง")  # fmt: skip
        new_code = WasteCode.objects.filter(code=data.new_waste_code, level="entry").first()
        if new_code is None:
            raise bad("waste_code.unknown", "new_waste_code", "unknown waste code", "ไม่รู้จักรหัสของเสีย")
    if data.discrepancy_code and not data.discrepancy_reason.strip():
        raise bad("discrepancy.reason", "discrepancy_reason", "explain the discrepancy", "กรุณาอธิบายความคลาดเคลื่อน")
    findings: list[Finding] = []
    if discrepant:
        findings.append(warning("MF-DISCREPANCY", "weighed_quantity",
                                f"weighed {weighed_kg:.0f} kg against {declared_kg:.0f} kg declared "
                                f"({data.acceptance}); an officer will review it",
                                f"ชั่งได้ {weighed_kg:.0f} กก. จากที่แจ้ง {declared_kg:.0f} กก. เจ้าหน้าที่จะตรวจสอบ"))  # fmt: skip
        if not data.discrepancy_code:
            findings.append(warning("MF-DISCREPANCY-EXPLAIN", "discrepancy_code",
                                    "give the discrepancy code (A, B or C) and a reason", "กรุณาระบุรหัสความคลาดเคลื่อนและเหตุผล"))  # fmt: skip
    before = audit.snapshot(m)
    _sign(actor, m, SignerRole.RECEIVER, data)
    m = _move(m, "receive", received_at=timezone.now(), received_kg=weighed_kg, acceptance=data.acceptance,
              discrepancy=discrepant, discrepancy_code=data.discrepancy_code or "",
              discrepancy_reason=data.discrepancy_reason, discrepancy_new_code=new_code)  # fmt: skip
    audit.record(actor=actor, action="manifest.receive", obj=m, before=before, after=audit.snapshot(m),
                 note="; ".join(f.message_en for f in findings))  # fmt: skip
    users = list(establishment_users([m.generator_id]))
    if discrepant:
        from wastelink.manifests.services.oversight import officers_for

        users += officers_for(m)
    notify(users, title_en=f"Manifest {m.number} received{' with a discrepancy' if discrepant else ''}",
           title_th=f"ผู้รับได้รับของตามเอกสาร {m.number} แล้ว{' (มีความคลาดเคลื่อน)' if discrepant else ''}",
           url=f"/manifests/{m.number}/")  # fmt: skip
    return m, findings


def _returned_to_own(actor, m: Manifest) -> bool:
    """A load returned to its generator is received back by the generator's own people."""
    return m.relation == Manifest.Relation.RETURN and acts_for(actor, m.receiver_id, GENERATOR)


def _may_sign_receipt(actor, m: Manifest) -> bool:
    if m.relation == Manifest.Relation.RETURN:
        return acts_for(actor, m.receiver_id, {Role.GENERATOR_CERTIFIER})
    return acts_for(actor, m.receiver_id, {Role.RECEIVER_CERTIFIER})


@transaction.atomic
def complete(*, actor, number: str, data: CompleteIn) -> Manifest:
    m = get_manifest(actor=actor, number=number)
    require(acts_for(actor, m.receiver_id, RECEIVER) or _returned_to_own(actor, m), "number", "this manifest", "เอกสารนี้")
    method = ManagementMethod.objects.filter(code=data.final_method).first()
    if method is None:
        raise bad("method.unknown", "final_method", "unknown management method", "ไม่รู้จักวิธีการจัดการ")
    if data.treated_on > timezone.localdate() or (m.received_at and data.treated_on < timezone.localtime(m.received_at).date()):
        raise bad("manifest.treated_on", "treated_on", "the treatment date must be between receipt and today",
                  "วันที่บำบัดต้องอยู่ระหว่างวันที่รับของถึงวันนี้")  # fmt: skip
    if m.acceptance == "rejected":
        raise bad("manifest.rejected", "number", "a rejected load is not treated here; send it on a linked manifest",
                  "ของที่ปฏิเสธไม่ต้องยืนยันการบำบัด ให้ส่งต่อด้วยเอกสารฉบับใหม่")  # fmt: skip
    before = audit.snapshot(m)
    m = _move(m, "complete", completed_at=timezone.now(), final_method=method, treated_on=data.treated_on)
    note = "" if method.code == m.permit_line.method_id else f"treated by {method.code}, permitted {m.permit_line.method_id}"
    audit.record(actor=actor, action="manifest.complete", obj=m, before=before, after=audit.snapshot(m), note=note)
    return m


@transaction.atomic
def cancel(*, actor, number: str, reason: str) -> Manifest:
    """Before pickup only; a scheduled manifest gives its quantity back to the permit line."""
    m = get_manifest(actor=actor, number=number)
    require(acts_for(actor, m.generator_id, GENERATOR), "number", "this manifest", "เอกสารนี้")
    was = m.state
    before = audit.snapshot(m)
    m = _move(m, "cancel", cancelled_reason=reason)
    if was == M.SCHEDULED and _draws(m):
        PermitLine.objects.filter(id=m.permit_line_id).update(remaining_quantity_t=F("remaining_quantity_t") + m.declared_t)
    audit.record(actor=actor, action="manifest.cancel", obj=m, before=before, after=audit.snapshot(m), note=reason)
    return m


