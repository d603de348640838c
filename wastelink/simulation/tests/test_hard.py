"""The hard difficulty: innocent trips and incidents near the rules' thresholds, each what its label says; the
standard difficulty untouched by them."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
import shapely

from wastelink.core.detection import RULES, RuleSettings, distance_m
from wastelink.simulation.generate import (
    CLEAN_LOOKS,
    HARD_CLEAN_LOOKS,
    HARD_VARIANTS,
    VARIANTS,
    TripMaker,
    generate,
    plan_specs,
)
from wastelink.simulation.offline import evaluate, report
from wastelink.simulation.scenario import parse_scenario, parse_truth_line, scenario_dict, truth_dict
from wastelink.simulation.world import (
    SITE_RADIUS_M,
    build_world,
    synthetic_candidates,
    utm,
    zone_shapes,
)

from .conftest import HARD_TRIPS, START, by_id, draw, off_route

NEW_LOOKS = {"refuel_stop", "gate_queue", "urban_canyon", "long_red_light", "slow_climb", "late_but_ok"}
NEW_VARIANTS = {("corridor_deviation", "short"), ("unauthorised_stop", "borderline"),
                ("unauthorised_stop", "in_jam_area"), ("hot_spot_entry", "edge"), ("signal_loss", "borderline"),
                ("implausible_movement", "single"), ("wrong_destination", "short_visit")}  # fmt: skip


def _standstills(trip, below_kmh: float = 2.0) -> list[tuple[int, int]]:
    """(first, last) indices of the runs of fixes reporting under `below_kmh`, except those at the trip's ends."""
    slow = [p[3] < below_kmh for p in trip.points]
    runs, start = [], None
    for i, s in enumerate([*slow, False]):
        if s and start is None:
            start = i
        elif not s and start is not None:
            runs.append((start, i - 1))
            start = None
    return [(a, b) for a, b in runs if a > 0 and b < len(trip.points) - 1]


def _longest(trip, runs) -> tuple[int, int]:
    return max(runs, key=lambda r: trip.points[r[1]][0] - trip.points[r[0]][0])


# --- the plan ----------------------------------------------------------------------------------------------------


def test_standard_is_the_default_and_has_none_of_the_hard_cases():
    specs = plan_specs(300, random.Random(3))
    assert specs == plan_specs(300, random.Random(3), "standard")
    assert {s.look for s in specs if s.kind is None} == set(CLEAN_LOOKS)
    assert {(s.kind, s.variant) for s in specs if s.variant} == {
        (k, v) for k, vs in VARIANTS.items() for v in vs
    }
    with pytest.raises(ValueError, match="difficulty"):
        plan_specs(10, random.Random(3), "brutal")


def test_hard_adds_each_look_and_variant_as_often_as_the_standard_ones():
    specs = plan_specs(3_000, random.Random(5), "hard")
    looks = Counter(s.look for s in specs if s.kind is None)
    assert set(looks) == set(HARD_CLEAN_LOOKS) and NEW_LOOKS <= set(looks)
    assert looks[None] == 1_500 // 3  # a third of the clean trips still plain
    assert max(n for k, n in looks.items() if k) - min(n for k, n in looks.items() if k) <= 1
    kinds = Counter(s.kind for s in specs if s.kind)
    assert set(kinds) == set(RULES) and max(kinds.values()) - min(kinds.values()) <= 1
    for kind, variants in HARD_VARIANTS.items():
        counts = Counter(s.variant for s in specs if s.kind == kind)
        assert set(counts) == set(variants) and max(counts.values()) - min(counts.values()) <= 1


# --- the scenario --------------------------------------------------------------------------------------------------


def test_hard_is_deterministic_follows_the_format_and_differs_from_standard(drawn_hard):
    _, scenario, truth = drawn_hard
    _, again, again_truth = draw(11, HARD_TRIPS, "hard")
    assert scenario_dict(again) == scenario_dict(scenario)
    assert [truth_dict(t) for t in again_truth] == [truth_dict(t) for t in truth]
    _, standard, _ = draw(11, HARD_TRIPS)
    assert scenario_dict(standard)["trips"] != scenario_dict(scenario)["trips"]
    assert parse_scenario(scenario_dict(scenario)) == scenario
    assert [
        parse_truth_line(truth_dict(t), "t") for t in truth
    ] == truth  # the new looks are known to the reader
    looks = Counter(line.look for line in truth if line.clean)
    assert set(looks) == set(HARD_CLEAN_LOOKS)
    variants = {(x.kind, x.variant) for line in truth for x in line.incidents if x.variant}
    assert NEW_VARIANTS <= variants


