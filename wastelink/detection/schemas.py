"""Inputs of the alert lifecycle, shared by the API and the pages."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from wastelink.core.alert_states import MAX_INSPECTOR, MAX_NOTE


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("may not contain NUL characters")
        return value


class AcknowledgeIn(Strict):
    note: str = Field("", max_length=MAX_NOTE, description="optional remark for the history")


class DispatchIn(Strict):
    inspector: str = Field(min_length=1, max_length=MAX_INSPECTOR, description="who was sent to intercept")
    note: str = Field("", max_length=MAX_NOTE)


class ResolveIn(Strict):
    resolution: Literal["confirmed", "false_alarm"]
    note: str = Field(min_length=1, max_length=MAX_NOTE, description="what was found")
