"""Illegal-dumping detection: the rules over a trip's positions, framework-free.

Each rule is a small function over one trip's state and its newest observation (or the passing of time) that
returns a `Firing` when it fires. Rules judge by fix time, never by arrival time, so that replaying a track at any
speed raises the same alerts as live operation. Time passes for a silent trip with the newest fix time the platform
has seen (`Detector.advance`); the caller adds the wall clock when it is live.

An episode is one continuous spell of a rule's condition (one deviation, one stop, one silence). A rule fires at most
once per episode; `(trip, rule, episode)` is the alert's identity, so the same track replayed twice (a restart, a
retry) names the same alerts. A later firing of the same episode carries more evidence (a signal that reappears far
away) and updates the alert rather than adding one.

Parameters are in `RuleSettings` (documented in docs/detection.md); the platform reads them from settings.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

CORRIDOR_DEVIATION = "corridor_deviation"
UNAUTHORISED_STOP = "unauthorised_stop"
HOT_SPOT_ENTRY = "hot_spot_entry"
SIGNAL_LOSS = "signal_loss"
WRONG_DESTINATION = "wrong_destination"
OVERDUE = "overdue"
IMPLAUSIBLE_MOVEMENT = "implausible_movement"
RULES = (CORRIDOR_DEVIATION, UNAUTHORISED_STOP, HOT_SPOT_ENTRY, SIGNAL_LOSS, WRONG_DESTINATION, OVERDUE,
         IMPLAUSIBLE_MOVEMENT)  # fmt: skip

SEVERITY = {CORRIDOR_DEVIATION: "medium", UNAUTHORISED_STOP: "high", HOT_SPOT_ENTRY: "high", SIGNAL_LOSS: "medium",
            WRONG_DESTINATION: "high", OVERDUE: "low", IMPLAUSIBLE_MOVEMENT: "medium"}  # fmt: skip

# Zone kinds a position can lie in (the platform's geofence kinds; a receiver's site is a waste facility).
SITE, FACILITY, REST_AREA, HOT_SPOT, ESTATE = "site", "facility", "rest_area", "hot_spot", "estate"


@dataclass(frozen=True)
class RuleSettings:
    """The rules' parameters. Minutes and metres, as officers speak of them."""

    corridor_minutes: float = 2.0  # outside the planned corridor longer than this
    corridor_min_points: int = 2  # ... seen by at least this many fixes (one noisy fix is not a deviation)
    stop_radius_m: float = 200.0  # stationary: every fix within this distance of where the stop began
    stop_minutes: float = 10.0  # ... for longer than this, away from the origin, destination and rest areas
    moving_kmh: float = 5.0  # a fix whose device reports at least this speed is not part of a stop
    signal_loss_minutes: float = 10.0  # no fix for this long while in transit
    reappear_far_m: float = 2_000.0  # a signal that comes back farther than this from where it was lost
    facility_dwell_minutes: float = 5.0  # dwelling this long at another waste facility
    delivery_radius_m: float = 500.0  # a delivery is claimed at the receiver if the vehicle was this close
    delivery_fix_minutes: float = 15.0  # ... judged on a fix no older than this at the moment of the claim
    overdue_grace_minutes: float = 60.0  # not delivered by the expected arrival plus this
    max_speed_kmh: float = 150.0  # faster than this between two fixes is implausible for a loaded truck
    jump_min_m: float = (
        300.0  # ... when the fixes are also this far apart (GPS noise on close fixes is not a jump)
    )
    implausible_quiet_minutes: float = (
        10.0  # an implausible-movement episode ends after this long without one
    )
    hot_spot_exit_minutes: float = 5.0  # a hot-spot episode ends after this long outside every hot spot
    evidence_minutes: float = 15.0  # the track segment kept as evidence: this long before the firing
    threshold_minutes: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold_minutes", {
            CORRIDOR_DEVIATION: self.corridor_minutes, UNAUTHORISED_STOP: self.stop_minutes, HOT_SPOT_ENTRY: 0.0,
            SIGNAL_LOSS: self.signal_loss_minutes, WRONG_DESTINATION: self.facility_dwell_minutes, OVERDUE: 0.0,
            IMPLAUSIBLE_MOVEMENT: 0.0})  # fmt: skip

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> RuleSettings:
        """Settings from a mapping (settings.py, a scenario file); unknown names are refused, not ignored."""
        known = {f.name: f for f in fields(cls) if f.name != "threshold_minutes"}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown detection setting(s): {', '.join(unknown)}")
        chosen: dict[str, float | int] = {}
        for name, value in values.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number, not {value!r}") from None
            if number < 0 or not math.isfinite(number):
                raise ValueError(f"{name} must be a finite number ≥ 0")
            if known[name].type == "int":
                if number != int(number):
                    raise ValueError(f"{name} must be a whole number")
                chosen[name] = int(number)
            else:
                chosen[name] = number
        out = cls(**chosen)  # type: ignore[arg-type]
        return out


