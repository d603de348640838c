"""Officers handling alerts: reading them (filters, the queue, the dashboard) and moving them through their lifecycle
(core/alert_states.py).

Every transition is a conditional UPDATE on the state it was read in (UPDATE … WHERE id = … AND state = …): when
two officers act on the same alert at once, one wins and the other gets 409. The transition, its *_by/*_at fields
and its audit record are written in one transaction; `alert_updated` goes out on the bus after the commit.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from wastelink.accounts.access import require
from wastelink.audit import services as audit
from wastelink.audit.models import AuditRecord
from wastelink.core import detection as rules
from wastelink.core.alert_states import (
    SEVERITIES,
    AlertState,
    Resolution,
    TransitionRefused,
    input_problems,
    next_state,
    observed_precision,
)
from wastelink.core.findings import Conflict, DomainError, NotFound, error
from wastelink.detection.access import can_handle, visible_alerts
from wastelink.detection.models import Alert
from wastelink.registry.models import Estate

S = AlertState
STATE_TH = {
    "open": "รอดำเนินการ",
    "acknowledged": "รับทราบแล้ว",
    "dispatched": "ส่งผู้ตรวจแล้ว",
    "resolved": "ปิดเรื่องแล้ว",
}
ACTION_TH = {"acknowledge": "รับทราบ", "dispatch": "ส่งผู้ตรวจ", "resolve": "ปิดเรื่อง"}


# --- errors ---------------------------------------------------------------------------------------------------
def _not_found() -> NotFound:
    return NotFound(error("alert.not_found", "alert_id", "no such alert", "ไม่พบเหตุผิดปกตินี้"))


def _refused(exc: TransitionRefused) -> Conflict:
    action_th = ACTION_TH.get(exc.action, exc.action)
    state_th = STATE_TH.get(exc.state, exc.state)
    return Conflict(error("state.transition", "state", str(exc),
                          f"ทำรายการ '{action_th}' ไม่ได้ เนื่องจากเหตุผิดปกตินี้อยู่ในสถานะ '{state_th}'"))  # fmt: skip


def _stale() -> Conflict:
    return Conflict(error("state.stale", "state", "someone else changed this alert first; reload and try again",
                          "มีผู้อื่นดำเนินการกับเหตุผิดปกตินี้ก่อน กรุณาโหลดใหม่แล้วลองอีกครั้ง"))  # fmt: skip


def _bad_filter(name: str, en: str, th: str) -> DomainError:
    return DomainError(error("filter.invalid", name, en, f"ตัวกรองไม่ถูกต้อง: {th}"))


# --- reading --------------------------------------------------------------------------------------------------
def get_alert(*, actor, alert_id: int) -> Alert:
    alert = visible_alerts(actor).filter(id=alert_id).first()
    if alert is None:
        raise _not_found()
    return alert


@dataclass(frozen=True)
class AlertFilter:
    since: datetime | None = None
    rules: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    estate: Estate | None = None
    q: str = ""  # manifest number or plate contains (pages)


def _choices(name: str, raw: str | None, allowed: tuple[str, ...], th: str) -> tuple[str, ...]:
    """A comma-separated list of values, each one of `allowed`."""
    if raw is None or not raw.strip():
        return ()
    values = tuple(dict.fromkeys(v.strip() for v in raw.split(",") if v.strip()))
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise _bad_filter(name, f"unknown {name} {', '.join(repr(v[:40]) for v in unknown)}; one of: {', '.join(allowed)}",
                          f"ไม่รู้จัก{th} {', '.join(v[:40] for v in unknown)}")  # fmt: skip
    return values


def parse_since(raw: str | None, name: str = "since") -> datetime | None:
    """An ISO 8601 date or datetime; without an offset it is Bangkok time (as everywhere on the platform's pages)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    # A '+' left unencoded in a query string arrives as a space: "…T10:00:00 07:00" means "+07:00".
    text = re.sub(r"(\d) (\d{2}:?\d{2})$", r"\1+\2", text)
    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None:
        raise _bad_filter(name, "not an ISO 8601 date or datetime, e.g. 2026-11-29T08:00:00+07:00",
                          "รูปแบบวันเวลาต้องเป็น ISO 8601 เช่น 2026-11-29T08:00:00+07:00")  # fmt: skip
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


def parse_filters(*, since: str | None = None, rule: str | None = None, state: str | None = None,
                  severity: str | None = None, estate: str | None = None, q: str | None = None) -> AlertFilter:  # fmt: skip
    """Filters as clients send them (strings), checked: a bad value is refused with 400 naming the field."""
    estate_obj = None
    if estate is not None and estate.strip():
        estate_obj = Estate.objects.filter(code=estate.strip()).first()
        if estate_obj is None:
            raise _bad_filter("estate", f"no estate with the code {estate.strip()[:60]!r}",
                              f"ไม่พบนิคมอุตสาหกรรมรหัส {estate.strip()[:60]}")  # fmt: skip
    return AlertFilter(
        since=parse_since(since),
        rules=_choices("rule", rule, rules.RULES, "กฎ"),
        states=_choices("state", state, tuple(s.value for s in AlertState), "สถานะ"),
        severities=_choices("severity", severity, SEVERITIES, "ระดับความรุนแรง"),
        estate=estate_obj,
        q=(q or "").replace("\x00", "").strip()[:40],
    )


def list_alerts(*, actor, filters: AlertFilter | None = None) -> QuerySet[Alert]:
    """Visible alerts matching the filters, newest first."""
    f = filters or AlertFilter()
    qs = visible_alerts(actor)
    if f.since is not None:
        qs = qs.filter(raised_at__gte=f.since)
    if f.rules:
        qs = qs.filter(rule__in=f.rules)
    if f.states:
        qs = qs.filter(state__in=f.states)
    if f.severities:
        qs = qs.filter(severity__in=f.severities)
    if f.estate is not None:
        qs = qs.filter(Q(origin_estate=f.estate) | Q(destination_estate=f.estate))
    if f.q:
        plate = f.q.replace("-", "").replace(" ", "")
        qs = qs.filter(Q(manifest__number__icontains=f.q) | Q(vehicle__plate__icontains=plate))
    return qs.order_by("-raised_at", "-id")


def queue(*, actor, filters: AlertFilter | None = None) -> QuerySet[Alert]:
    """The officers' queue: open first (then acknowledged, dispatched, resolved), the most severe first, newest."""
    state_rank = Case(*[When(state=s.value, then=Value(i)) for i, s in enumerate(S)], default=Value(9),
                      output_field=IntegerField())  # fmt: skip
    severity_rank = Case(*[When(severity=s, then=Value(i)) for i, s in enumerate(SEVERITIES)], default=Value(-1),
                         output_field=IntegerField())  # fmt: skip
    return (list_alerts(actor=actor, filters=filters).annotate(state_rank=state_rank, severity_rank=severity_rank)
            .order_by("state_rank", "-severity_rank", "-raised_at", "-id"))  # fmt: skip


def history(alert: Alert) -> QuerySet[AuditRecord]:
    """The alert's audit records, oldest first: who acknowledged, dispatched, resolved, and their notes."""
    return AuditRecord.objects.filter(object_type=Alert._meta.label_lower, object_id=str(alert.id)).order_by(
        "seq"
    )


def evidence_points(alert: Alert) -> list[dict[str, Any]]:
    """The stored track segment ([fix time, lat, lon] …) as points; a malformed entry is skipped, never a 500."""
    out = []
    for item in alert.evidence or []:
        try:
            t, lat, lon = item[0], float(item[1]), float(item[2])
        except (TypeError, ValueError, IndexError, KeyError):
            continue
        out.append({"fix_time": str(t), "lat": lat, "lon": lon})
    return out


# --- the lifecycle --------------------------------------------------------------------------------------------
def _snapshot(alert: Alert) -> dict[str, Any]:
    data = audit.snapshot(alert)
    data.pop("evidence", None)  # the track segment never changes in the lifecycle; the log need not repeat it
    return data


def _for_handling(actor, alert_id: int) -> Alert:
    alert = get_alert(actor=actor, alert_id=alert_id)
    require(can_handle(actor, alert), "alert_id", "this alert (officials handle alerts)",
            "เหตุผิดปกตินี้ (เฉพาะเจ้าหน้าที่ที่ดำเนินการได้)")  # fmt: skip
    return alert


def _user(actor):
    """The actor as a user row for the *_by columns (None for the platform acting for itself)."""
    return actor if getattr(actor, "pk", None) else None


def _check(action: str, **inputs: str) -> None:
    problems = input_problems(action, **inputs)
    if problems:
        raise DomainError(problems)


def _transition(alert: Alert, action: str, **fields: Any) -> Alert:
    """Move from the state read to the next one, only if nobody moved it meanwhile."""
    try:
        target = next_state(alert.state, action)
    except TransitionRefused as exc:
        raise _refused(exc) from exc
    updated = Alert.objects.filter(id=alert.id, state=alert.state).update(state=target.value, **fields)
    if not updated:
        current = Alert.objects.filter(id=alert.id).values_list("state", flat=True).first()
        if current is None:
            raise _not_found()
        try:
            next_state(current, action)
        except TransitionRefused as exc:
            raise _refused(exc) from None  # the other officer's change rules this action out
        raise _stale()  # still allowed from the new state, but decided on what was read before: reload first
    alert.refresh_from_db()
    return alert


def _changed(actor, alert: Alert, action: str, before: dict[str, Any], note: str) -> Alert:
    audit.record(
        actor=actor, action=f"alert.{action}", obj=alert, before=before, after=_snapshot(alert), note=note
    )
    publish_update(alert)
    return alert


@transaction.atomic
def acknowledge(*, actor, alert_id: int, note: str = "") -> Alert:
    """Someone is looking at it: OPEN → ACKNOWLEDGED."""
    _check("acknowledge", note=note)
    alert = _for_handling(actor, alert_id)
    before = _snapshot(alert)
    alert = _transition(alert, "acknowledge", acknowledged_by=_user(actor), acknowledged_at=timezone.now())
    return _changed(actor, alert, "acknowledge", before, note.strip())


@transaction.atomic
def dispatch(*, actor, alert_id: int, inspector: str, note: str = "") -> Alert:
    """An inspector is sent to intercept: ACKNOWLEDGED → DISPATCHED. The name is required."""
    _check("dispatch", inspector=inspector, note=note)
    alert = _for_handling(actor, alert_id)
    before = _snapshot(alert)
    alert = _transition(alert, "dispatch", inspector=inspector.strip(), dispatched_by=_user(actor),
                        dispatched_at=timezone.now())  # fmt: skip
    return _changed(actor, alert, "dispatch", before, note.strip())


@transaction.atomic
def resolve(*, actor, alert_id: int, resolution: str, note: str) -> Alert:
    """Closed as a confirmed violation or a false alarm, with a note; allowed from OPEN, ACKNOWLEDGED, DISPATCHED.
    Resolving an alert nobody acknowledged acknowledges it at the same moment (for the time-to-acknowledge)."""
    _check("resolve", resolution=resolution, note=note)
    alert = _for_handling(actor, alert_id)
    before = _snapshot(alert)
    now, who = timezone.now(), _user(actor)
    fields: dict[str, Any] = {"resolution": resolution.strip(), "resolution_note": note.strip(), "resolved_by": who,
                              "resolved_at": now}  # fmt: skip
    if alert.state == S.OPEN:
        fields.update(acknowledged_by=who, acknowledged_at=now)
    alert = _transition(alert, "resolve", **fields)
    return _changed(actor, alert, "resolve", before, note.strip())


def message(kind: str, alert: Alert) -> dict[str, Any]:
    """The bus message for an alert, the same shape the engine publishes."""
    from wastelink.detection.services.engine import alert_message

    return alert_message(kind, alert, alert.trip.device_id, alert.manifest.number, alert.vehicle.plate)


def publish_update(alert: Alert) -> None:
    """`alert_updated` on the bus once the change is committed (the live map moves the alert along)."""
    from wastelink.tracking.bus import get_bus

    msg = message("alert_updated", alert)
    transaction.on_commit(lambda: get_bus().publish([msg]))


# --- the dashboard --------------------------------------------------------------------------------------------
@dataclass
class RuleStats:
    rule: str
    total: int = 0
    by_state: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in S})
    confirmed: int = 0
    false_alarm: int = 0
    ack_minutes: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return observed_precision(self.confirmed, self.false_alarm)

    @property
    def median_ack_minutes(self) -> float | None:
        return statistics.median(self.ack_minutes) if self.ack_minutes else None

    @property
    def mean_ack_minutes(self) -> float | None:
        return statistics.fmean(self.ack_minutes) if self.ack_minutes else None

    @property
    def precision_pct(self) -> float | None:
        p = self.precision
        return None if p is None else 100.0 * p

    @property
    def median_ack(self) -> timedelta | None:
        m = self.median_ack_minutes
        return None if m is None else timedelta(minutes=m)

    @property
    def mean_ack(self) -> timedelta | None:
        m = self.mean_ack_minutes
        return None if m is None else timedelta(minutes=m)

    @property
    def open_count(self) -> int:
        return self.by_state["open"]

    @property
    def acknowledged_count(self) -> int:
        return self.by_state["acknowledged"]

    @property
    def dispatched_count(self) -> int:
        return self.by_state["dispatched"]

    @property
    def resolved_count(self) -> int:
        return self.by_state["resolved"]


