"""The alert lifecycle in core/alert_states.py: every (state, action) pair, the inputs each action needs, and the
small helpers the queue, the notifiers and the dashboard use."""

from __future__ import annotations

from itertools import product

import pytest

from wastelink.core.alert_states import (
    ACTIVE,
    AlertState,
    TransitionRefused,
    allowed_actions,
    input_problems,
    next_state,
    observed_precision,
    severity_at_least,
)

S = AlertState
# The allowed transitions, written out independently of the module's table.
ALLOWED = {
    (S.OPEN, "acknowledge"): S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, "dispatch"): S.DISPATCHED,
    (S.OPEN, "resolve"): S.RESOLVED,  # a false alarm seen at once
    (S.ACKNOWLEDGED, "resolve"): S.RESOLVED,
    (S.DISPATCHED, "resolve"): S.RESOLVED,
}
ACTIONS = ["acknowledge", "dispatch", "resolve", "reopen", "", "ACKNOWLEDGE"]


@pytest.mark.parametrize(("state", "action"), list(product(list(S), ACTIONS)))
def test_every_state_and_action(state, action):
    if (state, action) in ALLOWED:
        assert next_state(state.value, action) is ALLOWED[(state, action)]
    else:
        with pytest.raises(TransitionRefused) as info:
            next_state(state.value, action)
        assert info.value.action == action and info.value.state == state.value
        assert action in str(info.value)


def test_unknown_state_is_refused_not_crashed():
    with pytest.raises(TransitionRefused):
        next_state("closed", "resolve")


def test_resolved_is_final_and_active_is_the_rest():
    assert allowed_actions("resolved") == []
    assert ACTIVE == {S.OPEN, S.ACKNOWLEDGED, S.DISPATCHED}
    assert allowed_actions("open") == ["acknowledge", "resolve"]
    assert allowed_actions("acknowledged") == ["dispatch", "resolve"]
    assert allowed_actions("dispatched") == ["resolve"]


def test_dispatch_needs_an_inspector():
    assert [f.field for f in input_problems("dispatch", inspector="  ")] == ["inspector"]
    assert [f.field for f in input_problems("dispatch", inspector="x" * 201)] == ["inspector"]
    assert input_problems("dispatch", inspector="สมศักดิ์ ใจดี") == []


def test_resolve_needs_a_known_resolution_and_a_note():
    fields = sorted(f.field for f in input_problems("resolve", resolution="maybe", note=" "))
    assert fields == ["note", "resolution"]
    assert input_problems("resolve", resolution="confirmed", note="found drums at the pond") == []
    assert input_problems("resolve", resolution="false_alarm", note="rest stop not yet drawn") == []
    problem = input_problems("resolve", resolution="", note="x")[0]
    assert problem.rule == "alert.resolution" and problem.message_th and problem.message_en


def test_notes_are_bounded_for_every_action():
    assert [f.field for f in input_problems("acknowledge", note="x" * 4001)] == ["note"]
    assert input_problems("acknowledge") == []


@pytest.mark.parametrize(("severity", "threshold", "reaches"), [
    ("high", "high", True), ("medium", "high", False), ("low", "high", False), ("medium", "medium", True),
    ("high", "low", True), ("low", "low", True), ("critical", "low", False), ("high", "urgent", False),
])  # fmt: skip
def test_severity_threshold(severity, threshold, reaches):
    assert severity_at_least(severity, threshold) is reaches


def test_observed_precision():
    assert observed_precision(0, 0) is None
    assert observed_precision(3, 1) == 0.75
    assert observed_precision(0, 4) == 0.0
    assert observed_precision(2, 0) == 1.0
