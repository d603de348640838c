"""The scenario format "wastelink.scenario/1" and its ground truth: dataclasses, reading, checking, writing.

A scenario is one JSON object: a world (sites, zones, routes, vehicles) and trips, each with the points its device
sends. The ground truth is JSON lines, one per trip, naming the incidents a trip holds (docs/scenarios.md).

Reading checks everything the platform and the simulator rely on and refuses the first problem with a
`ScenarioError` naming the field (`trips[3].points[17]`), so a hand-written scenario fails here with a reason rather
than halfway through a load. Unknown keys are refused too: a misspelt optional field would otherwise vanish.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from wastelink.core.detection import RULES, RuleSettings

FORMAT = "wastelink.scenario/1"
SITE_ROLES = ("generator", "receiver", "facility")
ZONE_KINDS = ("rest_area", "hot_spot")
LOOKS = ("traffic_jam", "rest_stop", "edge_noise", "short_gap", "refuel_stop", "gate_queue", "urban_canyon",
         "long_red_light", "slow_climb", "late_but_ok")  # fmt: skip
DEFAULT_CORRIDOR_M = 500


class ScenarioError(ValueError):
    """A scenario or truth file that does not follow the format; `field` names where (e.g. trips[3].start)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Site:
    id: str
    role: str  # generator / receiver / facility
    name: str
    lat: float
    lon: float
    registration: str | None = None  # an existing establishment's registration number


@dataclass(frozen=True)
class Zone:
    id: str
    kind: str  # rest_area / hot_spot
    name: str
    geometry: dict[str, Any]  # GeoJSON Polygon, (lon, lat)


@dataclass(frozen=True)
class Route:
    id: str
    from_site: str
    to_site: str
    geometry: dict[str, Any]  # GeoJSON LineString, (lon, lat)


@dataclass(frozen=True)
class Vehicle:
    id: str
    plate: str
    device_id: str
    transporter: str | None = None  # a transporter's registration number


@dataclass(frozen=True)
class World:
    sites: list[Site]
    zones: list[Zone]
    routes: list[Route]
    vehicles: list[Vehicle]

    def site(self, site_id: str) -> Site:
        return next(s for s in self.sites if s.id == site_id)

    def route(self, route_id: str) -> Route:
        return next(r for r in self.routes if r.id == route_id)

    def vehicle(self, vehicle_id: str) -> Vehicle:
        return next(v for v in self.vehicles if v.id == vehicle_id)


Point = tuple[int, float, float, float]  # (unix seconds, lat, lon, speed km/h)


@dataclass(frozen=True)
class Trip:
    id: str
    vehicle: str
    from_site: str
    to_site: str
    route: str | None
    corridor_width_m: float
    start: datetime  # pickup: the trip opens
    expected_arrival: datetime
    delivered_at: datetime | None  # the delivery claim: the manifest is signed DELIVERED
    points: list[Point]


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    settings: dict[str, Any]
    world: World
    trips: list[Trip]

    def rule_settings(self) -> RuleSettings:
        return RuleSettings.from_mapping(self.settings)


@dataclass(frozen=True)
class Incident:
    kind: str  # a rule name of core/detection.py
    start: int  # unix seconds
    end: int
    lat: float
    lon: float
    variant: str | None = None


@dataclass(frozen=True)
class TruthLine:
    trip: str
    device_id: str
    clean: bool
    look: str | None
    incidents: list[Incident] = field(default_factory=list)


# --- checking helpers: each raises ScenarioError naming the field ------------------------------------------------