@dataclass(frozen=True, slots=True)
class Zone:
    kind: str  # site / facility / rest_area / hot_spot / estate
    key: str  # stable identity: "site:12", "fence:4", "estate:MTP"
    name: str = ""


@dataclass(frozen=True, slots=True)
class Observation:
    fix_time: datetime
    lat: float
    lon: float
    in_corridor: bool | None = None  # None: the trip planned no route
    zones: tuple[Zone, ...] = ()
    speed_kmh: float | None = None


@dataclass(frozen=True, slots=True)
class Place:
    key: str  # the zone key of the site ("site:12")
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class TripPlan:
    trip_id: int
    started_at: datetime
    origin: Place | None = None
    destination: Place | None = None
    expected_arrival: datetime | None = None


@dataclass(frozen=True, slots=True)
class Firing:
    trip_id: int
    rule: str
    episode: datetime  # fix time the episode began
    fired_at: datetime  # fix time at which the rule's condition was met
    lat: float | None
    lon: float | None
    severity: str
    facts: dict[str, Any]
    evidence: list[list[Any]]  # the track segment: [fix time ISO, lat, lon]
    update: bool = False  # more evidence for an episode already fired


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine; error well under 0.5 % at these scales)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(a)))


MAX_BACKDATE = timedelta(seconds=60)
RECENT_MAX = (
    120  # fixes kept per trip for evidence: 15 minutes at the fastest usual reporting (one per 10 s), bounded
)


def _midpoint(a: datetime | None, b: datetime) -> datetime:
    """When a condition began, between the last fix without it (a) and the first with it (b): halfway, but never more
    than a reporting interval (60 s at most) before b: after a silence, the gap says nothing of when it began."""
    if a is None:
        return b
    return max(a + (b - a) / 2, b - MAX_BACKDATE)


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60.0


@dataclass
class TripState:
    """What the rules remember of one trip. Small: a few fields per rule and a short recent track."""

    plan: TripPlan
    recent: deque[Observation] = field(default_factory=lambda: deque(maxlen=RECENT_MAX))
    last: Observation | None = None  # the newest fix
    last_good: Observation | None = None  # the newest fix that was not suspect (a jump away from the track)
    fired: dict[str, datetime] = field(default_factory=dict)  # rule → episode already fired
    # corridor deviation
    last_inside: datetime | None = None
    outside_since: datetime | None = None
    outside_points: int = 0
    # unauthorised stop
    stop_fixes: deque[Observation] = field(default_factory=deque)  # the stop's fixes, about one a minute
    stop_since: datetime | None = None
    stop_excused: bool = False
    # hot spot
    hot_spot_since: datetime | None = None
    hot_spot_last_seen: datetime | None = None
    # wrong destination (another facility)
    facility_key: str | None = None
    facility_since: datetime | None = None
    # implausible movement
    implausible_since: datetime | None = None
    implausible_last: datetime | None = None
    # signal loss
    silence_fired_for: datetime | None = None  # the last fix before a silence that has fired
    late_points: int = 0
    delivered: bool = False


def _evidence(state: TripState, s: RuleSettings, until: datetime) -> list[list[Any]]:
    since = until - timedelta(minutes=s.evidence_minutes)
    return [
        [o.fix_time.isoformat(), round(o.lat, 6), round(o.lon, 6)]
        for o in state.recent
        if since <= o.fix_time <= until
    ]


def _fire(state: TripState, s: RuleSettings, rule: str, episode: datetime, at: datetime, where: Observation | None,
          facts: dict[str, Any], *, severity: str | None = None, update: bool = False) -> Firing | None:  # fmt: skip
    if not update:
        if state.fired.get(rule) == episode:
            return None
        state.fired[rule] = episode
    return Firing(state.plan.trip_id, rule, episode, at, where.lat if where else None, where.lon if where else None,
                  severity or SEVERITY[rule], facts, _evidence(state, s, at), update)  # fmt: skip


def _in(zones: Iterable[Zone], kind: str) -> Zone | None:
    return next((z for z in zones if z.kind == kind), None)


