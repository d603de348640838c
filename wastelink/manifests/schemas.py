"""Manifest inputs, shared by the API, the pages and the CSV bulk upload."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from wastelink.core.waste_codes import parse_waste_code

Container = Literal["drum", "ibc", "bag", "bin", "tank", "bulk"]
Form = Literal["solid", "sludge", "liquid", "powder", "gas", "mixed"]


def has_nul(value: Any) -> bool:
    """Whether a value (or anything nested in it) holds a NUL character, which PostgreSQL cannot store or compare."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def refuse_nul(value: Any) -> Any:
    if has_nul(value):
        raise ValueError("may not contain NUL characters")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)


class ManifestIn(Strict):
    permit_number: str = Field(min_length=3, max_length=30)
    permit_line: int = Field(ge=1, description="line number on the permit")
    vehicle_id: int = Field(gt=0)
    driver_id: int | None = Field(None, gt=0)
    declared_quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    unit: Literal["t", "kg"] = "t"
    container_type: Container
    container_count: int = Field(ge=1, le=10_000)
    physical_form: Form
    planned_pickup_at: datetime
    expected_arrival_at: datetime
    route: dict[str, Any] | None = Field(None, description="planned route: GeoJSON LineString")
    route_id: int | None = Field(None, gt=0, description="or an approved route from the library (GET /routes)")
    corridor_width_m: int = Field(500, ge=50, le=5000)

    @field_validator("planned_pickup_at", "expected_arrival_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-12-01T08:00:00+07:00")
        return value


class SignIn(Strict):
    document_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the document you were shown")


class ReceiveIn(SignIn):
    weighed_quantity: Decimal = Field(ge=0, max_digits=14, decimal_places=3)
    unit: Literal["t", "kg"] = "kg"
    acceptance: Literal["full", "partial", "rejected"]
    discrepancy_code: Literal["A", "B", "C"] | None = None
    discrepancy_reason: str = Field("", max_length=2000)
    new_waste_code: str | None = Field(None, description="for discrepancy code B: the waste actually received")

    @field_validator("new_waste_code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        return parse_waste_code(value) if value else None


class ExplainIn(Strict):
    discrepancy_code: Literal["A", "B", "C"]
    discrepancy_reason: str = Field(min_length=3, max_length=2000)
    new_waste_code: str | None = None


class CompleteIn(Strict):
    final_method: str = Field(pattern=r"^\d{3}$")
    treated_on: date


class ReasonIn(Strict):
    reason: str = Field(min_length=3, max_length=2000)


class CorrectionIn(Strict):
    reason: str = Field(min_length=3, max_length=2000)
    driver_id: int | None = Field(None, gt=0)
    container_type: Container | None = None
    container_count: int | None = Field(None, ge=1, le=10_000)
    physical_form: Form | None = None
    expected_arrival_at: datetime | None = None
    route: dict[str, Any] | None = Field(None, description="the planned route the transporter will drive (LineString)")
    route_id: int | None = Field(None, gt=0, description="or an approved route from the library")


class RouteIn(Strict):
    name: str = Field(min_length=2, max_length=200)
    origin_id: int = Field(gt=0)
    destination_id: int = Field(gt=0)
    geometry: dict[str, Any] = Field(description="GeoJSON LineString")
    corridor_width_m: int = Field(500, ge=50, le=5000)


class RerouteIn(Strict):
    relation: Literal["return", "alternate"]
    receiver_id: int | None = Field(None, gt=0, description="the alternate receiver (for 'alternate')")
    permit_number: str | None = Field(None, description="the permit covering the alternate receiver")
    permit_line: int | None = Field(None, ge=1)
    vehicle_id: int = Field(gt=0)
    quantity_kg: Decimal = Field(gt=0, max_digits=14, decimal_places=3)
    planned_pickup_at: datetime
    expected_arrival_at: datetime


class BalanceQuery(Strict):
    date_from: date
    date_to: date
    generator_id: int | None = None
