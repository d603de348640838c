"""Identifiers of the field: factory registration numbers, DIW party ids, Thai vehicle plates.

Only what is known is validated (domain.md): the new registration number has 14 digits `ABCCDDDDDEEEEF` where
A is the issuing agency (1 DIW, 2 provincial industry office, 7 IEAT) and B the location (0 outside an estate,
2 or 3 inside). The rest, and any check digit, are unknown, so they are not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ISSUING_AGENCIES = {"1": "DIW", "2": "provincial industry office", "7": "IEAT"}
LOCATIONS = {"0": "outside an estate", "2": "inside an estate", "3": "inside an estate"}

_REG_RE = re.compile(r"^\d{14}$")
_DIW_GENERATOR_RE = re.compile(r"^DIW-G-\d{7}$")
_DIW_TRANSPORTER_RE = re.compile(r"^DIW-T-\d{7}$")
# A Thai plate: an optional leading digit, one to three Thai consonants or digits, then up to four digits;
# commercial truck plates are often two groups of digits ("70-1234"). Spaces and hyphens are normalised away.
_PLATE_RE = re.compile(r"^(?:\d?[ก-ฮ]{1,3}\d{1,4}|\d{2}\d{4})$")


@dataclass(frozen=True, slots=True)
class RegistrationNumber:
    value: str

    @property
    def agency(self) -> str:
        return ISSUING_AGENCIES[self.value[0]]

    @property
    def inside_estate(self) -> bool:
        return self.value[1] in {"2", "3"}


def normalise_registration_number(raw: str) -> str:
    return re.sub(r"[\s\-]", "", raw or "")


def registration_number_problem(raw: str) -> str | None:
    """Why a 14-digit registration number is invalid, or None when it is acceptable."""
    value = normalise_registration_number(raw)
    if not _REG_RE.match(value):
        return "must be 14 digits"
    if value[0] not in ISSUING_AGENCIES:
        return "first digit (issuing agency) must be 1 (DIW), 2 (provincial office) or 7 (IEAT)"
    if value[1] not in LOCATIONS:
        return "second digit (location) must be 0 (outside an estate) or 2 or 3 (inside an estate)"
    return None


def parse_registration_number(raw: str) -> RegistrationNumber:
    problem = registration_number_problem(raw)
    if problem:
        raise ValueError(problem)
    return RegistrationNumber(normalise_registration_number(raw))


def diw_generator_id_problem(raw: str) -> str | None:
    return None if _DIW_GENERATOR_RE.match(raw) else "must look like DIW-G-1234567"


def diw_transporter_id_problem(raw: str) -> str | None:
    return None if _DIW_TRANSPORTER_RE.match(raw) else "must look like DIW-T-1234567"


def normalise_plate(raw: str) -> str:
    return re.sub(r"[\s\-.]", "", raw or "")


def plate_problem(raw: str) -> str | None:
    value = normalise_plate(raw)
    if not value:
        return "is required"
    if not _PLATE_RE.match(value):
        return "is not a Thai registration plate (e.g. 70-1234 or 2กข1234)"
    return None
