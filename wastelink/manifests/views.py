"""Manifest pages for every party: drafting and bulk upload, signing at each hand-over, the receiver's gate,
the officers' lists (in transit, overdue, discrepancies) and the mass balance."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from wastelink.accounts.access import own_establishment_id, role_of
from wastelink.core.identifiers import normalise_plate
from wastelink.core.roles import Role
from wastelink.manifests.access import (
    GENERATOR,
    RECEIVER,
    TRANSPORTER,
    acts_for,
    is_officer_for,
    visible_manifests,
)
from wastelink.manifests.models import Manifest
from wastelink.manifests.schemas import (
    CompleteIn,
    CorrectionIn,
    ExplainIn,
    ManifestIn,
    ReasonIn,
    ReceiveIn,
    SignIn,
)
from wastelink.manifests.services import corrections, custody, oversight
from wastelink.manifests.services.document import document_hash, document_of
from wastelink.permits.models import PermitLine, PhysicalForm
from wastelink.registry.models import ManagementMethod, Vehicle
from wastelink.web.forms import attempt, get_or_404, parse
from wastelink.web.responses import pdf_response


@login_required
def manifests(request: HttpRequest) -> HttpResponse:
    qs = visible_manifests(request.user).select_related("vehicle")
    state = request.GET.get("state") or ""
    if state:
        qs = qs.filter(state=state)
    if request.GET.get("discrepancy"):
        qs = qs.filter(discrepancy=True, discrepancy_reviewed_by="")
    q = (request.GET.get("q") or "").replace("\x00", "").strip()[:40]
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(vehicle__plate__icontains=normalise_plate(q)))
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    own = own_establishment_id(request.user)
    return render(request, "manifests/list.html", {
        "page": page, "state": state, "q": q, "states": Manifest._meta.get_field("state").choices,
        "can_create": own is not None and acts_for(request.user, own, GENERATOR),
    })  # fmt: skip


@login_required
def new_manifest(request: HttpRequest) -> HttpResponse:
    own = own_establishment_id(request.user)
    if own is None or not acts_for(request.user, own, GENERATOR):
        raise Http404
    lines = (PermitLine.objects.filter(permit__generator_id=own, permit__state="ACTIVE", remaining_quantity_t__gt=0)
             .select_related("permit", "waste_code", "receiver", "stream").prefetch_related("transporters"))  # fmt: skip
    vehicles = Vehicle.objects.filter(transporter__in=[t for ln in lines for t in ln.transporters.all()], active=True)
    if request.method == "POST":
        p = request.POST
        line_id = p.get("line", "")
        line = next((ln for ln in lines if str(ln.id) == line_id), None)
        data = {"permit_number": line.permit.number if line else "", "permit_line": line.index if line else 0,
                "vehicle_id": p.get("vehicle_id"), "declared_quantity": p.get("declared_quantity"), "unit": p.get("unit"),
                "container_type": p.get("container_type"), "container_count": p.get("container_count"),
                "physical_form": p.get("physical_form"), "planned_pickup_at": _local(p.get("planned_pickup_at")),
                "expected_arrival_at": _local(p.get("expected_arrival_at"))}  # fmt: skip
        m = attempt(request, lambda: custody.create_manifest(actor=request.user, data=parse(ManifestIn, data)),
                    success=_("Manifest drafted."))  # fmt: skip
        if m:
            return redirect("manifest_detail", number=m.number)
    now = timezone.localtime() + timedelta(hours=1)
    return render(request, "manifests/new.html", {
        "lines": lines, "vehicles": vehicles.select_related("transporter"), "forms": PhysicalForm.choices,
        "containers": Manifest.Container.choices, "pickup": now.strftime("%Y-%m-%dT%H:%M"),
        "arrival": (now + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"), "post": request.POST,
    })  # fmt: skip


def _local(value: str | None):
    """A datetime-local form value is Bangkok time."""
    parsed = parse_datetime(value or "")
    if parsed is None:
        return value or None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@login_required
def bulk(request: HttpRequest) -> HttpResponse:
    own = own_establishment_id(request.user)
    if own is None or not acts_for(request.user, own, GENERATOR):
        raise Http404
    result = None
    if request.method == "POST" and request.FILES.get("file"):
        from wastelink.manifests.services.bulk import bulk_create

        result = attempt(request, lambda: bulk_create(actor=request.user, raw=request.FILES["file"].read(2 * 1024 * 1024 + 1)))
    from wastelink.manifests.services.bulk import COLUMNS

    return render(request, "manifests/bulk.html", {"result": result, "columns": COLUMNS})


@login_required
def detail(request: HttpRequest, number: str) -> HttpResponse:
    m = get_or_404(custody.get_manifest, actor=request.user, number=number)
    user = request.user
    if request.method == "POST":
        _act(request, m)
        return redirect("manifest_detail", number=number)
    role = role_of(user)
    ctx = {
        "m": m, "doc": document_of(m), "sha256": document_hash(m), "signatures": m.signatures.order_by("signed_at"),
        "versions": m.versions.all(), "children": m.children.all(), "overdue": oversight.overdue(m),
        "methods": ManagementMethod.objects.all(), "today": timezone.localdate(),
        "can_schedule": m.state == "DRAFT" and acts_for(user, m.generator_id, {Role.GENERATOR_CERTIFIER}),
        "can_cancel": m.state in ("DRAFT", "SCHEDULED") and acts_for(user, m.generator_id, GENERATOR),
        "can_pickup": m.state == "SCHEDULED" and acts_for(user, m.transporter_id, TRANSPORTER),
        "can_deliver": m.state == "IN_TRANSIT" and (acts_for(user, m.transporter_id, TRANSPORTER)
                                                    or acts_for(user, m.receiver_id, RECEIVER)),
        "can_receive": m.state == "DELIVERED" and custody._may_sign_receipt(user, m),
        "can_complete": m.state == "RECEIVED" and m.acceptance != "rejected" and (
            acts_for(user, m.receiver_id, RECEIVER) or custody._returned_to_own(user, m)),
        "can_explain": m.discrepancy and not m.discrepancy_reviewed_by and acts_for(user, m.receiver_id, RECEIVER),
        "can_review": m.discrepancy and not m.discrepancy_reviewed_by and is_officer_for(user, m),
        # The page corrects the container count: the generator before receipt, or an officer (the transporter
        # corrects only the driver and the arrival time, through the API).
        "can_correct": m.state not in ("DRAFT", "CANCELLED", "COMPLETED") and (
            (acts_for(user, m.generator_id, GENERATOR) and m.state != "RECEIVED") or is_officer_for(user, m)),
        "role": role,
    }  # fmt: skip
    return render(request, "manifests/detail.html", ctx)


def _act(request: HttpRequest, m: Manifest) -> None:
    p, user, n = request.POST, request.user, m.number
    action = p.get("action")
    sign = {"document_sha256": p.get("document_sha256", "")}
    calls = {
        "schedule": lambda: custody.schedule(actor=user, number=n, data=parse(SignIn, sign)),
        "pickup": lambda: custody.pickup(actor=user, number=n, data=parse(SignIn, sign)),
        "deliver": lambda: custody.deliver(actor=user, number=n),
        "receive": lambda: custody.receive(actor=user, number=n, data=parse(ReceiveIn, {
            **sign, "weighed_quantity": p.get("weighed_quantity"), "unit": "kg", "acceptance": p.get("acceptance"),
            "discrepancy_code": p.get("discrepancy_code"), "discrepancy_reason": p.get("discrepancy_reason", ""),
            "new_waste_code": p.get("new_waste_code")})),
        "complete": lambda: custody.complete(actor=user, number=n, data=parse(CompleteIn, {
            "final_method": p.get("final_method"), "treated_on": p.get("treated_on")})),
        "cancel": lambda: custody.cancel(actor=user, number=n, reason=parse(ReasonIn, {"reason": p.get("reason")}).reason),
        "explain": lambda: oversight.explain_discrepancy(actor=user, number=n, **_explain(p)),
        "review": lambda: oversight.review_discrepancy(actor=user, number=n,
                                                       note=parse(ReasonIn, {"reason": p.get("reason")}).reason),
        "correct": lambda: corrections.correct(actor=user, number=n, data=parse(CorrectionIn, {
            "reason": p.get("reason"), "container_count": p.get("container_count"),
            "expected_arrival_at": _local(p.get("expected_arrival_at"))})),
    }  # fmt: skip
    if action in calls:
        result = attempt(request, calls[action], success=_("Done."))
        if action == "receive" and result:
            for f in result[1]:
                from django.contrib import messages

                from wastelink.web.forms import thai

                messages.warning(request, f.message_th if thai() else f.message_en)


def _explain(p) -> dict:
    data = parse(ExplainIn, {"discrepancy_code": p.get("discrepancy_code"), "discrepancy_reason": p.get("discrepancy_reason"),
                             "new_waste_code": p.get("new_waste_code")})  # fmt: skip
    return {"code": data.discrepancy_code, "reason": data.discrepancy_reason, "new_waste_code": data.new_waste_code}


@login_required
def pdf(request: HttpRequest, number: str) -> HttpResponse:
    from wastelink.manifests.printing import render_manifest

    m = get_or_404(custody.get_manifest, actor=request.user, number=number)
    return pdf_response(render_manifest(m), m.number)


@login_required
def gate(request: HttpRequest) -> HttpResponse:
    """The receiver's gate: find an arriving load by the QR (which carries the number), the number or the plate."""
    q = (request.GET.get("q") or "").replace("\x00", "").strip()[:60]
    if "/gate/?q=" in q:  # a scanner that types the whole QR URL
        q = q.rsplit("q=", 1)[-1]
    found = []
    if q:
        found = list(visible_manifests(request.user).filter(
            Q(number__iexact=q) | Q(vehicle__plate=normalise_plate(q)),
            state__in=["SCHEDULED", "IN_TRANSIT", "DELIVERED"]).select_related("vehicle")[:20])  # fmt: skip
        if len(found) == 1:
            return redirect("manifest_detail", number=found[0].number)
    return render(request, "manifests/gate.html", {"q": q, "found": found})


@login_required
def overdue(request: HttpRequest) -> HttpResponse:
    items = oversight.overdue_manifests(actor=request.user)
    discrepancies = oversight.open_discrepancies(actor=request.user)[:100]
    in_transit = visible_manifests(request.user).filter(state="IN_TRANSIT").select_related("vehicle")[:200]
    return render(request, "manifests/oversight.html", {"items": items, "discrepancies": discrepancies,
                                                        "in_transit": in_transit})  # fmt: skip


@login_required
def balance(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        date_from = date.fromisoformat(request.GET.get("from") or str(date(today.year, 1, 1)))
        date_to = date.fromisoformat(request.GET.get("to") or str(today))
    except ValueError:
        date_from, date_to = date(today.year, 1, 1), today
    rows = attempt(request, lambda: oversight.balance_report(actor=request.user, date_from=date_from, date_to=date_to)) or []
    return render(request, "manifests/balance.html", {"rows": rows, "date_from": date_from, "date_to": date_to})
