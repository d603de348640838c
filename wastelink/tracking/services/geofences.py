"""Officer-drawn geofences: authorised rest areas and hot spots (places where dumping has happened or is feared)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from wastelink.accounts.access import is_national_reader, is_officer, require, role_of
from wastelink.audit import services as audit
from wastelink.core.findings import DomainError, NotFound, error
from wastelink.core.geometry import GeometryError, bbox, parse_area_geojson, to_geojson
from wastelink.core.roles import Role
from wastelink.registry.models import Estate
from wastelink.tracking.models import Geofence

DRAWN = {"rest_area", "hot_spot"}


def visible_geofences(user) -> QuerySet[Geofence]:
    qs = Geofence.objects.filter(active=True)
    if is_officer(user) or is_national_reader(user):
        return qs
    return qs.filter(kind="rest_area")  # hot spots are the officers' working knowledge


@transaction.atomic
def draw_geofence(*, actor, kind: str, name: str, geojson: Any, estate_code: str | None = None) -> Geofence:
    require(is_officer(actor) or role_of(actor) in (Role.ADMIN, Role.REGULATOR), "kind", "geofences", "เขตพื้นที่")
    if kind not in DRAWN:
        raise DomainError(error("geofence.kind", "kind", "officers draw rest areas or hot spots",
                                "เจ้าหน้าที่กำหนดได้เฉพาะจุดพักรถหรือจุดเสี่ยง"))  # fmt: skip
    try:
        geom = parse_area_geojson(geojson)
    except GeometryError as exc:
        raise DomainError(error("geometry.invalid", "geometry", f"geometry {exc}", f"รูปพื้นที่ไม่ถูกต้อง: {exc}")) from exc
    estate = None
    if estate_code:
        estate = Estate.objects.filter(code=estate_code).first()
        if estate is None:
            raise DomainError(error("estate.unknown", "estate", "unknown estate code", "ไม่รู้จักรหัสนิคม"))
    min_lon, min_lat, max_lon, max_lat = bbox(geom)
    fence = Geofence.objects.create(kind=kind, name=name, geometry=to_geojson(geom), min_lon=min_lon, min_lat=min_lat,
                                    max_lon=max_lon, max_lat=max_lat, estate=estate,
                                    created_by=audit.actor_name(actor))  # fmt: skip
    audit.record(actor=actor, action="geofence.draw", obj=fence, after=audit.snapshot(fence))
    return fence


@transaction.atomic
def retire_geofence(*, actor, fence_id: int) -> None:
    require(is_officer(actor) or role_of(actor) in (Role.ADMIN, Role.REGULATOR), "fence_id", "geofences", "เขตพื้นที่")
    fence = Geofence.objects.filter(id=fence_id, active=True).first()
    if fence is None:
        raise NotFound(error("geofence.not_found", "fence_id", "no such geofence", "ไม่พบเขตพื้นที่นี้"))
    before = audit.snapshot(fence)
    fence.active = False
    fence.save(update_fields=["active"])
    audit.record(actor=actor, action="geofence.retire", obj=fence, before=before, after=audit.snapshot(fence))
