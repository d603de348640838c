"""E-manifest rules: the custody state machine, signature order, weight discrepancy, deadlines, mass balance.

A manifest is one waste line (one code) on one vehicle trip. Custody passes generator → transporter → receiver and
each hand-over is a signature; the server enforces the order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum


class ManifestState(StrEnum):
    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    RECEIVED = "RECEIVED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class SignerRole(StrEnum):
    GENERATOR = "generator"
    TRANSPORTER = "transporter"
    RECEIVER = "receiver"


class Acceptance(StrEnum):
    FULL = "full"
    PARTIAL = "partial"
    REJECTED = "rejected"


class DiscrepancyCode(StrEnum):
    A = "A"  # quantity differs from the declaration
    B = "B"  # a different waste: a new waste number is given
    C = "C"  # other, with a reason


M = ManifestState
# action → (states it may start from, resulting state, signature it records)
TRANSITIONS: dict[str, tuple[frozenset[M], M, SignerRole | None]] = {
    "schedule": (frozenset({M.DRAFT}), M.SCHEDULED, SignerRole.GENERATOR),
    "pickup": (frozenset({M.SCHEDULED}), M.IN_TRANSIT, SignerRole.TRANSPORTER),
    "deliver": (frozenset({M.IN_TRANSIT}), M.DELIVERED, None),
    "receive": (frozenset({M.DELIVERED}), M.RECEIVED, SignerRole.RECEIVER),
    "complete": (frozenset({M.RECEIVED}), M.COMPLETED, None),
    "cancel": (frozenset({M.DRAFT, M.SCHEDULED}), M.CANCELLED, None),
}
SIGNATURE_ORDER = (SignerRole.GENERATOR, SignerRole.TRANSPORTER, SignerRole.RECEIVER)
EDITABLE = frozenset({M.DRAFT})
DRAWN = frozenset({M.SCHEDULED, M.IN_TRANSIT, M.DELIVERED, M.RECEIVED, M.COMPLETED})  # hold permit quantity


class ManifestTransitionRefused(Exception):
    def __init__(self, action: str, state: str):
        self.action, self.state = action, state
        super().__init__(f"'{action}' is not allowed while the manifest is {state}")


def next_state(state: str, action: str) -> ManifestState:
    if action not in TRANSITIONS:
        raise ManifestTransitionRefused(action, state)
    allowed, target, _ = TRANSITIONS[action]
    if ManifestState(state) not in allowed:
        raise ManifestTransitionRefused(action, state)
    return target


def expected_signer(signed: list[str]) -> SignerRole | None:
    """The next signature due, given those already recorded (in order); None when all three are in."""
    for role in SIGNATURE_ORDER:
        if role.value not in signed:
            return role
    return None


def signature_in_order(signed: list[str], role: SignerRole) -> bool:
    return expected_signer(signed) == role


# --- quantities -----------------------------------------------------------------------------------------------
def to_tonnes(quantity: Decimal, unit: str) -> Decimal:
    if unit == "t":
        return quantity
    if unit == "kg":
        return quantity / Decimal(1000)
    raise ValueError(f"unknown unit {unit!r}")


@dataclass(frozen=True, slots=True)
class Tolerance:
    fraction: Decimal = Decimal("0.05")
    minimum_kg: Decimal = Decimal("50")

    def allowed_kg(self, declared_kg: Decimal) -> Decimal:
        """The larger of the fraction of the declared weight and the minimum."""
        return max(declared_kg * self.fraction, self.minimum_kg)


def is_discrepant(declared_kg: Decimal, weighed_kg: Decimal, tolerance: Tolerance) -> bool:
    """A weighed quantity outside the tolerance band around the declaration raises a discrepancy."""
    return abs(weighed_kg - declared_kg) > tolerance.allowed_kg(declared_kg)


# --- deadlines ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DeadlineFacts:
    state: str
    delivered_at: datetime | None
    expected_arrival_at: datetime | None


def overdue_reasons(facts: DeadlineFacts, now: datetime, *, receipt_hours: int, transit_grace_hours: int) -> list[str]:
    """Why a manifest is overdue now: 'receipt' (delivered, not signed by the receiver in time) and/or 'transit'."""
    reasons = []
    if facts.state == M.DELIVERED and facts.delivered_at and now > facts.delivered_at + timedelta(hours=receipt_hours):
        reasons.append("receipt")
    if (facts.state in (M.SCHEDULED, M.IN_TRANSIT) and facts.expected_arrival_at
            and now > facts.expected_arrival_at + timedelta(hours=transit_grace_hours)):  # fmt: skip
        reasons.append("transit")
    return reasons


# --- mass balance ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ShipmentFacts:
    state: str
    declared_t: Decimal
    received_t: Decimal | None
    final_method: str | None
    permitted_method: str
    overdue: bool


@dataclass(slots=True)
class Balance:
    declared_t: Decimal
    shipped_t: Decimal = Decimal(0)
    received_t: Decimal = Decimal(0)
    treated_t: Decimal = Decimal(0)
    in_transit_t: Decimal = Decimal(0)
    flags: list[str] = field(default_factory=list)


def mass_balance(declared_for_period_t: Decimal, shipments: list[ShipmentFacts], tolerance: Tolerance) -> Balance:
    """Declared generation vs shipped vs received vs treated for one stream and period, with the gaps flagged.

    Flags: 'declared_not_shipped', 'shipped_not_received' (an overdue load not yet received),
    'received_more_than_shipped' (beyond tolerance), 'treated_other_method'.
    """
    b = Balance(declared_t=declared_for_period_t)
    for s in shipments:
        if s.state in (M.DRAFT, M.SCHEDULED, M.CANCELLED):
            continue
        b.shipped_t += s.declared_t
        if s.received_t is not None:
            b.received_t += s.received_t
        else:
            b.in_transit_t += s.declared_t
            if s.overdue and "shipped_not_received" not in b.flags:
                b.flags.append("shipped_not_received")
        if s.state == M.COMPLETED and s.received_t is not None:
            b.treated_t += s.received_t
            if s.final_method and s.final_method != s.permitted_method and "treated_other_method" not in b.flags:
                b.flags.append("treated_other_method")
    if declared_for_period_t > 0 and b.shipped_t == 0:
        b.flags.insert(0, "declared_not_shipped")
    received_shipments = sum((s.declared_t for s in shipments if s.received_t is not None), Decimal(0))
    if b.received_t * 1000 - received_shipments * 1000 > tolerance.allowed_kg(received_shipments * 1000):
        b.flags.append("received_more_than_shipped")
    return b
