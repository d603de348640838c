"""Alerts API: the list with filters, one alert with its evidence, and the officers' actions."""

from __future__ import annotations

from datetime import datetime
from functools import wraps
from typing import Any

from django.http import JsonResponse
from ninja import Body, Field, Query, Router, Schema
from ninja.decorators import decorate_view

from wastelink.core.alert_states import allowed_actions
from wastelink.detection.access import can_handle, is_official, public_facts
from wastelink.detection.models import Alert
from wastelink.detection.schemas import AcknowledgeIn, DispatchIn, ResolveIn
from wastelink.detection.services import alerts as services

router = Router(tags=["alerts"])


class AlertQuery(Schema):
    since: str | None = Field(
        None, max_length=64, description="ISO 8601; alerts raised at or after (no offset: Bangkok time)"
    )
    rule: str | None = Field(None, max_length=200, description="rule name, or several separated by commas")
    state: str | None = Field(
        None, max_length=100, description="open, acknowledged, dispatched, resolved (commas for several)"
    )
    severity: str | None = Field(None, max_length=40, description="low, medium, high (commas for several)")
    estate: str | None = Field(None, max_length=60, description="estate code: the load starts or ends there")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


class AlertSummary(Schema):
    id: int
    rule: str
    severity: str
    state: str
    trip: int
    manifest: str
    vehicle: str = Field(description="plate")
    device_id: str
    fired_at: datetime = Field(description="fix time at which the rule fired")
    raised_at: datetime = Field(description="when the platform raised the alert")
    lat: float | None
    lon: float | None
    origin_estate: str | None
    destination_estate: str | None
    acknowledged_at: datetime | None
    dispatched_at: datetime | None
    resolution: str
    resolved_at: datetime | None


class AlertList(Schema):
    count: int
    items: list[AlertSummary]


class EvidencePoint(Schema):
    fix_time: str
    lat: float
    lon: float


class HistoryEntry(Schema):
    at: datetime
    actor: str
    action: str
    note: str


class AlertOut(AlertSummary):
    episode_at: datetime = Field(description="fix time the rule's episode began")
    facts: dict[str, Any]
    evidence: list[EvidencePoint] = Field(description="the track segment before the firing, oldest first")
    acknowledged_by: str | None
    inspector: str = Field(description="officials only; empty for the parties")
    dispatched_by: str | None
    resolution_note: str = Field(description="officials only; empty for the parties")
    resolved_by: str | None
    actions: list[str] = Field(description="what you may do now: acknowledge, dispatch, resolve")
    history: list[HistoryEntry] = Field(description="the alert's audit records (officials only)")


def _name(user) -> str | None:
    return user.username if user is not None else None


def summary(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id, "rule": alert.rule, "severity": alert.severity, "state": alert.state, "trip": alert.trip_id,
        "manifest": alert.manifest.number, "vehicle": alert.vehicle.plate, "device_id": alert.trip.device_id,
        "fired_at": alert.fired_at, "raised_at": alert.raised_at, "lat": alert.lat, "lon": alert.lon,
        "origin_estate": alert.origin_estate.code if alert.origin_estate else None,
        "destination_estate": alert.destination_estate.code if alert.destination_estate else None,
        "acknowledged_at": alert.acknowledged_at, "dispatched_at": alert.dispatched_at,
        "resolution": alert.resolution, "resolved_at": alert.resolved_at,
    }  # fmt: skip


def detail(alert: Alert, user) -> dict[str, Any]:
    """The full alert as `user` may read it: parties get neither the inspector, the notes nor the history."""
    official = is_official(user)
    history = [{"at": r.at, "actor": r.actor, "action": r.action, "note": r.note}
               for r in services.history(alert)] if official else []  # fmt: skip
    return {
        **summary(alert), "episode_at": alert.episode_at, "facts": public_facts(user, alert),
        "evidence": services.evidence_points(alert),
        "acknowledged_by": _name(alert.acknowledged_by) if official else None,
        "inspector": alert.inspector if official else "",
        "dispatched_by": _name(alert.dispatched_by) if official else None,
        "resolution_note": alert.resolution_note if official else "",
        "resolved_by": _name(alert.resolved_by) if official else None,
        "actions": allowed_actions(alert.state) if can_handle(user, alert) else [],
        "history": history,
    }  # fmt: skip


def json_body(run):
    """Answer 415 when a form was posted instead of JSON. (The NUL check reads a form's fields first, after which
    the body can no longer be read as JSON: without this the request would end in a 500.)"""

    @wraps(run)
    def wrapper(request, *args, **kwargs):
        if getattr(request, "_read_started", False) and not hasattr(request, "_body"):
            return JsonResponse({"errors": [{"rule": "body.content_type", "severity": "error", "field": "body",
                                             "message_en": "send the body as JSON (Content-Type: application/json)",
                                             "message_th": "กรุณาส่งข้อมูลเป็น JSON (Content-Type: application/json)"}]},
                                status=415)  # fmt: skip
        return run(request, *args, **kwargs)

    return wrapper


@router.get("/alerts", response=AlertList, summary="Alerts I may see, newest first; filters and pages")
def list_alerts(request, query: Query[AlertQuery]):
    filters = services.parse_filters(since=query.since, rule=query.rule, state=query.state, severity=query.severity,
                                     estate=query.estate)  # fmt: skip
    qs = services.list_alerts(actor=request.user, filters=filters)
    return {"count": qs.count(), "items": [summary(a) for a in qs[query.offset : query.offset + query.limit]]}


@router.get("/alerts/{alert_id}", response=AlertOut, summary="One alert with its evidence track and facts")
def get_alert(request, alert_id: int):
    return detail(services.get_alert(actor=request.user, alert_id=alert_id), request.user)


@router.post(
    "/alerts/{alert_id}/acknowledge", response=AlertOut, summary="Acknowledge an open alert (officials)"
)
@decorate_view(json_body)
def acknowledge(request, alert_id: int, payload: Body[AcknowledgeIn | None] = None):
    note = payload.note if payload is not None else ""
    return detail(services.acknowledge(actor=request.user, alert_id=alert_id, note=note), request.user)


@router.post("/alerts/{alert_id}/dispatch", response=AlertOut,
             summary="Send an inspector to intercept (officials; acknowledged alerts)")  # fmt: skip
@decorate_view(json_body)
def dispatch(request, alert_id: int, payload: DispatchIn):
    alert = services.dispatch(
        actor=request.user, alert_id=alert_id, inspector=payload.inspector, note=payload.note
    )
    return detail(alert, request.user)


@router.post("/alerts/{alert_id}/resolve", response=AlertOut,
             summary="Resolve as a confirmed violation or a false alarm, with a note (officials)")  # fmt: skip
@decorate_view(json_body)
def resolve(request, alert_id: int, payload: ResolveIn):
    alert = services.resolve(
        actor=request.user, alert_id=alert_id, resolution=payload.resolution, note=payload.note
    )
    return detail(alert, request.user)
