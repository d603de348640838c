"""Loading and editing the code lists (waste codes, methods, factory types) and the estates."""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any

from django.conf import settings
from django.db import transaction

from wastelink.accounts.access import can_edit_reference_data, can_manage_estate, require
from wastelink.audit import services as audit
from wastelink.core.audit_chain import digest
from wastelink.core.findings import DomainError, NotFound, error
from wastelink.core.geometry import GeometryError, bbox, generated_boundary, parse_area_geojson, to_geojson
from wastelink.registry.models import Estate, FactoryType, ManagementMethod, WasteCode
from wastelink.registry.schemas import MethodPatch, WasteCodePatch

SYSTEM = "system:reference-load"


def read_csv(name: str) -> list[dict[str, str]]:
    with resources.files("wastelink.registry.data").joinpath(name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _sync(model: type, key: str, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert missing rows; leave existing ones (an admin may have corrected them). Returns (created, kept)."""
    existing = set(model.objects.values_list(key, flat=True))
    new = [model(**row) for row in rows if row[key] not in existing]
    model.objects.bulk_create(new, batch_size=500)
    return len(new), len(rows) - len(new)


@transaction.atomic
def load_reference_data() -> dict[str, int]:
    """Load every code list and estate from package data. Idempotent: reruns add only what is missing."""
    counts: dict[str, int] = {}
    types = [{"number": r["number"], "role": r["role"], "name_th": r["name_th"], "name_en": r["name_en"]}
             for r in read_csv("factory_types.csv")]  # fmt: skip
    counts["factory_types"], _ = _sync(FactoryType, "number", types)

    methods = [{"code": r["code"], "group": r["group"], "name_en": r["name_en"], "name_th": r["name_th"],
                "name_th_official": r["name_th_official"] == "1", "non_hazardous_only": r["non_hazardous_only"] == "1"}
               for r in read_csv("management_methods.csv")]  # fmt: skip
    counts["management_methods"], _ = _sync(ManagementMethod, "code", methods)

    # Chapters before sub-chapters before entries, so each parent exists when its children arrive.
    rows = read_csv("waste_codes.csv")
    created = 0
    for level in ("chapter", "subchapter", "entry"):
        level_rows = [{"code": r["code"], "display": r["display"], "level": level if level != "entry" else "entry",
                       "parent_id": r["parent"] or None, "name_en": r["name_en"], "name_th": r["name_th"],
                       "eu_hazardous": r["eu_hazardous"] == "1", "th_mark": r["th_mark_confirmed"],
                       "material_family": r["material_family"]}
                      for r in rows if r["level"] == level]  # fmt: skip
        n, _ = _sync(WasteCode, "code", level_rows)
        created += n
    counts["waste_codes"] = created
    counts["estates"] = load_estates()
    if any(counts.values()):
        audit.record(actor=SYSTEM, action="reference.load", object_type="reference", object_id="package-data",
                     after={"created": counts, "source_digest": digest(rows)})  # fmt: skip
    return counts


def load_estates() -> int:
    radius = settings.WASTELINK["DEMO_ESTATE_RADIUS_M"]
    existing = set(Estate.objects.values_list("code", flat=True))
    new = []
    for i, r in enumerate(read_csv("estates.csv")):
        if r["key"] in existing:
            continue
        lat, lon = float(r["lat"]), float(r["lon"])
        boundary = generated_boundary(lat, lon, radius, seed=i)
        geom = parse_area_geojson(boundary)
        min_lon, min_lat, max_lon, max_lat = bbox(geom)
        new.append(Estate(code=r["key"], name_th=r["name_th"], name_en=r["name_en"], province=r["province_en"],
                          operator=r["operator"], lat=lat, lon=lon, boundary=boundary,
                          boundary_source=Estate.BoundarySource.GENERATED, min_lon=min_lon, min_lat=min_lat,
                          max_lon=max_lon, max_lat=max_lat))  # fmt: skip
    Estate.objects.bulk_create(new)
    return len(new)


@transaction.atomic
def set_estate_boundary(*, actor, estate_code: str, geojson: Any) -> Estate:
    """An officer replaces an estate's boundary with a real one (GeoJSON Polygon/MultiPolygon)."""
    estate = Estate.objects.select_for_update().filter(code=estate_code).first()
    if estate is None:
        raise NotFound(error("estate.not_found", "estate", "no such estate", "ไม่พบนิคมอุตสาหกรรมนี้"))
    require(can_manage_estate(actor, estate), "estate", "this estate's boundary", "ขอบเขตของนิคมนี้")
    try:
        geom = parse_area_geojson(geojson)
    except GeometryError as exc:
        raise DomainError(
            error("geometry.invalid", "boundary", f"boundary {exc}", f"ขอบเขตไม่ถูกต้อง: {exc}")
        ) from exc
    before = audit.snapshot(estate)
    estate.boundary = to_geojson(geom)
    estate.boundary_source = Estate.BoundarySource.UPLOADED
    estate.min_lon, estate.min_lat, estate.max_lon, estate.max_lat = bbox(geom)
    estate.save()
    audit.record(
        actor=actor, action="estate.boundary.set", obj=estate, before=before, after=audit.snapshot(estate)
    )
    return estate


def _patch(obj, changes: dict[str, Any]) -> bool:
    changed = False
    for field, value in changes.items():
        if getattr(obj, field) != value:
            setattr(obj, field, value)
            changed = True
    return changed


@transaction.atomic
def update_waste_code(*, actor, code: str, patch: WasteCodePatch) -> WasteCode:
    require(can_edit_reference_data(actor), "code", "reference data", "ข้อมูลอ้างอิง")
    obj = WasteCode.objects.select_for_update().filter(code=code).first()
    if obj is None:
        raise NotFound(error("waste_code.not_found", "code", "no such waste code", "ไม่พบรหัสของเสียนี้"))
    before = audit.snapshot(obj)
    if _patch(obj, patch.model_dump(exclude_none=True)):
        obj.save()
        audit.record(actor=actor, action="reference.waste_code.update", obj=obj, before=before,
                     after=audit.snapshot(obj))  # fmt: skip
    return obj


@transaction.atomic
def update_method(*, actor, code: str, patch: MethodPatch) -> ManagementMethod:
    require(can_edit_reference_data(actor), "code", "reference data", "ข้อมูลอ้างอิง")
    obj = ManagementMethod.objects.select_for_update().filter(code=code).first()
    if obj is None:
        raise NotFound(error("method.not_found", "code", "no such management method", "ไม่พบรหัสวิธีการจัดการนี้"))
    before = audit.snapshot(obj)
    if _patch(obj, patch.model_dump(exclude_none=True)):
        obj.save()
        audit.record(actor=actor, action="reference.method.update", obj=obj, before=before,
                     after=audit.snapshot(obj))  # fmt: skip
    return obj
