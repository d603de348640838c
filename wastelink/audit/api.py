from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Query, Router, Schema

from wastelink.accounts.access import is_national_reader, role_of
from wastelink.core.findings import Forbidden, error
from wastelink.core.roles import Role

from .models import AuditRecord
from .services import verify_chain

router = Router(tags=["audit"])


class AuditOut(Schema):
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before: Any
    after: Any
    note: str
    hash: str


class AuditFilter(Schema):
    object_type: str | None = Field(None, max_length=80)
    object_id: str | None = Field(None, max_length=80)
    action: str | None = Field(None, max_length=80)
    limit: int = Field(100, ge=1, le=1000)
    before_seq: int | None = Field(None, ge=1, description="page backwards from this sequence number")


def _require_auditor(user) -> None:
    if not is_national_reader(user):
        raise Forbidden(error("audit.denied", "access", "the audit log is open to headquarters, the regulator and "
                              "admins", "บันทึกการตรวจสอบเปิดให้สำนักงานใหญ่ กรอ. และผู้ดูแลระบบเท่านั้น"))  # fmt: skip


@router.get("", response=list[AuditOut], summary="Audit records, newest first")
def list_audit(request, filters: Query[AuditFilter]):
    _require_auditor(request.user)
    qs = AuditRecord.objects.order_by("-seq")
    for name in ("object_type", "object_id", "action"):
        if value := getattr(filters, name):
            qs = qs.filter(**{name: value})
    if filters.before_seq:
        qs = qs.filter(seq__lt=filters.before_seq)
    return list(qs[: filters.limit])


class VerifyOut(Schema):
    ok: bool
    checked: int
    broken_seq: int | None
    reason: str


@router.get("/verify", response=VerifyOut, summary="Walk the hash chain (admin)")
def verify(request):
    if role_of(request.user) != Role.ADMIN:
        raise Forbidden(error("audit.denied", "access", "only an admin may verify the chain",
                              "เฉพาะผู้ดูแลระบบที่ตรวจสอบห่วงโซ่ได้"))  # fmt: skip
    r = verify_chain()
    return {"ok": r.ok, "checked": r.checked, "broken_seq": r.broken_seq, "reason": r.reason}
