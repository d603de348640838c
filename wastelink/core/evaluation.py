"""How well the detection rules find what a scenario planted: recall, precision, false alerts, time to alert.

Framework-free. The ground truth is one JSON object a line, one a trip; the alerts are records with the scenario trip
they belong to, the rule, and the fix time at which the rule fired. The definitions (which alert matches which
incident, how the percentiles are taken, what the targets are) are in docs/detection.md, "Evaluation"; the
functions below follow them word for word.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from wastelink.core.detection import OVERDUE, RULES, RuleSettings

DEFAULT_SLACK_S = 15 * 60.0  # an alert up to this long after an incident's end still belongs to it
DEFAULT_INTERVAL_S = 30.0  # the reporting interval of a trip whose truth line does not give one
RECALL_TARGET = 0.95  # for every kind of incident
FALSE_ALERTS_PER_100_CLEAN_TARGET = 1.0
P95 = 0.95


class EvaluationInputError(ValueError):
    """A truth or alerts file that cannot be evaluated; the message names the line."""


@dataclass(frozen=True, slots=True)
class Incident:
    kind: str  # one of detection.RULES
    start: float  # unix seconds
    end: float
    lat: float | None = None
    lon: float | None = None
    variant: str | None = None


@dataclass(frozen=True, slots=True)
class TruthTrip:
    trip: str  # the scenario's trip id ("T0001")
    device_id: str
    clean: bool
    look: str | None = None  # on a clean trip: the innocent behaviour it imitates ("rest_stop", …)
    incidents: tuple[Incident, ...] = ()
    interval_s: float | None = None  # the trip's reporting interval (median spacing of its points), if given
    start: float | None = None  # the trip's own time window, if given
    end: float | None = None

    def window(self) -> tuple[float, float] | None:
        """The trip's time window: its own start and end where given, else the span of its incidents; a missing
        side is open. None when nothing tells (a clean trip without start and end)."""
        start = self.start if self.start is not None else min((i.start for i in self.incidents), default=None)
        end = self.end if self.end is not None else max((i.end for i in self.incidents), default=None)
        if start is None and end is None:
            return None
        return (start if start is not None else -math.inf), (end if end is not None else math.inf)


@dataclass(frozen=True, slots=True)
class AlertRecord:
    trip: str | None  # the scenario trip id; None when the alert's trip could not be mapped to one
    rule: str
    fired_at: float  # unix seconds: the fix time at which the rule fired
    raised_at: float | None = None  # wall clock
    episode_at: float | None = None


# --- reading ----------------------------------------------------------------------------------------------------


def seconds(value: Any, what: str = "time") -> float:
    """Unix seconds from a number or an ISO 8601 string with an offset ("2025-11-28T08:00:00+07:00", "…Z")."""
    if isinstance(value, bool):
        raise EvaluationInputError(f"{what}: expected unix seconds, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                raise EvaluationInputError(f"{what}: not a time: {value!r}") from None
        else:
            if moment.tzinfo is None:
                raise EvaluationInputError(f"{what}: an ISO time needs an offset: {value!r}")
            number = moment.timestamp()
    else:
        raise EvaluationInputError(f"{what}: expected unix seconds, got {value!r}")
    if not math.isfinite(number):
        raise EvaluationInputError(f"{what}: not a finite number: {value!r}")
    return number


def _optional_number(obj: Mapping[str, Any], key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise EvaluationInputError(f"{where}: {key} must be a positive number of seconds")
    return float(value)


def _coordinate(obj: Mapping[str, Any], key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EvaluationInputError(f"{where}: {key} must be a number")
    return float(value)


def _rule(value: Any, where: str) -> str:
    if value not in RULES:
        raise EvaluationInputError(f"{where}: unknown rule {value!r} (one of {', '.join(RULES)})")
    return str(value)


def truth_trip(obj: Any, where: str = "truth") -> TruthTrip:
    """One truth line, validated."""
    if not isinstance(obj, dict):
        raise EvaluationInputError(f"{where}: expected a JSON object")
    trip, device = obj.get("trip"), obj.get("device_id")
    if not isinstance(trip, str) or not trip:
        raise EvaluationInputError(f"{where}: trip must be a non-empty string")
    where = f"{where} (trip {trip})"
    if not isinstance(device, str) or not device:
        raise EvaluationInputError(f"{where}: device_id must be a non-empty string")
    clean = obj.get("clean")
    if not isinstance(clean, bool):
        raise EvaluationInputError(f"{where}: clean must be true or false")
    look = obj.get("look")
    if look is not None and not isinstance(look, str):
        raise EvaluationInputError(f"{where}: look must be null or a string")
    raw = obj.get("incidents") or []
    if not isinstance(raw, list):
        raise EvaluationInputError(f"{where}: incidents must be a list")
    incidents = []
    for n, item in enumerate(raw, 1):
        at = f"{where}, incident {n}"
        if not isinstance(item, dict):
            raise EvaluationInputError(f"{at}: expected an object")
        kind = _rule(item.get("kind"), at)
        if "start" not in item or "end" not in item:
            raise EvaluationInputError(f"{at}: start and end are required")
        start, end = seconds(item["start"], f"{at}: start"), seconds(item["end"], f"{at}: end")
        if end < start:
            raise EvaluationInputError(f"{at}: end is before start")
        variant = item.get("variant")
        incidents.append(Incident(kind, start, end, _coordinate(item, "lat", at), _coordinate(item, "lon", at),
                                  str(variant) if variant is not None else None))  # fmt: skip
    if clean and incidents:
        raise EvaluationInputError(f"{where}: a clean trip cannot have incidents")
    trip_start = seconds(obj["start"], f"{where}: start") if obj.get("start") is not None else None
    trip_end = seconds(obj["end"], f"{where}: end") if obj.get("end") is not None else None
    return TruthTrip(trip, device, clean, look, tuple(incidents), _optional_number(obj, "interval_s", where),
                     trip_start, trip_end)  # fmt: skip


def alert_record(obj: Any, where: str = "alert") -> AlertRecord:
    if not isinstance(obj, dict):
        raise EvaluationInputError(f"{where}: expected a JSON object")
    trip = obj.get("trip")
    if trip is not None and not isinstance(trip, str):
        raise EvaluationInputError(f"{where}: trip must be a string (the scenario trip id) or null")
    rule = _rule(obj.get("rule"), where)
    if obj.get("fired_at") is None:
        raise EvaluationInputError(f"{where}: fired_at is required")
    optional = {k: seconds(obj[k], f"{where}: {k}") if obj.get(k) is not None else None
                for k in ("raised_at", "episode_at")}  # fmt: skip
    return AlertRecord(trip, rule, seconds(obj["fired_at"], f"{where}: fired_at"), **optional)


def _json_lines(lines: Iterable[str], name: str) -> Iterable[tuple[str, Any]]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvaluationInputError(f"{where}: not JSON ({exc.msg})") from None


def read_truth(lines: Iterable[str], name: str = "truth") -> list[TruthTrip]:
    """Truth from JSON lines (blank lines skipped); a trip id given twice is refused."""
    out: list[TruthTrip] = []
    seen: set[str] = set()
    for where, obj in _json_lines(lines, name):
        trip = truth_trip(obj, where)
        if trip.trip in seen:
            raise EvaluationInputError(f"{where}: trip {trip.trip} appears twice")
        seen.add(trip.trip)
        out.append(trip)
    return out


def read_alerts(lines: Iterable[str], name: str = "alerts") -> list[AlertRecord]:
    return [alert_record(obj, where) for where, obj in _json_lines(lines, name)]


@dataclass(frozen=True, slots=True)
class ScenarioTrip:
    """What the evaluation takes from a scenario file's trip ("wastelink.scenario/1", docs/scenarios.md)."""

    trip: str
    device_id: str | None
    start: float  # the pickup (unix seconds)
    end: float | None  # the delivery claim, else the last point
    interval_s: float | None  # the median spacing of its points


