"""The illegal-dumping rules (core/detection.py) on hand-made tracks.

Tracks are fixes every 30 s near Map Ta Phut (12.7 N, 101.1 E), laid out in metres east/north of a reference point
and converted on the same sphere the rules measure on, so distances in a test are the distances the rules see.
A truck at 60 km/h moves 500 m between fixes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wastelink.core.detection import (
    CORRIDOR_DEVIATION,
    FACILITY,
    HOT_SPOT,
    HOT_SPOT_ENTRY,
    IMPLAUSIBLE_MOVEMENT,
    OVERDUE,
    REST_AREA,
    RULES,
    SIGNAL_LOSS,
    SITE,
    UNAUTHORISED_STOP,
    WRONG_DESTINATION,
    Detector,
    Firing,
    Observation,
    Place,
    RuleSettings,
    TripPlan,
    Zone,
    distance_m,
)

T0 = datetime(2025, 11, 28, 1, 0, tzinfo=UTC)  # 08:00 in Bangkok
LAT0, LON0 = 12.70, 101.10
M_PER_DEG = 6_371_008.8 * math.pi / 180  # metres per degree of latitude on the rules' sphere


def pos(east_m: float = 0.0, north_m: float = 0.0) -> tuple[float, float]:
    return LAT0 + north_m / M_PER_DEG, LON0 + east_m / (M_PER_DEG * math.cos(math.radians(LAT0)))


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


ORIGIN = Place("site:1", *pos(0, 0))
DEST = Place("site:2", *pos(12_000, 0))
HOT = Zone(HOT_SPOT, "fence:9", "old quarry")
REST = Zone(REST_AREA, "fence:7", "Route 36 rest area")

PerFix = Any  # a value, or a function of the fix's second


def _at(value: PerFix, s: int) -> Any:
    return value(s) if callable(value) else value


def fix(s: float, east_m: float = 0.0, north_m: float = 0.0, *, inside: bool | None = None,
        zones: Iterable[Zone] = ()) -> Observation:  # fmt: skip
    lat, lon = pos(east_m, north_m)
    return Observation(t(s), lat, lon, in_corridor=inside, zones=tuple(zones))


def drive(start_s: int, end_s: int, *, kmh: float = 60.0, east0: float = 0.0, north_m: float = 0.0,
          inside: PerFix = None, zones: PerFix = (), step: int = 30) -> list[Observation]:  # fmt: skip
    """Due east at a steady speed, a fix every `step` seconds from start_s to end_s inclusive."""
    return [fix(s, east0 + kmh / 3.6 * (s - start_s), north_m, inside=_at(inside, s), zones=_at(zones, s))
            for s in range(start_s, end_s + 1, step)]  # fmt: skip


def park(start_s: int, end_s: int, east_m: float, north_m: float = 0.0, *, jitter_m: float = 15.0,
         inside: PerFix = None, zones: PerFix = (), step: int = 30) -> list[Observation]:  # fmt: skip
    """Standing still with GPS jitter of up to `jitter_m` (deterministic)."""
    return [fix(s, east_m + jitter_m * math.sin(s), north_m + jitter_m * math.cos(1.7 * s), inside=_at(inside, s),
                zones=_at(zones, s)) for s in range(start_s, end_s + 1, step)]  # fmt: skip


def plan(trip_id: int = 1, **over: Any) -> TripPlan:
    values: dict[str, Any] = {"started_at": T0, "origin": ORIGIN, "destination": DEST}
    values.update(over)
    return TripPlan(trip_id, **values)


def run(fixes: Iterable[Observation], *, trip: TripPlan | None = None, det: Detector | None = None,
        settings: RuleSettings | None = None) -> list[Firing]:  # fmt: skip
    det = det or Detector(settings)
    trip = trip or plan()
    det.open(trip)
    out: list[Firing] = []
    for o in fixes:
        out += det.observe(trip.trip_id, o)
    return out


def of(firings: Iterable[Firing], rule: str, *, updates: bool = False) -> list[Firing]:
    return [f for f in firings if f.rule == rule and f.update == updates]


# --- corridor deviation -----------------------------------------------------------------------------------------


def test_corridor_deviation_fires_after_two_minutes_outside_and_its_episode_starts_at_the_midpoint():
    # Inside until 300 s, outside from 330 s: the deviation began at 315 s, two minutes later is 435 s, so the first
    # fix that has been outside long enough is the one at 450 s.
    fixes = drive(0, 900, inside=lambda s: s <= 300)
    fired = of(run(fixes), CORRIDOR_DEVIATION)
    assert len(fired) == 1
    f = fired[0]
    assert f.episode == t(315) and f.fired_at == t(450)
    assert f.facts["points_outside"] == 5  # 330, 360, 390, 420, 450
    assert (f.lat, f.lon) == (fixes[15].lat, fixes[15].lon)  # where the firing fix was
    assert f.severity == "medium" and not f.update


def test_corridor_deviation_needs_two_points_even_when_one_fix_spans_the_time():
    # Fixes 5 minutes apart: the spell is back-dated by at most a minute (a silence says nothing of when it began),
    # so the first outside fix lies 1 min into it; the next, 30 s later, is 1.5 min in; the third fires at 2 min.
    fixes = [fix(0, 0, inside=True), fix(300, 5_000, inside=False), fix(330, 5_500, inside=True)]
    assert of(run(fixes), CORRIDOR_DEVIATION) == []
    fixes = [fix(0, 0, inside=True), fix(300, 5_000, inside=False), fix(330, 5_500, inside=False)]
    assert of(run(fixes), CORRIDOR_DEVIATION) == []
    fixes.append(fix(360, 6_000, inside=False))
    fired = of(run(fixes), CORRIDOR_DEVIATION)
    assert [(f.episode, f.fired_at) for f in fired] == [(t(240), t(360))]


def test_one_noisy_fix_outside_the_corridor_is_not_a_deviation():
    fixes = drive(0, 1800, inside=lambda s: s != 600)
    assert of(run(fixes), CORRIDOR_DEVIATION) == []


def test_a_long_deviation_raises_one_alert():
    fixes = drive(0, 2400, inside=lambda s: s <= 300)  # outside for 35 minutes
    assert len(of(run(fixes), CORRIDOR_DEVIATION)) == 1


def test_a_second_excursion_after_returning_is_a_new_episode():
    fixes = drive(0, 1500, inside=lambda s: not (330 <= s <= 600 or 930 <= s <= 1200))
    fired = of(run(fixes), CORRIDOR_DEVIATION)
    assert [(f.episode, f.fired_at) for f in fired] == [(t(315), t(450)), (t(915), t(1050))]


def test_a_trip_without_a_planned_route_is_never_judged_by_the_corridor():
    assert of(run(drive(0, 1800, inside=None)), CORRIDOR_DEVIATION) == []


# --- unauthorised stop ------------------------------------------------------------------------------------------


def drive_then_park(park_east: float, park_north: float = 0.0, *, minutes: int = 20, zones: PerFix = ()):
    """Drive east from the origin at 60 km/h, stopping short (≥ 300 m) of the parking point, then stand there.
    Returns the fixes and the second of the first parked fix."""
    n = int((park_east - 300) // 500)
    fixes = [fix(30 * k, 500 * k) for k in range(n + 1)]
    s0 = 30 * (n + 1)
    return fixes + park(s0, s0 + minutes * 60, park_east, park_north, zones=zones), s0


def test_unauthorised_stop_fires_after_ten_minutes_within_200_m():
    fixes, s0 = drive_then_park(6_000)
    fired = of(run(fixes), UNAUTHORISED_STOP)
    assert len(fired) == 1
    f = fired[0]
    # The stop began between the last moving fix and the first parked one; ten minutes later is s0 + 585 s,
    # so the fix at s0 + 600 s fires.
    assert f.episode == t(s0 - 15) and f.fired_at == t(s0 + 600)
    assert distance_m(f.lat, f.lon, *pos(6_000)) < 20  # reported where the stop began
    assert f.severity == "high"


def test_a_stop_of_nine_minutes_does_not_fire():
    fixes, s0 = drive_then_park(6_000, minutes=9)
    fixes += drive(s0 + 570, s0 + 1200, east0=6_500)
    assert of(run(fixes), UNAUTHORISED_STOP) == []


@pytest.mark.parametrize(
    ("where", "park_at", "zones", "fires"),
    [
        ("at the origin, by distance", (50, 0), (), False),
        ("at the destination, by distance", (12_000 - 150, 0), (), False),
        (
            "at the destination, by its zone",
            (12_000 - 250, 0),
            (Zone(SITE, "site:2", "Delta Recycling"),),
            False,
        ),
        ("in a rest area", (6_000, 0), (REST,), False),
        ("near the destination, in its queue (within the delivery radius)", (12_000 - 450, 0), (), False),
        ("near the destination, outside its zone and the delivery radius", (12_000 - 600, 0), (), True),
        ("at another site", (6_000, 0), (Zone(SITE, "site:5", "someone else"),), True),
    ],
)
def test_stops_at_the_origin_destination_or_a_rest_area_are_excused(where, park_at, zones, fires):
    fixes, _ = drive_then_park(*park_at, zones=zones)
    assert bool(of(run(fixes), UNAUTHORISED_STOP)) is fires, where


def test_a_stop_is_measured_from_where_the_truck_stands_not_from_a_fix_rolling_in():
    """A fix taken 180 m short while rolling in, then a 50 m GPS outlier the other way: still one stop, from the
    standstill, fired once after ten minutes of it."""
    fixes = drive(0, 270) + [fix(300, 5_000 - 180)] + park(330, 1_500, 5_000)
    fixes[fixes.index(next(f for f in fixes if f.fix_time == t(720)))] = fix(720, 5_050)  # the outlier
    fired = of(run(fixes), UNAUTHORISED_STOP)
    assert len(fired) == 1
    assert t(285) <= fired[0].episode <= t(360) and fired[0].fired_at <= t(360 + 600 + 30)


def test_a_stop_inside_another_facility_is_judged_as_a_wrong_destination_only():
    other = Zone(FACILITY, "site:8", "another plant")
    fixes = drive(0, 300) + park(330, 1_800, 5_000, zones=(other,))
    fired = run(fixes)
    assert [f.rule for f in fired] == [WRONG_DESTINATION]


def test_a_stop_after_a_silence_is_not_back_dated_into_the_silence():
    """Twenty minutes without fixes, then the truck stands 4 km on: the stop starts at most a minute before its
    first fix, not halfway through the silence."""
    fixes = drive(0, 300) + park(1_500, 2_010, 9_000)
    assert of(run(fixes), UNAUTHORISED_STOP) == []  # counted from 1,440 s: not ten minutes until 2,040 s
    fired = of(run(drive(0, 300) + park(1_500, 2_040, 9_000)), UNAUTHORISED_STOP)
    assert [(f.episode, f.fired_at) for f in fired] == [(t(1_440), t(2_040))]


def test_spoofed_fixes_are_not_judged_until_the_track_is_back_within_reach():
    """Three spoofed fixes 20 km away (plausible among themselves): no deviation, stop or hot spot from them."""
    far = [fix(s, 2_000 + 20_000, 0, inside=False, zones=(HOT,)) for s in (330, 360, 390)]
    fixes = drive(0, 300, inside=True) + far + drive(420, 900, east0=2_000 + 60 / 3.6 * 120, inside=True)
    fired = run(fixes)
    assert {f.rule for f in fired} == {IMPLAUSIBLE_MOVEMENT}


def test_a_slow_crawl_at_3_kmh_is_not_a_stop():
    fixes = drive(0, 300) + drive(330, 330 + 40 * 60, kmh=3.0, east0=5_000)  # 40 minutes in a queue
    assert of(run(fixes), UNAUTHORISED_STOP) == []


# --- hot-spot entry ---------------------------------------------------------------------------------------------


def hot_when(*spans: tuple[int, int]) -> Callable[[int], tuple[Zone, ...]]:
    return lambda s: (HOT,) if any(a <= s <= b for a, b in spans) else ()


def test_hot_spot_entry_fires_on_entry_once_per_episode():
    fixes = drive(0, 900, kmh=20, zones=hot_when((300, 420)))
    fired = of(run(fixes), HOT_SPOT_ENTRY)
    assert [(f.episode, f.fired_at) for f in fired] == [(t(300), t(300))]
    assert fired[0].facts["zone"] == "fence:9" and fired[0].severity == "high"


def test_hot_spot_reentry_within_five_minutes_is_the_same_episode_and_after_five_a_new_one():
    # In 300–420; out for 3.5 min; back at 630 (same episode). Out from 660 for more than 5 min; back at 1050.
    fixes = drive(0, 1200, kmh=20, zones=hot_when((300, 420), (630, 630), (1050, 1110)))
    fired = of(run(fixes), HOT_SPOT_ENTRY)
    assert [(f.episode, f.fired_at) for f in fired] == [(t(300), t(300)), (t(1050), t(1050))]


# --- signal loss ------------------------------------------------------------------------------------------------


def test_signal_loss_fires_when_the_clock_of_other_trips_passes_ten_minutes():
    det = Detector()
    det.open(plan(1))
    det.open(plan(2))
    silent = drive(0, 300)  # trip 1 goes quiet after 300 s
    talking = drive(0, 1800, north_m=2_000)
    seen: list[tuple[datetime, Firing]] = []
    for s in range(0, 1801, 30):
        for trip_id, track in ((1, silent), (2, talking)):
            for o in track:
                if o.fix_time == t(s):
                    seen += [(t(s), f) for f in det.observe(trip_id, o)]
        seen += [(t(s), f) for f in det.advance(t(s))]
    losses = [(clock, f) for clock, f in seen if f.rule == SIGNAL_LOSS]
    assert len(losses) == 1
    clock, f = losses[0]
    assert f.trip_id == 1 and f.episode == t(300) and f.fired_at == t(900) and not f.update
    assert clock == t(900)  # raised as soon as the platform's clock said so, not when trip 1 came back
    assert f.severity == "medium"


def test_signal_loss_fires_on_reappearance_when_no_clock_passed():
    fixes = drive(0, 300) + drive(1500, 1800, east0=5_050)  # back 20 minutes later, 50 m on
    fired = run(fixes)
    assert [(f.episode, f.fired_at) for f in of(fired, SIGNAL_LOSS)] == [(t(300), t(900))]
    assert of(fired, SIGNAL_LOSS, updates=True) == []  # near where it was lost: nothing more to say


def test_a_far_reappearance_updates_the_silence_with_severity_high():
    det = Detector()
    det.open(plan())
    run(drive(0, 300), det=det)
    first = det.advance(t(1000))
    assert [(f.rule, f.episode, f.update) for f in first] == [(SIGNAL_LOSS, t(300), False)]
    back = det.observe(1, fix(1500, 5_000 + 8_000))  # 8 km from where it went quiet, 20 minutes later
    assert len(back) == 1
    u = back[0]
    assert u.rule == SIGNAL_LOSS and u.update and u.severity == "high"
    assert u.episode == t(300) and u.fired_at == t(900)  # the same alert, more evidence
    assert u.facts["reappeared_m"] == pytest.approx(8_000, abs=5) and u.facts["silent_minutes"] == 20.0


def test_a_far_reappearance_without_a_clock_gives_the_alert_and_its_update():
    fired = run(drive(0, 300) + [fix(1500, 13_000)])
    losses = [f for f in fired if f.rule == SIGNAL_LOSS]
    assert [(f.update, f.severity) for f in losses] == [(False, "medium"), (True, "high")]
    assert {(f.episode, f.fired_at) for f in losses} == {(t(300), t(900))}


def test_a_five_minute_gap_is_not_signal_loss():
    det = Detector()
    det.open(plan())
    fired = run(drive(0, 300), det=det)
    fired += det.advance(t(599))
    fired += run(drive(600, 900, east0=5_200), det=det)
    fired += det.advance(t(900))
    assert of(fired, SIGNAL_LOSS) == []


def test_no_signal_loss_after_delivery():
    det = Detector()
    det.open(plan(1))
    det.open(plan(2))
    track = park(0, 300, 12_000)  # both trucks stand at the receiver; only trip 1's load is delivered
    run(track, det=det, trip=plan(1))
    run(track, det=det, trip=plan(2))
    assert det.deliver(1, t(310)) == []
    later = det.advance(t(3 * 3600))
    assert [(f.trip_id, f.rule) for f in later] == [(2, SIGNAL_LOSS)]


# --- wrong destination ------------------------------------------------------------------------------------------


def test_dwelling_at_another_waste_facility_is_a_wrong_destination():
    other = Zone(FACILITY, "site:9", "Echo Waste Services")
    fixes = drive(0, 300) + park(330, 1500, 5_400, zones=(other,))
    fired = of(run(fixes), WRONG_DESTINATION)
    assert len(fired) == 1
    f = fired[0]
    assert f.episode == t(315) and f.fired_at == t(630)  # five minutes from the midpoint of arriving
    assert f.facts["facility"] == "site:9" and f.severity == "high"


@pytest.mark.parametrize("key", ["site:2", "site:1"])
def test_dwelling_at_the_destination_or_origin_facility_is_not(key):
    fixes = drive(0, 300) + park(330, 1500, 5_400, zones=(Zone(FACILITY, key),))
    assert of(run(fixes), WRONG_DESTINATION) == []


def test_a_delivery_claimed_away_from_the_receiver_is_a_wrong_destination():
    det = Detector()
    det.open(plan())
    run(drive(0, 300) + park(330, 600, 7_000), det=det)  # 5 km short of the receiver
    fired = det.deliver(1, t(660))
    assert [(f.rule, f.episode, f.fired_at) for f in fired] == [(WRONG_DESTINATION, t(660), t(660))]
    assert fired[0].facts["metres_from_receiver"] == pytest.approx(5_000, abs=30)


@pytest.mark.parametrize(
    ("where", "zones"),
    [((12_000 - 300, 0), ()),  # within the 500 m delivery radius
     ((12_000 - 900, 0), (Zone(FACILITY, "site:2"),))],  # farther, but inside the receiver's own zone
)  # fmt: skip
def test_a_delivery_claimed_at_the_receiver_is_not(where, zones):
    det = Detector()
    det.open(plan())
    run([fix(0, 0), fix(30, 500)] + park(60, 600, *where, zones=zones), det=det)
    assert of(det.deliver(1, t(660)), WRONG_DESTINATION) == []


def test_a_delivery_claim_judged_on_a_stale_fix_is_not_a_wrong_destination():
    det = Detector()
    det.open(plan())
    run(drive(0, 300), det=det)  # last seen 7 km from the receiver, then silence
    fired = det.deliver(1, t(300 + 20 * 60))
    assert of(fired, WRONG_DESTINATION) == []
    assert [f.rule for f in fired] == [SIGNAL_LOSS]  # the silence is its own rule


# --- overdue ----------------------------------------------------------------------------------------------------


def test_overdue_fires_once_when_time_passes_expected_arrival_plus_grace():
    det = Detector()
    det.open(plan(expected_arrival=t(3600)))
    run(drive(0, 300), det=det)
    assert of(det.advance(t(3600 + 3599)), OVERDUE) == []
    fired = of(det.advance(t(7200)), OVERDUE)
    assert [(f.episode, f.fired_at, f.severity) for f in fired] == [(t(3600), t(7200), "low")]
    assert of(det.advance(t(9000)), OVERDUE) == []


def test_overdue_fires_from_the_trip_own_fixes_too():
    fired = of(run(drive(0, 7500, kmh=5), trip=plan(expected_arrival=t(3600))), OVERDUE)
    assert [(f.episode, f.fired_at) for f in fired] == [(t(3600), t(7200))]


def test_a_load_delivered_in_time_is_never_overdue():
    det = Detector()
    det.open(plan(expected_arrival=t(3600)))
    run(drive(0, 720) + park(750, 3000, 12_000), det=det)
    assert det.deliver(1, t(3010)) == []
    assert det.advance(t(10 * 3600)) == []


def test_a_load_delivered_late_is_overdue_at_delivery():
    det = Detector()
    det.open(plan(expected_arrival=t(3600)))
    run(
        drive(0, 720) + park(750, 7000, 12_000), det=det
    )  # no fix or clock past the deadline (7200 s) meanwhile
    assert det.advance(t(7100)) == []
    fired = of(det.deliver(1, t(7500)), OVERDUE)
    assert [(f.episode, f.fired_at) for f in fired] == [(t(3600), t(7200))]


# --- implausible movement ---------------------------------------------------------------------------------------


def test_a_20_km_jump_in_30_seconds_is_implausible():
    fixes = drive(0, 300) + [fix(330, 5_000 + 20_000)]
    fired = of(run(fixes), IMPLAUSIBLE_MOVEMENT)
    assert len(fired) == 1
    assert fired[0].fired_at == t(330) and fired[0].facts["speed_kmh"] == pytest.approx(2_400, rel=0.01)


@pytest.mark.parametrize(
    ("kmh", "step", "why"),
    [(100, 30, "a fast truck: 833 m in 30 s"), (140, 60, "just under the limit"),
     (700, 1, "GPS noise: 194 m in a second")],
)  # fmt: skip
def test_plausible_movement_does_not_fire(kmh, step, why):
    assert of(run(drive(0, 1200, kmh=kmh, step=step)), IMPLAUSIBLE_MOVEMENT) == [], why


def test_a_fix_that_jumped_is_not_judged_by_the_other_rules():
    det = Detector()
    det.open(plan())
    run(drive(0, 300, inside=True), det=det)
    glitch = fix(330, 30_000, inside=False, zones=(HOT,))  # 25 km away, outside the corridor, in a hot spot
    fired = det.observe(1, glitch)
    assert [f.rule for f in fired] == [IMPLAUSIBLE_MOVEMENT]  # no hot-spot entry
    state = det.trips[1]
    assert state.outside_since is None and state.outside_points == 0  # no corridor deviation opened
    assert state.hot_spot_since is None


# --- the evidence -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "fixes", "firing_second"),
    [
        (HOT_SPOT_ENTRY, drive(0, 600, kmh=20, zones=hot_when((300, 600))), 300),
        (CORRIDOR_DEVIATION, drive(0, 900, inside=lambda s: s <= 300), 450),
        (IMPLAUSIBLE_MOVEMENT, drive(0, 300) + [fix(330, 25_000)], 330),
    ],
)
def test_the_evidence_of_a_firing_ends_with_the_fix_that_fired_it(rule, fixes, firing_second):
    """The evidence is the track up to the firing: for a hot-spot entry, an officer must see the truck inside."""
    f = of(run(fixes), rule)[0]
    o = next(o for o in fixes if o.fix_time == t(firing_second))
    assert f.evidence[0][0] >= t(firing_second - 15 * 60).isoformat()
    assert f.evidence[-1] == [o.fix_time.isoformat(), round(o.lat, 6), round(o.lon, 6)]


# --- replay at any speed ----------------------------------------------------------------------------------------


def replay_scenario() -> tuple[list[TripPlan], list[tuple[int, Observation]]]:
    """Three trips, in fix-time order, between them raising every rule that time and position can raise."""
    trip1 = (drive(0, 600, inside=True) + drive(630, 1200, east0=10_500, north_m=800, inside=False)  # deviation
             + drive(1230, 1500, east0=20_000, inside=True)
             + park(1530, 2400, 24_500, inside=True)  # 14.5 minutes standing in the corridor
             + drive(2430, 3600, kmh=30, east0=24_600, inside=True, zones=hot_when((2700, 2820))))  # fmt: skip
    trip2 = drive(0, 900, north_m=3_000) + drive(2100, 3600, east0=22_000, north_m=3_000)  # a far silence
    trip3 = drive(0, 990, north_m=-3_000) + [fix(1020, 60_000, -3_000)] + drive(1050, 2400, east0=17_500,
                                                                                   north_m=-3_000)  # fmt: skip
    plans = [plan(1), plan(2, expected_arrival=t(1200)), plan(3)]
    events = [(1, o) for o in trip1] + [(2, o) for o in trip2] + [(3, o) for o in trip3]
    events.sort(key=lambda e: (e[1].fix_time, e[0]))
    return plans, events


REPLAY_SETTINGS = RuleSettings(overdue_grace_minutes=30)  # trip 2 is overdue at 3000 s, while still reporting


def replay(batches: list[list[tuple[int, Observation]]]) -> list[Firing]:
    plans, _ = replay_scenario()
    det = Detector(REPLAY_SETTINGS)
    for p in plans:
        det.open(p)
    out: list[Firing] = []
    for batch in batches:
        for trip_id, o in batch:
            out += det.observe(trip_id, o)
        out += det.advance(max(o.fix_time for _, o in batch))
    out += det.advance(t(4000))  # trip 3's silence is told; trips 1 and 2 stopped reporting too recently
    return out


def split(events: list, sizes: Iterable[int]) -> list[list]:
    out, i = [], 0
    for n in sizes:
        if i >= len(events):
            break
        out.append(events[i : i + n])
        i += n
    if i < len(events):
        out.append(events[i:])
    return out


def identity(firings: list[Firing]) -> set[tuple[int, str, datetime, datetime, bool]]:
    return {(f.trip_id, f.rule, f.episode, f.fired_at, f.update) for f in firings}


def test_replaying_a_track_in_any_batch_split_raises_the_same_alerts():
    _, events = replay_scenario()
    reference = replay([events])  # everything at once, time moved on only at the end
    expected = identity(reference)
    assert {(trip, rule) for trip, rule, _, _, _ in expected} == {
        (1, CORRIDOR_DEVIATION), (1, UNAUTHORISED_STOP), (1, HOT_SPOT_ENTRY), (2, SIGNAL_LOSS), (2, OVERDUE),
        (3, IMPLAUSIBLE_MOVEMENT), (3, SIGNAL_LOSS)}  # fmt: skip
    assert (2, SIGNAL_LOSS, t(900), t(1500), True) in expected  # the far reappearance's update
    assert len(expected) == len(reference)  # one firing per episode (and one update)
    rng = random.Random(20251128)
    splits = [[1] * len(events), [2] * len(events), [7] * len(events), [50] * len(events),
              [rng.randint(1, 40) for _ in events], [rng.randint(1, 200) for _ in events]]  # fmt: skip
    for sizes in splits:
        fired = replay(split(events, sizes))
        assert identity(fired) == expected
        assert len(fired) == len(reference)


# --- late fixes and settings ------------------------------------------------------------------------------------


def test_late_fixes_are_counted_and_ignored_by_the_rules():
    det = Detector()
    det.open(plan())
    run(drive(0, 600, inside=True), det=det)
    late = fix(290, 4_000, inside=False, zones=(HOT,))  # an old fix, outside the corridor, in a hot spot
    assert det.observe(1, late) == []
    assert det.observe(1, fix(600, 10_000, inside=False)) == []  # a repeat of the newest fix time
    state = det.trips[1]
    assert state.late_points == 2
    assert state.last is not None and state.last.fix_time == t(600) and state.last.in_corridor is True
    assert state.outside_since is None and state.hot_spot_since is None
    # The rules carry on from where they were: a real deviation still fires at its own time.
    fired = run(drive(630, 1200, east0=10_500, inside=False), det=det)
    assert [(f.rule, f.episode) for f in fired] == [(CORRIDOR_DEVIATION, t(615))]


def test_fixes_before_the_trip_started_are_ignored():
    fired = run([fix(-600, 0, inside=False, zones=(HOT,))] + drive(0, 300, inside=True))
    assert fired == []


def test_settings_from_a_mapping():
    s = RuleSettings.from_mapping({"stop_minutes": 15, "corridor_min_points": "3", "max_speed_kmh": 130.5})
    assert s.stop_minutes == 15.0 and isinstance(s.stop_minutes, float)
    assert s.corridor_min_points == 3 and isinstance(s.corridor_min_points, int)
    assert s.threshold_minutes[UNAUTHORISED_STOP] == 15.0  # thresholds follow the values
    assert set(s.threshold_minutes) == set(RULES)
    assert RuleSettings.from_mapping({}) == RuleSettings()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"stop_minute": 15}, "unknown detection setting.*stop_minute"),
        ({"threshold_minutes": {}}, "unknown detection setting.*threshold_minutes"),
        ({"stop_minutes": -1}, "stop_minutes must be a finite number"),
        ({"corridor_min_points": -2}, "corridor_min_points must be"),
        ({"max_speed_kmh": float("nan")}, "max_speed_kmh must be"),
        ({"reappear_far_m": float("inf")}, "reappear_far_m must be"),
    ],
)
def test_settings_refuse_unknown_names_and_negative_values(values, message):
    with pytest.raises(ValueError, match=message):
        RuleSettings.from_mapping(values)


def test_fixes_whose_device_reports_movement_are_not_part_of_a_stop():
    """A 9-minute refuel stop with the truck rolling in and out at 20–30 km/h within 200 m is not a stop."""
    rolling = [Observation(t(s), *pos(5_000 + 10 * (s - 300) / 30, 0), speed_kmh=25.0) for s in (300, 330)]
    standing = [replace(o, speed_kmh=0.0) for o in park(360, 900, 5_100)]
    leaving = [Observation(t(s), *pos(5_150 + 10 * (s - 930) / 30, 0), speed_kmh=22.0) for s in (930, 960)]
    fixes = drive(0, 270) + rolling + standing + leaving + drive(990, 1_500, east0=5_400)
    assert of(run(fixes), UNAUTHORISED_STOP) == []
    # The same standing, but counted from the rolling fixes (no speeds reported), would have been ten minutes.
    unknown = [replace(o, speed_kmh=None) for o in rolling + standing + leaving]
    assert len(of(run(drive(0, 270) + unknown + drive(990, 1_500, east0=5_400)), UNAUTHORISED_STOP)) == 1


def test_queuing_for_the_own_receiver_beside_another_facility_is_not_a_wrong_destination():
    neighbour = Zone(FACILITY, "site:8", "the plant next door")
    queue = park(0, 1_800, 12_000 - 450, zones=(neighbour,))  # 450 m from the receiver, inside the neighbour's site
    assert of(run(queue), WRONG_DESTINATION) == []
    far = park(0, 1_800, 6_000, zones=(neighbour,))  # the same facility, far from the receiver: a visit
    assert len(of(run(far), WRONG_DESTINATION)) == 1
