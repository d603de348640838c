"""Errors and warnings with stable rule ids and messages in Thai and English.

Every write in the platform answers with findings: an *error* refuses the write (nothing changes), a *warning*
accepts it but flags it for review.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    field: str
    message_en: str
    message_th: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        return data


def error(rule: str, field: str, en: str, th: str) -> Finding:
    return Finding(rule, Severity.ERROR, field, en, th)


def warning(rule: str, field: str, en: str, th: str) -> Finding:
    return Finding(rule, Severity.WARNING, field, en, th)


class DomainError(Exception):
    """Raised by services when a write is refused; carries the findings that refused it."""

    status = 400

    def __init__(self, findings: list[Finding] | Finding):
        self.findings = findings if isinstance(findings, list) else [findings]
        super().__init__("; ".join(f"{f.field}: {f.message_en}" for f in self.findings))


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409
