"""The library of approved routes between two sites, and resolving a manifest's planned route from it."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from wastelink.accounts.access import is_officer, require, role_of
from wastelink.audit import services as audit
from wastelink.core.geometry import GeometryError
from wastelink.core.roles import Role
from wastelink.manifests.models import ApprovedRoute
from wastelink.manifests.schemas import RouteIn
from wastelink.permits.services.common import bad, not_found
from wastelink.registry.models import Establishment

from .routes import parse_route


def checked_route(route: Any, field: str = "route") -> dict[str, Any]:
    try:
        parse_route(route)
    except GeometryError as exc:
        raise bad("route.invalid", field, f"route {exc}", f"เส้นทางไม่ถูกต้อง: {exc}") from exc
    return route


def library_route(route_id: int, origin_id: int, destination_id: int) -> ApprovedRoute:
    route = ApprovedRoute.objects.filter(id=route_id, active=True).first()
    if route is None:
        raise bad("route.unknown", "route_id", "no such approved route", "ไม่พบเส้นทางที่อนุมัตินี้")
    if (route.origin_id, route.destination_id) != (origin_id, destination_id):
        raise bad("route.mismatch", "route_id", "this approved route joins other sites", "เส้นทางนี้เชื่อมสถานที่อื่น")
    return route


@transaction.atomic
def approve_route(*, actor, data: RouteIn) -> ApprovedRoute:
    require(is_officer(actor) or role_of(actor) in (Role.ADMIN, Role.REGULATOR), "origin_id", "the route library",
            "คลังเส้นทาง")  # fmt: skip
    ends = dict(Establishment.objects.filter(id__in=[data.origin_id, data.destination_id]).values_list("id", "id"))
    for field, value in (("origin_id", data.origin_id), ("destination_id", data.destination_id)):
        if value not in ends:
            raise bad("establishment.unknown", field, "no such establishment", "ไม่พบสถานประกอบการนี้")
    route = ApprovedRoute.objects.create(name=data.name, origin_id=data.origin_id, destination_id=data.destination_id,
                                         geometry=checked_route(data.geometry, "geometry"),
                                         corridor_width_m=data.corridor_width_m, approved_by=audit.actor_name(actor))  # fmt: skip
    audit.record(actor=actor, action="route.approve", obj=route, after=audit.snapshot(route))
    return route


@transaction.atomic
def retire_route(*, actor, route_id: int) -> None:
    require(is_officer(actor) or role_of(actor) in (Role.ADMIN, Role.REGULATOR), "route_id", "the route library",
            "คลังเส้นทาง")  # fmt: skip
    route = ApprovedRoute.objects.filter(id=route_id, active=True).first()
    if route is None:
        raise not_found("approved route", "เส้นทางที่อนุมัติ", "route_id")
    before = audit.snapshot(route)
    route.active = False
    route.save(update_fields=["active"])
    audit.record(actor=actor, action="route.retire", obj=route, before=before, after=audit.snapshot(route))
