"""Establishments: create, change, and upsert (the CSV import goes through `upsert_establishment`)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from wastelink.accounts.access import can_manage_establishment, require, visible_establishments
from wastelink.accounts.models import Organisation
from wastelink.audit import services as audit
from wastelink.core.findings import Conflict, DomainError, NotFound, error
from wastelink.core.identifiers import parse_registration_number
from wastelink.registry.models import Establishment, Estate, FactoryType
from wastelink.registry.schemas import EstablishmentIn, EstablishmentPatch


def _resolve(data: EstablishmentIn) -> dict[str, Any]:
    """Turn validated input into model fields; cross-field and reference checks are field errors here."""
    if (data.lat is None) != (data.lon is None):
        raise DomainError(error("location.pair", "lon" if data.lon is None else "lat",
                                "lat and lon must be given together", "ต้องระบุละติจูดและลองจิจูดพร้อมกัน"))  # fmt: skip
    inside = parse_registration_number(data.registration_no).inside_estate
    if data.estate and not inside:
        raise DomainError(error("registration.outside_estate", "estate",
                                "the registration number says the factory is outside an estate (second digit 0), "
                                "so no estate may be given",
                                "เลขทะเบียนโรงงานระบุว่าอยู่นอกนิคม (หลักที่สองเป็น 0) จึงระบุนิคมไม่ได้"))  # fmt: skip
    if not data.estate and inside:
        raise DomainError(error("registration.inside_estate", "estate",
                                "the registration number says the factory is inside an estate (second digit 2 or 3): "
                                "give the estate", "เลขทะเบียนโรงงานระบุว่าอยู่ในนิคม (หลักที่สองเป็น 2 หรือ 3) ต้องระบุนิคม"))  # fmt: skip
    estate = None
    if data.estate:
        estate = Estate.objects.filter(code=data.estate).first()
        if estate is None:
            raise DomainError(error("estate.unknown", "estate", f"unknown estate code '{data.estate}'",
                                    f"ไม่รู้จักรหัสนิคม '{data.estate}'"))  # fmt: skip
    factory_type = None
    if data.factory_type:
        factory_type = FactoryType.objects.filter(number=data.factory_type).first()
        if factory_type is None:
            raise DomainError(error("factory_type.unknown", "factory_type",
                                    f"unknown factory type '{data.factory_type}'",
                                    f"ไม่รู้จักประเภทโรงงาน '{data.factory_type}'"))  # fmt: skip
    if "receiver" in data.roles and factory_type is None:
        raise DomainError(error("receiver.factory_type", "factory_type",
                                "a receiver needs its factory type (101, 105 or 106)",
                                "ผู้รับบำบัด/กำจัดต้องระบุประเภทโรงงาน (101, 105 หรือ 106)"))  # fmt: skip
    fields = data.model_dump(exclude={"estate", "factory_type", "roles"})
    fields.update(estate=estate, factory_type=factory_type, is_generator="generator" in data.roles,
                  is_transporter="transporter" in data.roles, is_receiver="receiver" in data.roles)  # fmt: skip
    return fields


def _ensure_organisation(est: Establishment) -> None:
    Organisation.objects.get_or_create(
        establishment=est, defaults={"kind": "establishment", "name_th": est.name_th, "name_en": est.name_en}
    )


@transaction.atomic
def upsert_establishment(
    *, actor, data: EstablishmentIn, create_only: bool = False
) -> tuple[Establishment, str]:
    """Create or update by registration number. Returns the record and 'created', 'updated' or 'unchanged'.

    With `create_only` an existing registration number is a conflict and nothing is changed.
    """
    fields = _resolve(data)
    est = Establishment.objects.select_for_update().filter(registration_no=data.registration_no).first()
    if est is None or create_only:
        require(can_manage_establishment(actor, None, estate=fields["estate"]), "estate",
                "establishments of this estate", "สถานประกอบการในนิคมนี้")  # fmt: skip
        if est is not None:
            raise Conflict(error("establishment.exists", "registration_no", "an establishment with this registration "
                                 "number exists; change it with PATCH", "มีสถานประกอบการเลขทะเบียนนี้แล้ว"))  # fmt: skip
        try:
            with transaction.atomic():
                est = Establishment.objects.create(**fields)
        except IntegrityError as exc:
            raise Conflict(error("establishment.exists", "registration_no", "an establishment with this "
                                 "registration number was created at the same time", "มีการลงทะเบียนเลขนี้พร้อมกัน")) from exc  # fmt: skip
        _ensure_organisation(est)
        audit.record(actor=actor, action="establishment.create", obj=est, after=audit.snapshot(est))
        return est, "created"
    require(can_manage_establishment(actor, est), "registration_no", "this establishment", "สถานประกอบการนี้")
    if fields["estate"] != est.estate:
        require(
            can_manage_establishment(actor, None, estate=fields["estate"]),
            "estate",
            "the target estate",
            "นิคมปลายทาง",
        )
    before = audit.snapshot(est)
    changed = False
    for name, value in fields.items():
        if getattr(est, name) != value:
            setattr(est, name, value)
            changed = True
    if not changed:
        return est, "unchanged"
    est.save()
    audit.record(
        actor=actor, action="establishment.update", obj=est, before=before, after=audit.snapshot(est)
    )
    return est, "updated"


def get_establishment(*, actor, establishment_id: int) -> Establishment:
    est = (
        visible_establishments(actor)
        .select_related("estate", "factory_type")
        .filter(id=establishment_id)
        .first()
    )
    if est is None:
        # The same answer whether it does not exist or is not the actor's: no probing of other factories.
        raise NotFound(error("establishment.not_found", "establishment_id", "no such establishment",
                             "ไม่พบสถานประกอบการนี้"))  # fmt: skip
    return est


@transaction.atomic
def update_establishment(*, actor, establishment_id: int, patch: EstablishmentPatch) -> Establishment:
    est = get_establishment(actor=actor, establishment_id=establishment_id)
    require(can_manage_establishment(actor, est), "establishment_id", "this establishment", "สถานประกอบการนี้")
    changes = patch.model_dump(exclude_unset=True)
    if ("lat" in changes) != ("lon" in changes):
        raise DomainError(error("location.pair", "lat", "lat and lon must be given together",
                                "ต้องระบุละติจูดและลองจิจูดพร้อมกัน"))  # fmt: skip
    for name in ("name_th", "status"):
        if name in changes and changes[name] is None:
            raise DomainError(error("field.required", name, "may not be empty", "ต้องไม่เว้นว่าง"))
    est = Establishment.objects.select_for_update().get(id=est.id)
    before = audit.snapshot(est)
    for name, value in changes.items():
        setattr(est, name, "" if value is None and name not in ("lat", "lon") else value)
    est.save()
    action = "establishment.status" if "status" in changes and len(changes) == 1 else "establishment.update"
    audit.record(actor=actor, action=action, obj=est, before=before, after=audit.snapshot(est))
    return est