@dataclass
class Dashboard:
    since: datetime | None
    rules: list[RuleStats]
    total: RuleStats


def dashboard(*, actor, since: datetime | None = None) -> Dashboard:
    """Per rule: alerts by state, observed precision from resolutions, time from raising to acknowledging."""
    qs = visible_alerts(actor)
    if since is not None:
        qs = qs.filter(raised_at__gte=since)
    per_rule = {r: RuleStats(r) for r in rules.RULES}
    total = RuleStats("all")
    for rule, state, resolution, raised, acked in qs.values_list("rule", "state", "resolution", "raised_at",
                                                                 "acknowledged_at").order_by().iterator():  # fmt: skip
        stats = per_rule.setdefault(rule, RuleStats(rule))
        minutes = (acked - raised) / timedelta(minutes=1) if acked is not None else None
        for s in (stats, total):
            s.total += 1
            s.by_state[state] = s.by_state.get(state, 0) + 1
            if state == S.RESOLVED and resolution == Resolution.CONFIRMED:
                s.confirmed += 1
            elif state == S.RESOLVED and resolution == Resolution.FALSE_ALARM:
                s.false_alarm += 1
            if minutes is not None:
                s.ack_minutes.append(max(minutes, 0.0))
    return Dashboard(since, list(per_rule.values()), total)


