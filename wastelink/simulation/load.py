"""`wastelink scenario load`: a scenario's world and trips into the platform (docs/scenarios.md).

Sites with a registration number are the registry's establishments; other facility sites are added as receivers
(places where a truck should not dwell). Rest areas and hot spots become geofences. Vehicles are registered with
their devices. Each trip becomes a manifest in transit on an active permit line from its generator to its receiver
(the simulator builds its worlds from such lines), SCHEDULED for its pickup time; `replay` picks each load up at its
time (IN_TRANSIT: the trip opens as a real pickup opens it; one vehicle drives its trips one after another).
Manifests of a scenario are numbered `SIM-<trip id>`; loading the same scenario again adds nothing.

Times: a scenario whose points lie in the future of the wall clock is moved back as a whole so that it ends now
(a replay cannot send future fixes); the move is kept in each manifest's planned pickup, so `replay` finds it again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from wastelink.audit import services as audit
from wastelink.core.geometry import GeometryError, bbox, parse_area_geojson
from wastelink.core.manifest_rules import ManifestState
from wastelink.manifests.models import Manifest
from wastelink.permits.models import PermitLine
from wastelink.registry.models import Establishment, Vehicle
from wastelink.tracking.models import Geofence

ACTOR = "system:scenario"


class ScenarioError(ValueError):
    """A scenario the platform cannot load; `field` names where (e.g. trips[3].from)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass
class Loaded:
    trips: dict[str, str] = field(default_factory=dict)  # scenario trip id → manifest number
    created: dict[str, int] = field(default_factory=dict)  # what was added, by kind
    shift: timedelta = timedelta(0)


def manifest_number(trip_id: str) -> str:
    return f"SIM-{trip_id}"[:30]


