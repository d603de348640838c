"""Permits API: waste streams, กอ.1 applications, review, permits, public verification, auto-approval table."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from wastelink.permits.access import visible_applications, visible_permits, visible_streams
from wastelink.permits.models import AutoApprovalRule
from wastelink.permits.schemas import (
    ApplicationIn,
    AutoRuleIn,
    DecisionIn,
    LineIn,
    LinePatch,
    ReasonIn,
    StreamIn,
    StreamPatch,
)
from wastelink.permits.services import applications as apps
from wastelink.permits.services import permits as permit_services
from wastelink.permits.services import review, streams
from wastelink.permits.services.common import bad, not_found
from wastelink.web.responses import pdf_response

router = Router(tags=["permits"])
public_router = Router(tags=["public"])


class StreamOut(Schema):
    id: int
    generator_id: int
    waste_code: str = Field(alias="waste_code_id")
    name: str
    source_process: str
    physical_form: str
    annual_quantity_t: Decimal
    active: bool


@router.get("/streams", response=list[StreamOut], summary="Declared waste streams I may see")
def list_streams(request, generator_id: int | None = None):
    qs = visible_streams(request.user)
    if generator_id:
        qs = qs.filter(generator_id=generator_id)
    return list(qs[:2000])


@router.post("/streams", response={201: StreamOut}, summary="Declare a waste stream (generator)")
def create_stream(request, payload: StreamIn):
    return Status(201, streams.declare_stream(actor=request.user, data=payload))


@router.get("/streams/{stream_id}", response=StreamOut)
def get_stream(request, stream_id: int):
    return streams.get_stream(actor=request.user, stream_id=stream_id)


@router.patch("/streams/{stream_id}", response=StreamOut, summary="Change a waste stream (generator)")
def patch_stream(request, stream_id: int, payload: StreamPatch):
    return streams.update_stream(actor=request.user, stream_id=stream_id, patch=payload)


class FindingOut(Schema):
    rule: str
    severity: str
    field: str
    message_en: str
    message_th: str


class LineOut(Schema):
    index: int
    stream_id: int
    waste_code: str
    quantity_t: Decimal
    method: str = Field(alias="method_id")
    receiver_id: int
    transporter_ids: list[int]
    decision: str
    approved_quantity_t: Decimal | None
    conditions: str
    decision_note: str
    auto_approved: bool

    @staticmethod
    def resolve_waste_code(obj) -> str:
        return obj.stream.waste_code_id

    @staticmethod
    def resolve_transporter_ids(obj) -> list[int]:
        return sorted(t.id for t in obj.transporters.all())


class DocumentOut(Schema):
    id: int
    kind: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class ApplicationOut(Schema):
    id: int
    reference: str
    generator_id: int
    estate: str | None = Field(None, alias="estate.code")
    route: str
    state: str
    version: int
    revision: int
    note: str
    info_request: str
    submitted_at: datetime | None
    decided_at: datetime | None
    decided_by: str
    decision_reason: str
    auto_decided: bool
    findings: list[FindingOut]
    lines: list[LineOut]
    documents: list[DocumentOut]
    permit_number: str | None

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.select_related("stream").prefetch_related("transporters"))

    @staticmethod
    def resolve_documents(obj) -> list:
        return list(obj.documents.all())

    @staticmethod
    def resolve_permit_number(obj) -> str | None:
        permit = getattr(obj, "permit", None) if hasattr(obj, "permit") else None
        return permit.number if permit else None


class ApplicationSummary(Schema):
    id: int
    reference: str
    generator_id: int
    state: str
    route: str
    submitted_at: datetime | None
    decided_at: datetime | None


@router.get("/applications", response=list[ApplicationSummary], summary="กอ.1 applications I may see")
def list_applications(request, state: str | None = None, limit: int = Query(100, ge=1, le=500)):
    qs = visible_applications(request.user)
    if state:
        qs = qs.filter(state=state)
    return list(qs[:limit])


@router.post("/applications", response={201: ApplicationOut}, summary="Start a กอ.1 application (draft)")
def create_application(request, payload: ApplicationIn):
    return Status(201, apps.create_application(actor=request.user, data=payload))


@router.get("/applications/{application_id}", response=ApplicationOut)
def get_application(request, application_id: int):
    return apps.get_application(actor=request.user, application_id=application_id)


@router.patch("/applications/{application_id}", response=ApplicationOut, summary="Change a draft's remarks")
def patch_application(request, application_id: int, payload: ApplicationIn):
    return apps.update_application(actor=request.user, application_id=application_id, data=payload)


@router.post("/applications/{application_id}/lines", response={201: LineOut}, summary="Add a waste line")
def add_line(request, application_id: int, payload: LineIn):
    return Status(201, apps.add_line(actor=request.user, application_id=application_id, data=payload))


@router.patch("/applications/{application_id}/lines/{index}", response=LineOut, summary="Change a waste line")
def patch_line(request, application_id: int, index: int, payload: LinePatch):
    return apps.update_line(actor=request.user, application_id=application_id, index=index, data=payload)


@router.delete("/applications/{application_id}/lines/{index}", response={204: None}, summary="Remove a waste line")
def delete_line(request, application_id: int, index: int):
    apps.remove_line(actor=request.user, application_id=application_id, index=index)
    return Status(204, None)


@router.post("/applications/{application_id}/documents", response={201: DocumentOut},
             summary="Attach a supporting document (PDF, PNG or JPEG)")  # fmt: skip
def upload_document(request, application_id: int, kind: Form[str], file: File[UploadedFile]):
    limit = apps.settings.WASTELINK["DOCUMENT_MAX_BYTES"]
    if file.size and file.size > limit:
        raise bad("document.size", "file", f"the file is larger than {limit // (1024 * 1024)} MB",
                  f"ไฟล์มีขนาดเกิน {limit // (1024 * 1024)} MB")  # fmt: skip
    content = file.read(limit + 1)
    return Status(201, apps.upload_document(actor=request.user, application_id=application_id, kind=kind,
                                     name=file.name or "document", content=content))  # fmt: skip


@router.get("/applications/{application_id}/precheck", response=list[FindingOut], summary="Run the pre-checks now")
def run_precheck(request, application_id: int):
    app = apps.get_application(actor=request.user, application_id=application_id)
    return [f.as_dict() for f in apps.precheck(app)]


@router.post("/applications/{application_id}/submit", response=ApplicationOut, summary="Submit (pre-checks first)")
def submit(request, application_id: int):
    app, _ = apps.submit(actor=request.user, application_id=application_id)
    return app


class VersionOut(Schema):
    version: int
    content: dict[str, Any]
    findings: list[FindingOut]
    submitted_by: str
    submitted_at: datetime


@router.get("/applications/{application_id}/versions", response=list[VersionOut], summary="Submitted versions")
def list_versions(request, application_id: int):
    return list(apps.get_application(actor=request.user, application_id=application_id).versions.all())


class QueueOut(Schema):
    id: int
    reference: str
    generator: str
    estate: str | None
    state: str
    waiting_days: int
    overdue: bool
    assigned_to: str | None


@router.get("/review-queue", response=list[QueueOut], summary="Applications waiting for my decision")
def queue(request):
    return [{"id": i.application.id, "reference": i.application.reference, "generator": str(i.application.generator),
             "estate": i.application.estate.code if i.application.estate else None, "state": i.application.state,
             "waiting_days": i.waiting_days, "overdue": i.overdue,
             "assigned_to": i.application.assigned_to.username if i.application.assigned_to else None}
            for i in review.review_queue(actor=request.user)]  # fmt: skip


@router.post("/applications/{application_id}/take", response=ApplicationOut, summary="Start reviewing (officer)")
def take(request, application_id: int):
    return review.take(actor=request.user, application_id=application_id)


@router.post("/applications/{application_id}/request-info", response=ApplicationOut,
             summary="Send back to the applicant for information (officer)")  # fmt: skip
def request_info(request, application_id: int, payload: ReasonIn):
    return review.request_info(actor=request.user, application_id=application_id, reason=payload.reason)


@router.post("/applications/{application_id}/decide", response=ApplicationOut,
             summary="Decide line by line: approve (with caps and conditions) or reject (officer)")  # fmt: skip
def decide(request, application_id: int, payload: DecisionIn):
    return review.decide(actor=request.user, application_id=application_id, data=payload)


@router.post("/applications/{application_id}/reject", response=ApplicationOut, summary="Reject (officer)")
def reject(request, application_id: int, payload: ReasonIn):
    return review.reject(actor=request.user, application_id=application_id, reason=payload.reason)


class PermitLineOut(Schema):
    index: int
    waste_code: str = Field(alias="waste_code_id")
    stream_id: int
    method: str = Field(alias="method_id")
    receiver_id: int
    transporter_ids: list[int]
    approved_quantity_t: Decimal
    remaining_quantity_t: Decimal
    conditions: str

    @staticmethod
    def resolve_transporter_ids(obj) -> list[int]:
        return sorted(t.id for t in obj.transporters.all())


class PermitOut(Schema):
    number: str
    application_id: int
    generator_id: int
    estate: str | None = Field(None, alias="estate.code")
    state: str
    valid_from: date
    valid_until: date
    conditions: str
    issued_at: datetime
    issued_by: str
    state_reason: str
    lines: list[PermitLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.prefetch_related("transporters"))


@router.get("/permits", response=list[PermitOut], summary="Permits I may see")
def list_permits(request, state: str | None = None, limit: int = Query(100, ge=1, le=500)):
    qs = visible_permits(request.user)
    if state:
        qs = qs.filter(state=state)
    return list(qs[:limit])


@router.get("/permits/{number}", response=PermitOut)
def get_permit(request, number: str):
    return permit_services.get_permit(actor=request.user, number=number)


@router.get("/permits/{number}/certificate.pdf", summary="The permit certificate (PDF, Thai)")
def certificate(request, number: str):
    from wastelink.permits.certificate import render_certificate

    permit = permit_services.get_permit(actor=request.user, number=number)
    return pdf_response(render_certificate(permit), permit.number)


for _action in ("suspend", "reinstate", "revoke"):

    def _make(action: str):
        def handler(request, number: str, payload: ReasonIn):
            return permit_services.change_permit_state(actor=request.user, number=number, action=action,
                                                       reason=payload.reason)  # fmt: skip

        handler.__name__ = f"{action}_permit"
        return handler

    router.post(f"/permits/{{number}}/{_action}", response=PermitOut, summary=f"{_action.capitalize()} a permit",
                url_name=f"{_action}_permit")(_make(_action))  # fmt: skip


class VerifyOut(Schema):
    number: str
    holder_th: str
    holder_en: str
    valid_from: date
    valid_until: date
    state: str


@public_router.get("/verify/{number}", auth=None, response=VerifyOut,
                   summary="Public check of a permit: number, holder, validity and status only")  # fmt: skip
def verify(request, number: str, code: str = Query(..., min_length=4, max_length=32)):
    permit = permit_services.verify_public(number=number, code=code)
    if permit is None:
        raise not_found("permit with this verification code", "ใบอนุญาตที่ตรงกับรหัสตรวจสอบ", "number")
    return {"number": permit.number, "holder_th": permit.generator.name_th, "holder_en": permit.generator.name_en,
            "valid_from": permit.valid_from, "valid_until": permit.valid_until, "state": permit.state}  # fmt: skip


class AutoRuleOut(Schema):
    id: int
    waste_code: str = Field(alias="waste_code_id")
    method: str = Field(alias="method_id")
    receiver_type: str = Field(alias="receiver_type_id")
    active: bool
    note: str


@router.get("/auto-approval-rules", response=list[AutoRuleOut], summary="The auto-approval table")
def list_rules(request):
    return list(AutoApprovalRule.objects.all())


@router.post("/auto-approval-rules", response={201: AutoRuleOut}, summary="Add to the auto-approval table (admin)")
def add_rule(request, payload: AutoRuleIn):
    from wastelink.permits.services.table import add_auto_rule

    return Status(201, add_auto_rule(actor=request.user, data=payload))


@router.delete("/auto-approval-rules/{rule_id}", response={204: None}, summary="Retire a rule (admin)")
def retire_rule(request, rule_id: int):
    from wastelink.permits.services.table import retire_auto_rule

    retire_auto_rule(actor=request.user, rule_id=rule_id)
    return Status(204, None)


