"""Transporters' vehicles and drivers, and receivers' licences."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from wastelink.accounts.access import (
    can_manage_establishment,
    can_manage_fleet,
    require,
    role_of,
    visible_establishments,
)
from wastelink.audit import services as audit
from wastelink.core.findings import Conflict, DomainError, NotFound, error
from wastelink.registry.models import (
    Establishment,
    FactoryType,
    ManagementMethod,
    ReceiverLicence,
    Vehicle,
    WasteCode,
)
from wastelink.registry.schemas import ReceiverLicenceIn, VehicleIn, VehiclePatch


def visible_vehicles(actor) -> QuerySet[Vehicle]:
    return Vehicle.objects.filter(transporter__in=visible_establishments(actor)).select_related("transporter")


def _transporter(actor, establishment_id: int) -> Establishment:
    est = visible_establishments(actor).filter(id=establishment_id).first()
    if est is None:
        raise NotFound(error("establishment.not_found", "establishment_id", "no such establishment",
                             "ไม่พบสถานประกอบการนี้"))  # fmt: skip
    if not est.is_transporter:
        raise DomainError(error("vehicle.not_transporter", "establishment_id",
                                "only a transporter registers vehicles", "เฉพาะผู้ขนส่งที่ลงทะเบียนยานพาหนะได้"))  # fmt: skip
    return est


def _unique_conflict(exc: IntegrityError) -> Conflict:
    text = str(exc).lower()
    field = "gps_device_id" if "gps_device" in text else "plate"
    return Conflict(error("vehicle.duplicate", field, f"another vehicle already has this {field.replace('_', ' ')}",
                          "มียานพาหนะอื่นใช้ข้อมูลนี้แล้ว"))  # fmt: skip


@transaction.atomic
def register_vehicle(*, actor, establishment_id: int, data: VehicleIn) -> Vehicle:
    transporter = _transporter(actor, establishment_id)
    require(
        can_manage_fleet(actor, transporter),
        "establishment_id",
        "this transporter's fleet",
        "ยานพาหนะของผู้ขนส่งนี้",
    )
    try:
        with transaction.atomic():
            vehicle = Vehicle.objects.create(transporter=transporter, **data.model_dump())
    except IntegrityError as exc:
        raise _unique_conflict(exc) from exc
    audit.record(actor=actor, action="vehicle.register", obj=vehicle, after=audit.snapshot(vehicle))
    return vehicle


@transaction.atomic
def update_vehicle(*, actor, vehicle_id: int, patch: VehiclePatch) -> Vehicle:
    vehicle = visible_vehicles(actor).filter(id=vehicle_id).first()
    if vehicle is None:
        raise NotFound(error("vehicle.not_found", "vehicle_id", "no such vehicle", "ไม่พบยานพาหนะนี้"))
    require(can_manage_fleet(actor, vehicle.transporter), "vehicle_id", "this vehicle", "ยานพาหนะนี้")
    vehicle = Vehicle.objects.select_for_update().get(id=vehicle.id)
    before = audit.snapshot(vehicle)
    for name, value in patch.model_dump(exclude_unset=True).items():
        if value is None and name != "gps_device_id":
            raise DomainError(error("field.required", name, "may not be empty", "ต้องไม่เว้นว่าง"))
        setattr(vehicle, name, value)
    try:
        with transaction.atomic():
            vehicle.save()
    except IntegrityError as exc:
        raise _unique_conflict(exc) from exc
    audit.record(
        actor=actor, action="vehicle.update", obj=vehicle, before=before, after=audit.snapshot(vehicle)
    )
    return vehicle


@transaction.atomic
def grant_receiver_licence(*, actor, establishment_id: int, data: ReceiverLicenceIn) -> ReceiverLicence:
    receiver = visible_establishments(actor).filter(id=establishment_id).first()
    if receiver is None:
        raise NotFound(error("establishment.not_found", "establishment_id", "no such establishment",
                             "ไม่พบสถานประกอบการนี้"))  # fmt: skip
    require(can_manage_establishment(actor, receiver) and role_of(actor) is not None, "establishment_id",
            "this receiver's licences", "ใบอนุญาตของผู้รับนี้")  # fmt: skip
    if not receiver.is_receiver:
        raise DomainError(error("licence.not_receiver", "establishment_id", "only a receiver holds this licence",
                                "เฉพาะผู้รับบำบัด/กำจัดที่มีใบอนุญาตนี้ได้"))  # fmt: skip
    if data.valid_until < data.valid_from:
        raise DomainError(error("licence.period", "valid_until", "valid_until is before valid_from",
                                "วันสิ้นสุดอยู่ก่อนวันเริ่มต้น"))  # fmt: skip
    codes = list(WasteCode.objects.filter(code__in=data.waste_codes, level="entry"))
    missing = sorted(set(data.waste_codes) - {c.code for c in codes})
    if missing:
        raise DomainError(error("waste_code.unknown", "waste_codes", f"unknown waste codes: {', '.join(missing[:10])}",
                                f"ไม่รู้จักรหัสของเสีย: {', '.join(missing[:10])}"))  # fmt: skip
    methods = list(ManagementMethod.objects.filter(code__in=data.methods))
    missing = sorted(set(data.methods) - {m.code for m in methods})
    if missing:
        raise DomainError(error("method.unknown", "methods", f"unknown methods: {', '.join(missing)}",
                                f"ไม่รู้จักรหัสวิธีการ: {', '.join(missing)}"))  # fmt: skip
    try:
        with transaction.atomic():
            licence = ReceiverLicence.objects.create(
                receiver=receiver,
                licence_no=data.licence_no,
                factory_type=FactoryType.objects.get(number=data.factory_type),
                annual_capacity_t=data.annual_capacity_t,
                valid_from=data.valid_from,
                valid_until=data.valid_until,
            )
    except IntegrityError as exc:
        raise Conflict(error("licence.duplicate", "licence_no", "this licence number exists already",
                             "เลขที่ใบอนุญาตนี้มีอยู่แล้ว")) from exc  # fmt: skip
    licence.waste_codes.set(codes)
    licence.methods.set(methods)
    audit.record(actor=actor, action="receiver_licence.grant", obj=licence, after=audit.snapshot(licence))
    return licence
