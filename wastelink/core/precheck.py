"""Automatic pre-checks of a กอ.1 application: small pure functions over plain facts.

The permits service gathers the facts from the database in a few batched queries; each rule here looks only at
those facts and returns findings with a stable rule id. Errors refuse submission; warnings go to the officer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .findings import Finding, error, warning
from .waste_codes import HazardMark, is_hazardous


@dataclass(frozen=True, slots=True)
class LicenceFacts:
    licence_no: str
    factory_type: str
    codes: frozenset[str]
    methods: frozenset[str]
    annual_capacity_t: Decimal
    valid_from: date
    valid_until: date
    suspended: bool


@dataclass(frozen=True, slots=True)
class TransporterFacts:
    id: int
    name: str
    active: bool
    hazardous_licence_valid: bool
    gps_hazardous_vehicles: int  # active vehicles with a GPS device and a hazardous-waste approval


@dataclass(frozen=True, slots=True)
class LineFacts:
    index: int  # 1-based line number, for field paths
    stream_id: int | None
    stream_code: str
    stream_annual_t: Decimal
    stream_other_requested_t: Decimal  # the same stream on this application's other lines
    mark: HazardMark
    mark_verified: bool  # the Thai HA/HM mark is known (not inferred from the EU star)
    quantity_t: Decimal
    method: str
    method_non_hazardous_only: bool
    receiver_id: int | None
    receiver_active: bool
    receiver_licences: tuple[LicenceFacts, ...]
    receiver_used_t: Decimal  # already approved to this receiver for the year (other permits)
    receiver_this_application_t: Decimal  # all lines of this application to the same receiver
    transporters: tuple[TransporterFacts, ...]
    overlapping_permits: tuple[str, ...]  # numbers of active permits: same stream, method, receiver, overlapping


@dataclass(frozen=True, slots=True)
class ApplicationFacts:
    generator_name: str
    registration_problem: str | None
    generator_status: str
    period_start: date
    period_end: date
    lines: tuple[LineFacts, ...] = field(default_factory=tuple)


def _f(line: LineFacts, name: str) -> str:
    return f"lines[{line.index}].{name}"


def covering_licences(line: LineFacts, on: date) -> list[LicenceFacts]:
    return [lic for lic in line.receiver_licences
            if not lic.suspended and lic.valid_from <= on <= lic.valid_until
            and line.stream_code in lic.codes and line.method in lic.methods]  # fmt: skip


# --- application-level rules ----------------------------------------------------------------------------------
def rule_generator_registration(app: ApplicationFacts) -> list[Finding]:
    """KO1-GEN: the generator's registration is valid and the factory is not suspended or closed."""
    out = []
    if app.registration_problem:
        out.append(error("KO1-GEN-REG", "generator.registration_no",
                         f"the generator's registration number is not valid: {app.registration_problem}",
                         "เลขทะเบียนโรงงานของผู้ก่อกำเนิดไม่ถูกต้อง"))  # fmt: skip
    if app.generator_status != "active":
        out.append(error("KO1-GEN-STATUS", "generator.status", f"the generator is {app.generator_status}",
                         "โรงงานผู้ก่อกำเนิดถูกพักหรือปิดกิจการ"))  # fmt: skip
    return out


def rule_has_lines(app: ApplicationFacts) -> list[Finding]:
    if not app.lines:
        return [error("KO1-LINES", "lines", "an application needs at least one waste line",
                      "คำขอต้องมีรายการของเสียอย่างน้อยหนึ่งรายการ")]  # fmt: skip
    return []


# --- line-level rules -----------------------------------------------------------------------------------------
def rule_receiver_licence(app: ApplicationFacts, line: LineFacts) -> list[Finding]:
    """KO1-RCV-LIC: the receiver holds a valid licence covering the code and the method."""
    if line.receiver_id is None:
        return [error("KO1-RCV-MISSING", _f(line, "receiver"), "choose the receiving facility", "กรุณาเลือกผู้รับบำบัด/กำจัด")]
    if not line.receiver_active:
        return [error("KO1-RCV-STATUS", _f(line, "receiver"), "the receiver is suspended or closed",
                      "ผู้รับบำบัด/กำจัดถูกพักหรือปิดกิจการ")]  # fmt: skip
    if not covering_licences(line, app.period_start):
        return [error("KO1-RCV-LIC", _f(line, "receiver"),
                      f"the receiver holds no valid licence for waste code {line.stream_code} with method {line.method}",
                      f"ผู้รับบำบัด/กำจัดไม่มีใบอนุญาตที่ครอบคลุมรหัสของเสีย {line.stream_code} ด้วยวิธี {line.method}")]  # fmt: skip
    out = []
    if all(lic.valid_until < app.period_end for lic in covering_licences(line, app.period_start)):
        out.append(warning("KO1-RCV-LIC-ENDS", _f(line, "receiver"),
                           "the receiver's licence ends before the permit would", "ใบอนุญาตของผู้รับสิ้นสุดก่อนใบอนุญาตนี้"))  # fmt: skip
    return out


