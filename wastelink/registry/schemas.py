"""Input schemas of the registry, shared by the API and the CSV import so both validate the same way."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from wastelink.core import identifiers

PartyRole = Literal["generator", "transporter", "receiver"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EstablishmentIn(Strict):
    registration_no: str = Field(description="14-digit factory registration number (ABCCDDDDDEEEEF)")
    legacy_no: str = Field("", max_length=60, description="legacy number such as 3-106-1/50ชบ, free text")
    name_th: str = Field(min_length=1, max_length=255)
    name_en: str = Field("", max_length=255)
    diw_generator_id: str = Field("", description="DIW-G-XXXXXXX")
    diw_transporter_id: str = Field("", description="DIW-T-XXXXXXX")
    address: str = Field("", max_length=1000)
    province: str = Field("", max_length=100)
    lat: float | None = Field(None, ge=5.0, le=21.0, description="WGS84 latitude, within Thailand")
    lon: float | None = Field(None, ge=97.0, le=106.5, description="WGS84 longitude, within Thailand")
    estate: str | None = Field(None, description="estate code, or empty for a factory outside the estates")
    factory_type: str | None = Field(None, description="factory type number (101, 105, 106) for receivers")
    roles: list[PartyRole] = Field(min_length=1, description="what the establishment does here")

    @field_validator("registration_no")
    @classmethod
    def _registration(cls, value: str) -> str:
        problem = identifiers.registration_number_problem(value)
        if problem:
            raise ValueError(problem)
        return identifiers.normalise_registration_number(value)

    @field_validator("diw_generator_id")
    @classmethod
    def _gen_id(cls, value: str) -> str:
        if value and (problem := identifiers.diw_generator_id_problem(value)):
            raise ValueError(problem)
        return value

    @field_validator("diw_transporter_id")
    @classmethod
    def _tr_id(cls, value: str) -> str:
        if value and (problem := identifiers.diw_transporter_id_problem(value)):
            raise ValueError(problem)
        return value

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class EstablishmentPatch(Strict):
    legacy_no: str | None = Field(None, max_length=60)
    name_th: str | None = Field(None, min_length=1, max_length=255)
    name_en: str | None = Field(None, max_length=255)
    address: str | None = Field(None, max_length=1000)
    province: str | None = Field(None, max_length=100)
    lat: float | None = Field(None, ge=5.0, le=21.0)
    lon: float | None = Field(None, ge=97.0, le=106.5)
    status: Literal["active", "suspended", "closed"] | None = None


class VehicleIn(Strict):
    plate: str = Field(description="Thai registration plate, e.g. 70-1234")
    province: str = Field(min_length=2, max_length=100)
    kind: Literal["truck_6w", "truck_10w", "tanker", "semi_trailer", "pickup", "roll_off"]
    capacity_kg: int = Field(gt=0, le=60_000)
    gps_device_id: str | None = Field(None, min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    hazardous_approved: bool = False

    @field_validator("plate")
    @classmethod
    def _plate(cls, value: str) -> str:
        if problem := identifiers.plate_problem(value):
            raise ValueError(problem)
        return identifiers.normalise_plate(value)


class VehiclePatch(Strict):
    kind: Literal["truck_6w", "truck_10w", "tanker", "semi_trailer", "pickup", "roll_off"] | None = None
    capacity_kg: int | None = Field(None, gt=0, le=60_000)
    gps_device_id: str | None = Field(None, min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    hazardous_approved: bool | None = None
    active: bool | None = None


class ReceiverLicenceIn(Strict):
    licence_no: str = Field(min_length=3, max_length=60)
    factory_type: Literal["101", "105", "106"]
    waste_codes: list[str] = Field(min_length=1, max_length=900)
    methods: list[str] = Field(min_length=1, max_length=40)
    annual_capacity_t: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    valid_from: date
    valid_until: date


class WasteCodePatch(Strict):
    name_th: str | None = Field(None, max_length=2000)
    name_en: str | None = Field(None, min_length=1, max_length=2000)
    th_mark: Literal["", "HA", "HM", "none"] | None = None


class MethodPatch(Strict):
    name_th: str | None = Field(None, max_length=500)
    name_en: str | None = Field(None, min_length=1, max_length=500)
    name_th_official: bool | None = None
    non_hazardous_only: bool | None = None
