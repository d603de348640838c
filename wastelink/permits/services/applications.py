"""กอ.1 applications: drafting, lines, documents, pre-checks and submission (with the auto-approval table)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wastelink.accounts.access import own_establishment_id, require
from wastelink.audit import services as audit
from wastelink.core.findings import DomainError, Finding, Severity
from wastelink.core.permit_states import EDITABLE, ApplicationState, TransitionRefused, next_application_state
from wastelink.core.precheck import line_findings, run_prechecks
from wastelink.permits.access import can_edit_for_generator, visible_applications
from wastelink.permits.models import (
    ApplicationLine,
    ApplicationVersion,
    AutoApprovalRule,
    PermitApplication,
    SupportingDocument,
    WasteStream,
)
from wastelink.permits.schemas import ApplicationIn, LineIn, LinePatch
from wastelink.registry.models import Establishment, ManagementMethod

from . import facts as facts_service
from .common import bad, next_number, not_found, notify, refused, reviewers_for, stale

SYSTEM_AUTO = "system:auto-approval"
# Magic numbers of the accepted document types: PDF, PNG, JPEG.
SIGNATURES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def get_application(*, actor, application_id: int) -> PermitApplication:
    app = visible_applications(actor).filter(id=application_id).first()
    if app is None:
        raise not_found("application", "คำขอ", "application_id")
    return app


def _editable(actor, application_id: int) -> PermitApplication:
    app = get_application(actor=actor, application_id=application_id)
    require(can_edit_for_generator(actor, app.generator_id), "application_id", "this application", "คำขอนี้")
    app = PermitApplication.objects.select_for_update().get(id=app.id)
    if app.state not in EDITABLE:
        raise refused(TransitionRefused("edit", app.state))
    return app


def _touch(app: PermitApplication) -> None:
    PermitApplication.objects.filter(id=app.id).update(revision=F("revision") + 1)


@transaction.atomic
def create_application(*, actor, data: ApplicationIn) -> PermitApplication:
    generator_id = own_establishment_id(actor)
    require(generator_id is not None and can_edit_for_generator(actor, generator_id), "generator",
            "applications of this factory", "คำขอของโรงงานนี้")  # fmt: skip
    generator = Establishment.objects.get(id=generator_id)
    if not generator.is_generator:
        raise bad("application.not_generator", "generator", "only a generator applies for a กอ.1 permit",
                  "เฉพาะผู้ก่อกำเนิดที่ยื่นคำขอ กอ.1 ได้")  # fmt: skip
    app = PermitApplication.objects.create(
        reference=next_number("APP"), generator=generator, estate=generator.estate,
        route=PermitApplication.Route.ESTATE if generator.estate_id else PermitApplication.Route.REGULATOR,
        note=data.note, created_by=actor if getattr(actor, "pk", None) else None,
    )  # fmt: skip
    audit.record(actor=actor, action="application.create", obj=app, after=audit.snapshot(app))
    return app


@transaction.atomic
def update_application(*, actor, application_id: int, data: ApplicationIn) -> PermitApplication:
    app = _editable(actor, application_id)
    before = audit.snapshot(app)
    app.note = data.note
    app.revision += 1
    app.save(update_fields=["note", "revision"])
    audit.record(actor=actor, action="application.update", obj=app, before=before, after=audit.snapshot(app))
    return app


def _resolve_line(app: PermitApplication, *, stream_id=None, method=None, receiver_id=None, transporter_ids=None):
    out: dict[str, Any] = {}
    if stream_id is not None:
        stream = WasteStream.objects.filter(id=stream_id, generator_id=app.generator_id, active=True).first()
        if stream is None:
            raise bad("stream.unknown", "stream_id", "no such active waste stream declared by this factory",
                      "ไม่พบรายการของเสียนี้ในรายการที่โรงงานแจ้งไว้")  # fmt: skip
        out["stream"] = stream
    if method is not None:
        m = ManagementMethod.objects.filter(code=method).first()
        if m is None:
            raise bad("method.unknown", "method", f"unknown management method {method}", f"ไม่รู้จักวิธีการจัดการ {method}")
        out["method"] = m
    if receiver_id is not None:
        r = Establishment.objects.filter(id=receiver_id, is_receiver=True).first()
        if r is None:
            raise bad("receiver.unknown", "receiver_id", "no such receiving facility", "ไม่พบผู้รับบำบัด/กำจัดนี้")
        out["receiver"] = r
    if transporter_ids is not None:
        ts = list(Establishment.objects.filter(id__in=set(transporter_ids), is_transporter=True))
        if len(ts) != len(set(transporter_ids)):
            raise bad("transporter.unknown", "transporter_ids", "one or more transporters are unknown",
                      "ไม่พบผู้ขนส่งบางราย")  # fmt: skip
        out["transporters"] = ts
    return out


@transaction.atomic
def add_line(*, actor, application_id: int, data: LineIn) -> ApplicationLine:
    app = _editable(actor, application_id)
    if app.lines.count() >= 50:
        raise bad("lines.too_many", "lines", "an application holds at most 50 lines", "คำขอหนึ่งมีได้ไม่เกิน 50 รายการ")
    parts = _resolve_line(app, stream_id=data.stream_id, method=data.method, receiver_id=data.receiver_id,
                          transporter_ids=data.transporter_ids)  # fmt: skip
    index = (app.lines.order_by("-index").values_list("index", flat=True).first() or 0) + 1
    line = ApplicationLine.objects.create(application=app, index=index, quantity_t=data.quantity_t,
                                          stream=parts["stream"], method=parts["method"], receiver=parts["receiver"])  # fmt: skip
    line.transporters.set(parts["transporters"])
    _touch(app)
    audit.record(actor=actor, action="application.line.add", obj=line, after=audit.snapshot(line))
    return line


@transaction.atomic
def update_line(*, actor, application_id: int, index: int, data: LinePatch) -> ApplicationLine:
    app = _editable(actor, application_id)
    line = app.lines.filter(index=index).first()
    if line is None:
        raise not_found("line", "รายการ", "index")
    before = audit.snapshot(line)
    changes = data.model_dump(exclude_unset=True)
    if any(v is None for v in changes.values()):
        raise bad("field.required", next(k for k, v in changes.items() if v is None), "may not be empty", "ต้องไม่เว้นว่าง")
    parts = _resolve_line(app, method=changes.get("method"), receiver_id=changes.get("receiver_id"),
                          transporter_ids=changes.get("transporter_ids"))  # fmt: skip
    if "quantity_t" in changes:
        line.quantity_t = changes["quantity_t"]
    for name in ("method", "receiver"):
        if name in parts:
            setattr(line, name, parts[name])
    line.save()
    if "transporters" in parts:
        line.transporters.set(parts["transporters"])
    _touch(app)
    line.refresh_from_db()  # answer with the stored values (3 decimals), not the input's
    audit.record(actor=actor, action="application.line.update", obj=line, before=before, after=audit.snapshot(line))
    return line


@transaction.atomic
def remove_line(*, actor, application_id: int, index: int) -> None:
    app = _editable(actor, application_id)
    line = app.lines.filter(index=index).first()
    if line is None:
        raise not_found("line", "รายการ", "index")
    before = audit.snapshot(line)
    line.delete()
    _touch(app)
    audit.record(actor=actor, action="application.line.remove", object_type="permits.applicationline",
                 object_id=f"{app.id}#{index}", before=before)  # fmt: skip


def sniff_content_type(head: bytes) -> str | None:
    for magic, content_type in SIGNATURES.items():
        if head.startswith(magic):
            return content_type
    return None


@transaction.atomic
def upload_document(*, actor, application_id: int, kind: str, name: str, content: bytes) -> SupportingDocument:
    app = _editable(actor, application_id)
    if kind not in SupportingDocument.Kind.values:
        raise bad("document.kind", "kind", f"kind must be one of {', '.join(SupportingDocument.Kind.values)}",
                  "ประเภทเอกสารไม่ถูกต้อง")  # fmt: skip
    limit = settings.WASTELINK["DOCUMENT_MAX_BYTES"]
    if not content:
        raise bad("document.empty", "file", "the file is empty", "ไฟล์ว่างเปล่า")
    if len(content) > limit:
        raise bad("document.size", "file", f"the file is larger than {limit // (1024 * 1024)} MB",
                  f"ไฟล์มีขนาดเกิน {limit // (1024 * 1024)} MB")  # fmt: skip
    content_type = sniff_content_type(content[:16])
    if content_type is None:
        raise bad("document.type", "file", "only PDF, PNG or JPEG files are accepted (checked by content)",
                  "รับเฉพาะไฟล์ PDF, PNG หรือ JPEG")  # fmt: skip
    safe_name = "".join(ch for ch in (name or "document")[-100:] if ch.isalnum() or ch in "._- ") or "document"
    doc = SupportingDocument(application=app, kind=kind, original_name=safe_name, content_type=content_type,
                             size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                             uploaded_by=audit.actor_name(actor))  # fmt: skip
    doc.file.save(f"{app.reference}-{doc.sha256[:12]}{_extension(content_type)}", ContentFile(content), save=False)
    doc.save()
    _touch(app)
    after = audit.snapshot(doc)
    after["file"] = doc.file.name  # the stored path: a FieldFile is not JSON
    audit.record(actor=actor, action="application.document.add", obj=doc, after=after)
    return doc


def _extension(content_type: str) -> str:
    return {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}[content_type]


def precheck(app: PermitApplication) -> list[Finding]:
    return run_prechecks(facts_service.gather(app))


def content_of(app: PermitApplication) -> dict[str, Any]:
    """The canonical content of an application: what a version freezes and what the officer decides on."""
    lines = []
    for ln in app.lines.select_related("stream", "method", "receiver").prefetch_related("transporters").order_by("index"):
        lines.append({
            "index": ln.index, "stream_id": ln.stream_id, "waste_code": ln.stream.waste_code_id,
            "stream_name": ln.stream.name, "quantity_t": str(ln.quantity_t), "method": ln.method_id,
            "receiver_id": ln.receiver_id, "receiver": str(ln.receiver),
            "transporter_ids": sorted(t.id for t in ln.transporters.all()),
        })  # fmt: skip
    docs = [{"kind": d.kind, "name": d.original_name, "sha256": d.sha256, "size": d.size}
            for d in app.documents.order_by("id")]  # fmt: skip
    return {"reference": app.reference, "generator_id": app.generator_id, "note": app.note, "lines": lines,
            "documents": docs}  # fmt: skip


class RefusedSubmission(DomainError):
    def __init__(self, application_id: int, findings: list[Finding], errors: list[Finding]):
        super().__init__(errors)
        self.application_id, self.all_findings = application_id, findings


def submit(*, actor, application_id: int) -> tuple[PermitApplication, list[Finding]]:
    """Submit; a refusal still records its pre-check results on the draft (in a transaction of its own)."""
    try:
        return _submit(actor=actor, application_id=application_id)
    except RefusedSubmission as exc:
        PermitApplication.objects.filter(id=exc.application_id).update(
            findings=[f.as_dict() for f in exc.all_findings])  # fmt: skip
        raise


@transaction.atomic
def _submit(*, actor, application_id: int) -> tuple[PermitApplication, list[Finding]]:
    """Run the pre-checks; refuse on errors; otherwise freeze a version and route the application.

    Lines that the auto-approval table covers and that carry no warning are approved at once; when every line is,
    the application is approved by the table (the audit trail says so) and the permit issued.
    """
    app = _editable(actor, application_id)
    findings = precheck(app)
    errors = [f for f in findings if f.severity == Severity.ERROR]
    if errors:
        # Refused: keep the results on the draft so the applicant sees them, after this transaction rolls back.
        raise RefusedSubmission(app.id, findings, errors)
    next_application_state(app.state, "submit")
    now = timezone.now()
    before = audit.snapshot(app)
    updated = PermitApplication.objects.filter(id=app.id, state=app.state, revision=app.revision).update(
        state=ApplicationState.SUBMITTED.value, version=F("version") + 1, revision=F("revision") + 1,
        submitted_at=now, first_submitted_at=app.first_submitted_at or now,
        findings=[f.as_dict() for f in findings], info_request="",
    )  # fmt: skip
    if not updated:
        raise stale()
    app.refresh_from_db()
    ApplicationVersion.objects.create(application=app, version=app.version, content=content_of(app),
                                      findings=app.findings, submitted_by=audit.actor_name(actor), submitted_at=now)  # fmt: skip
    audit.record(actor=actor, action="application.submit", obj=app, before=before, after=audit.snapshot(app),
                 note=f"version {app.version}; {len(findings)} warning(s)")  # fmt: skip

    # Marks left by the table on an earlier version no longer hold: the lines may have changed since.
    ApplicationLine.objects.filter(application=app).exclude(decision=ApplicationLine.Decision.PENDING).update(
        decision=ApplicationLine.Decision.PENDING, approved_quantity_t=None, auto_approved=False, decision_note="")  # fmt: skip
    auto_lines = _auto_approvable(app, findings)
    app_warnings = [f for f in findings if not f.field.startswith("lines[")]
    if auto_lines and len(auto_lines) == app.lines.count() and not app_warnings:
        from .review import approve_by_table

        approve_by_table(app, auto_lines)
        app.refresh_from_db()
    else:
        for line, rule in auto_lines:
            ApplicationLine.objects.filter(id=line.id).update(
                decision=ApplicationLine.Decision.APPROVED, approved_quantity_t=line.quantity_t, auto_approved=True,
                decision_note=f"auto-approval table rule #{rule.id}")  # fmt: skip
        notify(reviewers_for(app), title_en=f"กอ.1 application {app.reference} waits for review",
               title_th=f"คำขอ กอ.1 เลขที่ {app.reference} รอการพิจารณา", url=f"/review/{app.id}/")  # fmt: skip
    return app, findings


def _auto_approvable(app: PermitApplication, findings: list[Finding]):
    """Lines without warnings whose (code, method, receiver type) is in the active auto-approval table."""
    out = []
    lines = list(app.lines.select_related("stream", "receiver"))
    rules = {(r.waste_code_id, r.method_id, r.receiver_type_id): r for r in AutoApprovalRule.objects.filter(
        active=True, waste_code_id__in={ln.stream.waste_code_id for ln in lines})}  # fmt: skip
    for ln in lines:
        rule = rules.get((ln.stream.waste_code_id, ln.method_id, ln.receiver.factory_type_id))
        if rule and not line_findings(findings, ln.index):
            out.append((ln, rule))
    return out
