"""The generator: deterministic, every incident kind present, truth consistent with the points, clean trips that
only look suspicious, realistic fixes."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime

import numpy as np
import shapely

from wastelink.core.detection import RULES, distance_m
from wastelink.simulation.scenario import parse_scenario, scenario_dict, truth_dict
from wastelink.simulation.world import SITE_RADIUS_M, utm, zone_shapes

from .conftest import by_id, draw, off_route


def test_the_same_seed_draws_the_same_scenario_and_another_seed_another(drawn):
    _, scenario, truth = drawn
    _, again, again_truth = draw(11)
    assert scenario_dict(again) == scenario_dict(scenario)
    assert [truth_dict(t) for t in again_truth] == [truth_dict(t) for t in truth]
    _, other, _ = draw(12)
    assert scenario_dict(other)["trips"] != scenario_dict(scenario)["trips"]


def test_the_scenario_follows_the_format(drawn):
    _, scenario, truth = drawn
    assert parse_scenario(scenario_dict(scenario)) == scenario  # every check of the reader passes
    assert [t.id for t in scenario.trips] == [line.trip for line in truth]
    devices = {v.id: v.device_id for v in scenario.world.vehicles}
    assert all(devices[t.vehicle] == line.device_id for t, line in by_id(scenario, truth))


def test_every_incident_kind_in_equal_numbers_and_about_half_the_trips_clean(drawn):
    _, _, truth = drawn
    kinds = Counter(x.kind for line in truth for x in line.incidents)
    assert set(kinds) == set(RULES)
    assert max(kinds.values()) - min(kinds.values()) <= 1
    assert all(len(line.incidents) <= 1 for line in truth)
    variants = Counter((x.kind, x.variant) for line in truth for x in line.incidents if x.variant)
    assert set(variants) == {("wrong_destination", "facility"), ("wrong_destination", "claim"),
                             ("signal_loss", "far"), ("signal_loss", "near")}  # fmt: skip
    clean = [line for line in truth if line.clean]
    assert len(clean) == len(truth) - len(truth) // 2
    looks = {None, "traffic_jam", "rest_stop", "edge_noise", "short_gap"}
    assert Counter(line.look for line in clean).keys() == looks


def test_trips_wait_at_the_origin_and_sit_at_the_destination_until_delivered(drawn):
    _, scenario, truth = drawn
    sites = {s.id: s for s in scenario.world.sites}
    for trip, line in by_id(scenario, truth):
        if not line.clean:
            continue
        origin, dest = sites[trip.from_site], sites[trip.to_site]
        first, last = trip.points[0], trip.points[-1]
        assert distance_m(first[1], first[2], origin.lat, origin.lon) < 150
        assert distance_m(last[1], last[2], dest.lat, dest.lon) < 150
        assert last[0] <= trip.delivered_at.timestamp() < last[0] + 120
        # Never late: delivered at least 15 min before the default grace of 60 min runs out.
        assert trip.delivered_at.timestamp() <= trip.expected_arrival.timestamp() + 45 * 60


def test_signal_loss_truth_matches_a_real_silence(drawn):
    _, scenario, truth = drawn
    for trip, line in by_id(scenario, truth):
        for x in line.incidents:
            if x.kind != "signal_loss":
                continue
            times = [p[0] for p in trip.points]
            assert x.start in times and x.end in times
            assert not [t for t in times if x.start < t < x.end]
            assert 15 * 60 <= x.end - x.start <= 40 * 60
            before = next(p for p in trip.points if p[0] == x.start)
            after = next(p for p in trip.points if p[0] == x.end)
            gone = distance_m(before[1], before[2], after[1], after[2])
            assert gone > 3_000 if x.variant == "far" else 400 <= gone <= 1_800
            assert (x.lat, x.lon) == (before[1], before[2])


def test_spoofed_fixes_are_far_away_and_the_track_comes_back(drawn):
    _, scenario, truth = drawn
    for trip, line in by_id(scenario, truth):
        for x in line.incidents:
            if x.kind != "implausible_movement":
                continue
            pts = trip.points
            first = next(i for i, p in enumerate(pts) if p[0] == x.start)
            last = next(i for i, p in enumerate(pts) if p[0] == x.end)
            assert 1 <= last - first + 1 <= 3
            before, after = pts[first - 1], pts[last + 1]
            for p in pts[first : last + 1]:
                assert 5_000 <= distance_m(before[1], before[2], p[1], p[2]) <= 51_000
            # Back on the real track: no farther from the fix before than a truck drives in the time between.
            assert (
                distance_m(before[1], before[2], after[1], after[2]) < (after[0] - before[0]) * 95 / 3.6 + 100
            )
            assert (x.lat, x.lon) == (pts[first][1], pts[first][2])


def test_deviations_leave_the_corridor_by_kilometres_for_5_to_15_minutes(drawn):
    _, scenario, truth = drawn
    for trip, line in by_id(scenario, truth):
        for x in line.incidents:
            if x.kind != "corridor_deviation":
                continue
            assert 5 * 60 <= x.end - x.start <= 15 * 60
            lateral = off_route(scenario, trip)
            during = np.array([p[0] for p in trip.points])
            inside = (during > x.start + 30) & (during < x.end - 30)
            assert inside.any() and (lateral[inside] > trip.corridor_width_m).all()
            assert 1_400 <= lateral.max() <= 4_100
            outside_after = lateral[during > x.end + 60] > trip.corridor_width_m
            assert not outside_after.any()  # back on the route


def test_stops_visits_and_claims_are_where_the_truth_says(drawn):
    _, scenario, truth = drawn
    sites = {s.id: s for s in scenario.world.sites}
    polys = zone_shapes(scenario.world)
    seen = Counter()
    for trip, line in by_id(scenario, truth):
        for x in line.incidents:
            pts = [p for p in trip.points if x.start <= p[0] <= x.end]
            if x.kind == "unauthorised_stop":
                assert 15 * 60 <= x.end - x.start <= 40 * 60
                # Standing still, give or take the GPS noise.
                assert max(distance_m(x.lat, x.lon, p[1], p[2]) for p in pts) < 120
            elif x.kind == "hot_spot_entry":
                xy = np.array([utm(p[2], p[1]) for p in pts])
                assert any(shapely.contains_xy(poly, xy[:, 0], xy[:, 1]).any()
                           for z, poly in polys.items() if z in {z.id for z in scenario.world.zones if z.kind == "hot_spot"})  # fmt: skip
                assert x.end - x.start < 10 * 60
            elif x.kind == "wrong_destination" and x.variant == "facility":
                assert 10 * 60 <= x.end - x.start <= 35 * 60
                others = [s for s in scenario.world.sites if s.role != "generator" and s.id != trip.to_site]
                at = [min(distance_m(p[1], p[2], s.lat, s.lon) for s in others) for p in pts]
                assert np.median(at) < SITE_RADIUS_M - 50
            elif x.kind == "wrong_destination":
                assert (
                    x.start == x.end == trip.delivered_at.timestamp() == trip.points[-1][0]
                    or trip.delivered_at.timestamp() - trip.points[-1][0] < 120
                )
                dest = sites[trip.to_site]
                assert distance_m(trip.points[-1][1], trip.points[-1][2], dest.lat, dest.lon) >= 2_000
            elif x.kind == "overdue":
                assert x.start == trip.expected_arrival.timestamp() + 60 * 60  # the default grace
                dest = sites[trip.to_site]
                arrived = next(
                    p[0] for p in trip.points if distance_m(p[1], p[2], dest.lat, dest.lon) < SITE_RADIUS_M
                )
                assert arrived >= x.start + 15 * 60
                assert x.end == trip.delivered_at.timestamp()
            seen[x.kind] += 1
    assert len(seen) == len(RULES)


def test_clean_trips_show_their_look(drawn):
    _, scenario, truth = drawn
    polys = zone_shapes(scenario.world)
    rest = [polys[z.id] for z in scenario.world.zones if z.kind == "rest_area"]
    checked = Counter()
    for trip, line in by_id(scenario, truth):
        if not line.clean:
            continue
        gaps = np.diff([p[0] for p in trip.points])
        assert gaps.max() < 10 * 60  # no clean trip goes silent
        if line.look == "edge_noise":
            lateral = off_route(scenario, trip)
            assert 340 <= lateral.max() and (lateral > trip.corridor_width_m).sum() <= 1
        elif line.look == "rest_stop":
            xy = np.array([utm(p[2], p[1]) for p in trip.points])
            inside = np.array([p[0] for p in trip.points])[
                np.any([shapely.contains_xy(r, xy[:, 0], xy[:, 1]) for r in rest], axis=0)
            ]
            assert 14 * 60 <= inside.max() - inside.min() <= 31 * 60
        elif line.look == "traffic_jam":
            speeds = np.array([p[3] for p in trip.points])
            times = np.array([p[0] for p in trip.points])
            slow = times[(speeds < 20)]
            assert len(slow) and _never_still(trip.points, exclude_ends=True)
        elif line.look == "short_gap":
            assert 2 * 60 <= gaps.max() <= 5.5 * 60
        checked[line.look] += 1
    assert set(checked) == {None, "edge_noise", "rest_stop", "traffic_jam", "short_gap"}


def _never_still(points, exclude_ends: bool) -> bool:
    """No stretch of 8 minutes away from the trip's ends in which the truck stays within 150 m."""
    t = np.array([p[0] for p in points])
    xy = np.array([utm(p[2], p[1]) for p in points])
    moving = np.flatnonzero(np.array([p[3] for p in points]) > 20)
    lo, hi = (t[moving[0]], t[moving[-1]]) if exclude_ends else (t[0], t[-1])
    for i in np.flatnonzero((t >= lo) & (t <= hi - 8 * 60)):
        j = np.searchsorted(t, t[i] + 8 * 60)
        if np.hypot(*(xy[i : j + 1] - xy[i]).T).max() < 150:
            return False
    return True


