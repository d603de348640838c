"""A fleet on the road for the tracking benchmarks: vehicles with GPS devices, each on an open trip whose manifest has
a planned route, and the OsmAnd messages those devices send.

Rows are bulk-created with the minimum the foreign keys need (one generator, receiver, waste stream, permit and
permit line shared by every manifest; transporters with 20 vehicles each), deterministic from the seed. Each call
takes a `prefix` so several benchmarks can build fleets in the same database without clashing.

Routes look like planned road routes on the Eastern Seaboard: 10–50 vertices over 20–120 km, bending a little at
each vertex. Devices report every 15 s (±2 s) from a point on their route, with GPS noise of a few metres; about
3 % of the points are 1–5 km off the route (outside the 500 m corridor), a few are retransmissions of the previous
point (duplicates), and every message carries what Traccar Client sends: id, timestamp (Unix seconds), lat, lon,
speed (knots), bearing, altitude, accuracy, batt and charge.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from wastelink.manifests.models import Manifest
from wastelink.permits.models import ApplicationLine, Permit, PermitApplication, PermitLine, WasteStream
from wastelink.registry.models import Establishment, Estate, ManagementMethod, Vehicle, WasteCode
from wastelink.tracking.models import Trip

BATCH = 2_000
VEHICLES_PER_TRANSPORTER = 20
M_PER_DEG_LAT = 111_320.0


@dataclass
class Fleet:
    devices: list[str]
    trip_ids: list[int]
    routes: list[list[tuple[float, float]]]  # (lon, lat) vertices, per device
    started_at: datetime
    widths: list[int] = field(default_factory=list)


def _route(rng: random.Random) -> list[tuple[float, float]]:
    """A road-like polyline: a start near the estates, a heading, 10–50 legs that turn a little each time."""
    lon, lat = rng.uniform(100.8, 101.4), rng.uniform(12.6, 13.4)
    heading = rng.uniform(0, 2 * math.pi)
    n = rng.randint(10, 50)
    length_m = rng.uniform(20_000, 120_000)
    leg = length_m / n
    coords = [(round(lon, 6), round(lat, 6))]
    for _ in range(n):
        heading += rng.gauss(0, 0.35)
        d = leg * rng.uniform(0.5, 1.5)
        lat += d * math.cos(heading) / M_PER_DEG_LAT
        lon += d * math.sin(heading) / (M_PER_DEG_LAT * math.cos(math.radians(lat)))
        coords.append((round(lon, 6), round(lat, 6)))
    return coords


def build(prefix: str, n_devices: int, seed: int, progress=None) -> Fleet:
    """Vehicles `<prefix>00000…` with devices, each on an open trip (manifest IN_TRANSIT, planned route)."""
    rng = random.Random(f"{seed}-{prefix}")
    now = timezone.now()
    today = timezone.localdate()
    started = now - timedelta(hours=3)
    estate = Estate.objects.order_by("code").first()
    code = WasteCode.objects.filter(level="entry").order_by("code").values_list("code", flat=True).first()
    method = ManagementMethod.objects.order_by("code").values_list("code", flat=True).first()
    n_trn = math.ceil(n_devices / VEHICLES_PER_TRANSPORTER)
    with transaction.atomic():
        gen = Establishment.objects.create(
            registration_no=f"7{prefix[:1]}{seed % 10**12:012d}", name_th=f"บริษัท {prefix} ผู้ก่อกำเนิด จำกัด",
            name_en=f"{prefix} generator", estate=estate, province=estate.province if estate else "Rayong",
            lat=12.70, lon=101.15, is_generator=True)  # fmt: skip
        rcv = Establishment.objects.create(
            registration_no=f"1{prefix[:1]}{seed % 10**12:012d}", name_th=f"บริษัท {prefix} ผู้รับ จำกัด",
            name_en=f"{prefix} receiver", province="Chonburi", lat=13.2, lon=101.0, is_receiver=True)  # fmt: skip
        transporters = Establishment.objects.bulk_create([Establishment(
            registration_no=f"2{prefix[:1]}{i:012d}", name_th=f"บริษัท {prefix} ขนส่ง {i} จำกัด",
            name_en=f"{prefix} transporter {i}", province="Rayong", is_transporter=True) for i in range(n_trn)])  # fmt: skip
        stream = WasteStream.objects.create(generator=gen, waste_code_id=code, name=f"ของเสีย {code}",
                                            source_process="กระบวนการผลิต", physical_form="solid",
                                            annual_quantity_t=Decimal(100_000))  # fmt: skip
        app = PermitApplication.objects.create(reference=f"APP-{prefix}", generator=gen, estate=estate,
                                               route="estate", state="APPROVED", version=1, decided_at=now)  # fmt: skip
        line = ApplicationLine.objects.create(application=app, index=1, stream=stream, quantity_t=Decimal(100_000),
                                              method_id=method, receiver=rcv, decision="approved",
                                              approved_quantity_t=Decimal(100_000))  # fmt: skip
        permit = Permit.objects.create(number=f"KO1-{prefix}", application=app, generator=gen, estate=estate,
                                       valid_from=today - timedelta(days=30), valid_until=today + timedelta(days=330),
                                       issued_at=now - timedelta(days=30), issued_by="bench",
                                       verification_code=f"{prefix}{seed}"[:16])  # fmt: skip
        pline = PermitLine.objects.create(permit=permit, index=1, application_line=line, stream=stream,
                                          waste_code_id=code, method_id=method, receiver=rcv,
                                          approved_quantity_t=Decimal(100_000),
                                          remaining_quantity_t=Decimal(100_000))  # fmt: skip
    devices = [f"{prefix}{i:07d}" for i in range(n_devices)]
    routes = [_route(rng) for _ in range(n_devices)]
    trip_ids: list[int] = []
    for start in range(0, n_devices, BATCH):
        chunk = range(start, min(n_devices, start + BATCH))
        with transaction.atomic():
            vehicles = Vehicle.objects.bulk_create([Vehicle(
                transporter=transporters[i // VEHICLES_PER_TRANSPORTER], plate=f"{prefix}{i:06d}"[:20],
                province="ระยอง", kind="truck_10w", capacity_kg=15_000, gps_device_id=devices[i],
                hazardous_approved=True) for i in chunk])  # fmt: skip
            manifests = Manifest.objects.bulk_create([Manifest(
                number=f"MF-{prefix}-{i:07d}", state="IN_TRANSIT", permit_line=pline, generator=gen,
                transporter_id=v.transporter_id, receiver=rcv, vehicle=v, waste_code_id=code,
                declared_quantity=Decimal(5), unit="t", declared_t=Decimal(5), container_type="drum",
                container_count=20, physical_form="solid", planned_pickup_at=started - timedelta(minutes=30),
                expected_arrival_at=started + timedelta(hours=6), picked_up_at=started, created_by="bench",
                route={"type": "LineString", "coordinates": [list(c) for c in routes[i]]},
                corridor_width_m=500) for i, v in zip(chunk, vehicles, strict=True)])  # fmt: skip
            trips = Trip.objects.bulk_create([Trip(
                manifest=m, vehicle_id=m.vehicle_id, device_id=devices[i], started_at=started)
                for i, m in zip(chunk, manifests, strict=True)])  # fmt: skip
        trip_ids += [t.id for t in trips]
        if progress is not None:
            progress.advance(len(chunk))
    return Fleet(devices=devices, trip_ids=trip_ids, routes=routes, started_at=started,
                 widths=[500] * n_devices)  # fmt: skip


def _along(route: list[tuple[float, float]], frac: float) -> tuple[float, float, float]:
    """The point at a fraction of the route's vertex sequence (legs are of similar length), and the leg's bearing."""
    pos = frac * (len(route) - 1)
    k = min(int(pos), len(route) - 2)
    f = pos - k
    (x0, y0), (x1, y1) = route[k], route[k + 1]
    bearing = math.degrees(math.atan2((x1 - x0) * math.cos(math.radians(y0)), y1 - y0)) % 360
    return x0 + (x1 - x0) * f, y0 + (y1 - y0) * f, bearing


def messages(fleet: Fleet, n: int, seed: int, *, end: datetime | None = None, interval_s: float = 15.0,
             off_route: float = 0.03, duplicates: float = 0.002) -> list[dict[str, list[str]]]:  # fmt: skip
    """About `n` OsmAnd queries as `parse_qs` gives them (name → list of values), in arrival order (by time)."""
    rng = random.Random(f"{seed}-messages")
    per_device = max(1, n // len(fleet.devices))
    end = end or timezone.now() - timedelta(seconds=30)
    first = end.timestamp() - per_device * interval_s
    out: list[tuple[float, dict[str, list[str]]]] = []
    for dev, route in zip(fleet.devices, fleet.routes, strict=True):
        t = first + rng.uniform(0, interval_s)
        batt = rng.uniform(40, 100)
        prev = None
        for k in range(per_device):
            if prev is not None and rng.random() < duplicates:
                out.append((t + 1, prev))  # a retransmission of the previous point, a second later
            lon, lat, bearing = _along(route, (k + rng.random() * 0.5) / per_device)
            if rng.random() < off_route:
                d = rng.uniform(1_000, 5_000)
                lat += d / M_PER_DEG_LAT * rng.choice((-1, 1))
            lat += rng.gauss(0, 5) / M_PER_DEG_LAT
            lon += rng.gauss(0, 5) / M_PER_DEG_LAT
            batt = max(5.0, batt - rng.uniform(0, 0.05))
            msg = {"id": [dev], "timestamp": [str(int(t))], "lat": [f"{lat:.6f}"], "lon": [f"{lon:.6f}"],
                   "speed": [f"{rng.uniform(0, 45):.1f}"], "bearing": [f"{bearing:.1f}"],
                   "altitude": [f"{rng.uniform(0, 60):.1f}"], "accuracy": [f"{rng.uniform(3, 15):.1f}"],
                   "batt": [f"{batt:.1f}"], "charge": [rng.choice(("false", "true"))]}  # fmt: skip
            out.append((t, msg))
            prev = msg
            t += interval_s + rng.uniform(-2, 2)
    out.sort(key=lambda pair: pair[0])
    return [m for _t, m in out]
