"""Worlds: road-like routes of 5–60 km, hot spots beside one route and clear of the others, and a world built from
the registry's establishments and vehicles."""

from __future__ import annotations

import random

import numpy as np
import pytest

from wastelink.core.detection import distance_m
from wastelink.registry.models import Establishment, Vehicle
from wastelink.simulation.world import (
    HOT_SPOT_OTHER_ROUTES_M,
    RouteLine,
    build_world,
    database_candidates,
    utm,
    zone_shapes,
)


def test_routes_are_road_like_and_5_to_60_km(drawn):
    built, _, _ = drawn
    sites = {s.id: s for s in built.world.sites}
    assert len(built.world.routes) >= 10
    for r in built.world.routes:
        line = RouteLine.from_geojson(r.geometry)
        a, b = sites[r.from_site], sites[r.to_site]
        straight = distance_m(a.lat, a.lon, b.lat, b.lon)
        assert 5_000 <= line.length <= 60_000
        assert line.length > 1.04 * straight  # bends and corners, not a ruler line
        assert line.line.is_simple
        assert distance_m(a.lat, a.lon, *r.geometry["coordinates"][0][::-1]) < 1
        assert distance_m(b.lat, b.lon, *r.geometry["coordinates"][-1][::-1]) < 1
    corners = sum(_turns(RouteLine.from_geojson(r.geometry)) for r in built.world.routes)
    assert corners >= len(built.world.routes)  # right-angled junctions on the way


def _turns(line: RouteLine) -> int:
    seg = np.diff(line.xy, axis=0)
    heading = np.arctan2(seg[:, 1], seg[:, 0])
    turn = np.degrees(np.abs((np.diff(heading) + np.pi) % (2 * np.pi) - np.pi))
    return int((turn > 60).sum())


def test_hot_spots_sit_beside_one_route_inside_its_corridor_and_clear_of_the_others(drawn):
    built, _, _ = drawn
    polys = zone_shapes(built.world)
    lines = {r.id: RouteLine.from_geojson(r.geometry) for r in built.world.routes}
    hot = [z for z in built.world.zones if z.kind == "hot_spot"]
    assert len(hot) >= 2 and any(z.kind == "rest_area" for z in built.world.zones)
    for z in hot:
        distances = sorted(line.line.distance(polys[z.id]) for line in lines.values())
        assert 150 <= distances[0] <= 300  # beside its route: a short detour, inside the 500 m corridor
        assert distances[1] >= HOT_SPOT_OTHER_ROUTES_M
    for z in built.world.zones:
        for s in built.world.sites:
            x, y = utm(s.lon, s.lat)
            assert polys[z.id].centroid.distance(__import__("shapely").Point(x, y)) >= 900


def test_facilities_stand_beside_some_routes(drawn):
    built, _, _ = drawn
    beside = 0
    for r in built.world.routes:
        line = RouteLine.from_geojson(r.geometry)
        for s in built.world.sites:
            if (
                s.role != "generator"
                and s.id != r.to_site
                and 430 <= line.distance(*utm(s.lon, s.lat)) <= 520
            ):
                beside += 1
    assert beside >= 2


@pytest.mark.django_db
def test_a_world_from_the_registry(world):
    """Establishments with locations and a transporter's vehicles; without permit lines every pair is allowed,
    with a warning that the scenario will not load."""
    near_mtp = [(12.70, 101.10), (12.76, 101.16), (12.93, 101.05)]
    for i, (lat, lon) in enumerate(near_mtp):
        Establishment.objects.create(registration_no=f"7200000000010{i}", name_th=f"โรงงาน {i}", name_en=f"Plant {i}",
                                     lat=lat, lon=lon, is_generator=True)  # fmt: skip
    world.receiver.lat, world.receiver.lon = 12.85, 101.20
    world.receiver.save()
    for i in range(4):
        Vehicle.objects.create(transporter=world.transporter, plate=f"70{1000 + i}", province="ระยอง", kind="truck_10w",
                               capacity_kg=10_000, gps_device_id=f"dev-{i}")  # fmt: skip
    Vehicle.objects.create(transporter=world.transporter, plate="709999", province="ระยอง", kind="truck_10w",
                           capacity_kg=10_000, gps_device_id=None)  # fmt: skip
    rng = random.Random(1)
    candidates = database_candidates(rng, vehicles=3)
    assert any("permit lines" in w for w in candidates.warnings)
    assert {v.device_id for v in candidates.vehicles} <= {f"dev-{i}" for i in range(4)}
    assert len(candidates.vehicles) == 3
    assert all(v.transporter == world.transporter.registration_no for v in candidates.vehicles)
    built = build_world(candidates, rng)
    regs = {s.registration for s in built.world.sites}
    assert world.receiver.registration_no in regs
    assert {s.role for s in built.world.sites} >= {"generator", "receiver"}
    assert all(s.registration for s in built.world.sites if s.role == "generator")


@pytest.mark.django_db
def test_an_empty_registry_is_refused_with_advice():
    with pytest.raises(ValueError, match="--world-from none"):
        database_candidates(random.Random(1), vehicles=3)
