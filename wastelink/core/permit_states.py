"""The กอ.1 application and permit state machines.

Application: DRAFT → SUBMITTED → UNDER_REVIEW → (INFO_REQUESTED → SUBMITTED …) → APPROVED | PARTIALLY_APPROVED |
REJECTED. Submission freezes the content; only DRAFT and INFO_REQUESTED applications can be edited.
Permit: ACTIVE → SUSPENDED ⇄ ACTIVE; ACTIVE | SUSPENDED → REVOKED; ACTIVE | SUSPENDED → EXPIRED at the end of
validity. REVOKED and EXPIRED are final.
"""

from __future__ import annotations

from enum import StrEnum


class ApplicationState(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    UNDER_REVIEW = "UNDER_REVIEW"
    INFO_REQUESTED = "INFO_REQUESTED"
    APPROVED = "APPROVED"
    PARTIALLY_APPROVED = "PARTIALLY_APPROVED"
    REJECTED = "REJECTED"


class PermitState(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


A = ApplicationState
APPLICATION_TRANSITIONS: dict[str, tuple[A, frozenset[A], A]] = {
    # action: (from one of, …) → to
    "submit": (A.DRAFT, frozenset({A.DRAFT, A.INFO_REQUESTED}), A.SUBMITTED),
    "take": (A.SUBMITTED, frozenset({A.SUBMITTED}), A.UNDER_REVIEW),
    "request_info": (A.UNDER_REVIEW, frozenset({A.UNDER_REVIEW}), A.INFO_REQUESTED),
    "approve": (A.UNDER_REVIEW, frozenset({A.UNDER_REVIEW, A.SUBMITTED}), A.APPROVED),
    "partially_approve": (A.UNDER_REVIEW, frozenset({A.UNDER_REVIEW}), A.PARTIALLY_APPROVED),
    "reject": (A.UNDER_REVIEW, frozenset({A.UNDER_REVIEW}), A.REJECTED),
}
EDITABLE = frozenset({A.DRAFT, A.INFO_REQUESTED})
DECIDED = frozenset({A.APPROVED, A.PARTIALLY_APPROVED, A.REJECTED})

P = PermitState
PERMIT_TRANSITIONS: dict[str, tuple[frozenset[P], P]] = {
    "suspend": (frozenset({P.ACTIVE}), P.SUSPENDED),
    "reinstate": (frozenset({P.SUSPENDED}), P.ACTIVE),
    "revoke": (frozenset({P.ACTIVE, P.SUSPENDED}), P.REVOKED),
    "expire": (frozenset({P.ACTIVE, P.SUSPENDED}), P.EXPIRED),
}
REASON_REQUIRED = frozenset({"reject", "suspend", "revoke", "request_info"})


class TransitionRefused(Exception):
    def __init__(self, action: str, state: str):
        self.action, self.state = action, state
        super().__init__(f"'{action}' is not allowed while the record is {state}")


def next_application_state(state: str, action: str) -> ApplicationState:
    """The state after `action`, or TransitionRefused. System auto-approval may approve straight from SUBMITTED."""
    if action not in APPLICATION_TRANSITIONS:
        raise TransitionRefused(action, state)
    _, allowed, target = APPLICATION_TRANSITIONS[action]
    if ApplicationState(state) not in allowed:
        raise TransitionRefused(action, state)
    return target


def next_permit_state(state: str, action: str) -> PermitState:
    if action not in PERMIT_TRANSITIONS:
        raise TransitionRefused(action, state)
    allowed, target = PERMIT_TRANSITIONS[action]
    if PermitState(state) not in allowed:
        raise TransitionRefused(action, state)
    return target


def decision_outcome(line_decisions: list[bool]) -> ApplicationState:
    """All lines approved → APPROVED; none → REJECTED; some → PARTIALLY_APPROVED."""
    if line_decisions and all(line_decisions):
        return A.APPROVED
    if any(line_decisions):
        return A.PARTIALLY_APPROVED
    return A.REJECTED
