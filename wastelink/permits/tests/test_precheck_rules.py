"""Every pre-check rule of core/precheck.py, passing and failing, on facts built by hand (no database).

Each failing case asserts the rule id, the severity, the field path (lines[N].x for line rules) and that the
finding carries an English and a Thai message; each passing case sits next to the boundary the rule draws.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wastelink.core.findings import Finding, Severity
from wastelink.core.precheck import (
    ApplicationFacts,
    LicenceFacts,
    LineFacts,
    TransporterFacts,
    line_findings,
    rule_generator_registration,
    rule_has_lines,
    rule_hazardous_transport,
    rule_mark_verified,
    rule_method_hazard,
    rule_no_overlap,
    rule_receiver_capacity,
    rule_receiver_licence,
    rule_stream_quantity,
    run_prechecks,
)
from wastelink.core.waste_codes import HazardMark

THAI = re.compile(r"[\u0E00-\u0E7F]")
START = date(2025, 6, 1)
END = START + timedelta(days=364)
HZ, NH = "160211", "200101"


def licence(**kw) -> LicenceFacts:
    base = dict(licence_no="RL-1", factory_type="106", codes=frozenset({HZ, NH}), methods=frozenset({"041", "082", "011"}),
                annual_capacity_t=Decimal("1000"), valid_from=START - timedelta(days=30),
                valid_until=END + timedelta(days=100), suspended=False)  # fmt: skip
    base.update(kw)
    return LicenceFacts(**base)


def transporter(**kw) -> TransporterFacts:
    base = dict(
        id=7, name="Echo Logistics", active=True, hazardous_licence_valid=True, gps_hazardous_vehicles=2
    )
    base.update(kw)
    return TransporterFacts(**base)


def line(**kw) -> LineFacts:
    """A clean non-hazardous line: 10 t of paper to a licensed receiver with capacity to spare."""
    base = dict(index=1, stream_id=11, stream_code=NH, stream_annual_t=Decimal("100"),
                stream_other_requested_t=Decimal("0"), mark=HazardMark.NONE, mark_verified=True,
                quantity_t=Decimal("10"), method="041", method_non_hazardous_only=False, receiver_id=5,
                receiver_active=True, receiver_licences=(licence(),), receiver_used_t=Decimal("0"),
                receiver_this_application_t=Decimal("10"), transporters=(transporter(),), overlapping_permits=())  # fmt: skip
    base.update(kw)
    return LineFacts(**base)


def hz_line(**kw) -> LineFacts:
    """A clean hazardous (HM, verified) line of 160211 by method 041."""
    return line(**{"stream_code": HZ, "mark": HazardMark.HM, **kw})


def application(*lines: LineFacts, **kw) -> ApplicationFacts:
    base = dict(generator_name="Alpha Chemical", registration_problem=None, generator_status="active",
                period_start=START, period_end=END, lines=tuple(lines))  # fmt: skip
    base.update(kw)
    return ApplicationFacts(**base)


def only(findings: list[Finding], rule: str, severity: Severity, field: str) -> Finding:
    """Exactly one finding, with this id, severity and field, and messages in both languages."""
    assert [(f.rule, f.severity, f.field) for f in findings] == [(rule, severity, field)], findings
    f = findings[0]
    assert f.message_en.strip() and f.message_th.strip()
    assert THAI.search(f.message_th), f.message_th
    assert not THAI.search(f.message_en), f.message_en
    return f


def test_a_clean_application_has_no_findings():
    app = application(line(), hz_line(index=2, stream_id=12))
    assert run_prechecks(app) == []


# --- application-level rules ----------------------------------------------------------------------------------
def test_gen_reg_passes_with_a_valid_registration():
    assert rule_generator_registration(application(line())) == []


def test_gen_reg_fails_with_a_registration_problem():
    f = only(rule_generator_registration(application(line(), registration_problem="must be 14 digits")),
             "KO1-GEN-REG", Severity.ERROR, "generator.registration_no")  # fmt: skip
    assert "must be 14 digits" in f.message_en


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_gen_status_fails_unless_active(status):
    f = only(rule_generator_registration(application(line(), generator_status=status)),
             "KO1-GEN-STATUS", Severity.ERROR, "generator.status")  # fmt: skip
    assert status in f.message_en


def test_gen_status_passes_when_active():
    assert [f.rule for f in rule_generator_registration(application(line(), generator_status="active"))] == []


def test_lines_rule_fails_without_lines():
    only(rule_has_lines(application()), "KO1-LINES", Severity.ERROR, "lines")


def test_lines_rule_passes_with_one_line():
    assert rule_has_lines(application(line())) == []


def test_empty_application_is_refused_by_run_prechecks():
    assert [(f.rule, f.severity) for f in run_prechecks(application())] == [("KO1-LINES", Severity.ERROR)]


# --- receiver licence -----------------------------------------------------------------------------------------
def test_rcv_lic_passes_with_a_covering_licence():
    app = application(line())
    assert rule_receiver_licence(app, app.lines[0]) == []


@pytest.mark.parametrize("why, licences", [
    ("no licence at all", ()),
    ("code not covered", (licence(codes=frozenset({HZ})),)),
    ("method not covered", (licence(methods=frozenset({"011"})),)),
    ("expired before the period starts", (licence(valid_until=START - timedelta(days=1)),)),
    ("not yet valid", (licence(valid_from=START + timedelta(days=1)),)),
    ("suspended", (licence(suspended=True),)),
])  # fmt: skip
def test_rcv_lic_fails(why, licences):
    ln = line(index=3, receiver_licences=licences)
    f = only(rule_receiver_licence(application(ln), ln), "KO1-RCV-LIC", Severity.ERROR, "lines[3].receiver")
    assert NH in f.message_en and "041" in f.message_en
    assert NH in f.message_th


def test_rcv_lic_passes_when_one_of_several_licences_covers():
    ln = line(receiver_licences=(licence(licence_no="old", suspended=True), licence(licence_no="new")))
    assert rule_receiver_licence(application(ln), ln) == []


def test_rcv_lic_is_valid_on_its_first_and_last_day():
    ln = line(receiver_licences=(licence(valid_from=START, valid_until=END),))
    assert rule_receiver_licence(application(ln), ln) == []


def test_rcv_missing_fails_without_a_receiver():
    ln = line(index=2, receiver_id=None, receiver_licences=())
    only(rule_receiver_licence(application(ln), ln), "KO1-RCV-MISSING", Severity.ERROR, "lines[2].receiver")


def test_rcv_status_fails_when_the_receiver_is_not_active():
    ln = line(index=2, receiver_active=False)
    only(rule_receiver_licence(application(ln), ln), "KO1-RCV-STATUS", Severity.ERROR, "lines[2].receiver")


def test_rcv_status_passes_when_the_receiver_is_active():
    ln = line(index=2, receiver_active=True)
    assert [f.rule for f in rule_receiver_licence(application(ln), ln)] == []


def test_rcv_lic_ends_warns_when_the_licence_ends_before_the_permit():
    ln = line(index=4, receiver_licences=(licence(valid_until=END - timedelta(days=1)),))
    only(
        rule_receiver_licence(application(ln), ln), "KO1-RCV-LIC-ENDS", Severity.WARNING, "lines[4].receiver"
    )


def test_rcv_lic_ends_passes_when_the_licence_lasts_the_permit():
    ln = line(receiver_licences=(licence(valid_until=END),))
    assert rule_receiver_licence(application(ln), ln) == []


def test_rcv_lic_ends_passes_when_another_covering_licence_lasts():
    ln = line(receiver_licences=(licence(licence_no="a", valid_until=END - timedelta(days=1)),
                                 licence(licence_no="b", valid_until=END + timedelta(days=1))))  # fmt: skip
    assert rule_receiver_licence(application(ln), ln) == []


# --- receiver capacity ----------------------------------------------------------------------------------------
def cap_line(used: str, this_app: str, capacity: str = "100", index: int = 1) -> LineFacts:
    return line(index=index, quantity_t=Decimal(this_app), receiver_used_t=Decimal(used),
                receiver_this_application_t=Decimal(this_app),
                receiver_licences=(licence(annual_capacity_t=Decimal(capacity)),))  # fmt: skip


def test_rcv_cap_fails_when_the_application_exceeds_what_is_left():
    ln = cap_line(used="70", this_app="30.001", index=2)
    f = only(
        rule_receiver_capacity(application(ln), ln), "KO1-RCV-CAP", Severity.ERROR, "lines[2].quantity_t"
    )
    assert "30.001" in f.message_en and "100" in f.message_en


def test_rcv_cap_fails_when_capacity_is_already_exhausted():
    ln = cap_line(used="120", this_app="1")
    f = only(
        rule_receiver_capacity(application(ln), ln), "KO1-RCV-CAP", Severity.ERROR, "lines[1].quantity_t"
    )
    assert "has 0 t" in f.message_en  # never a negative amount left


def test_rcv_cap_passes_at_exactly_the_capacity_left_with_a_near_warning():
    ln = cap_line(used="70", this_app="30")
    only(
        rule_receiver_capacity(application(ln), ln),
        "KO1-RCV-CAP-NEAR",
        Severity.WARNING,
        "lines[1].quantity_t",
    )


def test_rcv_cap_uses_the_largest_covering_licence():
    ln = line(quantity_t=Decimal("150"), receiver_this_application_t=Decimal("150"),
              receiver_licences=(licence(licence_no="s", annual_capacity_t=Decimal("100")),
                                 licence(licence_no="l", annual_capacity_t=Decimal("500"))))  # fmt: skip
    assert rule_receiver_capacity(application(ln), ln) == []


def test_rcv_cap_is_silent_when_no_licence_covers():
    ln = line(receiver_licences=(), receiver_used_t=Decimal("1e6"))
    assert rule_receiver_capacity(application(ln), ln) == []  # KO1-RCV-LIC already refused the line


def test_rcv_cap_near_warns_above_90_percent_of_what_is_left():
    ln = cap_line(used="0", this_app="90.001", index=3)
    only(
        rule_receiver_capacity(application(ln), ln),
        "KO1-RCV-CAP-NEAR",
        Severity.WARNING,
        "lines[3].quantity_t",
    )


def test_rcv_cap_near_passes_at_90_percent():
    ln = cap_line(used="0", this_app="90")
    assert rule_receiver_capacity(application(ln), ln) == []


# --- method vs hazard -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mark", [HazardMark.HA, HazardMark.HM])
def test_mth_haz_fails_for_hazardous_waste_by_a_non_hazardous_only_method(mark):
    ln = hz_line(index=2, mark=mark, method="082", method_non_hazardous_only=True)
    f = only(rule_method_hazard(application(ln), ln), "KO1-MTH-HAZ", Severity.ERROR, "lines[2].method")
    assert "082" in f.message_en and mark.value in f.message_en and "082" in f.message_th


def test_mth_haz_passes_for_non_hazardous_waste_by_a_non_hazardous_only_method():
    ln = line(method="082", method_non_hazardous_only=True)
    assert rule_method_hazard(application(ln), ln) == []


def test_mth_haz_passes_for_hazardous_waste_by_an_ordinary_method():
    ln = hz_line(method="041", method_non_hazardous_only=False)
    assert rule_method_hazard(application(ln), ln) == []


# --- hazardous transport --------------------------------------------------------------------------------------
@pytest.mark.parametrize("why, transporters", [
    ("no transporter", ()),
    ("inactive", (transporter(active=False),)),
    ("no hazardous licence", (transporter(hazardous_licence_valid=False),)),
    ("no GPS vehicle", (transporter(gps_hazardous_vehicles=0),)),
    ("each unfit in another way", (transporter(id=1, active=False), transporter(id=2, gps_hazardous_vehicles=0),
                                   transporter(id=3, hazardous_licence_valid=False))),
])  # fmt: skip
def test_trn_haz_fails(why, transporters):
    ln = hz_line(index=2, transporters=transporters)
    only(
        rule_hazardous_transport(application(ln), ln), "KO1-TRN-HAZ", Severity.ERROR, "lines[2].transporters"
    )


def test_trn_haz_passes_with_one_fit_transporter_among_unfit_ones():
    ln = hz_line(
        transporters=(
            transporter(id=1, gps_hazardous_vehicles=0),
            transporter(id=2, gps_hazardous_vehicles=1),
        )
    )
    assert rule_hazardous_transport(application(ln), ln) == []


def test_trn_haz_passes_for_non_hazardous_waste_without_transporter():
    ln = line(transporters=())
    assert rule_hazardous_transport(application(ln), ln) == []


@pytest.mark.parametrize("mark", [HazardMark.HA, HazardMark.HM])
def test_trn_haz_applies_to_ha_and_hm(mark):
    ln = hz_line(mark=mark, transporters=())
    assert [f.rule for f in rule_hazardous_transport(application(ln), ln)] == ["KO1-TRN-HAZ"]


# --- stream quantity ------------------------------------------------------------------------------------------
def test_qty_fails_above_the_declared_amount():
    ln = line(index=2, quantity_t=Decimal("100.001"), receiver_this_application_t=Decimal("100.001"))
    f = only(rule_stream_quantity(application(ln), ln), "KO1-QTY", Severity.ERROR, "lines[2].quantity_t")
    assert "100.001" in f.message_en and "100" in f.message_th


def test_qty_fails_when_split_over_lines_exceeds_the_declared_amount():
    ln = line(index=2, quantity_t=Decimal("60"), stream_other_requested_t=Decimal("41"))
    f = only(rule_stream_quantity(application(ln), ln), "KO1-QTY", Severity.ERROR, "lines[2].quantity_t")
    assert "101" in f.message_en


def test_qty_passes_at_exactly_the_declared_amount():
    ln = line(quantity_t=Decimal("60"), stream_other_requested_t=Decimal("40"))
    assert rule_stream_quantity(application(ln), ln) == []


def test_stream_missing_fails_without_a_stream():
    ln = line(index=5, stream_id=None)
    only(rule_stream_quantity(application(ln), ln), "KO1-STREAM", Severity.ERROR, "lines[5].stream")


# --- overlap --------------------------------------------------------------------------------------------------
def test_overlap_fails_and_names_the_permits():
    ln = line(index=2, overlapping_permits=("KO1-2568-000001", "KO1-2568-000007"))
    f = only(rule_no_overlap(application(ln), ln), "KO1-OVERLAP", Severity.ERROR, "lines[2].stream")
    for number in ("KO1-2568-000001", "KO1-2568-000007"):
        assert number in f.message_en and number in f.message_th


def test_overlap_passes_without_overlapping_permits():
    ln = line(overlapping_permits=())
    assert rule_no_overlap(application(ln), ln) == []


# --- unverified hazard mark -----------------------------------------------------------------------------------
def test_mark_eu_warns_when_the_hazard_mark_comes_from_the_eu_list():
    ln = hz_line(index=2, mark=HazardMark.HA, mark_verified=False)
    only(rule_mark_verified(application(ln), ln), "KO1-MARK-EU", Severity.WARNING, "lines[2].stream")


def test_mark_eu_passes_when_the_thai_mark_is_verified():
    ln = hz_line(mark=HazardMark.HA, mark_verified=True)
    assert rule_mark_verified(application(ln), ln) == []


def test_mark_eu_passes_for_unverified_non_hazardous_waste():
    ln = line(mark=HazardMark.NONE, mark_verified=False)
    assert rule_mark_verified(application(ln), ln) == []


# --- run_prechecks as a whole ---------------------------------------------------------------------------------
def test_run_prechecks_collects_every_rule_and_line_findings_splits_them():
    bad1 = hz_line(
        index=1, method="082", method_non_hazardous_only=True, transporters=(), mark_verified=False
    )
    bad2 = line(index=2, receiver_licences=(), overlapping_permits=("KO1-2568-000003",))
    findings = run_prechecks(application(bad1, bad2, generator_status="suspended"))
    assert {(f.rule, f.field) for f in findings} == {
        ("KO1-GEN-STATUS", "generator.status"),
        ("KO1-MTH-HAZ", "lines[1].method"), ("KO1-TRN-HAZ", "lines[1].transporters"),
        ("KO1-MARK-EU", "lines[1].stream"),
        ("KO1-RCV-LIC", "lines[2].receiver"), ("KO1-OVERLAP", "lines[2].stream"),
    }  # fmt: skip
    assert {f.rule for f in line_findings(findings, 1)} == {"KO1-MTH-HAZ", "KO1-TRN-HAZ", "KO1-MARK-EU"}
    assert {f.rule for f in line_findings(findings, 2)} == {"KO1-RCV-LIC", "KO1-OVERLAP"}
    assert all(f.message_en and THAI.search(f.message_th) for f in findings)


def test_line_findings_does_not_confuse_line_1_with_line_10():
    findings = run_prechecks(application(*[line(index=i, stream_id=i) for i in range(1, 10)],
                                         line(index=10, stream_id=10, overlapping_permits=("X",))))  # fmt: skip
    assert line_findings(findings, 1) == []
    assert [f.rule for f in line_findings(findings, 10)] == ["KO1-OVERLAP"]


# --- properties -----------------------------------------------------------------------------------------------
tonnes = st.decimals(min_value=0, max_value=Decimal("1e9"), places=3, allow_nan=False, allow_infinity=False)
marks = st.sampled_from(list(HazardMark))


@settings(max_examples=200, deadline=None)
@given(quantity=tonnes, other=tonnes, annual=tonnes, used=tonnes, this_app=tonnes, capacity=tonnes, mark=marks,
       verified=st.booleans(), nh_only=st.booleans(), active=st.booleans(), gps=st.integers(0, 3),
       index=st.integers(1, 50))  # fmt: skip
def test_run_prechecks_never_raises_and_every_finding_is_well_formed(quantity, other, annual, used, this_app, capacity,
                                                                      mark, verified, nh_only, active, gps, index):  # fmt: skip
    ln = line(index=index, quantity_t=quantity, stream_other_requested_t=other, stream_annual_t=annual,
              receiver_used_t=used, receiver_this_application_t=this_app, mark=mark, mark_verified=verified,
              method_non_hazardous_only=nh_only, receiver_active=active,
              receiver_licences=(licence(annual_capacity_t=capacity),),
              transporters=(transporter(gps_hazardous_vehicles=gps),))  # fmt: skip
    findings = run_prechecks(application(ln))
    for f in findings:
        assert f.severity in (Severity.ERROR, Severity.WARNING)
        assert f.field.startswith(f"lines[{index}].")
        assert f.message_en and THAI.search(f.message_th)
    assert line_findings(findings, index) == findings


@settings(max_examples=300, deadline=None)
@given(quantity=tonnes, other=tonnes, annual=tonnes)
def test_qty_fires_iff_the_stream_total_exceeds_the_declared_amount(quantity, other, annual):
    ln = line(quantity_t=quantity, stream_other_requested_t=other, stream_annual_t=annual)
    fired = [f.rule for f in run_prechecks(application(ln))].count("KO1-QTY")
    assert fired == (1 if quantity + other > annual else 0)


@settings(max_examples=300, deadline=None)
@given(used=tonnes, this_app=tonnes, capacity=tonnes)
def test_cap_error_iff_the_application_exceeds_what_is_left(used, this_app, capacity):
    ln = line(receiver_used_t=used, receiver_this_application_t=this_app,
              receiver_licences=(licence(annual_capacity_t=capacity),))  # fmt: skip
    rules = [f.rule for f in rule_receiver_capacity(application(ln), ln)]
    left = capacity - used
    assert ("KO1-RCV-CAP" in rules) == (this_app > left)
    assert ("KO1-RCV-CAP-NEAR" in rules) == (left * Decimal("0.9") < this_app <= left)
    assert len(rules) <= 1


@settings(max_examples=100, deadline=None)
@given(mark=marks, nh_only=st.booleans(), verified=st.booleans())
def test_hazard_rules_fire_only_for_hazardous_marks(mark, nh_only, verified):
    hazardous = mark in (HazardMark.HA, HazardMark.HM)
    ln = replace(
        line(), mark=mark, method_non_hazardous_only=nh_only, mark_verified=verified, transporters=()
    )
    rules = {f.rule for f in run_prechecks(application(ln))}
    assert ("KO1-MTH-HAZ" in rules) == (hazardous and nh_only)
    assert ("KO1-TRN-HAZ" in rules) == hazardous
    assert ("KO1-MARK-EU" in rules) == (hazardous and not verified)
