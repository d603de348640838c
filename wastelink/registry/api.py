"""Registry endpoints: estates, establishments, vehicles, receiver licences, reference code lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Q
from ninja import Body, Field, Query, Router, Schema, Status

from wastelink.accounts.access import directory_establishments, visible_establishments
from wastelink.core.findings import NotFound, error
from wastelink.registry.models import (
    Establishment,
    Estate,
    FactoryType,
    ManagementMethod,
    ReceiverLicence,
    WasteCode,
)
from wastelink.registry.schemas import (
    EstablishmentIn,
    EstablishmentPatch,
    MethodPatch,
    ReceiverLicenceIn,
    VehicleIn,
    VehiclePatch,
    WasteCodePatch,
)
from wastelink.registry.services import establishments as est_services
from wastelink.registry.services import fleet, reference

router = Router(tags=["registry"])
reference_router = Router(tags=["reference data"])


class Page(Schema):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


# --- estates --------------------------------------------------------------------------------------------------
class EstateOut(Schema):
    code: str
    name_th: str
    name_en: str
    province: str
    operator: str
    lat: float
    lon: float
    boundary_source: str
    bbox: list[float] | None

    @staticmethod
    def resolve_bbox(obj: Estate) -> list[float] | None:
        return None if obj.min_lon is None else [obj.min_lon, obj.min_lat, obj.max_lon, obj.max_lat]


@router.get("/estates", response=list[EstateOut], summary="All estates")
def list_estates(request):
    return list(Estate.objects.all())


@router.get("/estates.geojson", summary="Estate boundaries as a GeoJSON FeatureCollection")
def estates_geojson(request) -> dict[str, Any]:
    features = [
        {"type": "Feature", "id": e.code, "geometry": e.boundary,
         "properties": {"code": e.code, "name_th": e.name_th, "name_en": e.name_en, "operator": e.operator,
                        "boundary_source": e.boundary_source}}
        for e in Estate.objects.exclude(boundary=None)
    ]  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


@router.get("/estates/{code}", response=EstateOut, summary="One estate")
def get_estate(request, code: str):
    estate = Estate.objects.filter(code=code).first()
    if estate is None:
        raise NotFound(error("estate.not_found", "code", "no such estate", "ไม่พบนิคมอุตสาหกรรมนี้"))
    return estate


@router.put("/estates/{code}/boundary", response=EstateOut, summary="Replace an estate's boundary (GeoJSON)")
def put_boundary(request, code: str, payload: Body[Any]):
    # Body[...] so the JSON body itself is the geometry (a bare dict annotation is read from the query string);
    # Any so a body that is not an object reaches the geometry check and is refused naming the boundary.
    return reference.set_estate_boundary(actor=request.user, estate_code=code, geojson=payload)


# --- establishments -------------------------------------------------------------------------------------------
class EstablishmentPublic(Schema):
    id: int
    registration_no: str
    name_th: str
    name_en: str
    estate: str | None = Field(None, description="estate code")
    province: str
    factory_type: str | None = Field(None, description="factory type number")
    roles: list[str]
    status: str

    # Resolvers rather than dotted aliases: the detail endpoint hands over an already-built entry, which the
    # response is validated from again, and an alias such as "estate.code" would turn its estate into null.
    @staticmethod
    def resolve_estate(obj) -> str | None:
        if isinstance(obj, Establishment):
            return obj.estate.code if obj.estate_id else None
        return getattr(obj, "estate", None)

    @staticmethod
    def resolve_factory_type(obj) -> str | None:
        if isinstance(obj, Establishment):
            return obj.factory_type_id
        return getattr(obj, "factory_type", None)


class EstablishmentOut(EstablishmentPublic):
    legacy_no: str
    diw_generator_id: str
    diw_transporter_id: str
    address: str
    lat: float | None
    lon: float | None


class EstablishmentList(Schema):
    count: int
    items: list[EstablishmentPublic]


class EstablishmentFilter(Schema):
    estate: str | None = Field(None, description="estate code")
    role: Literal["generator", "transporter", "receiver"] | None = None
    q: str | None = Field(None, max_length=100, description="name or registration number contains")


@router.get("/establishments", response=EstablishmentList, summary="Establishments I may see (directory)")
def list_establishments(request, filters: Query[EstablishmentFilter], page: Query[Page]):
    qs = directory_establishments(request.user).select_related("estate")
    if filters.estate:
        qs = qs.filter(estate__code=filters.estate)
    if filters.role:
        qs = qs.filter(**{f"is_{filters.role}": True})
    if filters.q:
        qs = qs.filter(Q(name_th__icontains=filters.q) | Q(name_en__icontains=filters.q) |
                       Q(registration_no__contains=filters.q))  # fmt: skip
    return {"count": qs.count(), "items": list(qs[page.offset : page.offset + page.limit])}


@router.post("/establishments", response={201: EstablishmentOut}, summary="Register an establishment")
def create_establishment(request, payload: EstablishmentIn):
    # create_only: an existing number is refused before anything is written (409), not updated and then refused.
    est, _ = est_services.upsert_establishment(actor=request.user, data=payload, create_only=True)
    return Status(201, est)


@router.get("/establishments/{establishment_id}", response={200: EstablishmentOut | EstablishmentPublic},
            summary="One establishment (full record, or its public directory entry)")  # fmt: skip
def get_establishment(request, establishment_id: int):
    est = visible_establishments(request.user).select_related("estate").filter(id=establishment_id).first()
    if est is not None:
        return EstablishmentOut.model_validate(est)
    est = directory_establishments(request.user).select_related("estate").filter(id=establishment_id).first()
    if est is None:
        raise NotFound(error("establishment.not_found", "establishment_id", "no such establishment",
                             "ไม่พบสถานประกอบการนี้"))  # fmt: skip
    return EstablishmentPublic.model_validate(est)


@router.patch(
    "/establishments/{establishment_id}", response=EstablishmentOut, summary="Change an establishment"
)
def patch_establishment(request, establishment_id: int, payload: EstablishmentPatch):
    return est_services.update_establishment(
        actor=request.user, establishment_id=establishment_id, patch=payload
    )


# --- vehicles -------------------------------------------------------------------------------------------------
class VehicleOut(Schema):
    id: int
    transporter_id: int
    plate: str
    province: str
    kind: str
    capacity_kg: int
    gps_device_id: str | None
    hazardous_approved: bool
    active: bool


@router.get("/vehicles", response=list[VehicleOut], summary="Vehicles I may see")
def list_vehicles(request, page: Query[Page], transporter_id: int | None = None):
    qs = fleet.visible_vehicles(request.user)
    if transporter_id is not None:
        qs = qs.filter(transporter_id=transporter_id)
    return list(qs[page.offset : page.offset + page.limit])


@router.post("/establishments/{establishment_id}/vehicles", response={201: VehicleOut},
             summary="Register a vehicle of a transporter")  # fmt: skip
def create_vehicle(request, establishment_id: int, payload: VehicleIn):
    return Status(201, fleet.register_vehicle(actor=request.user, establishment_id=establishment_id, data=payload))


@router.patch("/vehicles/{vehicle_id}", response=VehicleOut, summary="Change a vehicle")
def patch_vehicle(request, vehicle_id: int, payload: VehiclePatch):
    return fleet.update_vehicle(actor=request.user, vehicle_id=vehicle_id, patch=payload)


# --- receiver licences ----------------------------------------------------------------------------------------
class ReceiverLicenceOut(Schema):
    id: int
    receiver_id: int
    licence_no: str
    factory_type: str = Field(alias="factory_type_id")
    waste_codes: list[str]
    methods: list[str]
    annual_capacity_t: Decimal
    valid_from: date
    valid_until: date
    suspended: bool

    @staticmethod
    def resolve_waste_codes(obj: ReceiverLicence) -> list[str]:
        return sorted(c.code for c in obj.waste_codes.all())

    @staticmethod
    def resolve_methods(obj: ReceiverLicence) -> list[str]:
        return sorted(m.code for m in obj.methods.all())


@router.get("/establishments/{establishment_id}/receiver-licences", response=list[ReceiverLicenceOut],
            summary="A receiver's licences (public for receivers)")  # fmt: skip
def list_receiver_licences(request, establishment_id: int):
    est = directory_establishments(request.user).filter(id=establishment_id).first()
    if est is None:
        raise NotFound(error("establishment.not_found", "establishment_id", "no such establishment",
                             "ไม่พบสถานประกอบการนี้"))  # fmt: skip
    return list(est.receiver_licences.prefetch_related("waste_codes", "methods"))


@router.post("/establishments/{establishment_id}/receiver-licences", response={201: ReceiverLicenceOut},
             summary="Record a receiver's licence")  # fmt: skip
def create_receiver_licence(request, establishment_id: int, payload: ReceiverLicenceIn):
    return Status(201, fleet.grant_receiver_licence(
        actor=request.user, establishment_id=establishment_id, data=payload
    ))


# --- reference data -------------------------------------------------------------------------------------------
class WasteCodeOut(Schema):
    code: str
    display: str
    level: str
    parent: str | None = Field(None, alias="parent_id")
    name_en: str
    name_th: str
    eu_hazardous: bool
    th_mark: str
    mark: str
    hazardous: bool
    material_family: str


class WasteCodeFilter(Schema):
    q: str | None = Field(None, max_length=100)
    level: Literal["chapter", "subchapter", "entry"] | None = None
    hazardous: bool | None = None
    parent: str | None = Field(None, pattern=r"^\d{2}(\d{2})?$")


@reference_router.get("/waste-codes", response=list[WasteCodeOut], summary="Waste codes")
def list_waste_codes(request, filters: Query[WasteCodeFilter]):
    qs = WasteCode.objects.all()
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.parent:
        qs = qs.filter(parent_id=filters.parent)
    if filters.q:
        digits = filters.q.replace(" ", "")
        qs = qs.filter(
            Q(code__startswith=digits) | Q(name_en__icontains=filters.q) | Q(name_th__icontains=filters.q)
        )
    items = list(qs)
    if filters.hazardous is not None:
        items = [c for c in items if c.hazardous == filters.hazardous]
    return items


@reference_router.get("/waste-codes/{code}", response=WasteCodeOut, summary="One waste code")
def get_waste_code(request, code: str):
    obj = WasteCode.objects.filter(code=code.replace(" ", "").rstrip("*")).first()
    if obj is None:
        raise NotFound(error("waste_code.not_found", "code", "no such waste code", "ไม่พบรหัสของเสียนี้"))
    return obj


@reference_router.patch("/waste-codes/{code}", response=WasteCodeOut, summary="Correct a waste code (admin)")
def patch_waste_code(request, code: str, payload: WasteCodePatch):
    return reference.update_waste_code(actor=request.user, code=code, patch=payload)


class MethodOut(Schema):
    code: str
    group: str
    name_en: str
    name_th: str
    name_th_official: bool
    non_hazardous_only: bool


@reference_router.get("/methods", response=list[MethodOut], summary="Management method codes")
def list_methods(request):
    return list(ManagementMethod.objects.all())


@reference_router.patch("/methods/{code}", response=MethodOut, summary="Correct a method (admin)")
def patch_method(request, code: str, payload: MethodPatch):
    return reference.update_method(actor=request.user, code=code, patch=payload)


class FactoryTypeOut(Schema):
    number: str
    role: str
    name_th: str
    name_en: str


@reference_router.get("/factory-types", response=list[FactoryTypeOut], summary="Receiver factory types")
def list_factory_types(request):
    return list(FactoryType.objects.all())