# --- facts in words -------------------------------------------------------------------------------------------
RULE_TEXT = {  # (English, Thai): for emails and webhooks, whatever the reader's language
    rules.CORRIDOR_DEVIATION: ("corridor deviation", "ออกนอกเส้นทางที่กำหนด"),
    rules.UNAUTHORISED_STOP: ("unauthorised stop", "จอดในจุดที่ไม่ได้รับอนุญาต"),
    rules.HOT_SPOT_ENTRY: ("hot-spot entry", "เข้าพื้นที่เฝ้าระวังการลักลอบทิ้ง"),
    rules.SIGNAL_LOSS: ("signal loss", "สัญญาณ GPS ขาดหาย"),
    rules.WRONG_DESTINATION: ("wrong destination", "ปลายทางไม่ตรงกับใบกำกับ"),
    rules.OVERDUE: ("overdue", "ส่งมอบล่าช้าเกินกำหนด"),
    rules.IMPLAUSIBLE_MOVEMENT: ("implausible movement", "การเคลื่อนที่ผิดปกติ"),
}
SEVERITY_TEXT = {"low": ("low", "ต่ำ"), "medium": ("medium", "ปานกลาง"), "high": ("high", "สูง")}


def _when(value: Any, thai: bool) -> str:
    """An ISO time from the facts as Bangkok time ('28 พ.ย. 2569 23:48 น.' in Thai)."""
    from wastelink.core.thai_dates import format_thai_datetime

    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return format_thai_datetime(local) if thai else local.strftime("%d %b %Y %H:%M")


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def describe(rule: str, facts: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts as sentences, (English, Thai) each; facts no sentence covers are listed as they are."""
    f = dict(facts or {})
    out: list[tuple[str, str]] = []
    used: set[str] = set()

    def say(keys: tuple[str, ...], en: str, th: str) -> None:
        out.append((en, th))
        used.update(keys)

    if rule == rules.CORRIDOR_DEVIATION and "minutes_outside" in f:
        n, p = _num(f["minutes_outside"]), _num(f.get("points_outside", "?"))
        say(("minutes_outside", "points_outside"), f"Outside the planned corridor for {n} minutes ({p} positions).",
            f"อยู่นอกแนวเส้นทางที่กำหนด {n} นาที ({p} ตำแหน่ง)")  # fmt: skip
    elif rule == rules.UNAUTHORISED_STOP and "minutes_stopped" in f:
        n, r = _num(f["minutes_stopped"]), _num(f.get("radius_m", "?"))
        say(("minutes_stopped", "radius_m"),
            f"Stationary for {n} minutes (within {r} m), away from the origin, the destination and the rest areas.",
            f"จอดนิ่ง {n} นาที (ในรัศมี {r} ม.) นอกจุดรับ จุดส่ง และจุดพักที่อนุญาต")  # fmt: skip
    elif rule == rules.HOT_SPOT_ENTRY:
        name = f.get("zone_name") or f.get("zone")
        if name:
            say(("zone", "zone_name"), f"Entered the hot spot “{name}”.", f"เข้าพื้นที่เฝ้าระวัง “{name}”")
        else:
            say((), "Entered a hot spot drawn by the officers.", "เข้าพื้นที่เฝ้าระวังที่เจ้าหน้าที่กำหนด")
    elif rule == rules.SIGNAL_LOSS and "silent_since" in f:
        say(("silent_since",), f"No position since {_when(f['silent_since'], False)}.",
            f"ไม่มีตำแหน่งตั้งแต่ {_when(f['silent_since'], True)}")  # fmt: skip
        if "reappeared_at" in f:
            m, d = _num(f.get("silent_minutes", "?")), _num(f.get("reappeared_m", "?"))
            say(("reappeared_at", "silent_minutes", "reappeared_m"),
                f"The signal came back at {_when(f['reappeared_at'], False)} after {m} minutes, {d} m from where it was lost.",
                f"สัญญาณกลับมาเมื่อ {_when(f['reappeared_at'], True)} หลังขาดหาย {m} นาที ห่างจากจุดที่ขาดหาย {d} ม.")  # fmt: skip
    elif rule == rules.WRONG_DESTINATION and "facility" in f:
        name, n = f.get("facility_name") or f["facility"], _num(f.get("minutes_dwelling", "?"))
        say(("facility", "facility_name", "minutes_dwelling"),
            f"Stayed {n} minutes at another waste facility, “{name}”, which is not the manifest's receiver.",
            f"แวะอยู่ที่สถานประกอบการจัดการของเสียอื่น “{name}” {n} นาที ซึ่งไม่ใช่ผู้รับตามใบกำกับ")  # fmt: skip
    elif rule == rules.WRONG_DESTINATION and "delivery_claimed_at" in f:
        d = _num(f.get("metres_from_receiver", "?"))
        say(("delivery_claimed_at", "metres_from_receiver"),
            f"Delivery was claimed at {_when(f['delivery_claimed_at'], False)} while the truck was {d} m from the receiver.",
            f"มีการแจ้งส่งมอบเมื่อ {_when(f['delivery_claimed_at'], True)} ขณะที่รถอยู่ห่างจากผู้รับ {d} ม.")  # fmt: skip
    elif rule == rules.OVERDUE and "expected_arrival" in f:
        g = _num(f.get("grace_minutes", "?"))
        say(("expected_arrival", "grace_minutes"),
            f"Not delivered by the expected arrival, {_when(f['expected_arrival'], False)}, plus {g} minutes' grace.",
            f"ยังไม่ส่งมอบภายในเวลาที่คาดว่าจะถึง {_when(f['expected_arrival'], True)} รวมเวลาผ่อนผัน {g} นาที")  # fmt: skip
    elif rule == rules.IMPLAUSIBLE_MOVEMENT and "jump_m" in f:
        d, s, v = _num(f["jump_m"]), _num(f.get("seconds", "?")), _num(f.get("speed_kmh", "?"))
        say(("jump_m", "seconds", "speed_kmh"),
            f"Jumped {d} m in {s} seconds (about {v} km/h): a spoofed or faulty GPS.",
            f"ตำแหน่งกระโดด {d} ม. ใน {s} วินาที (ประมาณ {v} กม./ชม.) อาจมีการปลอมหรืออุปกรณ์ GPS ขัดข้อง")  # fmt: skip
    for key, value in f.items():
        if key not in used:
            out.append((f"{key}: {value}", f"{key}: {value}"))
    return out
