"""`wastelink import-registry`: upsert establishments from a CSV export.

Columns (header row required; order free; unknown columns are refused so a wrong file is caught early):

    registration_no, legacy_no, name_th, name_en, diw_generator_id, diw_transporter_id, address, province,
    lat, lon, estate, factory_type, roles

`roles` lists generator / transporter / receiver separated by ';'. Each row is applied in its own transaction:
a bad row is reported with its line number and reason and changes nothing; valid rows are kept. Re-importing
the same file changes nothing (rows come back 'unchanged').
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from wastelink.core.findings import DomainError
from wastelink.registry.schemas import EstablishmentIn

from .establishments import upsert_establishment

COLUMNS = ["registration_no", "legacy_no", "name_th", "name_en", "diw_generator_id", "diw_transporter_id",
           "address", "province", "lat", "lon", "estate", "factory_type", "roles"]  # fmt: skip
REQUIRED = {"registration_no", "name_th", "roles"}


@dataclass
class RowResult:
    line: int
    outcome: str  # created / updated / unchanged / error
    registration_no: str = ""
    reason: str = ""


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)
    header_error: str = ""

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def errors(self) -> list[RowResult]:
        return [r for r in self.rows if r.outcome == "error"]


def _row_to_input(row: dict[str, str]) -> EstablishmentIn:
    data: dict[str, object] = {k: (v or "").strip() for k, v in row.items() if k in COLUMNS}
    for key in ("lat", "lon", "estate", "factory_type"):
        if data.get(key) == "":
            data[key] = None
    data["roles"] = [
        r.strip() for r in str(data.get("roles") or "").replace(",", ";").split(";") if r.strip()
    ]
    return EstablishmentIn.model_validate(data)


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "row"
        parts.append(f"{loc}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def import_registry(*, actor, text: str, progress: Callable[[int, int], None] | None = None) -> ImportReport:
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    unknown = [h for h in header if h not in COLUMNS]
    missing = sorted(REQUIRED - set(header))
    if not header or unknown or missing:
        if not header:
            report.header_error = "the file has no header row"
        elif unknown:
            report.header_error = "unknown columns: " + ", ".join(unknown)
        else:
            report.header_error = "missing columns: " + ", ".join(missing)
        return report
    total = max(text.count("\n") - 1, 1)  # an estimate for the progress bar; quoted newlines make it high
    prev_line = 1
    for i, row in enumerate(reader, start=1):
        line = prev_line + 1  # the physical line the row starts on (a quoted field may span lines)
        prev_line = reader.line_num
        reg = (row.get("registration_no") or "").strip()
        if None in row:
            report.rows.append(RowResult(line, "error", reg, "more values than columns"))
            continue
        try:
            data = _row_to_input(row)
            _, outcome = upsert_establishment(actor=actor, data=data)
            report.rows.append(RowResult(line, outcome, data.registration_no))
        except ValidationError as exc:
            report.rows.append(RowResult(line, "error", reg, _reason(exc)))
        except DomainError as exc:
            report.rows.append(
                RowResult(line, "error", reg, "; ".join(f"{f.field}: {f.message_en}" for f in exc.findings))
            )
        if progress:
            progress(i, max(total, i))
    return report
