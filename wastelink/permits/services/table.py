"""The auto-approval table (waste code × method × receiver type), edited by an admin; every edit audited."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from wastelink.accounts.access import can_edit_reference_data, require
from wastelink.audit import services as audit
from wastelink.core.findings import Conflict, error
from wastelink.core.waste_codes import is_hazardous
from wastelink.permits.models import AutoApprovalRule
from wastelink.permits.schemas import AutoRuleIn
from wastelink.registry.models import FactoryType, ManagementMethod, WasteCode

from .common import bad, not_found


@transaction.atomic
def add_auto_rule(*, actor, data: AutoRuleIn) -> AutoApprovalRule:
    require(can_edit_reference_data(actor), "access", "the auto-approval table", "ตารางอนุญาตอัตโนมัติ")
    code = WasteCode.objects.filter(code=data.waste_code, level="entry").first()
    if code is None:
        raise bad("waste_code.unknown", "waste_code", f"unknown waste code {data.waste_code}", "ไม่รู้จักรหัสของเสีย")
    method = ManagementMethod.objects.filter(code=data.method).first()
    if method is None:
        raise bad("method.unknown", "method", f"unknown method {data.method}", "ไม่รู้จักวิธีการจัดการ")
    if method.non_hazardous_only and is_hazardous(code.mark):
        raise bad("KO1-MTH-HAZ", "method", f"method {method.code} takes non-hazardous waste only",
                  f"วิธี {method.code} ใช้ได้กับของเสียไม่อันตรายเท่านั้น")  # fmt: skip
    try:
        with transaction.atomic():
            rule = AutoApprovalRule.objects.create(waste_code=code, method=method, note=data.note,
                                                   receiver_type=FactoryType.objects.get(number=data.receiver_type))  # fmt: skip
    except IntegrityError as exc:
        raise Conflict(error("auto_rule.exists", "waste_code", "this combination is in the table already",
                             "มีรายการนี้ในตารางแล้ว")) from exc  # fmt: skip
    audit.record(actor=actor, action="auto_rule.add", obj=rule, after=audit.snapshot(rule))
    return rule


@transaction.atomic
def retire_auto_rule(*, actor, rule_id: int) -> None:
    require(can_edit_reference_data(actor), "access", "the auto-approval table", "ตารางอนุญาตอัตโนมัติ")
    rule = AutoApprovalRule.objects.filter(id=rule_id, active=True).first()
    if rule is None:
        raise not_found("active rule", "รายการ", "rule_id")
    before = audit.snapshot(rule)
    rule.active = False
    rule.save(update_fields=["active"])
    audit.record(actor=actor, action="auto_rule.retire", obj=rule, before=before, after=audit.snapshot(rule))
