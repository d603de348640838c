"""A small synthetic world and scenario, drawn once per test session (no database needed)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from wastelink.simulation.generate import generate
from wastelink.simulation.world import build_world, synthetic_candidates

START = datetime(2025, 6, 2, tzinfo=UTC)
TRIPS = 70  # five incidents of every kind, both variants of each kind that has them


HARD_TRIPS = 90  # three of every hard look, two or more of every variant


def draw(seed: int, trips: int = TRIPS, difficulty: str = "standard"):
    rng = random.Random(f"world:{seed}")
    built = build_world(synthetic_candidates(rng, vehicles=10), rng)
    scenario, truth = generate(built, trips=trips, seed=seed, start=START, difficulty=difficulty)
    return built, scenario, truth


@pytest.fixture(scope="session")
def drawn():
    return draw(11)


@pytest.fixture(scope="session")
def drawn_hard():
    return draw(11, HARD_TRIPS, "hard")
