"""The alert lifecycle, framework-free.

OPEN → ACKNOWLEDGED → DISPATCHED → RESOLVED: an officer acknowledges an alert (someone is looking at it), may send
an inspector to intercept the truck (the inspector's name is required), and resolves it as a confirmed violation or
a false alarm (a note is required either way).

Resolving is also allowed straight from OPEN or ACKNOWLEDGED: a false alarm is often plain at first sight (a
geofence drawn too tight, a known GPS fault), and making the officer acknowledge and dispatch first would only
add clicks and distort the statistics. Resolving from OPEN counts as acknowledging at the same moment.

RESOLVED is final. Every other (state, action) pair is refused; the services answer 409.
"""

from __future__ import annotations

from enum import StrEnum

from wastelink.core.findings import Finding, error


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    CONFIRMED = "confirmed"
    FALSE_ALARM = "false_alarm"


S = AlertState
TRANSITIONS: dict[str, tuple[frozenset[AlertState], AlertState]] = {
    # action: (from one of …) → to
    "acknowledge": (frozenset({S.OPEN}), S.ACKNOWLEDGED),
    "dispatch": (frozenset({S.ACKNOWLEDGED}), S.DISPATCHED),
    "resolve": (frozenset({S.OPEN, S.ACKNOWLEDGED, S.DISPATCHED}), S.RESOLVED),
}
ACTIONS = tuple(TRANSITIONS)
ACTIVE = frozenset({S.OPEN, S.ACKNOWLEDGED, S.DISPATCHED})  # not yet resolved

# The officers' queue: open first, then acknowledged, dispatched, resolved; within a state the most severe first.
STATE_RANK = {S.OPEN: 0, S.ACKNOWLEDGED: 1, S.DISPATCHED: 2, S.RESOLVED: 3}
SEVERITIES = ("low", "medium", "high")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}  # higher is more severe

MAX_INSPECTOR = 200
MAX_NOTE = 4000


class TransitionRefused(Exception):
    def __init__(self, action: str, state: str):
        self.action, self.state = action, state
        super().__init__(f"'{action}' is not allowed while the alert is {state}")


def next_state(state: str, action: str) -> AlertState:
    """The state after `action`, or TransitionRefused (also for an unknown action or state)."""
    if action not in TRANSITIONS:
        raise TransitionRefused(action, state)
    allowed, target = TRANSITIONS[action]
    try:
        current = AlertState(state)
    except ValueError:
        raise TransitionRefused(action, state) from None
    if current not in allowed:
        raise TransitionRefused(action, state)
    return target


def allowed_actions(state: str) -> list[str]:
    """The actions an official may take on an alert in `state`, in the order the page offers them."""
    return [a for a, (sources, _) in TRANSITIONS.items() if state in {s.value for s in sources}]


def input_problems(
    action: str, *, inspector: str = "", resolution: str = "", note: str = ""
) -> list[Finding]:
    """What an action's input lacks: dispatch names the inspector; resolve gives a resolution and a note."""
    out: list[Finding] = []
    inspector, resolution, note = inspector.strip(), resolution.strip(), note.strip()
    if len(note) > MAX_NOTE:
        out.append(error("alert.note", "note", f"at most {MAX_NOTE} characters", f"ไม่เกิน {MAX_NOTE} ตัวอักษร"))
    if action == "dispatch":
        if not inspector:
            out.append(error("alert.inspector", "inspector", "name the inspector sent to intercept",
                             "กรุณาระบุชื่อผู้ตรวจที่ส่งไปตรวจสอบ"))  # fmt: skip
        elif len(inspector) > MAX_INSPECTOR:
            out.append(error("alert.inspector", "inspector", f"at most {MAX_INSPECTOR} characters",
                             f"ไม่เกิน {MAX_INSPECTOR} ตัวอักษร"))  # fmt: skip
    if action == "resolve":
        if resolution not in {r.value for r in Resolution}:
            out.append(error("alert.resolution", "resolution", "resolution must be 'confirmed' or 'false_alarm'",
                             "ผลการตรวจสอบต้องเป็น 'ยืนยันว่ามีการกระทำผิด' (confirmed) หรือ 'แจ้งเตือนผิดพลาด' (false_alarm)"))  # fmt: skip
        if not note:
            out.append(error("alert.note", "note", "a resolution needs a note saying what was found",
                             "การปิดเรื่องเหตุผิดปกติต้องบันทึกสิ่งที่ตรวจพบ"))  # fmt: skip
    return out


def severity_at_least(severity: str, threshold: str) -> bool:
    """Whether `severity` reaches `threshold` (low < medium < high); unknown severities never do."""
    if severity not in SEVERITY_RANK or threshold not in SEVERITY_RANK:
        return False
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold]


def observed_precision(confirmed: int, false_alarms: int) -> float | None:
    """The share of resolved alerts that were real: confirmed / (confirmed + false alarms); None before any."""
    judged = confirmed + false_alarms
    return confirmed / judged if judged else None