def test_hard_incidents_are_what_their_variant_says(drawn_hard):
    _, scenario, truth = drawn_hard
    polys = zone_shapes(scenario.world)
    hot = [polys[z.id] for z in scenario.world.zones if z.kind == "hot_spot"]
    seen = Counter()
    for trip, line in by_id(scenario, truth):
        for x in line.incidents:
            pts = [p for p in trip.points if x.start <= p[0] <= x.end]
            times = np.array([p[0] for p in trip.points])
            interval = float(np.median(np.diff(times)))
            if (x.kind, x.variant) == ("corridor_deviation", "short"):
                assert 150 <= x.end - x.start <= 240  # just over the rule's 2 min
                lateral = off_route(scenario, trip)
                during = (times > x.start + 30) & (times < x.end - 30)
                assert (lateral[during] > trip.corridor_width_m).all()
                assert lateral.max() <= 1_100
                assert not (lateral[times > x.end + 60] > trip.corridor_width_m).any()  # back on the route
            elif x.kind == "unauthorised_stop" and x.variant:
                low, high = (11, 13) if x.variant == "borderline" else (12, 30)
                assert low * 60 <= x.end - x.start <= high * 60
                assert max(distance_m(x.lat, x.lon, p[1], p[2]) for p in pts) < 120  # standing
                if x.variant == "in_jam_area":  # crawling in a jam just before it pulled over
                    before = [p[3] for p in trip.points if x.start - 240 <= p[0] < x.start - 20]
                    assert before and max(before) < 22
            elif (x.kind, x.variant) == ("hot_spot_entry", "edge"):
                assert x.end - x.start <= 2.5 * interval + 30  # inside for one or two reports
                near = [p for p in trip.points if x.start - interval <= p[0] <= x.end + interval]
                xy = np.array([utm(p[2], p[1]) for p in near])
                depth = [max(h.exterior.distance(shapely.Point(*q)) for h in hot if h.distance(shapely.Point(*q)) < 1)
                         for q in xy if any(h.distance(shapely.Point(*q)) < 1 for h in hot)]  # fmt: skip
                assert all(d < 100 for d in depth)  # the edge, never deep inside
            elif (x.kind, x.variant) == ("signal_loss", "borderline"):
                assert x.start in times and x.end in times
                assert not [t for t in times if x.start < t < x.end]
                assert 11 * 60 <= x.end - x.start <= 13 * 60
            elif (x.kind, x.variant) == ("implausible_movement", "single"):
                assert x.start == x.end  # one spoofed fix
                i = int(np.flatnonzero(times == x.start)[0])
                before, fake, after = trip.points[i - 1], trip.points[i], trip.points[i + 1]
                jump = distance_m(before[1], before[2], fake[1], fake[2])
                assert 990 <= jump <= 3_030
                assert jump / (fake[0] - before[0]) * 3.6 > RuleSettings().max_speed_kmh
                assert (
                    distance_m(before[1], before[2], after[1], after[2])
                    < (after[0] - before[0]) * 95 / 3.6 + 100
                )
            elif (x.kind, x.variant) == ("wrong_destination", "short_visit"):
                assert 6 * 60 <= x.end - x.start <= 8 * 60
                others = [s for s in scenario.world.sites if s.role != "generator" and s.id != trip.to_site]
                at = [min(distance_m(p[1], p[2], s.lat, s.lon) for s in others) for p in pts]
                assert np.median(at) < SITE_RADIUS_M - 50
            else:
                continue
            seen[(x.kind, x.variant)] += 1
    assert set(seen) == NEW_VARIANTS


