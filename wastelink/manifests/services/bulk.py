"""Bulk drafting for a generator shipping many loads: a CSV upload, one manifest per row, a result per row.

Columns: permit_number, permit_line, plate, declared_quantity, unit, container_type, container_count,
physical_form, planned_pickup_at, expected_arrival_at (ISO 8601 with offset, e.g. 2026-12-01T08:00+07:00).
Each row is its own transaction: a bad row changes nothing and the others go through.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import ValidationError

from wastelink.accounts.access import own_establishment_id, require
from wastelink.core.findings import DomainError
from wastelink.core.identifiers import normalise_plate
from wastelink.manifests.access import GENERATOR, acts_for
from wastelink.manifests.schemas import ManifestIn
from wastelink.permits.services.common import bad
from wastelink.registry.models import Vehicle

from .custody import create_manifest

COLUMNS = ["permit_number", "permit_line", "plate", "declared_quantity", "unit", "container_type", "container_count",
           "physical_form", "planned_pickup_at", "expected_arrival_at"]  # fmt: skip
MAX_ROWS = 500


def _next_row(reader, default):
    """The next record, or `default` at the end; a file the CSV reader cannot read is refused naming the line."""
    try:
        return next(reader, default)
    except csv.Error as exc:
        raise bad("bulk.csv", "file", f"line {reader.line_num}: {exc}", f"บรรทัด {reader.line_num}: อ่าน CSV ไม่ได้ ({exc})") from exc


def bulk_create(*, actor, raw: bytes) -> dict[str, Any]:
    own = own_establishment_id(actor)
    require(own is not None and acts_for(actor, own, GENERATOR), "file", "manifests (a generator's users draft them)",
            "เอกสารกำกับการขนส่ง (ผู้ใช้ของผู้ก่อกำเนิดเป็นผู้จัดทำ)")  # fmt: skip
    if len(raw) > 2 * 1024 * 1024:
        raise bad("bulk.size", "file", "the file is larger than 2 MB", "ไฟล์มีขนาดเกิน 2 MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise bad("bulk.encoding", "file", "the file is not UTF-8 text", "ไฟล์ไม่ใช่ข้อความ UTF-8") from exc
    if "\x00" in text:  # UTF-16 or a spreadsheet saved as-is; PostgreSQL could not compare such text either
        raise bad("bulk.encoding", "file", "the file holds NUL characters: save it as CSV (UTF-8)",
                  "ไฟล์มีอักขระ NUL กรุณาบันทึกเป็น CSV (UTF-8)")  # fmt: skip
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in _next_row(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise bad("bulk.columns", "file", f"missing columns: {', '.join(missing)}", f"ขาดคอลัมน์: {', '.join(missing)}")
    # Read the whole file first, so that a file the reader chokes on is refused before any row is drafted.
    records: list[tuple[int, list[str]]] = []
    while True:
        # The line a row starts on: blank lines and quoted line breaks count, as in the user's editor.
        line = reader.line_num + 1
        values = _next_row(reader, None)
        if values is None:
            break
        if values:  # not a blank line
            records.append((line, values))
    results: list[dict[str, Any]] = []
    for n, (line, values) in enumerate(records, start=1):
        row = dict(zip(header, values, strict=False))
        if n > MAX_ROWS:
            results.append({"line": line, "ok": False, "errors": [f"at most {MAX_ROWS} rows per upload"]})
            break
        try:
            plate = normalise_plate(row.get("plate") or "")
            vehicle = Vehicle.objects.filter(plate=plate, active=True).first()
            data = ManifestIn.model_validate({
                "permit_number": row.get("permit_number"), "permit_line": row.get("permit_line"),
                "vehicle_id": vehicle.id if vehicle else 0, "declared_quantity": row.get("declared_quantity"),
                "unit": (row.get("unit") or "t").strip(), "container_type": row.get("container_type"),
                "container_count": row.get("container_count"), "physical_form": row.get("physical_form"),
                "planned_pickup_at": row.get("planned_pickup_at"), "expected_arrival_at": row.get("expected_arrival_at"),
            })  # fmt: skip
            m = create_manifest(actor=actor, data=data)
            results.append({"line": line, "ok": True, "number": m.number})
        except ValidationError as exc:
            errors = []
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                field = "plate" if loc == "vehicle_id" else loc
                errors.append(f"{field}: {'unknown plate' if field == 'plate' else err['msg']}")
            results.append({"line": line, "ok": False, "errors": errors})
        except DomainError as exc:
            results.append({"line": line, "ok": False, "errors": [f"{f.field}: {f.message_en}" for f in exc.findings]})
    created = sum(1 for r in results if r["ok"])
    return {"created": created, "rejected": len(results) - created, "rows": results}
