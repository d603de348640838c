from dataclasses import replace

from wastelink.core.audit_chain import GENESIS, ChainEntry, digest, entry_hash, verify


def build(n: int) -> list[ChainEntry]:
    entries, prev = [], GENESIS
    for i in range(1, n + 1):
        e = ChainEntry(i, f"2026-01-01T00:00:{i:02d}+00:00", "alice", "thing.change", "thing", str(i),
                       digest({"v": i - 1}) if i > 1 else "", digest({"v": i}), "", prev, "")  # fmt: skip
        e = replace(e, hash=entry_hash(prev, e.payload()))
        entries.append(e)
        prev = e.hash
    return entries


def test_intact_chain_verifies():
    result = verify(build(5))
    assert result.ok and result.checked == 5


def test_changed_content_names_that_record():
    entries = build(5)
    entries[2] = replace(entries[2], actor="mallory")
    result = verify(entries)
    assert not result.ok and result.broken_seq == 3 and "content" in result.reason


def test_removed_record_is_a_gap():
    entries = build(5)
    del entries[1]
    result = verify(entries)
    assert not result.ok and result.broken_seq == 3 and "gap" in result.reason


def test_rehashed_record_breaks_the_next_link():
    entries = build(5)
    forged = replace(entries[1], actor="mallory")
    entries[1] = replace(forged, hash=entry_hash(forged.prev_hash, forged.payload()))
    result = verify(entries)
    assert not result.ok and result.broken_seq == 3 and "link" in result.reason


def test_digest_is_canonical():
    assert digest({"b": 1, "a": "ไทย"}) == digest({"a": "ไทย", "b": 1})
    assert digest(None) == ""
