"""Input schemas of the permits context, shared by the API and the web forms."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from wastelink.core.waste_codes import parse_waste_code

Form = Literal["solid", "sludge", "liquid", "powder", "gas", "mixed"]
Tonnes = Field(gt=0, max_digits=12, decimal_places=3, description="tonnes")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StreamIn(Strict):
    waste_code: str = Field(description="six-digit waste code, e.g. 16 02 11")
    name: str = Field(min_length=1, max_length=255)
    source_process: str = Field(min_length=1, max_length=255)
    physical_form: Form
    annual_quantity_t: Decimal = Tonnes

    @field_validator("waste_code")
    @classmethod
    def _code(cls, value: str) -> str:
        return parse_waste_code(value)


class StreamPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    source_process: str | None = Field(None, min_length=1, max_length=255)
    physical_form: Form | None = None
    annual_quantity_t: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=3)
    active: bool | None = None


class ApplicationIn(Strict):
    note: str = Field("", max_length=4000)


class LineIn(Strict):
    stream_id: int = Field(gt=0)
    quantity_t: Decimal = Tonnes
    method: str = Field(pattern=r"^\d{3}$", description="management method code, e.g. 049")
    receiver_id: int = Field(gt=0)
    transporter_ids: list[int] = Field(default_factory=list, max_length=20)


class LinePatch(Strict):
    quantity_t: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=3)
    method: str | None = Field(None, pattern=r"^\d{3}$")
    receiver_id: int | None = Field(None, gt=0)
    transporter_ids: list[int] | None = Field(None, max_length=20)


class LineDecision(Strict):
    index: int = Field(ge=1)
    approve: bool
    approved_quantity_t: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=3,
                                                description="cap; defaults to the quantity applied for")  # fmt: skip
    conditions: str = Field("", max_length=2000)
    note: str = Field("", max_length=2000)


class DecisionIn(Strict):
    lines: list[LineDecision] = Field(min_length=1)
    conditions: str = Field("", max_length=4000, description="conditions on the whole permit")
    reason: str = Field("", max_length=4000, description="required when no line is approved")


class ReasonIn(Strict):
    reason: str = Field(min_length=3, max_length=4000)


class AutoRuleIn(Strict):
    waste_code: str
    method: str = Field(pattern=r"^\d{3}$")
    receiver_type: Literal["101", "105", "106"]
    note: str = Field("", max_length=255)

    @field_validator("waste_code")
    @classmethod
    def _code(cls, value: str) -> str:
        return parse_waste_code(value)
