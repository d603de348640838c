"""Permit pages: the generator declares and applies, the officer reviews and decides, the public verifies.

Views only translate forms into the services' inputs; every rule and access check lives in the services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from wastelink.accounts.access import own_establishment_id, role_of
from wastelink.accounts.models import Notification
from wastelink.core.permit_states import EDITABLE, ApplicationState
from wastelink.permits.access import can_edit_for_generator, can_review, can_supervise_permit, visible_permits
from wastelink.permits.models import PhysicalForm, SupportingDocument
from wastelink.permits.schemas import ApplicationIn, DecisionIn, LineIn, ReasonIn, StreamIn
from wastelink.permits.services import applications as apps
from wastelink.permits.services import permits as permit_services
from wastelink.permits.services import review as review_services
from wastelink.permits.services import streams as stream_services
from wastelink.permits.services.review import review_queue as queue_items
from wastelink.registry.models import ManagementMethod
from wastelink.web.forms import attempt, get_or_404, parse
from wastelink.web.responses import pdf_response

from .access import visible_applications, visible_streams


@login_required
def streams(request: HttpRequest) -> HttpResponse:
    own = own_establishment_id(request.user)
    can_declare = own is not None and can_edit_for_generator(request.user, own)
    if request.method == "POST" and can_declare:
        data = {k: request.POST.get(k, "") for k in ("waste_code", "name", "source_process", "physical_form",
                                                      "annual_quantity_t")}  # fmt: skip
        if attempt(request, lambda: stream_services.declare_stream(actor=request.user, data=parse(StreamIn, data)),
                   success=_("Waste stream declared.")):  # fmt: skip
            return redirect("streams")
    qs = visible_streams(request.user).order_by("generator__name_en", "waste_code_id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "permits/streams.html", {"page": page, "can_declare": can_declare,
                                                    "forms": PhysicalForm.choices, "post": request.POST})  # fmt: skip


@login_required
def applications(request: HttpRequest) -> HttpResponse:
    own = own_establishment_id(request.user)
    can_apply = own is not None and can_edit_for_generator(request.user, own)
    if request.method == "POST" and can_apply:
        app = attempt(request, lambda: apps.create_application(actor=request.user, data=ApplicationIn(
            note=request.POST.get("note", "")[:4000])))  # fmt: skip
        if app:
            return redirect("application_detail", application_id=app.id)
    qs = visible_applications(request.user).prefetch_related("lines")
    state = request.GET.get("state") or ""
    if state:
        qs = qs.filter(state=state)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "permits/applications.html", {"page": page, "can_apply": can_apply, "state": state,
                                                         "states": ApplicationState})  # fmt: skip


def _line_choices(app):
    return {
        "streams": visible_streams_for(app),
        "methods": ManagementMethod.objects.all(),
        "receivers": directory_establishments_for("receiver"),
        "transporters": directory_establishments_for("transporter"),
    }


def visible_streams_for(app):
    from .models import WasteStream

    return WasteStream.objects.filter(generator_id=app.generator_id, active=True).select_related("waste_code")


def directory_establishments_for(role: str):
    from wastelink.registry.models import Establishment

    return Establishment.objects.filter(**{f"is_{role}": True, "status": "active"}).order_by("name_th")


@login_required
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    app = get_or_404(apps.get_application, actor=request.user, application_id=application_id)
    editable = app.state in EDITABLE and can_edit_for_generator(request.user, app.generator_id)
    if request.method == "POST" and editable:
        action = request.POST.get("action")
        if action == "add_line":
            data = {"stream_id": request.POST.get("stream_id"), "quantity_t": request.POST.get("quantity_t"),
                    "method": request.POST.get("method"), "receiver_id": request.POST.get("receiver_id"),
                    "transporter_ids": request.POST.getlist("transporter_ids")}  # fmt: skip
            attempt(request, lambda: apps.add_line(actor=request.user, application_id=app.id, data=parse(LineIn, data)),
                    success=_("Line added."))  # fmt: skip
        elif action == "remove_line":
            index = int(request.POST.get("index") or 0)
            attempt(request, lambda: apps.remove_line(actor=request.user, application_id=app.id, index=index),
                    success=_("Line removed."))  # fmt: skip
        elif action == "note":
            attempt(request, lambda: apps.update_application(actor=request.user, application_id=app.id,
                                                             data=parse(ApplicationIn, {"note": request.POST.get("note", "")})),
                    success=_("Saved."))  # fmt: skip
        elif action == "upload":
            upload = request.FILES.get("file")
            if upload is None:
                messages.error(request, _("Choose a file to upload."))
            else:
                content = upload.read(apps.settings.WASTELINK["DOCUMENT_MAX_BYTES"] + 1)
                attempt(request, lambda: apps.upload_document(actor=request.user, application_id=app.id,
                                                              kind=request.POST.get("kind", ""), name=upload.name,
                                                              content=content), success=_("Document attached."))  # fmt: skip
        elif action == "submit":
            result = attempt(request, lambda: apps.submit(actor=request.user, application_id=app.id))
            if result:
                submitted, _findings = result
                messages.success(request, _("Application approved automatically.") if submitted.auto_decided
                                 else _("Application submitted to the officers."))  # fmt: skip
        return redirect("application_detail", application_id=app.id)
    context = {
        "app": app, "editable": editable, "lines": app.lines.select_related("stream", "stream__waste_code", "method",
                                                                              "receiver").prefetch_related("transporters"),
        "documents": app.documents.all(), "versions": app.versions.all(), "doc_kinds": SupportingDocument.Kind.choices,
        "permit": getattr(app, "permit", None) if hasattr(app, "permit") else None,
        "findings": app.findings, "reviewer": can_review(request.user, app),
    }  # fmt: skip
    if editable:
        context.update(_line_choices(app))
        context["findings"] = [f.as_dict() for f in apps.precheck(app)]
    return render(request, "permits/application_detail.html", context)


@login_required
def precheck_panel(request: HttpRequest, application_id: int) -> HttpResponse:
    app = get_or_404(apps.get_application, actor=request.user, application_id=application_id)
    return render(request, "permits/_findings.html", {"findings": [f.as_dict() for f in apps.precheck(app)]})


@login_required
def document(request: HttpRequest, application_id: int, document_id: int) -> HttpResponse:
    app = get_or_404(apps.get_application, actor=request.user, application_id=application_id)
    doc = app.documents.filter(id=document_id).first()
    if doc is None:
        raise Http404
    return FileResponse(doc.file.open("rb"), content_type=doc.content_type, filename=doc.original_name)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    items = queue_items(actor=request.user)
    return render(request, "permits/review_queue.html", {"items": items,
                                                         "target": apps.settings.WASTELINK["PERMIT_REVIEW_TARGET_DAYS"]})  # fmt: skip


@login_required
def review_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    app = get_or_404(apps.get_application, actor=request.user, application_id=application_id)
    if not can_review(request.user, app) and role_of(request.user) is None:
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "take":
            attempt(request, lambda: review_services.take(actor=request.user, application_id=app.id),
                    success=_("You are reviewing this application."))  # fmt: skip
        elif action in ("request_info", "reject"):
            fn = review_services.request_info if action == "request_info" else review_services.reject
            attempt(request, lambda: fn(actor=request.user, application_id=app.id,
                                        reason=parse(ReasonIn, {"reason": request.POST.get("reason", "")}).reason),
                    success=_("Done."))  # fmt: skip
        elif action == "decide":
            lines = []
            for ln in app.lines.all():
                lines.append({"index": ln.index, "approve": request.POST.get(f"approve_{ln.index}") == "on",
                              "approved_quantity_t": request.POST.get(f"cap_{ln.index}") or None,
                              "conditions": request.POST.get(f"conditions_{ln.index}", ""),
                              "note": request.POST.get(f"note_{ln.index}", "")})  # fmt: skip
            data = {"lines": lines, "conditions": request.POST.get("conditions", ""), "reason": request.POST.get("reason", "")}
            attempt(request, lambda: review_services.decide(actor=request.user, application_id=app.id,
                                                            data=DecisionIn.model_validate(data)),
                    success=_("Decision recorded; the parties have been notified."))  # fmt: skip
        return redirect("review_detail", application_id=app.id)
    history_apps = visible_applications(request.user).filter(generator_id=app.generator_id).exclude(id=app.id)[:20]
    history_permits = visible_permits(request.user).filter(generator_id=app.generator_id)[:20]
    context = {
        "app": app, "reviewer": can_review(request.user, app),
        "lines": app.lines.select_related("stream", "stream__waste_code", "method", "receiver").prefetch_related("transporters"),
        "documents": app.documents.all(), "versions": app.versions.all(),
        "findings": app.findings, "history_apps": history_apps, "history_permits": history_permits,
        "permit": getattr(app, "permit", None) if hasattr(app, "permit") else None,
        "waiting_days": (timezone.now() - app.first_submitted_at).days if app.first_submitted_at else None,
    }  # fmt: skip
    return render(request, "permits/review_detail.html", context)


@login_required
def permits(request: HttpRequest) -> HttpResponse:
    permit_services.expire_due()
    qs = visible_permits(request.user)
    state = request.GET.get("state") or ""
    if state:
        qs = qs.filter(state=state)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "permits/permits.html", {"page": page, "state": state})


@login_required
def permit_detail(request: HttpRequest, number: str) -> HttpResponse:
    permit = get_or_404(permit_services.get_permit, actor=request.user, number=number)
    supervisor = can_supervise_permit(request.user, permit)
    if request.method == "POST" and supervisor:
        action = request.POST.get("action")
        if action in ("suspend", "reinstate", "revoke"):
            attempt(request, lambda: permit_services.change_permit_state(
                actor=request.user, number=number, action=action,
                reason=parse(ReasonIn, {"reason": request.POST.get("reason", "")}).reason), success=_("Done."))  # fmt: skip
        return redirect("permit_detail", number=number)
    lines = permit.lines.select_related("waste_code", "method", "receiver", "stream").prefetch_related("transporters")
    return render(request, "permits/permit_detail.html", {"permit": permit, "lines": lines, "supervisor": supervisor})


@login_required
def certificate(request: HttpRequest, number: str) -> HttpResponse:
    from wastelink.permits.certificate import render_certificate

    permit = get_or_404(permit_services.get_permit, actor=request.user, number=number)
    return pdf_response(render_certificate(permit), permit.number)


def verify(request: HttpRequest, number: str) -> HttpResponse:
    """Public: anyone holding the certificate (or its QR) can check it. Shows nothing private."""
    code = (request.GET.get("code") or "").strip()[:32]
    permit = permit_services.verify_public(number=number[:30], code=code) if code else None
    return render(request, "permits/verify.html", {"permit": permit, "number": number[:30], "code": code,
                                                   "today": timezone.localdate()}, status=200 if permit or not code else 404)  # fmt: skip


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    qs = Notification.objects.filter(user=request.user)
    if request.method == "POST":
        qs.filter(read_at=None).update(read_at=timezone.now())
        return redirect("notifications")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "permits/notifications.html", {"page": page})