def rule_receiver_capacity(app: ApplicationFacts, line: LineFacts) -> list[Finding]:
    """KO1-RCV-CAP: the receiver has capacity left for the year."""
    licences = covering_licences(line, app.period_start)
    if not licences:
        return []  # the licence rule already refused the line
    capacity = max(lic.annual_capacity_t for lic in licences)
    left = capacity - line.receiver_used_t
    if line.receiver_this_application_t > left:
        return [error("KO1-RCV-CAP", _f(line, "quantity_t"),
                      f"the receiver has {max(left, Decimal(0))} t of its {capacity} t yearly capacity left; "
                      f"this application sends it {line.receiver_this_application_t} t",
                      f"ผู้รับบำบัด/กำจัดเหลือขีดความสามารถ {max(left, Decimal(0))} ตันจาก {capacity} ตันต่อปี")]  # fmt: skip
    if line.receiver_this_application_t > left * Decimal("0.9"):
        return [warning("KO1-RCV-CAP-NEAR", _f(line, "quantity_t"), "this uses over 90 % of the receiver's capacity left",
                        "ใช้ขีดความสามารถที่เหลือของผู้รับเกินร้อยละ 90")]  # fmt: skip
    return []


def rule_method_hazard(app: ApplicationFacts, line: LineFacts) -> list[Finding]:
    """KO1-MTH-HAZ: a non-hazardous-only method (071, 074, 082, 083, 084) is not used for HA or HM waste."""
    if line.method_non_hazardous_only and is_hazardous(line.mark):
        return [error("KO1-MTH-HAZ", _f(line, "method"),
                      f"method {line.method} takes non-hazardous waste only; {line.stream_code} is {line.mark.value}",
                      f"วิธี {line.method} ใช้ได้กับของเสียไม่อันตรายเท่านั้น แต่ {line.stream_code} เป็น {line.mark.value}")]  # fmt: skip
    return []


def rule_hazardous_transport(app: ApplicationFacts, line: LineFacts) -> list[Finding]:
    """KO1-TRN-HAZ: hazardous waste has at least one proposed transporter approved for it with GPS vehicles."""
    if not is_hazardous(line.mark):
        return []
    fit = [t for t in line.transporters if t.active and t.hazardous_licence_valid and t.gps_hazardous_vehicles > 0]
    if not fit:
        return [error("KO1-TRN-HAZ", _f(line, "transporters"),
                      "hazardous waste needs a proposed transporter with a valid hazardous-waste licence and "
                      "GPS-equipped approved vehicles",
                      "ของเสียอันตรายต้องมีผู้ขนส่งที่ได้รับอนุญาตขนส่งของเสียอันตรายและมียานพาหนะติดตั้ง GPS")]  # fmt: skip
    return []


def rule_stream_quantity(app: ApplicationFacts, line: LineFacts) -> list[Finding]:
    """KO1-QTY: the quantity does not exceed the declared stream (over all lines of the same stream)."""
    if line.stream_id is None:
        return [error("KO1-STREAM", _f(line, "stream"), "choose a declared waste stream", "กรุณาเลือกรายการของเสียที่แจ้งไว้")]
    total = line.quantity_t + line.stream_other_requested_t
    if total > line.stream_annual_t:
        return [error("KO1-QTY", _f(line, "quantity_t"),
                      f"{total} t requested exceeds the {line.stream_annual_t} t per year declared for this stream",
                      f"ปริมาณที่ขอ {total} ตัน เกินปริมาณที่แจ้งไว้ {line.stream_annual_t} ตันต่อปี")]  # fmt: skip
    return []


def rule_no_overlap(app: ApplicationFacts, line: LineFacts) -> list[Finding]:
    """KO1-OVERLAP: no other active permit covers the same stream, method and receiver for an overlapping period."""
    if line.overlapping_permits:
        nums = ", ".join(line.overlapping_permits)
        return [error("KO1-OVERLAP", _f(line, "stream"),
                      f"an active permit already covers this stream, method and receiver: {nums}",
                      f"มีใบอนุญาตที่ยังมีผลครอบคลุมรายการนี้อยู่แล้ว: {nums}")]  # fmt: skip
    return []


def rule_mark_verified(app: ApplicationFacts, line: LineFacts) -> list[Finding]:
    if not line.mark_verified and is_hazardous(line.mark):
        return [warning("KO1-MARK-EU", _f(line, "stream"),
                        "hazard mark taken from the EU list; the Thai HA/HM mark is not verified",
                        "สถานะความเป็นอันตรายอ้างอิงบัญชีของสหภาพยุโรป ยังไม่ได้ยืนยันเครื่องหมาย HA/HM ของไทย")]  # fmt: skip
    return []


APPLICATION_RULES: tuple[Callable[[ApplicationFacts], list[Finding]], ...] = (rule_generator_registration, rule_has_lines)
LINE_RULES: tuple[Callable[[ApplicationFacts, LineFacts], list[Finding]], ...] = (
    rule_stream_quantity, rule_receiver_licence, rule_receiver_capacity, rule_method_hazard,
    rule_hazardous_transport, rule_no_overlap, rule_mark_verified,
)  # fmt: skip


def run_prechecks(app: ApplicationFacts) -> list[Finding]:
    findings = [f for rule in APPLICATION_RULES for f in rule(app)]
    for line in app.lines:
        for line_rule in LINE_RULES:
            findings.extend(line_rule(app, line))
    return findings


def line_findings(findings: list[Finding], index: int) -> list[Finding]:
    prefix = f"lines[{index}]."
    return [f for f in findings if f.field.startswith(prefix)]