def _at_place(obs: Observation, place: Place | None, radius_m: float) -> bool:
    if place is None:
        return False
    if any(z.key == place.key for z in obs.zones):
        return True
    return (
        place.lat is not None
        and place.lon is not None
        and distance_m(obs.lat, obs.lon, place.lat, place.lon) <= radius_m
    )


# --- the rules, one function each -------------------------------------------------------------------------------


def corridor_deviation(state: TripState, obs: Observation, s: RuleSettings) -> Firing | None:
    if obs.in_corridor is None:
        return None
    if obs.in_corridor:
        state.last_inside, state.outside_since, state.outside_points = obs.fix_time, None, 0
        return None
    if state.outside_since is None:
        state.outside_since = _midpoint(state.last_inside, obs.fix_time)
    state.outside_points += 1
    outside = _minutes(obs.fix_time - state.outside_since)
    if outside >= s.corridor_minutes and state.outside_points >= s.corridor_min_points:
        return _fire(state, s, CORRIDOR_DEVIATION, state.outside_since, obs.fix_time, obs,
                     {"minutes_outside": round(outside, 1), "points_outside": state.outside_points})  # fmt: skip
    return None


def unauthorised_stop(state: TripState, obs: Observation, s: RuleSettings) -> Firing | None:
    """Stationary: the fixes since the stop began all lie within the radius of the newest. Fixes farther than that
    from the newest leave the stop from its start (a truck rolling in, a GPS outlier), so the stop is measured from
    where the truck stands; a crawl in a jam keeps leaving its own start and never stands for the threshold.
    Excused at the origin, near the receiver (its queue: within the delivery radius), in a rest area, and inside a
    waste facility (dwelling there is judged by the wrong-destination rule)."""
    excused = (_at_place(obs, state.plan.origin, s.stop_radius_m)
               or _at_place(obs, state.plan.destination, s.delivery_radius_m)
               or any(z.kind in (REST_AREA, FACILITY) for z in obs.zones))  # fmt: skip
    fixes = state.stop_fixes
    if obs.speed_kmh is not None and obs.speed_kmh >= s.moving_kmh:
        fixes.clear()  # the device says it is rolling (in or out of a refuel stop, a queue): not standing
        return None
    left = False
    while fixes and distance_m(fixes[0].lat, fixes[0].lon, obs.lat, obs.lon) > s.stop_radius_m:
        fixes.popleft()
        left = True
    if not fixes:
        previous = state.last.fix_time if state.last is not None else None
        fixes.append(obs)
        state.stop_since, state.stop_excused = _midpoint(previous, obs.fix_time), excused
        return None
    if left and state.fired.get(UNAUTHORISED_STOP) != state.stop_since:
        state.stop_since = fixes[
            0
        ].fix_time  # (a stop that has fired stays that one episode while it goes on)
    if obs.fix_time - fixes[-1].fix_time >= timedelta(seconds=60):
        fixes.append(obs)
    state.stop_excused = state.stop_excused or excused
    assert state.stop_since is not None
    stopped = _minutes(obs.fix_time - state.stop_since)
    if stopped >= s.stop_minutes and not state.stop_excused:
        return _fire(state, s, UNAUTHORISED_STOP, state.stop_since, obs.fix_time, fixes[0],
                     {"minutes_stopped": round(stopped, 1), "radius_m": s.stop_radius_m})  # fmt: skip
    return None


def hot_spot_entry(state: TripState, obs: Observation, s: RuleSettings) -> Firing | None:
    zone = _in(obs.zones, HOT_SPOT)
    if zone is None:
        last = state.hot_spot_last_seen
        if last is not None and _minutes(obs.fix_time - last) >= s.hot_spot_exit_minutes:
            state.hot_spot_since = state.hot_spot_last_seen = None
        return None
    if state.hot_spot_since is None:
        state.hot_spot_since = obs.fix_time
    state.hot_spot_last_seen = obs.fix_time
    return _fire(state, s, HOT_SPOT_ENTRY, state.hot_spot_since, obs.fix_time, obs,
                 {"zone": zone.key, "zone_name": zone.name})  # fmt: skip


