"""Device positions: decoding the OsmAnd protocol (query/form and JSON variants) and the filter rules.

One decoder per wire format, each a pure function from the message to a `Fix`; `problem()` applies the rules a
hardened GPS server applies before storing a point. Units are normalised here: speed in km/h, battery in percent,
times in UTC.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

KNOT_KMH = 1.852
MAX_FUTURE = timedelta(minutes=5)
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_LOCAL_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?$")
KNOWN_QUERY_KEYS = {"id", "deviceid", "timestamp", "lat", "lon", "location", "speed", "bearing", "heading",
                    "altitude", "accuracy", "hdop", "hacc", "vacc", "batt"}  # fmt: skip


class DecodeError(ValueError):
    """The message is not a position at all (no device id, unreadable fields)."""


@dataclass(slots=True)
class Fix:
    device_id: str
    fix_time: datetime
    lat: float | None
    lon: float | None
    speed_kmh: float | None = None
    course: float | None = None
    altitude: float | None = None
    accuracy: float | None = None
    battery: float | None = None
    mock: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)


def parse_time(raw: str | int | float | None, now: datetime) -> datetime:
    """Unix seconds, Unix milliseconds, ISO 8601 (Z or offset), or 'yyyy-MM-dd HH:mm:ss' (UTC); absent → now."""
    if raw is None or raw == "":
        return now
    text = str(raw).strip()
    if (text.isascii() and text.isdigit()) or _NUMBER.fullmatch(text):  # the first test: Unix seconds, fast
        value = float(text)
        if value > 1e11:  # milliseconds: 1e11 s is the year 5138
            value /= 1000.0
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise DecodeError(f"timestamp out of range: {text}") from exc
    if _LOCAL_FORMAT.match(text):
        return datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DecodeError(f"unreadable timestamp: {text[:40]}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _float(raw: Any, name: str) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise DecodeError(f"{name} is not a number: {str(raw)[:20]}") from exc
    return value


def decode_osmand_query(params: Mapping[str, Any], now: datetime) -> Fix:
    """An OsmAnd query or form: `id`/`deviceid`, `lat`+`lon` or `location=lat,lon`, speed in knots, …

    One pass over the parameters (a list per name, as parse_qs and QueryDict give them, or plain values): the known
    names' first non-empty values, the others kept as attributes. Every point passes here, so it reads each name
    once rather than searching the parameters per field."""
    known: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for key, value in params.items():
        if key in KNOWN_QUERY_KEYS:
            if isinstance(value, list):
                value = value[0] if value else None
            if value is not None and value != "":
                known[key] = value
        else:
            attributes[key] = value if not isinstance(value, list) or len(value) != 1 else value[0]
    get = known.get
    device = get("id")
    if device is None:
        device = get("deviceid")
        if device is None:
            raise DecodeError("no device id (id or deviceid)")
    lat, lon = _float(get("lat"), "lat"), _float(get("lon"), "lon")
    if lat is None or lon is None:
        location = get("location")
        if location:
            parts = str(location).split(",")
            if len(parts) != 2:
                raise DecodeError("location must be lat,lon")
            lat, lon = _float(parts[0], "location"), _float(parts[1], "location")
    speed = _float(get("speed"), "speed")
    bearing = get("bearing")
    accuracy = get("accuracy")
    if accuracy is None:
        accuracy = get("hdop")
        if accuracy is None:
            accuracy = get("hacc")
    return Fix(
        device_id=str(device).strip()[:64], fix_time=parse_time(get("timestamp"), now), lat=lat, lon=lon,
        speed_kmh=speed * KNOT_KMH if speed is not None else None,
        course=_float(bearing if bearing is not None else get("heading"), "bearing"),
        altitude=_float(get("altitude"), "altitude"), accuracy=_float(accuracy, "accuracy"),
        battery=_float(get("batt"), "batt"), attributes=attributes,
    )  # fmt: skip


def decode_osmand_json(body: Mapping[str, Any], now: datetime) -> Fix:
    """The JSON variant (newer Traccar Client, background-geolocation apps): speed in m/s, -1 = unknown."""
    if not isinstance(body, Mapping):
        raise DecodeError("the body must be a JSON object")
    location = body.get("location")
    if not isinstance(location, Mapping):
        raise DecodeError("no 'location' object")
    device = body.get("device_id") or location.get("device_id")
    if device in (None, ""):
        raise DecodeError("no device_id")
    raw_coords = location.get("coords")
    coords: Mapping[str, Any] = raw_coords if isinstance(raw_coords, Mapping) else {}
    speed = _float(coords.get("speed"), "speed")
    heading = _float(coords.get("heading"), "heading")
    raw_battery = location.get("battery")
    battery: Mapping[str, Any] = raw_battery if isinstance(raw_battery, Mapping) else {}
    level = _float(battery.get("level"), "battery.level")
    attributes: dict[str, Any] = {k: location[k] for k in ("is_moving", "odometer", "event", "uuid", "activity")
                                  if k in location}  # fmt: skip
    if isinstance(location.get("extras"), Mapping):
        attributes.update(location["extras"])
    return Fix(
        device_id=str(device).strip()[:64], fix_time=parse_time(location.get("timestamp"), now),
        lat=_float(coords.get("latitude"), "latitude"), lon=_float(coords.get("longitude"), "longitude"),
        speed_kmh=speed * 3.6 if speed is not None and speed >= 0 else None,
        course=heading if heading is not None and heading >= 0 else None,
        altitude=_float(coords.get("altitude"), "altitude"), accuracy=_float(coords.get("accuracy"), "accuracy"),
        battery=level * 100 if level is not None and level >= 0 else None, mock=bool(location.get("mock", False)),
        attributes=attributes,
    )  # fmt: skip


def problem(fix: Fix, now: datetime) -> str | None:
    """Why a decoded fix must not be stored, or None: empty fix, invalid coordinates, a time in the future."""
    if fix.lat is None or fix.lon is None:
        return "empty fix: no position"
    if not (math.isfinite(fix.lat) and math.isfinite(fix.lon)):
        return "invalid coordinates"
    if not (-90 <= fix.lat <= 90 and -180 <= fix.lon <= 180):
        return "invalid coordinates: out of range"
    if fix.lat == 0 and fix.lon == 0:
        return "invalid coordinates: 0,0 (no fix)"
    if fix.fix_time > now + MAX_FUTURE:
        return "fix time more than 5 minutes in the future"
    for name in ("speed_kmh", "course", "altitude", "accuracy", "battery"):
        value = getattr(fix, name)
        if value is not None and not math.isfinite(value):
            return f"invalid {name}"
    return None
