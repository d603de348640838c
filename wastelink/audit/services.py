"""Writing and verifying the audit trail.

`record` is called inside the same transaction as the change it describes, so a change and its audit record are
written together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from wastelink.core.audit_chain import ChainEntry, VerifyResult, digest, entry_hash, verify

from .models import AuditHead, AuditRecord


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The stored state of a model instance: concrete fields and many-to-many ids, JSON-ready."""
    opts = instance._meta
    data: dict[str, Any] = {}
    for field in opts.concrete_fields:
        data[field.attname] = field.value_to_string(instance) if field.get_internal_type() in {
            "DateField", "DateTimeField", "DecimalField", "UUIDField"} else field.value_from_object(instance)  # fmt: skip
    if instance.pk is not None:
        for field in opts.many_to_many:
            data[field.name] = sorted(str(o.pk) for o in getattr(instance, field.name).all())
    data.pop("password", None)  # never copy a password hash into the log
    return data


def actor_name(actor: Any) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return getattr(actor, "username", None) or str(actor)


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditRecord:
    """Append one record to the chain. Must run inside the caller's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    if not object_type or object_id is None:
        raise ValueError("an audit record needs an object")
    with transaction.atomic():
        # Take the write lock on the chain head first (a conditional UPDATE works the same on SQLite and
        # PostgreSQL), then read it: concurrent appenders queue here and each sees its predecessor's hash.
        AuditHead.objects.get_or_create(id=1)
        AuditHead.objects.filter(id=1).update(seq=F("seq") + 1)
        head = AuditHead.objects.get(id=1)
        at = timezone.now()
        entry = ChainEntry(
            seq=head.seq,
            at=at.isoformat(),
            actor=actor_name(actor),
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            before_digest=digest(before),
            after_digest=digest(after),
            note=note,
            prev_hash=head.hash,
            hash="",
        )
        new_hash = entry_hash(head.hash, entry.payload())
        rec = AuditRecord.objects.create(
            seq=entry.seq, at=at, actor=entry.actor, action=action, object_type=object_type,
            object_id=entry.object_id, before=before, after=after, before_digest=entry.before_digest,
            after_digest=entry.after_digest, note=note, prev_hash=head.hash, hash=new_hash,
        )  # fmt: skip
        AuditHead.objects.filter(id=1).update(hash=new_hash)
    return rec


def _entries(batch: int = 2000) -> Iterator[ChainEntry | tuple[int, str]]:
    for rec in AuditRecord.objects.order_by("seq").iterator(chunk_size=batch):
        # The stored snapshots must still match the digests the chain covers.
        if digest(rec.before) != rec.before_digest:
            yield (rec.seq, "stored 'before' state does not match its digest")
            return
        if digest(rec.after) != rec.after_digest:
            yield (rec.seq, "stored 'after' state does not match its digest")
            return
        yield ChainEntry(
            seq=rec.seq, at=rec.at.isoformat(), actor=rec.actor, action=rec.action, object_type=rec.object_type,
            object_id=rec.object_id, before_digest=rec.before_digest, after_digest=rec.after_digest,
            note=rec.note, prev_hash=rec.prev_hash, hash=rec.hash,
        )  # fmt: skip


def verify_chain() -> VerifyResult:
    """Walk the whole log; report the first record that is broken, or that the chain is intact."""
    snapshot_problem: list[tuple[int, str]] = []

    def entries() -> Iterator[ChainEntry]:
        for item in _entries():
            if isinstance(item, tuple):
                snapshot_problem.append(item)
                return
            yield item

    result = verify(entries())
    if not result.ok:
        return result
    if snapshot_problem:
        seq, reason = snapshot_problem[0]
        return VerifyResult(False, result.checked, seq, reason)
    head = AuditHead.objects.filter(id=1).first()
    if head and head.seq != result.checked:
        return VerifyResult(
            False, result.checked, result.checked + 1, f"records missing: head is at {head.seq}"
        )
    return result