def time_of(value: Any, where: str) -> datetime:
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, tz=UTC)
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError, OverflowError) as exc:
        raise ScenarioError(where, f"not a time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise ScenarioError(where, "a time needs its UTC offset")
    return parsed


def scenario_end(scenario: dict) -> datetime:
    return max(time_of(p[0], "trips[].points") for t in scenario["trips"] for p in t["points"][-1:])


def _site(i: int, site: dict, tag: str, created: dict[str, int]) -> Establishment:
    where = f"world.sites[{i}]"
    reg = site.get("registration")
    if reg:
        est = Establishment.objects.filter(registration_no=reg).first()
        if est is None:
            raise ScenarioError(f"{where}.registration", f"no establishment {reg} in the registry")
        if est.lat is None or est.lon is None:
            est.lat, est.lon = float(site["lat"]), float(site["lon"])
            est.save(update_fields=["lat", "lon", "updated_at"])
        return est
    if site.get("role") not in ("facility", "receiver"):
        raise ScenarioError(f"{where}.registration", "generators must be registry establishments (a permit names them)")
    number = "9" + str(int(hashlib.sha256(f"{tag}:{site['id']}".encode()).hexdigest(), 16))[:13]
    est, made = Establishment.objects.get_or_create(
        registration_no=number,
        defaults={"name_th": site.get("name") or site["id"], "name_en": site.get("name", ""), "lat": float(site["lat"]),
                  "lon": float(site["lon"]), "is_receiver": True, "province": "ชลบุรี"},
    )  # fmt: skip
    created["sites"] = created.get("sites", 0) + int(made)
    return est


def _vehicle(i: int, v: dict, fallback: Establishment | None, created: dict[str, int]) -> Vehicle:
    where = f"world.vehicles[{i}]"
    existing = Vehicle.objects.filter(gps_device_id=v["device_id"]).first()
    if existing is not None:
        return existing
    transporter = fallback
    if v.get("transporter"):
        transporter = Establishment.objects.filter(registration_no=v["transporter"], is_transporter=True).first()
        if transporter is None:
            raise ScenarioError(f"{where}.transporter", f"no transporter {v['transporter']} in the registry")
    if transporter is None:
        raise ScenarioError(f"{where}.transporter", "no transporter in the registry (load the demo data first)")
    plate = "".join(ch for ch in str(v.get("plate") or v["id"]) if ch.isalnum())[:20]
    vehicle = Vehicle.objects.create(transporter=transporter, plate=plate, province="ชลบุรี", kind=Vehicle.Kind.TRUCK_10W,
                                     capacity_kg=15_000, gps_device_id=v["device_id"], hazardous_approved=True)  # fmt: skip
    created["vehicles"] = created.get("vehicles", 0) + 1
    return vehicle


def load(scenario: dict, *, now: datetime | None = None, keep_future: bool = False) -> Loaded:
    """Load a scenario (already validated against the format); refused as a whole on the first problem.
    `keep_future`: leave a scenario that runs into the future where it is (a live fleet drives it as time comes)."""
    now = now or timezone.now()
    tag = str(scenario.get("name") or "scenario")
    out = Loaded()
    end = scenario_end(scenario) if scenario["trips"] else now
    if end > now and not keep_future:
        out.shift = -(end - now) - timedelta(minutes=1)
    with transaction.atomic():
        sites = {s["id"]: _site(i, s, tag, out.created) for i, s in enumerate(scenario["world"]["sites"])}
        for i, z in enumerate(scenario["world"].get("zones", [])):
            try:
                geometry = parse_area_geojson(z["geometry"])
            except GeometryError as exc:
                raise ScenarioError(f"world.zones[{i}].geometry", str(exc)) from exc
            name = f"{z.get('name') or z['id']} [{tag}]"
            if not Geofence.objects.filter(kind=z["kind"], name=name, created_by=ACTOR).exists():
                min_lon, min_lat, max_lon, max_lat = bbox(geometry)
                Geofence.objects.create(kind=z["kind"], name=name, geometry=z["geometry"], min_lon=min_lon,
                                        min_lat=min_lat, max_lon=max_lon, max_lat=max_lat, created_by=ACTOR)  # fmt: skip
                out.created["zones"] = out.created.get("zones", 0) + 1
        fallback = Establishment.objects.filter(is_transporter=True).order_by("id").first()
        vehicles = {v["id"]: _vehicle(i, v, fallback, out.created) for i, v in enumerate(scenario["world"]["vehicles"])}
        routes = {r["id"]: r["geometry"] for r in scenario["world"].get("routes", [])}
        for i, t in enumerate(scenario["trips"]):
            out.trips[t["id"]] = _trip(i, t, sites, vehicles, routes, out)
        audit.record(actor=ACTOR, action="scenario.load", object_type="scenario", object_id=tag[:64],
                     after={"trips": len(out.trips), "created": out.created, "shift_s": out.shift.total_seconds()})  # fmt: skip
    return out


def _trip(i: int, t: dict, sites: dict, vehicles: dict, routes: dict, out: Loaded) -> str:
    where = f"trips[{i}]"
    number = manifest_number(t["id"])
    generator, receiver = sites.get(t["from"]), sites.get(t["to"])
    existing = Manifest.objects.filter(number=number).first()
    if existing is not None:
        start = time_of(t["start"], f"{where}.start") + out.shift
        if (existing.generator_id, existing.receiver_id, existing.planned_pickup_at) != (
                getattr(generator, "id", None), getattr(receiver, "id", None), start):  # fmt: skip
            raise ScenarioError(f"{where}.id", f"manifest {number} exists from another scenario: load each scenario "
                                               "into its own database, or give its trips other ids")  # fmt: skip
        return number  # this scenario, loaded before
    if generator is None or receiver is None:
        raise ScenarioError(f"{where}.{'from' if generator is None else 'to'}", "no such site in world.sites")
    vehicle = vehicles.get(t["vehicle"])
    if vehicle is None:
        raise ScenarioError(f"{where}.vehicle", "no such vehicle in world.vehicles")
    line = (PermitLine.objects.filter(permit__generator=generator, receiver=receiver, permit__state="ACTIVE")
            .select_related("stream").order_by("id").first())  # fmt: skip
    if line is None:
        raise ScenarioError(f"{where}.to", f"no active permit line from {generator.registration_no} to "
                                           f"{receiver.registration_no}")  # fmt: skip
    route = routes.get(t.get("route")) if t.get("route") else None
    if t.get("route") and route is None:
        raise ScenarioError(f"{where}.route", "no such route in world.routes")
    start = time_of(t["start"], f"{where}.start") + out.shift
    manifest = Manifest.objects.create(
        number=number, state=ManifestState.SCHEDULED.value, permit_line=line, generator=generator,
        transporter=vehicle.transporter, receiver=receiver, vehicle=vehicle, waste_code=line.waste_code,
        declared_quantity=Decimal("5"), declared_t=Decimal("5"), container_type=Manifest.Container.DRUM,
        container_count=20, physical_form=line.stream.physical_form, planned_pickup_at=start,
        expected_arrival_at=time_of(t["expected_arrival"], f"{where}.expected_arrival") + out.shift,
        route=route, corridor_width_m=int(t.get("corridor_width_m") or 500), created_by=ACTOR, scheduled_at=start,
    )  # fmt: skip
    audit.record(actor=ACTOR, action="manifest.create", obj=manifest, after=audit.snapshot(manifest))
    out.created["trips"] = out.created.get("trips", 0) + 1
    return number