def test_hard_clean_trips_show_their_look_and_stay_innocent(drawn_hard):
    _, scenario, truth = drawn_hard
    sites = {s.id: s for s in scenario.world.sites}
    polys = zone_shapes(scenario.world)
    hot = [polys[z.id] for z in scenario.world.zones if z.kind == "hot_spot"]
    rest = [polys[z.id] for z in scenario.world.zones if z.kind == "rest_area"]
    grace = RuleSettings().overdue_grace_minutes * 60
    checked = Counter()
    for trip, line in by_id(scenario, truth):
        if not line.clean:
            continue
        times = np.array([p[0] for p in trip.points])
        xy = np.array([utm(p[2], p[1]) for p in trip.points])
        assert np.diff(times).max() < 10 * 60  # never silent
        assert not any(shapely.contains_xy(h, xy[:, 0], xy[:, 1]).any() for h in hot)
        assert trip.delivered_at.timestamp() < trip.expected_arrival.timestamp() + grace  # never overdue
        dest = sites[trip.to_site]
        to_dest = np.array([distance_m(p[1], p[2], dest.lat, dest.lon) for p in trip.points])
        if line.look in ("refuel_stop", "long_red_light"):
            a, b = _longest(trip, _standstills(trip))
            still = times[b] - times[a]
            low, high = (2, 9) if line.look == "refuel_stop" else (1, 7)
            # From the first fix standing to the last: under the rule's 10 min; at the pumps beside the road, or in lane.
            assert low * 60 <= still <= high * 60 + 5
            lateral = float(np.median(off_route(scenario, trip)[a : b + 1]))
            assert (15 <= lateral <= 65) if line.look == "refuel_stop" else lateral < 40
            assert not any(shapely.contains_xy(r, xy[a : b + 1, 0], xy[a : b + 1, 1]).any() for r in rest)
        elif line.look == "gate_queue":
            queued = times[to_dest <= 230][0] - times[to_dest <= 500][0]
            assert 9.5 * 60 <= queued <= 42 * 60
            for a, b in _standstills(trip):
                if to_dest[a] <= 530 and times[b] < times[to_dest <= 230][0]:  # in the queue
                    assert 200 <= to_dest[a : b + 1].min() and to_dest[a : b + 1].max() <= 530
        elif line.look == "slow_climb":
            runs, start = [], None
            for i, kmh in enumerate([*(p[3] for p in trip.points), 99.0]):
                if kmh <= 28 and start is None:
                    start = i
                elif kmh > 28 and start is not None:
                    runs.append((start, i - 1))
                    start = None
            a, b = _longest(trip, [(a, b) for a, b in runs if a > 0 and b < len(times) - 1])
            run = trip.points[a : b + 1]
            metres = sum(distance_m(*p[1:3], *q[1:3]) for p, q in zip(run, run[1:], strict=False))
            # 10 min or more (from the fix before the run to the one after it) at a climbing truck's pace
            assert times[b + 1] - times[a - 1] >= 10 * 60 and 10 <= metres / (times[b] - times[a]) * 3.6 <= 26
        elif line.look == "late_but_ok":
            arrived = times[to_dest <= 250][0]
            assert trip.expected_arrival.timestamp() < arrived
            assert trip.delivered_at.timestamp() <= trip.expected_arrival.timestamp() + grace - 60
        elif line.look != "urban_canyon":
            continue
        checked[line.look] += 1
    assert set(checked) == NEW_LOOKS


def test_a_multipath_burst_moves_three_to_six_fixes_60_to_250_m_within_90_s():
    maker = TripMaker.__new__(TripMaker)
    for spacing, most in ((10, 6), (25, 4), (60, 2)):
        for seed in range(20):
            rng = random.Random(seed)
            fixes = [[1_000 + k * spacing, 0.0, 0.0, 50.0] for k in range(40)]
            maker._multipath(fixes, 1_000 + 10 * spacing, np.array([0.0, 1.0]) if seed % 2 else None, rng)
            moved = [(f[0], float(np.hypot(f[1], f[2]))) for f in fixes if f[1] or f[2]]
            assert 1 <= len(moved) <= most and (spacing > 25 or len(moved) >= 3)
            assert moved[-1][0] - moved[0][0] < 90
            assert all(60 <= m <= 250.001 for _, m in moved)
            assert [t for t, _ in moved] == [1_000 + k * spacing for k in range(10, 10 + len(moved))]
            if seed % 2:  # near the corridor's edge: pushed outwards (+y here)
                assert all(f[2] > 0 for f in fixes if f[1] or f[2])


def test_late_but_ok_follows_the_scenario_grace():
    rng = random.Random("world:5")
    built = build_world(synthetic_candidates(rng, vehicles=6), rng)
    scenario, truth = generate(built, trips=60, seed=5, start=START, difficulty="hard",
                               settings={"overdue_grace_minutes": 30})  # fmt: skip
    trips = {t.id: t for t in scenario.trips}
    late = [trips[line.trip] for line in truth if line.look == "late_but_ok"]
    assert late
    for t in late:
        assert t.delivered_at.timestamp() <= t.expected_arrival.timestamp() + 29 * 60
    for line in truth:
        for x in line.incidents:
            if x.kind == "overdue":
                assert x.start == trips[line.trip].expected_arrival.timestamp() + 30 * 60


def test_the_offline_check_reports_the_hard_cases(drawn_hard):
    _, scenario, truth = drawn_hard
    result = evaluate(scenario, truth)
    assert result.looks.keys() == set(HARD_CLEAN_LOOKS)
    for kind in RULES:
        assert result.detected[kind] >= 0.8 * result.incidents[kind], kind
    text = report(result)
    assert "corridor_deviation / short" in text and "corridor_deviation / standard" in text
    assert "unauthorised_stop / in_jam_area" in text and "implausible_movement / single" in text