def _obj(value: Any, where: str, required: set[str], optional: set[str] = frozenset()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(where, "must be a JSON object")
    missing = sorted(required - set(value))
    if missing:
        raise ScenarioError(f"{where}.{missing[0]}", "is required")
    unknown = sorted(set(value) - required - set(optional))
    if unknown:
        raise ScenarioError(f"{where}.{unknown[0]}", "is not a field of the format")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(where, "must be a non-empty string")
    return value


def _number(value: Any, where: str, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(where, "must be a finite number")
    if not low <= value <= high:
        raise ScenarioError(where, f"must lie between {low:g} and {high:g}")
    return float(value)


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(where, "must be an integer")
    return value


def _time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ScenarioError(
            where, "must be an ISO 8601 time string with its UTC offset, e.g. 2025-01-06T01:00:00Z"
        )
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ScenarioError(where, f"not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise ScenarioError(where, "needs its UTC offset (Z)")
    return parsed.astimezone(UTC)


def _unique(items: list[Any], key: str, where: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        value = getattr(item, key)
        if value in seen:
            raise ScenarioError(f"{where}[{i}].{key}", f"{value!r} is used twice")
        seen.add(value)


def _lon_lat(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) < 2:
        raise ScenarioError(where, "must be a position [lon, lat]")
    return _number(value[0], f"{where}[0]", -180, 180), _number(value[1], f"{where}[1]", -90, 90)


def _geometry(value: Any, where: str, kind: str) -> dict[str, Any]:
    geom = _obj(value, where, {"type", "coordinates"})
    if geom["type"] != kind:
        raise ScenarioError(f"{where}.type", f"must be {kind!r}")
    coords = geom["coordinates"]
    if kind == "LineString":
        if not isinstance(coords, list) or len(coords) < 2:
            raise ScenarioError(f"{where}.coordinates", "a LineString needs at least two positions")
        for i, c in enumerate(coords):
            _lon_lat(c, f"{where}.coordinates[{i}]")
    else:
        if (
            not isinstance(coords, list)
            or not coords
            or not isinstance(coords[0], list)
            or len(coords[0]) < 4
        ):
            raise ScenarioError(f"{where}.coordinates", "a Polygon needs a ring of at least four positions")
        for r, ring in enumerate(coords):
            for i, c in enumerate(ring):
                _lon_lat(c, f"{where}.coordinates[{r}][{i}]")
        polygon = shape(geom)
        if not polygon.is_valid:
            raise ScenarioError(where, f"is not a valid polygon ({shapely.is_valid_reason(polygon)})")
    return geom


# --- the scenario ------------------------------------------------------------------------------------------------


def parse_scenario(data: Any) -> Scenario:
    """A scenario from its decoded JSON, checked; the first problem raises ScenarioError."""
    top = _obj(data, "scenario", {"format", "name", "seed", "world", "trips"}, {"settings"})
    if top["format"] != FORMAT:
        raise ScenarioError("format", f"must be {FORMAT!r}, not {top['format']!r}")
    settings = top.get("settings", {})
    if not isinstance(settings, dict):
        raise ScenarioError("settings", "must be a JSON object of RuleSettings fields")
    try:
        RuleSettings.from_mapping(settings)
    except (TypeError, ValueError) as exc:
        raise ScenarioError("settings", str(exc)) from exc
    world = _world(top["world"])
    if not isinstance(top["trips"], list):
        raise ScenarioError("trips", "must be a list")
    trips = [_trip(t, f"trips[{i}]", world) for i, t in enumerate(top["trips"])]
    _unique(trips, "id", "trips")
    _no_overlap(trips)
    return Scenario(_text(top["name"], "name"), _int(top["seed"], "seed"), dict(settings), world, trips)


def _world(value: Any) -> World:
    w = _obj(value, "world", {"sites", "vehicles"}, {"zones", "routes"})
    for key in ("sites", "zones", "routes", "vehicles"):
        if not isinstance(w.get(key, []), list):
            raise ScenarioError(f"world.{key}", "must be a list")
    sites = []
    for i, s in enumerate(w["sites"]):
        where = f"world.sites[{i}]"
        s = _obj(s, where, {"id", "role", "name", "lat", "lon"}, {"registration"})
        if s["role"] not in SITE_ROLES:
            raise ScenarioError(f"{where}.role", f"must be one of {', '.join(SITE_ROLES)}")
        reg = s.get("registration")
        sites.append(Site(_text(s["id"], f"{where}.id"), s["role"], _text(s["name"], f"{where}.name"),
                          _number(s["lat"], f"{where}.lat", -90, 90), _number(s["lon"], f"{where}.lon", -180, 180),
                          None if reg is None else _text(reg, f"{where}.registration")))  # fmt: skip
    _unique(sites, "id", "world.sites")
    zones = []
    for i, z in enumerate(w.get("zones", [])):
        where = f"world.zones[{i}]"
        z = _obj(z, where, {"id", "kind", "name", "geometry"})
        if z["kind"] not in ZONE_KINDS:
            raise ScenarioError(f"{where}.kind", f"must be one of {', '.join(ZONE_KINDS)}")
        zones.append(Zone(_text(z["id"], f"{where}.id"), z["kind"], _text(z["name"], f"{where}.name"),
                          _geometry(z["geometry"], f"{where}.geometry", "Polygon")))  # fmt: skip
    _unique(zones, "id", "world.zones")
    site_ids = {s.id for s in sites}
    routes = []
    for i, r in enumerate(w.get("routes", [])):
        where = f"world.routes[{i}]"
        r = _obj(r, where, {"id", "from", "to", "geometry"})
        for end in ("from", "to"):
            if r[end] not in site_ids:
                raise ScenarioError(f"{where}.{end}", f"no site {r[end]!r} in world.sites")
        routes.append(Route(_text(r["id"], f"{where}.id"), r["from"], r["to"],
                            _geometry(r["geometry"], f"{where}.geometry", "LineString")))  # fmt: skip
    _unique(routes, "id", "world.routes")
    vehicles = []
    for i, v in enumerate(w["vehicles"]):
        where = f"world.vehicles[{i}]"
        v = _obj(v, where, {"id", "plate", "device_id"}, {"transporter"})
        reg = v.get("transporter")
        vehicles.append(Vehicle(_text(v["id"], f"{where}.id"), _text(v["plate"], f"{where}.plate"),
                                _text(v["device_id"], f"{where}.device_id"),
                                None if reg is None else _text(reg, f"{where}.transporter")))  # fmt: skip
    _unique(vehicles, "id", "world.vehicles")
    _unique(vehicles, "device_id", "world.vehicles")
    return World(sites, zones, routes, vehicles)


def _trip(value: Any, where: str, world: World) -> Trip:
    t = _obj(value, where, {"id", "vehicle", "from", "to", "start", "expected_arrival", "points"},
             {"route", "corridor_width_m", "delivered_at"})  # fmt: skip
    roles = {s.id: s.role for s in world.sites}
    if t["vehicle"] not in {v.id for v in world.vehicles}:
        raise ScenarioError(f"{where}.vehicle", f"no vehicle {t['vehicle']!r} in world.vehicles")
    if roles.get(t["from"]) != "generator":
        raise ScenarioError(f"{where}.from", f"{t['from']!r} is not a generator site of world.sites")
    if roles.get(t["to"]) != "receiver":
        raise ScenarioError(f"{where}.to", f"{t['to']!r} is not a receiver site of world.sites")
    route = t.get("route")
    if route is not None:
        found = next((r for r in world.routes if r.id == route), None)
        if found is None:
            raise ScenarioError(f"{where}.route", f"no route {route!r} in world.routes")
        if (found.from_site, found.to_site) != (t["from"], t["to"]):
            raise ScenarioError(f"{where}.route", f"route {route!r} runs {found.from_site} → {found.to_site}, "
                                                  f"not {t['from']} → {t['to']}")  # fmt: skip
    width = _number(t.get("corridor_width_m", DEFAULT_CORRIDOR_M), f"{where}.corridor_width_m", 1, 50_000)
    start = _time(t["start"], f"{where}.start")
    expected = _time(t["expected_arrival"], f"{where}.expected_arrival")
    if expected < start:
        raise ScenarioError(f"{where}.expected_arrival", "is before the start")
    delivered = None if t.get("delivered_at") is None else _time(t["delivered_at"], f"{where}.delivered_at")
    if delivered is not None and delivered < start:
        raise ScenarioError(f"{where}.delivered_at", "is before the start")
    if not isinstance(t["points"], list):
        raise ScenarioError(f"{where}.points", "must be a list of [unix_seconds, lat, lon, speed_kmh]")
    points = []
    low, high = start.timestamp(), delivered.timestamp() if delivered else math.inf
    for i, p in enumerate(t["points"]):
        pw = f"{where}.points[{i}]"
        if not isinstance(p, list) or len(p) != 4:
            raise ScenarioError(pw, "must be [unix_seconds, lat, lon, speed_kmh]")
        fix = _int(p[0], f"{pw}[0]")
        if not low <= fix <= high:
            raise ScenarioError(f"{pw}[0]", "fix time lies outside the trip (start … delivered_at)")
        lat, lon = _number(p[1], f"{pw}[1]", -90, 90), _number(p[2], f"{pw}[2]", -180, 180)
        if lat == 0 and lon == 0:
            raise ScenarioError(pw, "0,0 is not a position")
        points.append((fix, lat, lon, _number(p[3], f"{pw}[3]", 0, 1000)))
    return Trip(_text(t["id"], f"{where}.id"), t["vehicle"], t["from"], t["to"], route, width, start, expected,
                delivered, points)  # fmt: skip


def _no_overlap(trips: list[Trip]) -> None:
    """A device belongs to one trip at a time: one vehicle's trips may not overlap."""
    by_vehicle: dict[str, list[tuple[datetime, datetime, int]]] = {}
    for i, t in enumerate(trips):
        end = t.delivered_at or max([datetime.fromtimestamp(p[0], UTC) for p in t.points], default=t.start)
        by_vehicle.setdefault(t.vehicle, []).append((t.start, end, i))
    for spans in by_vehicle.values():
        spans.sort()
        for (_, end, i), (start, _, j) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise ScenarioError(f"trips[{j}].start", f"vehicle {trips[j].vehicle} is still on trip "
                                                         f"{trips[i].id} at this time")  # fmt: skip


def read_scenario(path: str | Path) -> Scenario:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ScenarioError("scenario", f"is not valid JSON ({exc})") from exc
    return parse_scenario(data)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scenario_dict(s: Scenario) -> dict[str, Any]:
    sites = [{"id": x.id, "role": x.role, "name": x.name, "lat": x.lat, "lon": x.lon}
             | ({"registration": x.registration} if x.registration else {}) for x in s.world.sites]  # fmt: skip
    zones = [{"id": z.id, "kind": z.kind, "name": z.name, "geometry": z.geometry} for z in s.world.zones]
    routes = [
        {"id": r.id, "from": r.from_site, "to": r.to_site, "geometry": r.geometry} for r in s.world.routes
    ]
    vehicles = [{"id": v.id, "plate": v.plate, "device_id": v.device_id}
                | ({"transporter": v.transporter} if v.transporter else {}) for v in s.world.vehicles]  # fmt: skip
    trips = [{"id": t.id, "vehicle": t.vehicle, "from": t.from_site, "to": t.to_site, "route": t.route,
              "corridor_width_m": int(t.corridor_width_m) if float(t.corridor_width_m).is_integer() else t.corridor_width_m, "start": iso(t.start), "expected_arrival": iso(t.expected_arrival),
              "delivered_at": iso(t.delivered_at) if t.delivered_at else None, "points": [list(p) for p in t.points]}
             for t in s.trips]  # fmt: skip
    return {"format": FORMAT, "name": s.name, "seed": s.seed, "settings": s.settings,
            "world": {"sites": sites, "zones": zones, "routes": routes, "vehicles": vehicles}, "trips": trips}  # fmt: skip


def read_scenario_dict(data: Any) -> dict[str, Any]:
    """A decoded scenario checked and returned in its JSON form, normalised (every optional field present, times
    written with Z), for code that works on that form (loading, replaying)."""
    return scenario_dict(parse_scenario(data))


def write_scenario(s: Scenario, path: str | Path) -> None:
    """Compact but readable: the world indented, one trip per line (points make up nearly all of the file)."""
    data = scenario_dict(s)
    head = {k: v for k, v in data.items() if k != "trips"}
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2]  # drop the closing "\n}" to append the trips
    trips = ",\n".join(json.dumps(t, ensure_ascii=False, separators=(",", ":")) for t in data["trips"])
    Path(path).write_text(f'{text},\n "trips": [\n{trips}\n]}}\n', encoding="utf-8")


def shift_scenario(s: Scenario, seconds: int) -> Scenario:
    """The same scenario moved in time by whole seconds (every time: trips' times and their points')."""
    delta = timedelta(seconds=seconds)
    trips = [replace(t, start=t.start + delta, expected_arrival=t.expected_arrival + delta,
                     delivered_at=t.delivered_at + delta if t.delivered_at else None,
                     points=[(p[0] + seconds, p[1], p[2], p[3]) for p in t.points]) for t in s.trips]  # fmt: skip
    return replace(s, trips=trips)


# --- the ground truth --------------------------------------------------------------------------------------------


def parse_truth_line(value: Any, where: str) -> TruthLine:
    # The trip's window and reporting interval may be given (core/evaluation.py reads them); they are not needed here.
    t = _obj(
        value, where, {"trip", "device_id", "clean", "look", "incidents"}, {"start", "end", "interval_s"}
    )
    if not isinstance(t["clean"], bool):
        raise ScenarioError(f"{where}.clean", "must be true or false")
    if t["look"] is not None and t["look"] not in LOOKS:
        raise ScenarioError(f"{where}.look", f"must be null or one of {', '.join(LOOKS)}")
    if not isinstance(t["incidents"], list):
        raise ScenarioError(f"{where}.incidents", "must be a list")
    incidents = []
    for i, x in enumerate(t["incidents"]):
        iw = f"{where}.incidents[{i}]"
        x = _obj(x, iw, {"kind", "start", "end", "lat", "lon"}, {"variant"})
        if x["kind"] not in RULES:
            raise ScenarioError(f"{iw}.kind", f"must be one of {', '.join(RULES)}")
        start, end = _int(x["start"], f"{iw}.start"), _int(x["end"], f"{iw}.end")
        if end < start:
            raise ScenarioError(f"{iw}.end", "is before the start")
        variant = x.get("variant")
        incidents.append(Incident(x["kind"], start, end, _number(x["lat"], f"{iw}.lat", -90, 90),
                                  _number(x["lon"], f"{iw}.lon", -180, 180),
                                  None if variant is None else _text(variant, f"{iw}.variant")))  # fmt: skip
    if t["clean"] == bool(incidents):
        raise ScenarioError(f"{where}.clean", "a clean trip has no incidents, and only a clean trip")
    return TruthLine(_text(t["trip"], f"{where}.trip"), _text(t["device_id"], f"{where}.device_id"), t["clean"],
                     t["look"], incidents)  # fmt: skip


def read_truth(path: str | Path) -> list[TruthLine]:
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ScenarioError(f"line {n}", f"is not valid JSON ({exc})") from exc
            out.append(parse_truth_line(value, f"line {n}"))
    return out


def truth_dict(t: TruthLine) -> dict[str, Any]:
    incidents = [{"kind": x.kind} | ({"variant": x.variant} if x.variant else {})
                 | {"start": x.start, "end": x.end, "lat": x.lat, "lon": x.lon} for x in t.incidents]  # fmt: skip
    return {
        "trip": t.trip,
        "device_id": t.device_id,
        "clean": t.clean,
        "look": t.look,
        "incidents": incidents,
    }


def write_truth(lines: list[TruthLine], path: str | Path) -> None:
    text = "".join(json.dumps(truth_dict(t), ensure_ascii=False, separators=(",", ":")) + "\n" for t in lines)
    Path(path).write_text(text, encoding="utf-8")