def wrong_facility(state: TripState, obs: Observation, s: RuleSettings) -> Firing | None:
    """Dwelling at a waste facility that is neither the manifest's receiver nor its origin."""
    expected = {p.key for p in (state.plan.origin, state.plan.destination) if p is not None}
    zone = next((z for z in obs.zones if z.kind == FACILITY and z.key not in expected), None)
    if zone is not None and _at_place(obs, state.plan.destination, s.delivery_radius_m):
        zone = None  # queuing for its own receiver, next door to another facility: not a visit there
    if zone is None:
        state.facility_key = state.facility_since = None
        return None
    if zone.key != state.facility_key:
        previous = state.last.fix_time if state.last is not None else None
        state.facility_key, state.facility_since = zone.key, _midpoint(previous, obs.fix_time)
    assert state.facility_since is not None
    dwell = _minutes(obs.fix_time - state.facility_since)
    if dwell >= s.facility_dwell_minutes:
        return _fire(state, s, WRONG_DESTINATION, state.facility_since, obs.fix_time, obs,
                     {"facility": zone.key, "facility_name": zone.name, "minutes_dwelling": round(dwell, 1)})  # fmt: skip
    return None


def _jumped(a: Observation, b: Observation, s: RuleSettings) -> tuple[bool, float, float, float]:
    """Whether going from a to b is beyond a loaded truck (and beyond GPS noise): (jumped, metres, seconds, km/h)."""
    metres = distance_m(a.lat, a.lon, b.lat, b.lon)
    seconds = max((b.fix_time - a.fix_time).total_seconds(), 1.0)
    kmh = metres / seconds * 3.6
    return metres >= s.jump_min_m and kmh > s.max_speed_kmh, metres, seconds, kmh


def implausible_movement(state: TripState, obs: Observation, s: RuleSettings) -> Firing | None:
    """Speed between this fix and the one before it beyond what a loaded truck can do: a spoofed or broken GPS."""
    last = state.last
    if last is None:
        return None
    if (
        state.implausible_last is not None
        and _minutes(obs.fix_time - state.implausible_last) >= s.implausible_quiet_minutes
    ):
        state.implausible_since = state.implausible_last = None
    jumped, metres, seconds, kmh = _jumped(last, obs, s)
    if not jumped:
        return None
    if state.implausible_since is None:
        state.implausible_since = obs.fix_time
    state.implausible_last = obs.fix_time
    return _fire(state, s, IMPLAUSIBLE_MOVEMENT, state.implausible_since, obs.fix_time, obs,
                 {"speed_kmh": round(kmh), "jump_m": round(metres), "seconds": round(seconds)})  # fmt: skip


def signal_loss(state: TripState, clock: datetime, s: RuleSettings) -> Firing | None:
    """No fix for the threshold while in transit (counted from the pickup for a device that never reported).
    Judged when time passes (the clock) or when the signal returns."""
    last = state.last
    since = last.fix_time if last is not None else state.plan.started_at
    if state.delivered or state.silence_fired_for == since:
        return None
    if _minutes(clock - since) < s.signal_loss_minutes:
        return None
    state.silence_fired_for = since
    at = since + timedelta(minutes=s.signal_loss_minutes)
    facts = (
        {"silent_since": since.isoformat()}
        if last is not None
        else {"no_fix_since_pickup": since.isoformat()}
    )
    return _fire(state, s, SIGNAL_LOSS, since, at, last, facts)


def reappearance(state: TripState, obs: Observation, s: RuleSettings) -> list[Firing]:
    """The signal comes back after a silence: the silence fires if time had not yet told, and a far reappearance
    adds to its evidence (and raises its severity)."""
    last = state.last
    since = last.fix_time if last is not None else state.plan.started_at
    if _minutes(obs.fix_time - since) < s.signal_loss_minutes:
        return []
    out = [f for f in [signal_loss(state, obs.fix_time, s)] if f is not None]
    if last is None:
        return out
    metres = distance_m(last.lat, last.lon, obs.lat, obs.lon)
    if metres > s.reappear_far_m:
        facts = {"silent_since": last.fix_time.isoformat(), "reappeared_at": obs.fix_time.isoformat(),
                 "silent_minutes": round(_minutes(obs.fix_time - last.fix_time), 1), "reappeared_m": round(metres)}  # fmt: skip
        fired = _fire(state, s, SIGNAL_LOSS, last.fix_time, last.fix_time + timedelta(minutes=s.signal_loss_minutes),
                      last, facts, severity="high", update=True)  # fmt: skip
        if fired is not None:  # the evidence: the track before the silence and where it came back
            fired = replace(
                fired, evidence=_evidence(state, s, last.fix_time) + _evidence(state, s, obs.fix_time)[-1:]
            )
        if fired is not None:
            out.append(fired)
    return out


def overdue(state: TripState, clock: datetime, s: RuleSettings) -> Firing | None:
    due = state.plan.expected_arrival
    if due is None or state.delivered:
        return None
    deadline = due + timedelta(minutes=s.overdue_grace_minutes)
    if clock < deadline:
        return None
    return _fire(state, s, OVERDUE, due, deadline, state.last,
                 {"expected_arrival": due.isoformat(), "grace_minutes": s.overdue_grace_minutes})  # fmt: skip


