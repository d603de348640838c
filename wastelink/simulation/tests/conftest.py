"""A small synthetic world and scenario, drawn once per test session (no database needed)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest
import shapely

from wastelink.simulation.generate import generate
from wastelink.simulation.world import RouteLine, build_world, synthetic_candidates, utm

START = datetime(2025, 6, 2, tzinfo=UTC)
TRIPS = 70  # five incidents of every kind, both variants of each kind that has them


HARD_TRIPS = 90  # three of every hard look, two or more of every variant


def draw(seed: int, trips: int = TRIPS, difficulty: str = "standard"):
    rng = random.Random(f"world:{seed}")
    built = build_world(synthetic_candidates(rng, vehicles=10), rng)
    scenario, truth = generate(built, trips=trips, seed=seed, start=START, difficulty=difficulty)
    return built, scenario, truth


def by_id(scenario, truth):
    """(trip, its truth line) for every truth line."""
    trips = {t.id: t for t in scenario.trips}
    return [(trips[line.trip], line) for line in truth]


def off_route(scenario, trip) -> np.ndarray:
    """Each fix's distance from the trip's planned route, in metres."""
    line = RouteLine.from_geojson(scenario.world.route(trip.route).geometry)
    xy = np.array([utm(p[2], p[1]) for p in trip.points])
    return shapely.distance(line.line, shapely.points(xy[:, 0], xy[:, 1]))


@pytest.fixture(scope="session")
def drawn():
    return draw(11)


@pytest.fixture(scope="session")
def drawn_hard():
    return draw(11, HARD_TRIPS, "hard")