def scenario_trips(data: Any) -> tuple[dict[str, ScenarioTrip], dict[str, Any]]:
    """The trips of a decoded scenario file and its rule settings. Only the fields the evaluation needs are read
    (trips[].id, .vehicle, .start, .delivered_at, .points[][0]; world.vehicles[].id/.device_id; settings)."""
    if not isinstance(data, dict):
        raise EvaluationInputError("scenario: expected a JSON object")
    rule_settings = data.get("settings") or {}
    if not isinstance(rule_settings, dict):
        raise EvaluationInputError("scenario settings: expected an object")
    world = data.get("world") or {}
    vehicles = (world.get("vehicles") or []) if isinstance(world, dict) else []
    devices = {v.get("id"): v.get("device_id") for v in vehicles if isinstance(v, dict)}
    raw = data.get("trips") or []
    if not isinstance(raw, list):
        raise EvaluationInputError("scenario trips: expected a list")
    out: dict[str, ScenarioTrip] = {}
    for n, t in enumerate(raw):
        where = f"scenario trips[{n}]"
        if not isinstance(t, dict) or not isinstance(t.get("id"), str) or t.get("start") is None:
            raise EvaluationInputError(f"{where}: expected an object with an id and a start")
        points = t.get("points") or []
        if not isinstance(points, list) or not all(isinstance(p, list) and p for p in points):
            raise EvaluationInputError(
                f"{where}.points: expected a list of [unix_seconds, lat, lon, speed_kmh]"
            )
        times = sorted(seconds(p[0], f"{where}.points") for p in points)
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        delivered = t.get("delivered_at")
        end = (
            seconds(delivered, f"{where}.delivered_at")
            if delivered is not None
            else (times[-1] if times else None)
        )
        device = devices.get(t.get("vehicle"))
        out[t["id"]] = ScenarioTrip(t["id"], device if isinstance(device, str) else None,
                                    seconds(t["start"], f"{where}.start"), end, median(gaps) if gaps else None)  # fmt: skip
    return out, rule_settings


