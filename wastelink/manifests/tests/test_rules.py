"""The pure manifest rules (wastelink/core/manifest_rules.py): custody transitions, signature order, units,
the weight tolerance, deadlines and the mass balance. No database: every expectation here is written out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wastelink.core.manifest_rules import (
    DRAWN,
    EDITABLE,
    TRANSITIONS,
    DeadlineFacts,
    ManifestState,
    ManifestTransitionRefused,
    ShipmentFacts,
    SignerRole,
    Tolerance,
    expected_signer,
    is_discrepant,
    mass_balance,
    next_state,
    overdue_reasons,
    signature_in_order,
    to_tonnes,
)

STATES = [s.value for s in ManifestState]
ACTIONS = ["schedule", "pickup", "deliver", "receive", "complete", "cancel"]

# The custody table as docs/manifests.md states it, written out independently of TRANSITIONS.
ALLOWED = {
    ("DRAFT", "schedule"): "SCHEDULED",
    ("SCHEDULED", "pickup"): "IN_TRANSIT",
    ("IN_TRANSIT", "deliver"): "DELIVERED",
    ("DELIVERED", "receive"): "RECEIVED",
    ("RECEIVED", "complete"): "COMPLETED",
    ("DRAFT", "cancel"): "CANCELLED",
    ("SCHEDULED", "cancel"): "CANCELLED",
}


# --- transitions ----------------------------------------------------------------------------------------------
def test_the_table_names_exactly_the_documented_actions():
    assert sorted(TRANSITIONS) == sorted(ACTIONS)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_state_and_action_pair(state, action):
    if (state, action) in ALLOWED:
        assert next_state(state, action) == ManifestState(ALLOWED[(state, action)])
    else:
        with pytest.raises(ManifestTransitionRefused) as info:
            next_state(state, action)
        assert info.value.action == action and info.value.state == state
        assert action in str(info.value) and state in str(info.value)


@pytest.mark.parametrize("state", STATES)
def test_an_unknown_action_is_refused_in_every_state(state):
    with pytest.raises(ManifestTransitionRefused):
        next_state(state, "teleport")


def test_an_unknown_state_is_not_silently_accepted():
    with pytest.raises(ValueError):
        next_state("LOST", "schedule")


@pytest.mark.parametrize("state", ["COMPLETED", "CANCELLED"])
def test_closed_manifests_accept_no_action(state):
    for action in ACTIONS:
        with pytest.raises(ManifestTransitionRefused):
            next_state(state, action)


def test_each_signing_step_records_the_right_signature():
    assert {a: (sig.value if sig else None) for a, (_, _, sig) in TRANSITIONS.items()} == {
        "schedule": "generator", "pickup": "transporter", "deliver": None, "receive": "receiver",
        "complete": None, "cancel": None,
    }  # fmt: skip


def test_only_a_draft_is_editable_and_every_scheduled_or_later_load_holds_permit_quantity():
    assert EDITABLE == {ManifestState.DRAFT}
    assert DRAWN == {
        ManifestState(s) for s in ("SCHEDULED", "IN_TRANSIT", "DELIVERED", "RECEIVED", "COMPLETED")
    }


# --- signature order ------------------------------------------------------------------------------------------
SIGNERS = [SignerRole.GENERATOR, SignerRole.TRANSPORTER, SignerRole.RECEIVER]


@pytest.mark.parametrize(("signed", "due"), [
    ([], SignerRole.GENERATOR),
    (["generator"], SignerRole.TRANSPORTER),
    (["generator", "transporter"], SignerRole.RECEIVER),
    (["generator", "transporter", "receiver"], None),
])  # fmt: skip
def test_the_next_signature_for_every_prefix(signed, due):
    assert expected_signer(signed) == due
    for role in SIGNERS:
        assert signature_in_order(signed, role) is (role == due), (signed, role)


@pytest.mark.parametrize(("signed", "due"), [
    (["transporter"], SignerRole.GENERATOR),  # a transporter signature without the generator's does not count
    (["receiver"], SignerRole.GENERATOR),
    (["generator", "receiver"], SignerRole.TRANSPORTER),
])  # fmt: skip
def test_a_signature_out_of_order_does_not_advance_the_order(signed, due):
    assert expected_signer(signed) == due
    for role in SIGNERS:
        assert signature_in_order(signed, role) is (role == due), (signed, role)


def test_no_role_may_sign_twice():
    assert not signature_in_order(["generator"], SignerRole.GENERATOR)
    assert not signature_in_order(["generator", "transporter"], SignerRole.TRANSPORTER)
    assert not signature_in_order(["generator", "transporter", "receiver"], SignerRole.RECEIVER)


# --- units and tolerance --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("qty", "unit", "tonnes"), [
    ("5", "t", "5"), ("0.001", "t", "0.001"), ("5030", "kg", "5.03"), ("1", "kg", "0.001"), ("0.5", "kg", "0.0005"),
])  # fmt: skip
def test_to_tonnes(qty, unit, tonnes):
    assert to_tonnes(Decimal(qty), unit) == Decimal(tonnes)


def test_to_tonnes_refuses_an_unknown_unit():
    with pytest.raises(ValueError):
        to_tonnes(Decimal("1"), "lb")


@pytest.mark.parametrize(("declared", "allowed"), [
    ("0", "50"), ("500", "50"), ("999", "50"), ("1000", "50"), ("1001", "50.05"), ("2000", "100"), ("5000", "250"),
])  # fmt: skip
def test_allowed_is_the_larger_of_five_percent_and_fifty_kg(declared, allowed):
    assert Tolerance().allowed_kg(Decimal(declared)) == Decimal(allowed)


@pytest.mark.parametrize(("declared", "weighed", "discrepant"), [
    ("500", "550", False), ("500", "550.001", True), ("500", "450", False), ("500", "449.999", True),
    ("2000", "2100", False), ("2000", "2100.001", True), ("2000", "1900", False), ("2000", "1899.999", True),
    ("5000", "5000", False), ("5000", "5250", False), ("5000", "5250.001", True), ("5000", "0", True),
])  # fmt: skip
def test_exactly_at_the_limit_is_not_a_discrepancy_and_a_gram_beyond_is(declared, weighed, discrepant):
    assert is_discrepant(Decimal(declared), Decimal(weighed), Tolerance()) is discrepant


def test_a_configured_tolerance_is_used():
    strict = Tolerance(fraction=Decimal("0.01"), minimum_kg=Decimal("0"))
    assert strict.allowed_kg(Decimal("2000")) == Decimal("20")
    assert not is_discrepant(Decimal("2000"), Decimal("2020"), strict)
    assert is_discrepant(Decimal("2000"), Decimal("2020.001"), strict)


# --- deadlines ------------------------------------------------------------------------------------------------
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
TINY = timedelta(microseconds=1)


def reasons(state, now, delivered=None, expected=None):
    return overdue_reasons(
        DeadlineFacts(state, delivered, expected), now, receipt_hours=24, transit_grace_hours=2
    )


def test_receipt_is_overdue_only_after_the_receipt_hours():
    assert reasons("DELIVERED", T0 + timedelta(hours=23), delivered=T0) == []
    assert reasons("DELIVERED", T0 + timedelta(hours=24), delivered=T0) == []
    assert reasons("DELIVERED", T0 + timedelta(hours=24) + TINY, delivered=T0) == ["receipt"]


def test_the_receipt_deadline_uses_the_hours_given():
    facts = DeadlineFacts("DELIVERED", T0, None)
    assert overdue_reasons(facts, T0 + timedelta(hours=5), receipt_hours=4, transit_grace_hours=2) == [
        "receipt"
    ]
    assert overdue_reasons(facts, T0 + timedelta(hours=5), receipt_hours=6, transit_grace_hours=2) == []


@pytest.mark.parametrize("state", ["SCHEDULED", "IN_TRANSIT"])
def test_transit_is_overdue_only_after_the_expected_arrival_plus_grace(state):
    assert reasons(state, T0 + timedelta(hours=1), expected=T0) == []
    assert reasons(state, T0 + timedelta(hours=2), expected=T0) == []
    assert reasons(state, T0 + timedelta(hours=2) + TINY, expected=T0) == ["transit"]


@pytest.mark.parametrize("state", ["DRAFT", "RECEIVED", "COMPLETED", "CANCELLED"])
def test_drafts_and_closed_loads_are_never_overdue(state):
    long_after = T0 + timedelta(days=30)
    assert reasons(state, long_after, delivered=T0, expected=T0) == []


def test_a_delivered_load_is_judged_on_receipt_not_on_arrival():
    late_arrival = T0 - timedelta(days=3)
    assert reasons("DELIVERED", T0 + timedelta(hours=1), delivered=T0, expected=late_arrival) == []
    assert reasons("DELIVERED", T0 + timedelta(hours=25), delivered=T0, expected=late_arrival) == ["receipt"]


def test_missing_times_are_not_overdue():
    assert reasons("DELIVERED", T0 + timedelta(days=9)) == []
    assert reasons("IN_TRANSIT", T0 + timedelta(days=9)) == []


# --- mass balance ---------------------------------------------------------------------------------------------
D = Decimal
TOL = Tolerance()


def ship(state, declared, received=None, method=None, permitted="041", overdue=False):
    return ShipmentFacts(state=state, declared_t=D(declared), received_t=None if received is None else D(received),
                         final_method=method, permitted_method=permitted, overdue=overdue)  # fmt: skip


def test_a_clean_period_has_no_flags():
    b = mass_balance(D("20"), [ship("COMPLETED", "5", "5.1", "041"), ship("RECEIVED", "3", "2.95")], TOL)
    assert (b.declared_t, b.shipped_t, b.received_t, b.treated_t, b.in_transit_t) == (
        D("20"),
        D("8"),
        D("8.05"),
        D("5.1"),
        D("0"),
    )
    assert b.flags == []


def test_declared_but_nothing_shipped():
    b = mass_balance(D("12.5"), [], TOL)
    assert b.shipped_t == 0 and b.flags == ["declared_not_shipped"]
    # Nothing declared and nothing shipped is not a gap.
    assert mass_balance(D("0"), [], TOL).flags == []


def test_declared_not_shipped_counts_only_loads_that_left():
    b = mass_balance(D("10"), [ship("DRAFT", "4"), ship("SCHEDULED", "3"), ship("CANCELLED", "2")], TOL)
    assert (b.shipped_t, b.received_t, b.treated_t, b.in_transit_t) == (0, 0, 0, 0)
    assert b.flags == ["declared_not_shipped"]


def test_shipped_not_received_only_when_a_load_is_overdue():
    on_time = mass_balance(D("10"), [ship("IN_TRANSIT", "4"), ship("DELIVERED", "2")], TOL)
    assert on_time.shipped_t == D("6") and on_time.in_transit_t == D("6") and on_time.received_t == 0
    assert on_time.flags == []
    late = mass_balance(D("10"), [ship("IN_TRANSIT", "4"), ship("DELIVERED", "2", overdue=True)], TOL)
    assert late.in_transit_t == D("6") and late.flags == ["shipped_not_received"]
    # Two overdue loads still give the flag once.
    both = mass_balance(
        D("10"), [ship("IN_TRANSIT", "4", overdue=True), ship("DELIVERED", "2", overdue=True)], TOL
    )
    assert both.flags == ["shipped_not_received"]


def test_received_more_than_shipped_only_beyond_the_tolerance():
    # 10 t received against 10 t declared: allowed max(500 kg, 50 kg) = 500 kg over the received loads.
    at_limit = mass_balance(D("0"), [ship("RECEIVED", "6", "6.3"), ship("RECEIVED", "4", "4.2")], TOL)
    assert at_limit.received_t == D("10.5") and at_limit.flags == []
    beyond = mass_balance(D("0"), [ship("RECEIVED", "6", "6.3"), ship("RECEIVED", "4", "4.201")], TOL)
    assert beyond.received_t == D("10.501") and beyond.flags == ["received_more_than_shipped"]
    # Loads still on the road are not part of the comparison: 1 t received against 1 t, 50 kg allowed.
    small = mass_balance(D("0"), [ship("RECEIVED", "1", "1.05"), ship("IN_TRANSIT", "20")], TOL)
    assert small.flags == []
    small_over = mass_balance(D("0"), [ship("RECEIVED", "1", "1.051"), ship("IN_TRANSIT", "20")], TOL)
    assert small_over.flags == ["received_more_than_shipped"]


def test_receiving_less_than_shipped_is_not_received_more():
    b = mass_balance(D("0"), [ship("RECEIVED", "10", "2")], TOL)
    assert b.flags == []


def test_treated_by_another_method():
    same = mass_balance(D("0"), [ship("COMPLETED", "5", "5", "041")], TOL)
    assert same.treated_t == D("5") and same.flags == []
    other = mass_balance(
        D("0"), [ship("COMPLETED", "5", "5", "041"), ship("COMPLETED", "2", "2", "082")], TOL
    )
    assert other.treated_t == D("7") and other.flags == ["treated_other_method"]
    # A received load whose method is not yet final is not judged.
    pending = mass_balance(D("0"), [ship("RECEIVED", "2", "2", "082")], TOL)
    assert pending.treated_t == 0 and pending.flags == []


def test_every_flag_together_by_hand():
    shipments = [
        ship("COMPLETED", "5", "5", "041"),  # treated as permitted
        ship("IN_TRANSIT", "4", overdue=True),  # overdue on the road
        ship("RECEIVED", "3", "3.7"),  # 700 kg over
        ship("COMPLETED", "2", "2", "082"),  # another method
        ship("DRAFT", "9"),
        ship("SCHEDULED", "8"),
        ship("CANCELLED", "7"),  # never count
    ]
    b = mass_balance(D("100"), shipments, TOL)
    assert b.shipped_t == D("14")  # 5 + 4 + 3 + 2
    assert b.received_t == D("10.7")  # 5 + 3.7 + 2
    assert b.treated_t == D("7")  # 5 + 2
    assert b.in_transit_t == D("4")
    # 10.7 t received against 10 t declared for those loads: 700 kg > max(500, 50) kg.
    assert b.flags == ["shipped_not_received", "treated_other_method", "received_more_than_shipped"]


# A realistic shipment: only received (and completed) loads carry a weighed quantity.
@st.composite
def shipments(draw):
    state = draw(st.sampled_from(STATES))
    declared = draw(st.decimals(min_value=D("0.001"), max_value=D("50"), places=3))
    received = None
    if state in ("RECEIVED", "COMPLETED"):
        received = draw(st.decimals(min_value=D("0"), max_value=D("60"), places=3))
    method = draw(st.sampled_from(["041", "082"])) if state == "COMPLETED" else None
    overdue = draw(st.booleans()) if state in ("SCHEDULED", "IN_TRANSIT", "DELIVERED") else False
    return ShipmentFacts(state, declared, received, method, "041", overdue)


@settings(max_examples=300, deadline=None)
@given(
    declared=st.decimals(min_value=D("0"), max_value=D("500"), places=3),
    items=st.lists(shipments(), max_size=12),
)
def test_mass_balance_properties(declared, items):
    b = mass_balance(declared, items, TOL)
    counted = [s for s in items if s.state not in ("DRAFT", "SCHEDULED", "CANCELLED")]
    # Shipped is the sum of the declarations of the loads that left, and it splits into received and in transit.
    assert b.shipped_t == sum((s.declared_t for s in counted), D(0))
    received_loads = [s for s in counted if s.received_t is not None]
    assert b.in_transit_t == sum((s.declared_t for s in counted if s.received_t is None), D(0))
    assert b.shipped_t == sum((s.declared_t for s in received_loads), D(0)) + b.in_transit_t
    assert b.received_t == sum((s.received_t for s in received_loads), D(0))
    # Treated is what completed loads weighed, so never more than received.
    assert b.treated_t == sum((s.received_t for s in received_loads if s.state == "COMPLETED"), D(0))
    assert 0 <= b.treated_t <= b.received_t
    assert b.declared_t == declared
    # Each flag holds exactly when its condition does, and appears at most once.
    assert len(b.flags) == len(set(b.flags))
    assert ("declared_not_shipped" in b.flags) == (declared > 0 and b.shipped_t == 0)
    assert ("shipped_not_received" in b.flags) == any(s.received_t is None and s.overdue for s in counted)
    assert ("treated_other_method" in b.flags) == any(
        s.state == "COMPLETED" and s.final_method != "041" for s in counted
    )
    base_kg = sum((s.declared_t for s in received_loads), D(0)) * 1000
    over = b.received_t * 1000 - base_kg > max(base_kg * D("0.05"), D("50"))
    assert ("received_more_than_shipped" in b.flags) == over
