"""Thin server-rendered pages. Every query goes through the access functions the API uses."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from wastelink.accounts.access import (
    directory_establishments,
    is_national_reader,
    officer_estate_ids,
    role_of,
    visible_establishments,
)
from wastelink.accounts.models import ApiToken, User
from wastelink.accounts.services import create_token, revoke_token
from wastelink.audit.models import AuditRecord
from wastelink.core.findings import DomainError
from wastelink.registry.models import Establishment, Estate, WasteCode
from wastelink.registry.services.fleet import visible_vehicles
from wastelink.web.forms import refusal_text


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    visible = visible_establishments(user)
    estate_ids = officer_estate_ids(user)
    estates = Estate.objects.all() if estate_ids is None else Estate.objects.filter(id__in=estate_ids)
    own = (
        user.organisation.establishment if user.organisation and user.organisation.establishment_id else None
    )
    context = {
        "role": role_of(user),
        "own": own,
        "estates": estates.annotate(n=Count("establishments"))[:20],
        "estate_count": estates.count(),
        "counts": visible.aggregate(
            total=Count("id"),
            generators=Count("id", filter=Q(is_generator=True)),
            transporters=Count("id", filter=Q(is_transporter=True)),
            receivers=Count("id", filter=Q(is_receiver=True)),
        ),  # fmt: skip
        "vehicle_count": visible_vehicles(user).count(),
    }
    return render(request, "web/home.html", context)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    new_token = None
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()
        scopes = request.POST.getlist("scopes") or ["read"]
        if not name:
            messages.error(request, _("Give the token a name."))
        else:
            try:
                new_token = create_token(
                    actor=request.user, user=request.user, name=name, scopes=scopes
                ).plaintext
            except DomainError as exc:
                messages.error(request, refusal_text(exc))
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "web/profile.html", {"tokens": tokens, "new_token": new_token, "role": role_of(request.user),
                                                "scope_choices": ApiToken.Scope.choices})  # fmt: skip


@login_required
@require_POST
def revoke_token_view(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        revoke_token(actor=request.user, token_id=token_id)
        messages.success(request, _("Token revoked."))
    except DomainError:
        raise Http404 from None
    return redirect("profile")


@login_required
def estates_map(request: HttpRequest) -> HttpResponse:
    estate_ids = officer_estate_ids(request.user)
    estates = Estate.objects.annotate(n=Count("establishments"))
    return render(request, "web/estates_map.html", {"estates": estates, "mine": estate_ids})


@login_required
def estate_detail(request: HttpRequest, code: str) -> HttpResponse:
    estate = Estate.objects.filter(code=code).first()
    if estate is None:
        raise Http404
    establishments = directory_establishments(request.user).filter(estate=estate)
    return render(
        request, "web/estate_detail.html", {"estate": estate, "establishments": establishments[:200]}
    )


@login_required
def establishments(request: HttpRequest) -> HttpResponse:
    qs = directory_establishments(request.user).select_related("estate", "factory_type")
    q = (request.GET.get("q") or "").strip()[:100]
    role = request.GET.get("role") or ""
    estate = request.GET.get("estate") or ""
    if q:
        qs = qs.filter(Q(name_th__icontains=q) | Q(name_en__icontains=q) | Q(registration_no__contains=q))
    if role in {"generator", "transporter", "receiver"}:
        qs = qs.filter(**{f"is_{role}": True})
    if estate:
        qs = qs.filter(estate__code=estate)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    template = (
        "web/_establishment_rows.html" if request.headers.get("HX-Request") else "web/establishments.html"
    )
    # `items` is what the shared rows template lists (the estate page passes its own).
    return render(request, template, {"page": page, "items": page.object_list, "q": q, "role": role,
                                      "estate": estate, "estates": Estate.objects.all()})  # fmt: skip


@login_required
def establishment_detail(request: HttpRequest, establishment_id: int) -> HttpResponse:
    full = visible_establishments(request.user).filter(id=establishment_id).first()
    est: Establishment | None = (
        full or directory_establishments(request.user).filter(id=establishment_id).first()
    )
    if est is None:
        raise Http404
    context = {
        "est": est,
        "full": full is not None,
        "vehicles": est.vehicles.all() if full else [],
        "drivers": est.drivers.all() if full else [],
        "receiver_licences": est.receiver_licences.prefetch_related("waste_codes", "methods"),
        "transporter_licences": est.transporter_licences.all(),
    }
    return render(request, "web/establishment_detail.html", context)


@login_required
def vehicles(request: HttpRequest) -> HttpResponse:
    qs = visible_vehicles(request.user)
    q = (request.GET.get("q") or "").strip()[:50]
    if q:
        qs = qs.filter(
            Q(plate__icontains=q.replace("-", "").replace(" ", "")) | Q(gps_device_id__icontains=q)
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "web/vehicles.html", {"page": page, "q": q})


@login_required
def waste_codes(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()[:100]
    qs = WasteCode.objects.filter(level="entry")
    if q:
        qs = qs.filter(
            Q(code__startswith=q.replace(" ", "")) | Q(name_en__icontains=q) | Q(name_th__icontains=q)
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "web/waste_codes.html", {"page": page, "q": q})


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not is_national_reader(request.user):
        raise Http404
    page = Paginator(AuditRecord.objects.order_by("-seq"), 50).get_page(request.GET.get("page"))
    return render(request, "web/audit.html", {"page": page})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, remembered on the user's profile as well as in the cookie."""
    response = django_set_language(request)
    code = request.POST.get("language")
    if request.user.is_authenticated and code in {c for c, _ in settings.LANGUAGES}:
        User.objects.filter(pk=request.user.pk).update(preferred_language=code)
    return response