def with_scenario(truth: Iterable[TruthTrip], trips: Mapping[str, ScenarioTrip]) -> list[TruthTrip]:
    """The truth with what its lines leave out taken from the scenario: each trip's reporting interval and window."""
    out = []
    for line in truth:
        known = trips.get(line.trip)
        if known is None:
            out.append(line)
            continue
        out.append(replace(line, interval_s=line.interval_s if line.interval_s is not None else known.interval_s,
                           start=line.start if line.start is not None else known.start,
                           end=line.end if line.end is not None else known.end))  # fmt: skip
    return out


# --- the arithmetic ---------------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float | None:
    """The middle value; for an even count, the mean of the two middle values. None for no values."""
    return float(statistics.median(values)) if values else None


def nearest_rank(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it
    (the ⌈fraction·n⌉-th smallest). None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered) - 1e-9)) - 1]


def matches(alert: AlertRecord, trip: str, incident: Incident, slack_s: float) -> bool:
    """The alert lies in the incident's window: same trip, fired_at in [start, end + slack]."""
    return alert.trip == trip and incident.start <= alert.fired_at <= incident.end + slack_s


def detects(alert: AlertRecord, trip: str, incident: Incident, slack_s: float) -> bool:
    """The alert finds the incident: a matching alert of the incident's own rule; for overdue, any overdue alert on
    the trip at or after the incident's start (a load is overdue until it is delivered)."""
    if alert.rule != incident.kind or alert.trip != trip:
        return False
    if incident.kind == OVERDUE:
        return alert.fired_at >= incident.start
    return matches(alert, trip, incident, slack_s)


@dataclass
class RuleRow:
    rule: str
    incidents: int = 0
    detected: int = 0
    recall: float | None = None
    tta_median_s: float | None = None
    tta_p95_s: float | None = None
    threshold_s: float = 0.0
    interval_s: float | None = None  # the median reporting interval of the trips with incidents of this kind
    allowance_s: float | None = None  # threshold + interval: the bound on the median time to alert
    alerts: int = 0
    true_alerts: int = 0
    false_alerts: int = 0  # alerts of this rule matching no incident of their trip
    alerts_on_clean: int = 0
    false_alerts_per_100_clean: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "rule"}


@dataclass
class Target:
    name: str  # "recall", "false_alerts_per_100_clean", "tta_median"
    rule: str | None
    value: float | None
    limit: float
    comparison: str  # ">=" or "<="
    passed: bool | None  # None: not evaluated (nothing to measure)
    note: str = ""

    def label(self) -> str:
        return self.name if self.rule is None else f"{self.name} {self.rule}"


@dataclass
class Missed:
    trip: str
    kind: str
    variant: str | None
    start: float