def test_fixes_are_realistic(drawn):
    _, scenario, truth = drawn
    spoofed = {(line.trip, p) for line in truth for x in line.incidents if x.kind == "implausible_movement"
               for p in range(x.start, x.end + 1)}  # fmt: skip
    intervals = {}
    for trip in scenario.trips:
        pts = trip.points
        times = [p[0] for p in pts]
        assert times == sorted(set(times))
        assert max(p[3] for p in pts) <= 95
        for a, b in zip(pts, pts[1:], strict=False):
            if (trip.id, a[0]) in spoofed or (trip.id, b[0]) in spoofed:
                continue
            kmh = distance_m(a[1], a[2], b[1], b[2]) / (b[0] - a[0]) * 3.6
            assert kmh < 130, (trip.id, a, b)
        intervals.setdefault(trip.vehicle, []).extend(np.diff(times).tolist())
    medians = [float(np.median(v)) for v in intervals.values()]
    assert all(9 <= m <= 66 for m in medians)
    assert max(medians) - min(medians) > 10  # each device its own interval
    sigma = []
    for trip in scenario.trips:  # noise while standing at the origin
        still = [p for p in trip.points if p[3] < 1][:20]
        if len(still) >= 10:
            centre = np.mean([[p[1], p[2]] for p in still], axis=0)
            sigma.append(np.median([distance_m(centre[0], centre[1], p[1], p[2]) for p in still]))
    assert 2 <= np.median(sigma) <= 25


def test_clean_trips_never_enter_hot_spots_or_linger_at_other_facilities(drawn):
    _, scenario, truth = drawn
    polys = zone_shapes(scenario.world)
    hot = [polys[z.id] for z in scenario.world.zones if z.kind == "hot_spot"]
    for trip, line in by_id(scenario, truth):
        if not line.clean:
            continue
        xy = np.array([utm(p[2], p[1]) for p in trip.points])
        assert not any(shapely.contains_xy(h, xy[:, 0], xy[:, 1]).any() for h in hot)
        for s in scenario.world.sites:
            if s.role != "generator" and s.id != trip.to_site:
                near = [p[0] for p in trip.points if distance_m(p[1], p[2], s.lat, s.lon) <= SITE_RADIUS_M]
                assert not near or near[-1] - near[0] < 3 * 60


def test_pickups_fall_in_working_hours(drawn):
    _, scenario, _ = drawn
    hours = [(t.start.timestamp() + 7 * 3600) % 86_400 / 3600 for t in scenario.trips]
    assert all(6 <= h < 19.8 for h in hours)
    assert scenario.trips[0].start >= datetime(2025, 6, 2, tzinfo=UTC)
    assert not math.isnan(sum(hours))