def delivery_claim(state: TripState, claimed_at: datetime, s: RuleSettings) -> Firing | None:
    """Delivery claimed while the vehicle's newest recent fix is away from the receiver."""
    last, destination = state.last, state.plan.destination
    if last is None or destination is None or destination.lat is None or destination.lon is None:
        return None  # nothing to judge by: no fix, or a receiver without a location
    if _minutes(claimed_at - last.fix_time) > s.delivery_fix_minutes:
        return None  # the vehicle's position at the claim is unknown (a silence is its own rule)
    if _at_place(last, destination, s.delivery_radius_m):
        return None
    metres = distance_m(last.lat, last.lon, destination.lat, destination.lon)
    return _fire(
        state,
        s,
        WRONG_DESTINATION,
        claimed_at,
        claimed_at,
        last,
        {"delivery_claimed_at": claimed_at.isoformat(), "metres_from_receiver": round(metres)},
    )


# --- the detector: trips, their states, and time ----------------------------------------------------------------

SPATIAL_RULES = (corridor_deviation, unauthorised_stop, hot_spot_entry, wrong_facility)


class Detector:
    """Holds the open trips' states and runs the rules. Feed each trip's fixes in fix-time order (`observe`); move
    time on with `advance` after each batch; report a delivery with `deliver`, then `close` the trip."""

    def __init__(self, settings: RuleSettings | None = None) -> None:
        self.settings = settings or RuleSettings()
        self.trips: dict[int, TripState] = {}
        self.clock: datetime | None = None  # the newest fix time seen (or, live, the wall clock)

    def open(self, plan: TripPlan) -> None:
        if plan.trip_id not in self.trips:
            self.trips[plan.trip_id] = TripState(plan)

    def close(self, trip_id: int) -> None:
        self.trips.pop(trip_id, None)

    def observe(self, trip_id: int, obs: Observation) -> list[Firing]:
        state = self.trips.get(trip_id)
        if state is None:
            return []
        s = self.settings
        if state.delivered:
            return []  # the load is delivered: later fixes are not this trip's
        if state.last is not None and obs.fix_time <= state.last.fix_time:
            state.late_points += 1  # stored in time order by the platform; the rules have moved past it
            return []
        if obs.fix_time < state.plan.started_at:
            return []
        if self.clock is None or obs.fix_time > self.clock:
            self.clock = obs.fix_time
        state.recent.append(obs)  # the evidence of a firing ends with the fix that fired it
        out = reappearance(state, obs, s)
        fired = implausible_movement(state, obs, s)
        if fired is not None:
            out.append(fired)
        # A fix out of a truck's reach of the last good one is suspect: not judged by where it claims to be (a
        # spoofed fix, and the ones after it, until the track is back within reach).
        if state.last_good is None or not _jumped(state.last_good, obs, s)[0]:
            for rule in SPATIAL_RULES:
                fired = rule(state, obs, s)
                if fired is not None:
                    out.append(fired)
            state.last_good = obs
        fired = overdue(state, obs.fix_time, s)
        if fired is not None:
            out.append(fired)
        state.last = obs
        horizon = obs.fix_time - timedelta(minutes=s.evidence_minutes)
        while state.recent and state.recent[0].fix_time < horizon:
            state.recent.popleft()
        return out

    def advance(self, clock: datetime, trips: Iterable[int] | None = None) -> list[Firing]:
        """Time passes: silent trips and overdue ones are judged against `clock`. Without `trips`, every trip and
        the detector's own clock (which never moves backwards); with them, only those trips (a caller keeping a
        separate clock for live trips, whose time is the wall clock)."""
        if trips is None:
            if self.clock is not None and clock < self.clock:
                clock = self.clock
            self.clock = clock
            states: Iterable[TripState] = self.trips.values()
        else:
            states = [self.trips[t] for t in trips if t in self.trips]
        out: list[Firing] = []
        for state in states:
            for rule in (signal_loss, overdue):
                fired = rule(state, clock, self.settings)
                if fired is not None:
                    out.append(fired)
        return out

    def deliver(self, trip_id: int, claimed_at: datetime) -> list[Firing]:
        state = self.trips.get(trip_id)
        if state is None:
            return []
        s = self.settings
        fired = [
            delivery_claim(state, claimed_at, s),
            signal_loss(state, claimed_at, s),
            overdue(state, claimed_at, s),
        ]
        state.delivered = True
        return [f for f in fired if f is not None]