@dataclass
class Report:
    slack_s: float
    trips: int
    clean_trips: int
    incidents: int
    alerts: int
    true_alerts: int
    precision: float | None
    alerts_on_clean: int
    false_alerts_per_100_clean: float | None
    alerts_on_unknown_trips: int  # on trips not in the truth, or not mapped to a scenario trip
    rows: dict[str, RuleRow]
    targets: list[Target]
    missed: list[Missed] = field(default_factory=list)
    clean_alerts_by_look: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        """False if any target missed; True if every evaluated target is met; None if none could be evaluated."""
        verdicts = [t.passed for t in self.targets if t.passed is not None]
        if not verdicts:
            return None
        return all(verdicts)

    def as_json(self) -> dict[str, Any]:
        return {
            "slack_s": self.slack_s, "trips": self.trips, "clean_trips": self.clean_trips,
            "incidents": self.incidents, "alerts": self.alerts, "true_alerts": self.true_alerts,
            "precision": self.precision, "alerts_on_clean": self.alerts_on_clean,
            "false_alerts_per_100_clean": self.false_alerts_per_100_clean,
            "alerts_on_unknown_trips": self.alerts_on_unknown_trips,
            "rules": {rule: row.as_json() for rule, row in self.rows.items()},
            "targets": [{"name": t.name, "rule": t.rule, "value": t.value, "limit": t.limit,
                         "comparison": t.comparison, "passed": t.passed, "note": t.note} for t in self.targets],
            "missed": [{"trip": m.trip, "kind": m.kind, "variant": m.variant, "start": m.start} for m in self.missed],
            "clean_alerts_by_look": self.clean_alerts_by_look,
            "passed": self.passed,
        }  # fmt: skip

    def to_json(self) -> str:
        return json.dumps(self.as_json(), indent=2, ensure_ascii=False)

    def render_text(self, *, missed_shown: int = 20) -> str:
        return render_text(self, missed_shown=missed_shown)


def evaluate(truth: Iterable[TruthTrip], alerts: Iterable[AlertRecord], *, slack_s: float = DEFAULT_SLACK_S,
             thresholds_minutes: Mapping[str, float] | None = None, interval_s: float = DEFAULT_INTERVAL_S,
             recall_target: float = RECALL_TARGET,
             false_alerts_target: float = FALSE_ALERTS_PER_100_CLEAN_TARGET) -> Report:  # fmt: skip
    """Score alerts against the truth (docs/detection.md, "Evaluation")."""
    if slack_s < 0 or not math.isfinite(slack_s):
        raise ValueError("slack must be a finite number of seconds ≥ 0")
    trips = {t.trip: t for t in truth}
    alerts = list(alerts)
    thresholds = dict(RuleSettings().threshold_minutes if thresholds_minutes is None else thresholds_minutes)
    by_trip: dict[str, list[AlertRecord]] = {}
    for a in alerts:
        if a.trip is not None:
            by_trip.setdefault(a.trip, []).append(a)

    rows = {rule: RuleRow(rule, threshold_s=thresholds.get(rule, 0.0) * 60.0) for rule in RULES}
    ttas: dict[str, list[float]] = {rule: [] for rule in RULES}
    intervals: dict[str, list[float]] = {rule: [] for rule in RULES}
    missed: list[Missed] = []
    for trip in trips.values():
        mine = by_trip.get(trip.trip, [])
        for incident in trip.incidents:
            row = rows[incident.kind]
            row.incidents += 1
            intervals[incident.kind].append(trip.interval_s if trip.interval_s is not None else interval_s)
            found = [a.fired_at for a in mine if detects(a, trip.trip, incident, slack_s)]
            if found:
                row.detected += 1
                ttas[incident.kind].append(min(found) - incident.start)
            else:
                missed.append(Missed(trip.trip, incident.kind, incident.variant, incident.start))

    true_alerts = alerts_on_clean = unknown = 0
    clean_by_look: Counter[str] = Counter()
    for a in alerts:
        row = rows[a.rule]
        row.alerts += 1
        on = trips.get(a.trip) if a.trip is not None else None
        if on is None:
            unknown += 1
            row.false_alerts += 1
            continue
        if any(matches(a, on.trip, i, slack_s) or detects(a, on.trip, i, slack_s) for i in on.incidents):
            true_alerts += 1
            row.true_alerts += 1
        else:
            row.false_alerts += 1
        if on.clean:
            alerts_on_clean += 1
            row.alerts_on_clean += 1
            clean_by_look[on.look or "(none)"] += 1

    clean = sum(1 for t in trips.values() if t.clean)
    targets: list[Target] = []
    for rule, row in rows.items():
        row.recall = row.detected / row.incidents if row.incidents else None
        row.tta_median_s, row.tta_p95_s = median(ttas[rule]), nearest_rank(ttas[rule], P95)
        row.interval_s = median(intervals[rule])
        row.allowance_s = row.threshold_s + row.interval_s if row.interval_s is not None else None
        row.false_alerts_per_100_clean = row.alerts_on_clean * 100.0 / clean if clean else None
        targets.append(Target("recall", rule, row.recall, recall_target, ">=",
                              None if row.recall is None else row.recall >= recall_target,
                              "" if row.incidents else "no incidents of this kind in the truth"))  # fmt: skip
    fa_per_100 = alerts_on_clean * 100.0 / clean if clean else None
    targets.append(Target("false_alerts_per_100_clean", None, fa_per_100, false_alerts_target, "<=",
                          None if fa_per_100 is None else fa_per_100 <= false_alerts_target,
                          "" if clean else "no clean trips in the truth"))  # fmt: skip
    for rule, row in rows.items():
        if row.tta_median_s is None or row.allowance_s is None:
            note = "no incidents of this kind in the truth" if not row.incidents else "none detected"
            targets.append(
                Target("tta_median", rule, None, row.allowance_s or row.threshold_s, "<=", None, note)
            )
        else:
            targets.append(Target("tta_median", rule, row.tta_median_s, row.allowance_s, "<=",
                                  row.tta_median_s <= row.allowance_s))  # fmt: skip

    return Report(slack_s=slack_s, trips=len(trips), clean_trips=clean,
                  incidents=sum(r.incidents for r in rows.values()), alerts=len(alerts), true_alerts=true_alerts,
                  precision=true_alerts / len(alerts) if alerts else None, alerts_on_clean=alerts_on_clean,
                  false_alerts_per_100_clean=fa_per_100, alerts_on_unknown_trips=unknown, rows=rows,
                  targets=targets, missed=missed, clean_alerts_by_look=dict(sorted(clean_by_look.items())))  # fmt: skip


