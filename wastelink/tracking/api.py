"""Telemetry API: a JSON batch for gateways and phones, GPX upload for replays and offline loggers, trips."""

from __future__ import annotations

from datetime import UTC, datetime

import gpxpy
import gpxpy.gpx
from ninja import Field, File, Form, Router, Schema, UploadedFile

from wastelink.accounts.access import own_establishment_id, role_of
from wastelink.core.findings import DomainError, Forbidden, error
from wastelink.core.roles import Role
from wastelink.core.telemetry import Fix
from wastelink.tracking.access import visible_trips
from wastelink.tracking.services.ingest import ingest

router = Router(tags=["tracking"])
MAX_POINTS = 1000


class PointIn(Schema):
    device_id: str = Field(min_length=1, max_length=64)
    fix_time: datetime = Field(description="ISO 8601 with offset")
    lat: float | None = None
    lon: float | None = None
    speed_kmh: float | None = None
    course: float | None = None
    altitude: float | None = None
    accuracy: float | None = None
    battery: float | None = None
    mock: bool = False
    attributes: dict = Field(default_factory=dict)


class BatchIn(Schema):
    points: list[PointIn] = Field(min_length=1, max_length=MAX_POINTS)


class PointResult(Schema):
    index: int
    status: str
    reason: str


class BatchOut(Schema):
    accepted: int
    duplicate: int
    rejected: int
    unknown_device: int
    results: list[PointResult]


def _scope(user) -> int | None:
    """Transporters' tokens may send only their own vehicles' devices; platform admins any."""
    role = role_of(user)
    if role == Role.ADMIN:
        return None
    if role in (Role.TRANSPORTER_DISPATCHER, Role.TRANSPORTER_DRIVER) and own_establishment_id(user):
        return own_establishment_id(user)
    raise Forbidden(error("telemetry.denied", "Authorization", "only a transporter's (or a device's) token sends positions",
                          "เฉพาะโทเค็นของผู้ขนส่งหรืออุปกรณ์ที่ส่งตำแหน่งได้"))  # fmt: skip


def _summary(results) -> dict:
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0, "unknown_device": 0}
    for r in results:
        counts[r.status] += 1
    return {**counts, "results": [{"index": r.index, "status": r.status, "reason": r.reason} for r in results]}


@router.post("/telemetry", response=BatchOut, summary="Send up to 1,000 positions; a result for each")
def telemetry(request, payload: BatchIn):
    transporter = _scope(request.user)
    fixes = [Fix(device_id=p.device_id.strip(), fix_time=p.fix_time if p.fix_time.tzinfo else p.fix_time.replace(tzinfo=UTC),
                 lat=p.lat, lon=p.lon, speed_kmh=p.speed_kmh, course=p.course, altitude=p.altitude, accuracy=p.accuracy,
                 battery=p.battery, mock=p.mock, attributes=p.attributes) for p in payload.points]  # fmt: skip
    return _summary(ingest(fixes, allowed_transporter=transporter))


@router.post("/telemetry/gpx", response=BatchOut, summary="Upload a GPX track for one device (replays, offline loggers)")
def telemetry_gpx(request, device_id: Form[str], file: File[UploadedFile]):
    transporter = _scope(request.user)
    raw = file.read(5 * 1024 * 1024 + 1)
    if len(raw) > 5 * 1024 * 1024:
        raise DomainError(error("gpx.size", "file", "the file is larger than 5 MB", "ไฟล์มีขนาดเกิน 5 MB"))
    try:
        gpx = gpxpy.parse(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, gpxpy.gpx.GPXException, ValueError) as exc:
        raise DomainError(error("gpx.invalid", "file", f"not a readable GPX file ({str(exc)[:80]})",
                                "ไฟล์ GPX ไม่ถูกต้อง")) from exc  # fmt: skip
    fixes = []
    for track in gpx.tracks:
        for segment in track.segments:
            for pt in segment.points:
                if pt.time is None:
                    continue
                when = pt.time if pt.time.tzinfo else pt.time.replace(tzinfo=UTC)
                fixes.append(Fix(device_id=device_id.strip()[:64], fix_time=when, lat=pt.latitude, lon=pt.longitude,
                                 altitude=pt.elevation, speed_kmh=(pt.speed * 3.6) if pt.speed is not None else None))  # fmt: skip
    if not fixes:
        raise DomainError(error("gpx.empty", "file", "no timed track points in the file", "ไม่มีจุดที่ระบุเวลาในไฟล์"))
    results = []
    for start in range(0, len(fixes), MAX_POINTS):
        batch = ingest(fixes[start : start + MAX_POINTS], allowed_transporter=transporter)
        results += [type(r)(r.index + start, r.status, r.reason) for r in batch]
    return _summary(results)


class TripOut(Schema):
    id: int
    manifest: str
    plate: str
    device_id: str
    state: str
    started_at: datetime
    ended_at: datetime | None
    last_fix_at: datetime | None
    points: int
    outside_corridor_points: int

    @staticmethod
    def resolve_manifest(obj) -> str:
        return obj.manifest.number

    @staticmethod
    def resolve_plate(obj) -> str:
        return obj.vehicle.plate


@router.get("/trips", response=list[TripOut], summary="Trips I may see, newest first")
def trips(request, state: str | None = None, limit: int = 100):
    qs = visible_trips(request.user)
    if state:
        qs = qs.filter(state=state)
    return list(qs[: max(1, min(limit, 500))])


class GeofenceIn(Schema):
    kind: str = Field(description="rest_area or hot_spot")
    name: str = Field(min_length=2, max_length=200)
    geometry: dict = Field(description="GeoJSON Polygon or MultiPolygon (or a Feature holding one)")
    estate: str | None = Field(None, description="estate code, when the fence belongs to one estate")


class GeofenceOut(Schema):
    id: int
    kind: str
    name: str
    geometry: dict
    estate: str | None = Field(None, alias="estate.code")
    created_by: str


@router.get("/geofences", response=list[GeofenceOut], summary="Rest areas (everyone) and hot spots (officials)")
def list_geofences(request):
    from wastelink.tracking.services.geofences import visible_geofences

    return list(visible_geofences(request.user).select_related("estate"))


@router.post("/geofences", response={201: GeofenceOut}, summary="Draw a rest area or a hot spot (officers)")
def draw(request, payload: GeofenceIn):
    from ninja import Status

    from wastelink.tracking.services.geofences import draw_geofence

    return Status(201, draw_geofence(actor=request.user, kind=payload.kind, name=payload.name,
                                     geojson=payload.geometry, estate_code=payload.estate))  # fmt: skip


@router.delete("/geofences/{fence_id}", response={204: None}, summary="Retire a geofence (officers)")
def retire(request, fence_id: int):
    from ninja import Status

    from wastelink.tracking.services.geofences import retire_geofence

    retire_geofence(actor=request.user, fence_id=fence_id)
    return Status(204, None)
