import io

import pytest
from django.core.management import call_command
from django.db import connection

from wastelink.audit import services as audit
from wastelink.audit.models import AuditRecord
from wastelink.registry.models import Estate

pytestmark = pytest.mark.django_db


def _append(n):
    estate = Estate.objects.get(code="bangpoo")
    for i in range(n):
        audit.record(actor="tester", action="test.touch", obj=estate, before={"i": i}, after={"i": i + 1})


def _verify():
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
        return 0, out.getvalue() + err.getvalue()
    except SystemExit as exc:
        return exc.code, out.getvalue() + err.getvalue()


def test_records_chain_and_verify_intact():
    _append(5)
    code, text = _verify()
    assert code == 0 and "intact" in text
    recs = list(AuditRecord.objects.order_by("seq"))
    assert all(b.prev_hash == a.hash for a, b in zip(recs, recs[1:], strict=False))


def test_a_row_changed_behind_the_platforms_back_is_named():
    _append(5)
    target = AuditRecord.objects.order_by("seq")[2]
    with connection.cursor() as cur:  # raw SQL: as an intruder with database access would
        cur.execute("UPDATE audit_auditrecord SET actor = %s WHERE seq = %s", ["mallory", target.seq])
    code, text = _verify()
    assert code == 1 and f"#{target.seq}" in text and "BROKEN" in text


def test_a_changed_snapshot_is_caught_even_with_the_hash_untouched():
    _append(3)
    target = AuditRecord.objects.order_by("seq")[1]
    AuditRecord.objects.filter(seq=target.seq).update(after={"i": 999})
    code, text = _verify()
    assert code == 1 and f"#{target.seq}" in text and "after" in text


def test_a_deleted_row_is_caught():
    _append(4)
    last = AuditRecord.objects.order_by("-seq").first()
    AuditRecord.objects.filter(seq=last.seq).delete()
    code, text = _verify()
    assert code == 1 and "missing" in text


def test_the_write_and_its_record_share_a_transaction():
    from django.db import transaction

    before = AuditRecord.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        _append(1)
        raise RuntimeError("the change fails after the record was written")
    assert AuditRecord.objects.count() == before


def test_passwords_never_reach_the_log():
    from wastelink.accounts.models import User

    user = User.objects.create_user(username="x", password="secret-password-1")
    snap = audit.snapshot(user)
    assert "password" not in snap