# --- rendering --------------------------------------------------------------------------------------------------


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value / 60:.1f} min"


def _ratio(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a"}[passed]


def render_text(report: Report, *, missed_shown: int = 20) -> str:
    r = report
    lines = [f"Detection evaluation: {r.trips} trips ({r.clean_trips} clean), {r.incidents} incidents, "
             f"{r.alerts} alerts; slack {r.slack_s / 60:g} min", ""]  # fmt: skip
    head = ("rule", "incidents", "detected", "recall", "TTA median", "TTA p95", "allowance", "alerts", "false",
            "on clean", "FA/100 clean")  # fmt: skip
    body = [(row.rule, str(row.incidents), str(row.detected), _ratio(row.recall), _minutes(row.tta_median_s),
             _minutes(row.tta_p95_s), _minutes(row.allowance_s), str(row.alerts), str(row.false_alerts),
             str(row.alerts_on_clean), _ratio(row.false_alerts_per_100_clean, 2)) for row in r.rows.values()]  # fmt: skip
    widths = [max(len(cells[i]) for cells in [head, *body]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    lines += [line(head), line(["-" * w for w in widths]), *map(line, body), ""]
    lines.append(f"precision: {_ratio(r.precision)} ({r.true_alerts} of {r.alerts} alerts match an incident of "
                 f"their trip)")  # fmt: skip
    lines.append(f"false alerts per 100 clean trips: {_ratio(r.false_alerts_per_100_clean, 2)} "
                 f"({r.alerts_on_clean} alerts on {r.clean_trips} clean trips)")  # fmt: skip
    if r.clean_alerts_by_look:
        lines.append("  by look: " + ", ".join(f"{look} {n}" for look, n in r.clean_alerts_by_look.items()))
    if r.alerts_on_unknown_trips:
        lines.append(f"alerts on trips not in the truth: {r.alerts_on_unknown_trips} (counted as false)")
    lines += ["", "targets:"]
    for t in r.targets:
        if t.name == "recall":
            value, limit = _ratio(t.value), _ratio(t.limit, 2)
        elif t.name == "tta_median":
            value, limit = _minutes(t.value), _minutes(t.limit)
        else:
            value, limit = _ratio(t.value, 2), _ratio(t.limit, 2)
        note = f" ({t.note})" if t.note else ""
        lines.append(f"  {_verdict(t.passed):4}  {t.label():45} {value:>10} {t.comparison} {limit}{note}")
    if r.missed:
        lines += ["", f"missed incidents ({len(r.missed)}):"]
        for m in r.missed[:missed_shown]:
            variant = f" ({m.variant})" if m.variant else ""
            start = datetime.fromtimestamp(m.start, UTC).isoformat().replace("+00:00", "Z")
            lines.append(f"  {m.trip}  {m.kind}{variant}  started {start}")
        if len(r.missed) > missed_shown:
            lines.append(f"  … and {len(r.missed) - missed_shown} more")
    lines += ["", f"result: {_verdict(r.passed)}"]
    return "\n".join(lines) + "\n"
