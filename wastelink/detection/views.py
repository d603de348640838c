"""Alert pages: the officers' queue, one alert (map, facts in words, actions, history), and the rules' dashboard.

Views only translate forms into the services' inputs; access and every rule live in detection/access.py and the
services. The parties (transporter, generator, receiver) read their alerts here, never act on them.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from wastelink.accounts.access import officer_estate_ids
from wastelink.core import detection as rules
from wastelink.core.alert_states import ACTIVE, SEVERITIES, allowed_actions
from wastelink.core.findings import DomainError
from wastelink.detection.access import can_handle, is_official, public_facts
from wastelink.detection.models import RULE_CHOICES, Alert
from wastelink.detection.schemas import AcknowledgeIn, DispatchIn, ResolveIn
from wastelink.detection.services import alerts as services
from wastelink.registry.models import Estate
from wastelink.tracking.services.geography import corridor_wgs84
from wastelink.web.forms import attempt, get_or_404, parse, refusal_text, thai

ACTIVE_STATES = ",".join(s.value for s in ACTIVE)
PERIODS = {"1": 1, "7": 7, "30": 30, "90": 90, "365": 365}  # dashboard: days back


def _estates_for(user):
    ids = officer_estate_ids(user)
    qs = Estate.objects.order_by("name_th")
    if ids is None:
        return qs
    return qs.filter(id__in=ids)


def _place(alert: Alert, facts: dict) -> str:
    """Where it fired, in words when a zone names it, else the coordinates."""
    name = facts.get("zone_name") or facts.get("facility_name")
    if name:
        return str(name)
    if alert.lat is not None and alert.lon is not None:
        return f"{alert.lat:.5f}, {alert.lon:.5f}"
    return "–"


@login_required
def alert_queue(request: HttpRequest) -> HttpResponse:
    g = request.GET
    # The parties see resolved alerts only (detection/access.py): their default view is all they may see.
    state = g.get("state") or ("active" if is_official(request.user) else "all")
    raw = {"state": ACTIVE_STATES if state == "active" else ("" if state == "all" else state),
           "rule": g.get("rule") or "", "severity": g.get("severity") or "", "estate": g.get("estate") or "",
           "since": g.get("since") or "", "q": g.get("q") or ""}  # fmt: skip
    try:
        filters = services.parse_filters(**raw)
    except DomainError as exc:
        messages.error(request, refusal_text(exc))
        filters = services.parse_filters(state=ACTIVE_STATES)
    page = Paginator(services.queue(actor=request.user, filters=filters), 30).get_page(g.get("page"))
    now = timezone.now()
    rows = []
    for a in page.object_list:
        facts = public_facts(request.user, a)
        rows.append({"alert": a, "place": _place(a, facts), "age": now - a.raised_at})
    official = is_official(request.user)
    return render(request, "detection/queue.html", {
        "page": page, "rows": rows, "state": state, "official": official, "rules": RULE_CHOICES,
        "severities": [(s, Alert.Severity(s).label) for s in reversed(SEVERITIES)], "states": Alert.State.choices,
        "estates": _estates_for(request.user) if official else [], "f": {k: g.get(k, "") for k in raw},
    })  # fmt: skip


def _map_data(alert: Alert, facts: dict) -> dict:
    m = alert.manifest
    return {
        "evidence": [[p["lat"], p["lon"], p["fix_time"]] for p in services.evidence_points(alert)],
        "corridor": corridor_wgs84(m.route, m.corridor_width_m), "route": m.route,
        "fired": [alert.lat, alert.lon] if alert.lat is not None and alert.lon is not None else None,
        "label": _place(alert, facts),
    }  # fmt: skip


@login_required
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_or_404(services.get_alert, actor=request.user, alert_id=alert_id)
    handler = can_handle(request.user, alert)
    if request.method == "POST":
        if not handler:
            return HttpResponseForbidden(_("Only officials act on alerts."))
        _act(request, alert)
        return redirect("alert_detail", alert_id=alert.id)
    official = is_official(request.user)
    facts = public_facts(request.user, alert)
    sentences = services.describe(alert.rule, facts)
    context = {
        "alert": alert, "official": official, "handler": handler,
        "actions": allowed_actions(alert.state) if handler else [],
        "facts_text": [th if thai() else en for en, th in sentences], "place": _place(alert, facts),
        "place_named": bool(facts.get("zone_name") or facts.get("facility_name")),
        "map_data": _map_data(alert, facts), "evidence_count": len(alert.evidence or []),
        "history": list(services.history(alert)) if official else [],
        "age": timezone.now() - alert.raised_at, "resolutions": Alert.Resolution.choices,
    }  # fmt: skip
    return render(request, "detection/detail.html", context)


def _act(request: HttpRequest, alert: Alert) -> None:
    p, user = request.POST, request.user
    action = p.get("action")
    calls = {
        "acknowledge": lambda: services.acknowledge(
            actor=user, alert_id=alert.id, note=parse(AcknowledgeIn, {"note": p.get("note", "")}).note),
        "dispatch": lambda: _dispatch(user, alert, parse(DispatchIn, {"inspector": p.get("inspector", ""),
                                                                      "note": p.get("note", "")})),
        "resolve": lambda: _resolve(user, alert, parse(ResolveIn, {"resolution": p.get("resolution", ""),
                                                                   "note": p.get("note", "")})),
    }  # fmt: skip
    if action in calls:
        attempt(request, calls[action], success=_("Done."))


def _dispatch(user, alert: Alert, data) -> Alert:
    return services.dispatch(actor=user, alert_id=alert.id, inspector=data.inspector, note=data.note)


def _resolve(user, alert: Alert, data) -> Alert:
    return services.resolve(actor=user, alert_id=alert.id, resolution=data.resolution, note=data.note)


@login_required
def alert_dashboard(request: HttpRequest) -> HttpResponse:
    if not is_official(request.user):
        raise Http404
    period = request.GET.get("days") or "30"
    if period != "all" and period not in PERIODS:
        period = "30"
    since = None if period == "all" else timezone.now() - timedelta(days=PERIODS[period])
    board = services.dashboard(actor=request.user, since=since)
    labels = dict(RULE_CHOICES)
    rows = [(labels.get(s.rule, s.rule), s) for s in board.rules]
    return render(request, "detection/dashboard.html", {
        "board": board, "rows": rows, "period": period, "periods": list(PERIODS), "rule_names": rules.RULES,
    })  # fmt: skip
