"""The audit log's hash chain, free of any storage.

Each record's hash covers its own fields and the previous record's hash, so changing, removing or reordering a
stored record breaks the chain from that record on. `verify` names the first record that does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: the same content always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def digest(value: Any) -> str:
    """SHA-256 of the canonical JSON of a value; the empty string stands for 'no state' (creation, deletion)."""
    if value is None:
        return ""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainEntry:
    seq: int
    at: str  # ISO 8601, UTC
    actor: str
    action: str
    object_type: str
    object_id: str
    before_digest: str
    after_digest: str
    note: str
    prev_hash: str
    hash: str

    def payload(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "before": self.before_digest,
            "after": self.after_digest,
            "note": self.note,
        }


def entry_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(payload)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify(entries: Iterable[ChainEntry]) -> VerifyResult:
    """Walk the chain in sequence order; stop at the first record whose link or content does not match."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for entry in entries:
        if entry.seq != expected_seq:
            return VerifyResult(
                False, checked, entry.seq, f"sequence gap: expected {expected_seq}, found {entry.seq}"
            )
        if entry.prev_hash != prev:
            return VerifyResult(False, checked, entry.seq, "link to the previous record does not match")
        if entry_hash(prev, entry.payload()) != entry.hash:
            return VerifyResult(False, checked, entry.seq, "content does not match its hash")
        prev = entry.hash
        expected_seq += 1
        checked += 1
    return VerifyResult(True, checked)
