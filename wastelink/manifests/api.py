"""Manifest API: drafting, the three signatures, receipt and discrepancies, corrections, oversight, mass balance."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from pydantic import field_validator

from wastelink.manifests.access import visible_manifests
from wastelink.manifests.schemas import (
    BalanceQuery,
    CompleteIn,
    CorrectionIn,
    ExplainIn,
    ManifestIn,
    ReasonIn,
    ReceiveIn,
    RerouteIn,
    RouteIn,
    SignIn,
    refuse_nul,
)
from wastelink.manifests.services import corrections, custody, oversight
from wastelink.manifests.services.document import document_hash, document_of
from wastelink.web.responses import pdf_response

router = Router(tags=["manifests"])


class SignatureOut(Schema):
    role: str
    signer_name: str
    signed_at: datetime
    document_sha256: str
    manifest_version: int


class ManifestOut(Schema):
    number: str
    state: str
    permit_number: str
    permit_line: int
    generator_id: int
    transporter_id: int
    receiver_id: int
    vehicle_id: int
    plate: str
    driver_id: int | None
    waste_code: str = Field(alias="waste_code_id")
    declared_quantity: Decimal
    unit: str
    declared_t: Decimal
    container_type: str
    container_count: int
    physical_form: str
    planned_pickup_at: datetime
    expected_arrival_at: datetime
    route: dict[str, Any] | None
    corridor_width_m: int
    received_kg: Decimal | None
    acceptance: str
    discrepancy: bool
    discrepancy_code: str
    discrepancy_reason: str
    discrepancy_reviewed_by: str
    final_method: str | None = Field(None, alias="final_method_id")
    treated_on: date | None
    parent: str | None
    relation: str
    version: int
    signatures: list[SignatureOut]
    overdue: list[str]

    @staticmethod
    def resolve_permit_number(obj) -> str:
        return obj.permit_line.permit.number

    @staticmethod
    def resolve_permit_line(obj) -> int:
        return obj.permit_line.index

    @staticmethod
    def resolve_plate(obj) -> str:
        return obj.vehicle.plate

    @staticmethod
    def resolve_parent(obj) -> str | None:
        return obj.parent.number if obj.parent_id else None

    @staticmethod
    def resolve_signatures(obj) -> list:
        return list(obj.signatures.order_by("signed_at", "id"))

    @staticmethod
    def resolve_overdue(obj) -> list[str]:
        return oversight.overdue(obj)


class FindingOut(Schema):
    rule: str
    severity: str
    field: str
    message_en: str
    message_th: str


class ReceivedOut(Schema):
    manifest: ManifestOut
    warnings: list[FindingOut]


class ManifestFilter(Schema):
    state: str | None = Field(None, max_length=12)
    plate: str | None = Field(None, max_length=20)
    discrepancy: bool | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)

    @field_validator("state", "plate", mode="before")
    @classmethod
    def _no_nul(cls, value):
        return refuse_nul(value)


@router.get("/manifests", response=list[ManifestOut], summary="Manifests I may see")
def list_manifests(request, filters: Query[ManifestFilter]):
    qs = visible_manifests(request.user).select_related("permit_line__permit", "vehicle", "parent")
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.plate:
        qs = qs.filter(vehicle__plate__icontains=filters.plate.replace("-", "").replace(" ", ""))
    if filters.discrepancy is not None:
        qs = qs.filter(discrepancy=filters.discrepancy)
    return list(qs[filters.offset : filters.offset + filters.limit])


@router.post("/manifests", response={201: ManifestOut}, summary="Draft a manifest (generator)")
def create(request, payload: ManifestIn):
    return Status(201, custody.create_manifest(actor=request.user, data=payload))


@router.post("/manifests/bulk", summary="Draft many manifests from a CSV upload; a result per row")
def bulk(request, file: File[UploadedFile]):
    from wastelink.manifests.services.bulk import bulk_create

    text = file.read(2 * 1024 * 1024 + 1)
    return bulk_create(actor=request.user, raw=text)


@router.get("/manifests/overdue", response=list[ManifestOut], summary="Manifests past a deadline")
def overdue(request):
    return [i.manifest for i in oversight.overdue_manifests(actor=request.user)]


class BalanceOut(Schema):
    generator_id: int
    stream_id: int
    waste_code: str
    stream: str
    declared_t: Decimal
    shipped_t: Decimal
    received_t: Decimal
    treated_t: Decimal
    in_transit_t: Decimal
    flags: list[str]


@router.get("/mass-balance", response=list[BalanceOut], summary="Declared vs shipped vs received vs treated")
def balance(request, q: Query[BalanceQuery]):
    rows = oversight.balance_report(actor=request.user, date_from=q.date_from, date_to=q.date_to,
                                    generator_id=q.generator_id)  # fmt: skip
    return [{"generator_id": r.stream.generator_id, "stream_id": r.stream.id, "waste_code": r.stream.waste_code_id,
             "stream": r.stream.name, "declared_t": r.balance.declared_t, "shipped_t": r.balance.shipped_t,
             "received_t": r.balance.received_t, "treated_t": r.balance.treated_t,
             "in_transit_t": r.balance.in_transit_t, "flags": r.balance.flags} for r in rows]  # fmt: skip


@router.get("/manifests/{number}", response=ManifestOut)
def get(request, number: str):
    return custody.get_manifest(actor=request.user, number=number)


class DocumentOut(Schema):
    document: dict[str, Any]
    sha256: str


@router.get("/manifests/{number}/document", response=DocumentOut,
            summary="The canonical document to show a signer, and the hash their signature must carry")  # fmt: skip
def document(request, number: str):
    m = custody.get_manifest(actor=request.user, number=number)
    return {"document": document_of(m), "sha256": document_hash(m)}


@router.get("/manifests/{number}/pdf", summary="The printable manifest (PDF, Thai, QR)")
def pdf(request, number: str):
    from wastelink.manifests.printing import render_manifest

    m = custody.get_manifest(actor=request.user, number=number)
    return pdf_response(render_manifest(m), m.number)


@router.post("/manifests/{number}/schedule", response=ManifestOut, summary="Generator's certifier signs")
def schedule(request, number: str, payload: SignIn):
    return custody.schedule(actor=request.user, number=number, data=payload)


@router.post("/manifests/{number}/pickup", response=ManifestOut, summary="Transporter signs at pickup")
def pickup(request, number: str, payload: SignIn):
    return custody.pickup(actor=request.user, number=number, data=payload)


@router.post("/manifests/{number}/deliver", response=ManifestOut, summary="Arrived at the receiver")
def deliver(request, number: str):
    return custody.deliver(actor=request.user, number=number)


@router.post("/manifests/{number}/receive", response=ReceivedOut, summary="Receiver's certifier signs with the weight")
def receive(request, number: str, payload: ReceiveIn):
    m, findings = custody.receive(actor=request.user, number=number, data=payload)
    return {"manifest": m, "warnings": [f.as_dict() for f in findings]}


@router.post("/manifests/{number}/complete", response=ManifestOut, summary="Receiver confirms treatment")
def complete(request, number: str, payload: CompleteIn):
    return custody.complete(actor=request.user, number=number, data=payload)


@router.post("/manifests/{number}/cancel", response=ManifestOut, summary="Cancel before pickup (generator)")
def cancel(request, number: str, payload: ReasonIn):
    return custody.cancel(actor=request.user, number=number, reason=payload.reason)


@router.post("/manifests/{number}/discrepancy/explain", response=ManifestOut, summary="Receiver explains")
def explain(request, number: str, payload: ExplainIn):
    return oversight.explain_discrepancy(actor=request.user, number=number, code=payload.discrepancy_code,
                                         reason=payload.discrepancy_reason, new_waste_code=payload.new_waste_code)  # fmt: skip


@router.post("/manifests/{number}/discrepancy/review", response=ManifestOut, summary="Officer reviews")
def review_discrepancy(request, number: str, payload: ReasonIn):
    return oversight.review_discrepancy(actor=request.user, number=number, note=payload.reason)


class VersionOut(Schema):
    version: int
    content: dict[str, Any]
    reason: str
    changed: list[str]
    created_by: str
    created_at: datetime


@router.post("/manifests/{number}/correct", response=ManifestOut, summary="Correct after signing (new version)")
def correct(request, number: str, payload: CorrectionIn):
    return corrections.correct(actor=request.user, number=number, data=payload)


@router.get("/manifests/{number}/versions", response=list[VersionOut], summary="All versions, oldest first")
def versions(request, number: str):
    return list(custody.get_manifest(actor=request.user, number=number).versions.all())


@router.post("/manifests/{number}/reroute", response={201: ManifestOut},
             summary="Send a rejected load back or on, on a linked manifest (generator)")  # fmt: skip
def reroute(request, number: str, payload: RerouteIn):
    return Status(201, corrections.reroute(actor=request.user, number=number, data=payload))


class RouteOut(Schema):
    id: int
    name: str
    origin_id: int
    destination_id: int
    geometry: dict[str, Any]
    corridor_width_m: int
    approved_by: str


@router.get("/routes", response=list[RouteOut], summary="Approved routes (filter by origin and destination)")
def list_routes(request, origin_id: int | None = None, destination_id: int | None = None):
    from wastelink.manifests.models import ApprovedRoute

    qs = ApprovedRoute.objects.filter(active=True)
    if origin_id:
        qs = qs.filter(origin_id=origin_id)
    if destination_id:
        qs = qs.filter(destination_id=destination_id)
    return list(qs[:500])


@router.post("/routes", response={201: RouteOut}, summary="Approve a route between two sites (officers)")
def approve_route(request, payload: RouteIn):
    from wastelink.manifests.services.route_library import approve_route as approve

    return Status(201, approve(actor=request.user, data=payload))


@router.delete("/routes/{route_id}", response={204: None}, summary="Retire an approved route (officers)")
def retire_route(request, route_id: int):
    from wastelink.manifests.services.route_library import retire_route as retire

    retire(actor=request.user, route_id=route_id)
    return Status(204, None)
