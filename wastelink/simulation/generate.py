"""Trips over a world: about half clean (some only looking suspicious), half holding one incident each, with the
fixes their devices send and the ground truth.

Each trip is a drive along its route from the generator to the receiver, waiting at both ends, with at most one
manoeuvre on the way (a jam, a rest stop, a detour, a stop, a visit). The manoeuvre is chosen by the trip's kind and
placed away from everything else, so that a trip shows what its label says and nothing more. A trip whose draw fails
a physical check (a jam that stood still too long, a detour outside its duration) is drawn again; the detector is
never consulted. Everything follows from the seed.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np
import shapely
from shapely.geometry import Polygon

from wastelink.core.detection import (
    CORRIDOR_DEVIATION,
    HOT_SPOT_ENTRY,
    IMPLAUSIBLE_MOVEMENT,
    OVERDUE,
    RULES,
    SIGNAL_LOSS,
    UNAUTHORISED_STOP,
    WRONG_DESTINATION,
    RuleSettings,
)

from .motion import Device, Track, sample_fixes, steady_progress, sub_path
from .scenario import DEFAULT_CORRIDOR_M, Incident, Scenario, Trip, TruthLine, World
from .world import BESIDE_FACILITY_M, SITE_RADIUS_M, Built, RouteLine, utm, wgs, zone_shapes

EDGE = 1_000.0  # no manoeuvre this close to either end of a route (trucks wait there)
NEAR = 900.0  # nothing happens by chance within this distance (along the route) of a site or a zone beside it
DIFFICULTIES = ("standard", "hard")
CLEAN_LOOKS = (None, "traffic_jam", "rest_stop", "edge_noise", "short_gap", None)
VARIANTS = {WRONG_DESTINATION: ("facility", "claim"), SIGNAL_LOSS: ("far", "near")}
# `hard`: the innocent trips and the incidents a real fleet also has near the rules' thresholds, each look and each
# variant as common as the standard ones (a third of the clean trips still plain; `None`: the standard incident).
HARD_CLEAN_LOOKS = (None, "traffic_jam", "refuel_stop", None, "rest_stop", "gate_queue", None, "edge_noise",
                    "urban_canyon", None, "short_gap", "long_red_light", None, "slow_climb", "late_but_ok")  # fmt: skip
HARD_VARIANTS = {
    CORRIDOR_DEVIATION: (None, "short"),
    UNAUTHORISED_STOP: (None, "borderline", "in_jam_area"),
    HOT_SPOT_ENTRY: (None, "edge"),
    SIGNAL_LOSS: ("far", "near", "borderline"),
    WRONG_DESTINATION: ("facility", "claim", "short_visit"),
    IMPLAUSIBLE_MOVEMENT: (None, "single"),
}


class Retry(Exception):
    """This draw of a trip failed a check: draw it again."""


@dataclass(frozen=True)
class Spec:
    kind: str | None  # the incident's rule, or None for a clean trip
    variant: str | None = None
    look: str | None = None


def plan_specs(n: int, rng: random.Random, difficulty: str = "standard") -> list[Spec]:
    """Half the trips clean (a third of those plain, the rest looking suspicious), half with one incident each,
    the kinds in equal numbers and the variants of a kind alternating. `hard` adds the looks and variants near
    the rules' thresholds (HARD_CLEAN_LOOKS, HARD_VARIANTS)."""
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, not {difficulty!r}")
    looks, all_variants = (
        (CLEAN_LOOKS, VARIANTS) if difficulty == "standard" else (HARD_CLEAN_LOOKS, HARD_VARIANTS)
    )
    specs, seen = [], dict.fromkeys(RULES, 0)
    for i in range(n // 2):
        kind = RULES[i % len(RULES)]
        variants = all_variants.get(kind)
        specs.append(Spec(kind, variants[seen[kind] % len(variants)] if variants else None))
        seen[kind] += 1
    specs += [Spec(None, look=looks[i % len(looks)]) for i in range(n - n // 2)]
    rng.shuffle(specs)
    return specs


@dataclass
class RouteInfo:
    id: str
    origin: str
    destination: str
    line: RouteLine
    dest_xy: np.ndarray
    busy: list[tuple[float, float]]  # stretches near sites and zones: nothing happens there by chance
    # The features beside the route: (zone id, shape, distance along) and (site id, centre, distance along).
    hot_spots: list[tuple[str, Polygon, float]] = field(default_factory=list)
    rest_areas: list[tuple[str, Polygon, float]] = field(default_factory=list)
    facilities: list[tuple[str, np.ndarray, float]] = field(default_factory=list)

    def free(self, s0: float, s1: float) -> bool:
        return EDGE <= s0 and s1 <= self.line.length - EDGE and all(s1 <= a or s0 >= b for a, b in self.busy)

    def pick(self, rng: random.Random, span: float, margin: float = 300.0) -> float:
        for _ in range(60):
            s = rng.uniform(EDGE + margin, self.line.length - EDGE - span - margin)
            if self.free(s - margin, s + span + margin):
                return s
        raise Retry("no free stretch")


def route_infos(built: Built) -> list[RouteInfo]:
    """Each route with the stretches where nothing should happen by chance, and the features beside it that an
    incident or a look can use (far enough from the route's ends for the manoeuvre to fit)."""
    world = built.world
    zones = zone_shapes(world)
    sites = {s.id: np.array(utm(s.lon, s.lat)) for s in world.sites}
    roles = {s.id: s.role for s in world.sites}
    out = []
    for r in world.routes:
        line = built.lines[r.id]
        info = RouteInfo(r.id, r.from_site, r.to_site, line, sites[r.to_site], [])

        def usable(s: float) -> bool:
            return EDGE + 300 <= s <= line.length - EDGE - 300  # noqa: B023 - used within this iteration

        for sid, xy in sites.items():
            d = line.distance(*xy)
            if d < NEAR:
                s = line.project(*xy)
                info.busy.append((s - NEAR, s + NEAR))
                if (
                    roles[sid] != "generator"
                    and sid not in (r.from_site, r.to_site)
                    and BESIDE_FACILITY_M[0] <= d <= BESIDE_FACILITY_M[1]
                    and usable(s)
                ):
                    info.facilities.append((sid, xy, s))
        for z in world.zones:
            poly = zones[z.id]
            if poly.distance(line.line) >= NEAR:
                continue
            s = line.project(poly.centroid.x, poly.centroid.y)
            info.busy.append((s - NEAR, s + NEAR))
            if not usable(s):
                continue
            if z.kind == "rest_area" and poly.distance(line.line) <= 100:
                info.rest_areas.append((z.id, poly, s))
            elif (
                z.kind == "hot_spot"
                and 150 <= poly.distance(line.line)
                and line.distance(poly.centroid.x, poly.centroid.y) <= 400
            ):
                info.hot_spots.append((z.id, poly, s))
        out.append(info)
    return out


def obstacles(built: Built) -> shapely.Geometry:
    """What a truck off its route keeps clear of: sites (with a margin), rest areas and hot spots."""
    world = built.world
    parts = [shapely.Point(*utm(s.lon, s.lat)).buffer(SITE_RADIUS_M + 150) for s in world.sites]
    parts += [poly.buffer(150) for poly in zone_shapes(world).values()]
    union = shapely.union_all(parts)
    shapely.prepare(union)
    return union


@dataclass
class Draft:
    """A trip as drawn: its true track, its fixes and what happened when (times in seconds from the start)."""

    spec: Spec
    info: RouteInfo
    planned: bool
    track: Track
    fixes: list[list]
    delivered: float
    expected: float
    incident: Incident | None


class _Yard(NamedTuple):
    """A facility beside the route, laid out as a yard: the gate towards the road, a bay at the back."""

    sid: str
    centre: np.ndarray
    s: float  # where the route passes it
    gate: np.ndarray
    bay: np.ndarray


class TripMaker:
    def __init__(self, built: Built, settings: RuleSettings, rng: random.Random) -> None:
        self.infos = route_infos(built)
        self.obstacles = obstacles(built)
        self.settings = settings
        self.rng = rng
        self.width = float(DEFAULT_CORRIDOR_M)
        self.failures: Counter = Counter()
        self.successes: Counter = Counter()
        self.hopeless: set[tuple[Spec, str]] = set()
        # The device of the trip being drawn (_make sets it): what a manoeuvre timed by its reports needs.
        self.device = Device(interval_s=30.0, sigma_m=10.0)

    # -- choosing ---------------------------------------------------------------------------------------------

    def _routes(self, spec: Spec) -> list[RouteInfo]:
        need = {HOT_SPOT_ENTRY: "hot_spots", WRONG_DESTINATION: "facilities"}.get(spec.kind or "")
        if spec.kind == WRONG_DESTINATION and spec.variant == "claim":
            need = None
        if spec.look == "rest_stop":
            need = "rest_areas"
        pool = [i for i in self.infos if not need or getattr(i, need)]
        if spec.kind == OVERDUE:  # long routes make for a plausible lateness
            pool = sorted(pool, key=lambda i: -i.line.length)[: max(1, len(pool) // 2)]
        if not pool:
            raise ValueError(f"the world has no route with {need} for a {spec.kind or spec.look} trip")
        return pool

    def make(self, spec: Spec, device: Device, start_unix: int) -> Draft:
        """Draw the trip on its routes in turn (in a random order) until a draw passes its checks; a route that
        never succeeds for a kind of trip (too short or crowded for it) is not tried again for that kind."""
        pool = [i for i in self._routes(spec) if (spec, i.id) not in self.hopeless]
        self.rng.shuffle(pool)
        for attempt in range(60):
            if not pool:
                break
            info = pool[attempt % len(pool)]
            try:
                draft = self._make(spec, info, device, start_unix)
                self.successes[(spec, info.id)] += 1
                return draft
            except Retry:
                self.failures[(spec, info.id)] += 1
                if self.failures[(spec, info.id)] >= 10 and not self.successes[(spec, info.id)]:
                    self.hopeless.add((spec, info.id))
                    pool.remove(info)
        raise ValueError(
            f"could not place a {spec.kind or spec.look or 'plain'} trip on this world's routes in 60 "
            f"draws (its routes are too short or crowded); a synthetic world (--world-from none) has room"
        )

    # -- one trip ---------------------------------------------------------------------------------------------

    def _make(self, spec: Spec, info: RouteInfo, device: Device, start_unix: int) -> Draft:
        rng = self.rng
        line = info.line
        origin_spot = line.at(0) + _offset(rng, 50)
        dest_spot = info.dest_xy + _offset(rng, 50)
        move = Track(origin_spot)
        late = spec.kind == OVERDUE or spec.look == "late_but_ok"
        cruise = rng.uniform(33, 42) if late else rng.uniform(50, 72)
        trip = _Drive(move, info, rng, cruise)
        self.device = device
        act = getattr(self, f"_{spec.kind or spec.look or 'plain'}")
        extra = act(trip, spec) or {}
        trip.finish(dest_spot)
        queued = extra.get("queued_until", 0.0)  # (the head of a gate queue may lie within the site's circle)
        arrive = next(t for t, x, y in zip(move.t, move.x, move.y, strict=True)
                      if t > queued and math.hypot(x - info.dest_xy[0], y - info.dest_xy[1]) <= SITE_RADIUS_M)  # fmt: skip
        # The origin wait: a few minutes, or, for a late trip, as long as it takes to make it late.
        wait = rng.uniform(3, 20) * 60
        grace = self.settings.overdue_grace_minutes * 60
        estimate = 15 * 60 + line.length / (45 / 3.6) + 10 * 60
        if spec.kind == OVERDUE:
            lateness = grace + rng.uniform(20, 75) * 60
            wait = max(wait, 0.5 * estimate + lateness - arrive + rng.uniform(0, 10) * 60)
        if spec.look == "late_but_ok":  # late, but delivered before the grace runs out
            lateness = rng.uniform(0.1, 0.83) * grace
            wait = max(wait, 0.5 * estimate + lateness - arrive + rng.uniform(0, 10) * 60)
        if spec.kind == WRONG_DESTINATION and spec.variant == "claim" and extra.get("at_origin"):
            wait = rng.uniform(12, 25) * 60
        full = Track(origin_spot)
        full.dwell(wait)
        base = len(full.t) - 1  # the move's sample i is the full track's sample base + i
        full.extend(move)
        arrive += wait
        if spec.look == "late_but_ok":
            room = (grace - lateness) / 60 - 1  # minutes left until overdue, less one
            delivered = arrive + rng.uniform(min(3.0, room / 2), min(25.0, room)) * 60
        else:
            delivered = arrive + rng.uniform(3, 25) * 60
        if "claim" in extra:
            delivered = (
                (wait + extra["claim"]) if not extra.get("at_origin") else rng.uniform(5, wait / 60 - 2) * 60
            )
        full.dwell(max(0.0, delivered - full.now))
        expected = (
            (arrive - lateness) if late else max(estimate, delivered - grace + rng.uniform(15, 40) * 60)
        )
        silences = [(a + wait, b + wait) for a, b in extra.get("silences", [])]
        if spec.look == "short_gap":
            silences = self._short_gaps(wait, arrive, device.interval_s)
        fixes = sample_fixes(full, device, rng, start_unix, delivered, silences)
        if (
            spec.look == "short_gap"
            and not 120 <= max(b[0] - a[0] for a, b in zip(fixes, fixes[1:], strict=False)) <= 300
        ):
            raise Retry("the gaps are not 2–5 min")
        if "edge" in extra:  # the hot spot's edge clipped for one or two fixes (where the truck truly was)
            ts, xs, ys, _ = full.arrays()
            at = np.array([f[0] - start_unix for f in fixes], dtype=float)
            inside = shapely.contains_xy(extra["zone"], np.interp(at, ts, xs), np.interp(at, ts, ys))
            if not 1 <= int(inside.sum()) <= 2:
                raise Retry("not one or two fixes inside the hot spot")
        if "canyon" in extra:
            self._multipath(fixes, start_unix + wait + extra["canyon"], extra["outward"], rng)
        spoof = extra.get("spoof")
        if spoof is not None:
            self._spoof(fixes, start_unix + wait + spoof, rng, single=bool(extra.get("single")))
        draft = Draft(spec, info, True, full, fixes, delivered, expected, None)
        if spec.kind is not None:
            draft.incident = self._truth(draft, extra, wait, base, start_unix)
        elif spec.look is None and rng.random() < 0.12:
            draft.planned = False  # a manifest that planned no route: only the rules without a corridor apply
        return draft

    # -- clean looks --------------------------------------------------------------------------------------------

    def _plain(self, trip: _Drive, spec: Spec) -> None:
        return None

    def _traffic_jam(self, trip: _Drive, spec: Spec) -> None:
        s = trip.info.pick(self.rng, 4_000)
        trip.go(s, 12)
        mark, minutes = trip.track.mark(), self.rng.uniform(10, 30)
        covered = trip.track.crawl(sub_path(trip.info.line, s, s + 4_000)[1:], self.rng, minutes)
        trip.s = s + covered
        trip.go(min(trip.s + 2_000, trip.info.line.length - EDGE), 40)
        # A jam moves: never within a stop's reach for long, and at least 3 km/h on average.
        if not steady_progress(trip.track, mark) or covered / (minutes * 60) < 3 / 3.6:
            raise Retry("the jam stood still")

    def _rest_stop(self, trip: _Drive, spec: Spec) -> None:
        zid, poly, s = self.rng.choice(trip.info.rest_areas)
        spot = _inside(poly, self.rng)
        trip.go(s - 150, 20)
        trip.track.drive(np.array([spot]), self.rng, 20)
        trip.track.dwell(self.rng.uniform(15, 30) * 60)
        trip.rejoin(s + 150)

    def _edge_noise(self, trip: _Drive, spec: Spec) -> None:
        span, side, off = self.rng.uniform(1_500, 4_000), self.rng.choice((-1, 1)), self.rng.uniform(350, 450)
        s = trip.info.pick(self.rng, span)

        def lateral(x: float) -> float:  # onto a frontage road and back, over 300 m each way
            return side * off * min(1.0, (x - s) / 300, (s + span - x) / 300)

        trip.go(s, 45)
        trip.track.drive(sub_path(trip.info.line, s, s + span, lateral)[1:], self.rng, trip.cruise, 45)
        trip.s = s + span

    def _short_gap(self, trip: _Drive, spec: Spec) -> None:
        return None

    def _short_gaps(self, depart: float, arrive: float, interval: float) -> list[tuple[float, float]]:
        """One to three silences that leave 2–5 min between fixes (the fixes around a silence add up to an
        interval each)."""
        gaps, at = [], depart + 5 * 60
        for _ in range(self.rng.randint(1, 3)):
            at += self.rng.uniform(3, 15) * 60
            length = self.rng.uniform(120, max(125, 300 - 2.4 * interval))
            if at + length > arrive - 5 * 60:
                break
            gaps.append((at, at + length))
            at += length
        return gaps or [(depart + 5 * 60, depart + 5 * 60 + 150)]

    # -- clean looks of the hard difficulty: innocent, near a rule's threshold ------------------------------------

    def _refuel_stop(self, trip: _Drive, spec: Spec) -> None:
        """4–9 min at the pumps of a roadside fuel station (a forecourt beside the road, not a rest area)."""
        rng, line = self.rng, trip.info.line
        s = trip.info.pick(rng, 400, 500)
        pump = line.at(s) + rng.choice((-1, 1)) * rng.uniform(25, 45) * line.normal(s)
        trip.go(s - 60, 20)
        trip.track.drive(np.array([pump]), rng, 12, 0, wander_kmh=2, low_kmh=8)
        trip.track.dwell(rng.uniform(4, 9) * 60)
        trip.rejoin(s + 80)

    def _gate_queue(self, trip: _Drive, spec: Spec) -> dict:
        """10–40 min in the queue of trucks before the receiver's gate, 250–480 m from the receiver (within the
        delivery radius the rules excuse), creeping forward now and then, then in."""
        rng, line, dest = self.rng, trip.info.line, trip.info.dest_xy

        def at_distance(metres: float) -> float:
            """The last point of the route this far (in a straight line) from the receiver."""
            ss = np.arange(line.length, max(0.0, line.length - 3_000), -5.0)
            far = np.hypot(*(np.array([line.at(x) for x in ss]) - dest).T) >= metres
            if not far.any():
                raise Retry("the route never gets that far from the receiver")
            return float(ss[int(np.argmax(far))])

        tail = at_distance(rng.uniform(300, 480))
        head = at_distance(250)
        trip.go(tail, 0)
        end = trip.track.now + rng.uniform(10, 40) * 60
        while trip.track.now < end:
            trip.track.dwell(min(rng.uniform(1, 5) * 60, max(1.0, end - trip.track.now)))
            step = rng.uniform(8, 30)  # a truck's length or two when the one ahead moves up
            if trip.track.now < end and trip.s + step <= head:
                trip.track.drive(np.array([line.at(trip.s + step)]), rng, 6, 0, wander_kmh=1, low_kmh=4)
                trip.s += step
        return {"queued_until": trip.track.now}

    def _urban_canyon(self, trip: _Drive, spec: Spec) -> dict:
        """Multipath by tall buildings or a flyover: a burst of fixes 60–250 m off, for under 90 s; half the time
        while on a frontage road near the corridor's edge (pushed outwards), half on the route itself."""
        rng, line = self.rng, trip.info.line
        if rng.random() < 0.5:
            span, side, off = rng.uniform(1_500, 4_000), rng.choice((-1, 1)), rng.uniform(350, 450)
            s = trip.info.pick(rng, span)

            def lateral(x: float) -> float:
                return side * off * min(1.0, (x - s) / 300, (s + span - x) / 300)

            trip.go(s, 45)
            mark = trip.track.mark()
            trip.track.drive(sub_path(line, s, s + span, lateral)[1:], rng, trip.cruise, 45)
            trip.s = s + span
            ts, xs, ys, _ = trip.track.arrays()
            d = shapely.distance(line.line, shapely.points(xs[mark:], ys[mark:]))
            on = ts[mark:][d >= off - 20]  # on the frontage road itself
            if len(on) < 2 or on[-1] - on[0] < 120:
                raise Retry("no time on the frontage road")
            at = rng.uniform(on[0], on[-1] - 90)
            i = int(np.searchsorted(ts, at))
            return {"canyon": at, "outward": side * line.normal(line.project(xs[i], ys[i]))}
        s = trip.info.pick(rng, 2_000)
        trip.go(s, trip.cruise)
        return {"canyon": trip.track.now, "outward": None}

    def _long_red_light(self, trip: _Drive, spec: Spec) -> None:
        """A full standstill of 3–7 min on the route: a level crossing, or the road closed by an accident ahead."""
        s = trip.info.pick(self.rng, 600, 500)
        trip.go(s, 0)
        trip.track.dwell(self.rng.uniform(3, 7) * 60)

    def _slow_climb(self, trip: _Drive, spec: Spec) -> None:
        """A loaded truck up a long grade (or behind a farm tractor): 15–25 km/h for 10–16 minutes."""
        rng, line = self.rng, trip.info.line
        kmh, minutes = rng.uniform(17, 23), rng.uniform(10.5, 16)
        span = minutes * 60 * kmh / 3.6
        s = trip.info.pick(rng, span)
        trip.go(s, kmh)
        mark = trip.track.mark()
        trip.track.drive(
            sub_path(line, s, s + span)[1:], rng, kmh, kmh, wander_kmh=2, low_kmh=15, high_kmh=25
        )
        trip.s = s + span
        ts, _, _, vs = trip.track.arrays()
        # On the move for 10 min or more (a red light at a junction on the way is no climb).
        moving = np.diff(ts[mark - 1 :])[vs[mark:] > 1].sum()
        if moving < 10 * 60:
            raise Retry("the climb took under 10 min on the move")

    def _late_but_ok(self, trip: _Drive, spec: Spec) -> None:
        return None  # a slow trip after a long wait at the origin (_make): late, within the grace

    def _multipath(
        self, fixes: list[list], at_unix: float, outward: np.ndarray | None, rng: random.Random
    ) -> None:
        """3–6 fixes (fewer from a device that sends fewer in 90 s) moved 60–250 m, mostly the same way (the
        reflection that misleads the receiver changes slowly), all within 90 s."""
        first = next((i for i, f in enumerate(fixes) if f[0] >= at_unix), None)
        if first is None or first < 1:
            raise Retry("no fixes for the burst")
        count = rng.randint(3, 6)
        while count > 1 and (
            first + count > len(fixes) or fixes[first + count - 1][0] - fixes[first][0] >= 90
        ):
            count -= 1
        if first + count >= len(fixes) - 1:
            raise Retry("the burst at the end of the trip")
        if outward is None:
            heading = rng.uniform(0, 2 * math.pi)
        else:
            heading = math.atan2(outward[1], outward[0]) + rng.uniform(-0.6, 0.6)
        size = rng.uniform(60, 250)
        for k in range(count):
            angle = heading + rng.gauss(0, 0.25)
            metres = min(250.0, max(60.0, size * rng.uniform(0.75, 1.25)))
            fixes[first + k][1] += metres * math.cos(angle)
            fixes[first + k][2] += metres * math.sin(angle)

    # -- incidents -----------------------------------------------------------------------------------------------

    def _corridor_deviation(self, trip: _Drive, spec: Spec) -> dict:
        if spec.variant == "short":
            return self._short_deviation(trip)
        rng = self.rng
        out, speed = rng.uniform(1_500, 4_000), rng.uniform(35, 55)
        span = rng.uniform(6, 13) * 60 * speed / 3.6 - 2 * (out - self.width)
        if span < 400:
            raise Retry("detour too short")
        pause = rng.uniform(1, 4) * 60 if rng.random() < 0.5 else 0.0  # a short halt out there
        s = trip.info.pick(rng, span, 500)
        path = self._detour(trip.info.line, s, span, out)
        trip.go(s, 25)
        mark = trip.track.mark()
        half = len(path) // 2
        trip.track.drive(path[:half], rng, speed, 0 if pause else speed)
        trip.track.dwell(pause)
        trip.track.drive(path[half:], rng, speed, 25)
        trip.s = s + span
        window = (mark, trip.track.mark())
        spells = _spells(_outside(trip.track, trip.info.line, self.width, *window))
        if len(spells) != 1 or spells[0][1] >= len(trip.track.t):
            raise Retry("not one deviation")
        if not 5 * 60 <= trip.track.t[spells[0][1]] - trip.track.t[spells[0][0]] <= 15 * 60:
            raise Retry("deviation outside 5–15 min")
        return {"window": window}

    def _short_deviation(self, trip: _Drive) -> dict:
        """A quick run down a side road and back: 2.5–4 min outside the corridor, just over the rule's 2 min."""
        rng = self.rng
        out, speed = rng.uniform(650, 1_000), rng.uniform(30, 45)
        outside = rng.uniform(2.6, 3.9) * 60
        span = outside * speed / 3.6 * 0.8 - 2 * (out - self.width)  # corners and a junction take their time
        if span < 250:
            raise Retry("detour too short")
        s = trip.info.pick(rng, span, 500)
        path = self._detour(trip.info.line, s, span, out)
        trip.go(s, 25)
        mark = trip.track.mark()
        trip.track.drive(path, rng, speed, 25)
        trip.s = s + span
        window = (mark, trip.track.mark())
        spells = _spells(_outside(trip.track, trip.info.line, self.width, *window))
        if len(spells) != 1 or spells[0][1] >= len(trip.track.t):
            raise Retry("not one deviation")
        if not 150 <= trip.track.t[spells[0][1]] - trip.track.t[spells[0][0]] <= 240:
            raise Retry("deviation outside 2.5–4 min")
        return {"window": window}

    def _detour(self, line: RouteLine, s: float, span: float, out: float) -> np.ndarray:
        """Off the route at s, out sideways `out` metres, along, and back onto the route at s + span: a loop on
        local roads that keeps clear of sites and zones."""
        for _ in range(10):
            side = self.rng.choice((-1, 1))
            a, b = line.at(s), line.at(s + span)
            pts = np.array([a, a + side * out * line.normal(s), b + side * out * line.normal(s + span), b])
            far, whole = shapely.LineString(pts[1:3]), shapely.LineString(pts)
            if (
                far.distance(line.line) < min(out - 200, 1_300)
                or not whole.is_simple
                or whole.intersects(self.obstacles)
            ):
                continue
            return _dense(pts)
        raise Retry("no room for a detour")

    def _unauthorised_stop(self, trip: _Drive, spec: Spec) -> dict:
        if spec.variant == "in_jam_area":
            return self._stop_in_jam(trip)
        s = trip.info.pick(self.rng, 300, 500)
        shoulder = trip.info.line.at(s) + self.rng.choice((-1, 1)) * 10 * trip.info.line.normal(s)
        trip.go(s, 0, extra=shoulder)
        begin = trip.track.mark() - 1  # the sample at which the truck stands
        # borderline: 11–13 min, just over the rule's 10
        trip.track.dwell(
            (self.rng.uniform(11, 13) if spec.variant == "borderline" else self.rng.uniform(15, 40)) * 60
        )
        end = trip.track.mark() - 1
        trip.rejoin(s + 100)
        return {"stop": (begin, end)}

    def _stop_in_jam(self, trip: _Drive) -> dict:
        """On a busy road: stop-and-go in a jam, then onto the shoulder for 12–30 min while the traffic crawls
        past, then back into the jam."""
        rng, line = self.rng, trip.info.line
        s = trip.info.pick(rng, 3_500)
        side = rng.choice((-1, 1))
        trip.go(s, 12)
        covered = trip.track.crawl(sub_path(line, s, s + 1_500)[1:], rng, rng.uniform(4, 10))
        here = s + covered + 15
        trip.track.drive(np.array([line.at(here) + side * 10 * line.normal(here)]), rng, 8, 0, wander_kmh=1,
                         low_kmh=5)  # fmt: skip
        begin = trip.track.mark() - 1
        trip.track.dwell(rng.uniform(12, 30) * 60)
        end = trip.track.mark() - 1
        trip.track.drive(np.array([line.at(here + 25)]), rng, 8, 5, wander_kmh=1, low_kmh=5)
        covered = trip.track.crawl(sub_path(line, here + 25, here + 1_800)[1:], rng, rng.uniform(3, 8))
        trip.s = here + 25 + covered
        trip.go(min(trip.s + 1_000, line.length - EDGE), 40)
        return {"stop": (begin, end)}

    def _hot_spot_entry(self, trip: _Drive, spec: Spec) -> dict:
        if spec.variant == "edge":
            return self._hot_spot_edge(trip)
        zid, poly, s = self.rng.choice(trip.info.hot_spots)
        trip.go(s - 150, 20)
        mark = trip.track.mark()
        trip.track.drive(np.array([_inside(poly, self.rng, 30)]), self.rng, 20)
        trip.track.dwell(self.rng.uniform(2, 7) * 60)
        trip.rejoin(s + 150)
        return {"window": (mark, trip.track.mark()), "zone": poly}

    def _hot_spot_edge(self, trip: _Drive) -> dict:
        """In at the near edge of the dumping ground and straight out again: inside for one or two of the
        device's reporting intervals (checked on the fixes, _make), 15–50 m deep."""
        rng = self.rng
        zid, poly, s = rng.choice(trip.info.hot_spots)
        line = trip.info.line
        ring = poly.exterior
        near = np.array(ring.interpolate(ring.project(shapely.Point(*line.at(s)))).coords[0])
        centre = np.array([poly.centroid.x, poly.centroid.y])
        inward = (centre - near) / np.hypot(*(centre - near))
        depth = rng.uniform(15, 50)
        target = near + depth * inward
        inside_for = self.device.interval_s * rng.uniform(1.0, 2.0)
        travel = 2 * (depth + 5) / (12 / 3.6)  # in and out at a walking-to-cycling pace
        trip.go(s - 150, 20)
        mark = trip.track.mark()
        trip.track.drive(np.array([near - 40 * inward, target]), rng, 12, 0, wander_kmh=1, low_kmh=8)
        trip.track.dwell(max(0.0, inside_for - travel))
        trip.track.drive(np.array([near - 40 * inward]), rng, 12, 12, wander_kmh=1, low_kmh=8)
        trip.rejoin(s + 150)
        return {"window": (mark, trip.track.mark()), "zone": poly, "edge": True}

    def _yard(self, trip: _Drive) -> _Yard:
        # Draws the facility, then the bay's side: the order the seeded scenarios depend on.
        sid, centre, s = self.rng.choice(trip.info.facilities)
        line = trip.info.line
        u = (line.at(s + 1) - line.at(s - 1)) / np.hypot(*(line.at(s + 1) - line.at(s - 1)))
        towards = (centre - line.at(s)) / np.hypot(*(centre - line.at(s)))
        bay = centre + self.rng.choice((-1, 1)) * 150 * u - 90 * towards
        return _Yard(sid, centre, s, centre - 230 * towards, bay)

    def _wrong_destination(self, trip: _Drive, spec: Spec) -> dict:
        if spec.variant == "claim":
            return self._claim(trip)
        if spec.variant == "short_visit":
            return self._short_visit(trip)
        rng = self.rng
        sid, centre, s, gate, bay = self._yard(trip)
        # A yard visit as it goes: weigh in at the gate, unload at a bay at the back, weigh out.
        trip.go(s - 300, 20)
        mark = trip.track.mark()
        total = rng.uniform(10, 30) * 60
        weigh_in, weigh_out = rng.uniform(2, 4) * 60, rng.uniform(1, 3) * 60
        trip.track.drive(np.array([gate]), rng, 15)
        trip.track.dwell(weigh_in)
        trip.track.drive(np.array([bay]), rng, 15)
        trip.track.dwell(max(3 * 60, total - weigh_in - weigh_out))
        trip.track.drive(np.array([gate]), rng, 15)
        trip.track.dwell(weigh_out)
        trip.rejoin(s + 300)
        return {"window": (mark, trip.track.mark()), "facility": sid, "centre": centre}

    def _short_visit(self, trip: _Drive) -> dict:
        """Straight in to a bay of a facility beside the route, a quick tip and out: 6–8 min inside its site."""
        rng = self.rng
        sid, centre, s, gate, bay = self._yard(trip)
        trip.go(s - 300, 20)
        mark = trip.track.mark()
        trip.track.drive(np.array([gate, bay]), rng, 15)
        at_bay = trip.track.mark()
        target = rng.uniform(6.1, 7.9) * 60
        tip = target - 90.0
        for _ in range(3):  # the tip lasts what makes the visit 6–8 min inside the site
            trip.track.rollback(at_bay)
            trip.track.dwell(max(30.0, tip))
            trip.track.drive(np.array([gate]), rng, 15)
            trip.rejoin(s + 300)
            ts, xs, ys, _ = trip.track.arrays()
            inside = np.flatnonzero(np.hypot(xs[mark:] - centre[0], ys[mark:] - centre[1]) <= SITE_RADIUS_M)
            took = ts[mark + inside[-1]] - ts[mark + inside[0]]
            if 360 <= took <= 480:
                break
            tip += target - took
        else:
            raise Retry("the visit is not 6–8 min")
        return {"window": (mark, trip.track.mark()), "facility": sid, "centre": centre}

    def _claim(self, trip: _Drive) -> dict:
        if self.rng.random() < 0.3:
            return {"claim": 0.0, "at_origin": True}  # claimed delivered before the truck even left
        line, dest = trip.info.line, trip.info.dest_xy
        for _ in range(30):
            s = self.rng.uniform(EDGE, 0.8 * line.length)
            if np.hypot(*(line.at(s) - dest)) >= 2_500:
                trip.go(s, trip.cruise)
                return {"claim": trip.track.now}
        raise Retry("no place 2.5 km from the receiver")

    def _overdue(self, trip: _Drive, spec: Spec) -> dict:
        if trip.info.rest_areas and self.rng.random() < 0.4:
            self._rest_stop(trip, spec)  # an authorised rest adds to the lateness, and is no incident
        return {}

    def _implausible_movement(self, trip: _Drive, spec: Spec) -> dict:
        s = trip.info.pick(self.rng, 500)
        trip.go(s, trip.cruise)
        return {"spoof": trip.track.now + self.rng.uniform(0, 60), "single": spec.variant == "single"}

    def _signal_loss(self, trip: _Drive, spec: Spec) -> dict:
        rng, line = self.rng, trip.info.line
        if spec.variant == "borderline":
            return self._short_silence(trip)
        if spec.variant == "far":
            # The tracker is switched off for a run off the route (and a halt out there).
            out, span = rng.uniform(1_500, 4_000), rng.uniform(3_500, 6_000)
            s = trip.info.pick(rng, span, 500)
            if np.hypot(*(line.at(s) - line.at(s + span))) < 3_500:
                raise Retry("route bends back")
            path = self._detour(line, s, span, out)
            trip.go(s, 40)
            begin = trip.track.now
            half = len(path) // 2
            trip.track.drive(path[:half], rng, 45)
            trip.track.dwell(rng.uniform(5, 20) * 60)
            trip.track.drive(path[half:], rng, 45, 40)
            trip.s = s + span
            silence = (begin - rng.uniform(20, 90), trip.track.now + rng.uniform(30, 90))
        else:
            # Switched off while parked on the shoulder; back on a little further on.
            s = trip.info.pick(rng, 2_000, 500)
            trip.go(s, 30)
            begin = trip.track.now
            trip.go(s + rng.uniform(50, 150), 0)
            trip.track.dwell(rng.uniform(15, 36) * 60)
            trip.go(trip.s + 1_000, 40)
            silence = (begin - rng.uniform(5, 30), trip.track.now - rng.uniform(0, 30))
        if not 15 * 60 <= silence[1] - silence[0] <= 40 * 60:
            raise Retry("silence outside 15–40 min")
        return {"silences": [silence]}

    def _short_silence(self, trip: _Drive) -> dict:
        """The tracker off (unplugged, or its power cut) for 11–13 min between fixes while the truck drives on
        along its route (past whatever lies beside it); back on well before the destination."""
        rng, line = self.rng, trip.info.line
        gap = rng.uniform(11.1, 12.9) * 60  # between the last fix before and the first after
        span = (gap + 180) * trip.cruise / 3.6
        s = trip.info.pick(rng, 300, 500)
        if s + span > line.length - EDGE - 300:  # (it may pass what lies beside the route: every truck does)
            raise Retry("no room to come back before the destination")
        trip.go(s, trip.cruise)
        begin = trip.track.now
        trip.go(s + span, trip.cruise)
        # The fixes either side of a silence lie about an interval apart from its ends.
        a = begin + rng.uniform(0, 30)
        b = a + gap - self.device.interval_s
        if b + 60 > trip.track.now:
            raise Retry("the silence outlasts the drive")
        return {"silences": [(a, b)]}

    # -- spoofing and truth --------------------------------------------------------------------------------------

    def _spoof(self, fixes: list[list], at_unix: float, rng: random.Random, single: bool = False) -> None:
        first = next(i for i, f in enumerate(fixes) if f[0] >= at_unix)
        count = 1 if single else rng.randint(1, 3)
        if first < 1 or first + count >= len(fixes) - 1:
            raise Retry("no fixes to spoof")
        if single:
            # One fix 1–3 km off: the least a jump rule should catch, faster than a truck from the fix before
            # (2 % over the limit: distances here are UTM metres, the rules' great-circle ones differ slightly).
            seconds = fixes[first][0] - fixes[first - 1][0]
            least = max(1_000.0, self.settings.max_speed_kmh / 3.6 * seconds * 1.02)
            if least > 3_000:
                raise Retry("the fixes are too far apart in time for a 1–3 km jump to be too fast")
            angle, far = rng.uniform(0, 2 * math.pi), rng.uniform(least, 3_000)
            fixes[first][1:3] = (
                np.array(fixes[first - 1][1:3]) + far * np.array([math.cos(angle), math.sin(angle)])
            ).tolist()
            fixes[first].append("spoof")
            return
        # 5–50 km from where the device last truly was (a little more than 5: the truck moves on meanwhile).
        angle, far = rng.uniform(0, 2 * math.pi), rng.uniform(5_500, 49_000)
        fake = np.array(fixes[first - 1][1:3]) + far * np.array([math.cos(angle), math.sin(angle)])
        for k in range(count):
            fixes[first + k][1:3] = (fake + _offset(rng, 40)).tolist()
            fixes[first + k].append("spoof")  # marks the fix until the truth is read; dropped on output

    def _truth(self, d: Draft, extra: dict, wait: float, base: int, start_unix: int) -> Incident:
        """The incident as it happened on the true track (or, for a silence and a spoof, in the fixes sent)."""
        kind, t = d.spec.kind, d.track
        ts, xs, ys, _ = t.arrays()

        def at(i: int) -> tuple[int, float, float]:
            lon, lat = wgs(xs[i], ys[i])
            return start_unix + int(round(ts[i])), round(lat, 6), round(lon, 6)

        window = extra.get("window") or extra.get("stop")
        if window is not None:
            window = (window[0] + base, window[1] + base)
        if kind == CORRIDOR_DEVIATION:
            ((i, j),) = _spells(_outside(t, d.info.line, self.width, *window))
            return _incident(kind, at(i), at(j)[0], d.spec.variant)
        if kind == HOT_SPOT_ENTRY:
            inside = np.flatnonzero(
                shapely.contains_xy(extra["zone"], xs[window[0] : window[1]], ys[window[0] : window[1]])
            )
            return _incident(kind, at(window[0] + inside[0]), at(window[0] + inside[-1])[0], d.spec.variant)
        if kind == UNAUTHORISED_STOP:
            return _incident(kind, at(window[0]), at(window[1])[0], d.spec.variant)
        if kind == WRONG_DESTINATION and d.spec.variant in ("facility", "short_visit"):
            r = np.hypot(
                xs[window[0] : window[1]] - extra["centre"][0], ys[window[0] : window[1]] - extra["centre"][1]
            )
            inside = np.flatnonzero(r <= SITE_RADIUS_M)
            return _incident(kind, at(window[0] + inside[0]), at(window[0] + inside[-1])[0], d.spec.variant)
        if kind == WRONG_DESTINATION:
            i = min(int(np.searchsorted(ts, d.delivered)), len(ts) - 1)
            claim = start_unix + math.floor(d.delivered)
            if np.hypot(xs[i] - d.info.dest_xy[0], ys[i] - d.info.dest_xy[1]) < 2_000:
                raise Retry("claim too close to the receiver")
            return _incident(kind, (claim, *at(i)[1:]), claim, "claim")
        if kind == OVERDUE:
            due = d.expected + self.settings.overdue_grace_minutes * 60
            i = min(int(np.searchsorted(ts, due)), len(ts) - 1)
            return _incident(
                kind, (start_unix + int(round(due)), *at(i)[1:]), start_unix + math.floor(d.delivered)
            )
        if kind == SIGNAL_LOSS:
            ((a, b),) = [(x + wait, y + wait) for x, y in extra["silences"]]
            # (by the silence's middle: a fix sent just before it may carry a time rounded into it)
            before = [f for f in d.fixes if f[0] < start_unix + (a + b) / 2]
            after = [f for f in d.fixes if f[0] > start_unix + (a + b) / 2]
            if not before or not after:
                raise Retry("silence at an end of the trip")
            gap = math.hypot(after[0][1] - before[-1][1], after[0][2] - before[-1][2])
            low, high = (11, 13) if d.spec.variant == "borderline" else (15, 40)
            if not low * 60 <= after[0][0] - before[-1][0] <= high * 60:
                raise Retry(f"silence outside {low}–{high} min")
            if (d.spec.variant == "far" and gap <= 3_000) or (
                d.spec.variant == "near" and not 400 <= gap <= 1_800
            ):
                raise Retry("reappearance at the wrong distance")
            lon, lat = wgs(before[-1][1], before[-1][2])
            return Incident(kind, before[-1][0], after[0][0], round(lat, 6), round(lon, 6), d.spec.variant)
        spoofed = [f for f in d.fixes if f[-1] == "spoof"]
        for f in spoofed:
            f.pop()
        lon, lat = wgs(spoofed[0][1], spoofed[0][2])
        return Incident(
            IMPLAUSIBLE_MOVEMENT, spoofed[0][0], spoofed[-1][0], round(lat, 6), round(lon, 6), d.spec.variant
        )


class _Drive:
    """A truck working its way along its route: `s` is how far along it has come."""

    def __init__(self, track: Track, info: RouteInfo, rng: random.Random, cruise: float) -> None:
        self.track, self.info, self.rng, self.cruise, self.s = track, info, rng, cruise, 0.0

    def go(self, s: float, end_kmh: float, extra: np.ndarray | None = None) -> None:
        path = sub_path(self.info.line, self.s, s)[1:]
        if extra is not None:
            path = np.vstack([path, extra])
        if len(path):
            self.track.drive(path, self.rng, self.cruise, end_kmh)
        self.s = s

    def rejoin(self, s: float) -> None:
        """Back onto the route at s from wherever the truck stands."""
        self.track.drive(np.array([self.info.line.at(s)]), self.rng, 20, 20)
        self.s = s

    def finish(self, spot: np.ndarray) -> None:
        self.go(self.info.line.length, 0, extra=spot)


def _incident(kind: str, start: tuple[int, float, float], end: int, variant: str | None = None) -> Incident:
    return Incident(kind, start[0], max(end, start[0]), start[1], start[2], variant)


def _offset(rng: random.Random, metres: float) -> np.ndarray:
    angle, r = rng.uniform(0, 2 * math.pi), metres * math.sqrt(rng.random())
    return np.array([r * math.cos(angle), r * math.sin(angle)])


def _inside(poly: Polygon, rng: random.Random, metres: float = 40.0) -> np.ndarray:
    c = np.array([poly.centroid.x, poly.centroid.y])
    for _ in range(20):
        p = c + _offset(rng, metres)
        if poly.contains(shapely.Point(*p)) and poly.exterior.distance(shapely.Point(*p)) >= 25:
            return p
    return c


def _dense(pts: np.ndarray) -> np.ndarray:
    """A local road through the given corners, with vertices every ~250 m (a detour is driven, not jumped)."""
    out = [pts[0]]
    for p, q in zip(pts, pts[1:], strict=False):
        n = max(1, int(np.hypot(*(q - p)) // 250))
        out += [p + (q - p) * k / n for k in range(1, n + 1)]
    return np.array(out[1:])


def _outside(track: Track, line: RouteLine, width: float, i: int, j: int) -> np.ndarray:
    """Indices (from i) of the samples in [i, j) farther than `width` from the route."""
    _, xs, ys, _ = track.arrays()
    d = shapely.distance(line.line, shapely.points(xs[i:j], ys[i:j]))
    return np.flatnonzero(d > width) + i


def _spells(indices: np.ndarray) -> list[tuple[int, int]]:
    """Runs of consecutive indices as (first, one past the last) — the end is the first sample back."""
    if len(indices) == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) > 1)
    starts = np.concatenate([[indices[0]], indices[breaks + 1]])
    ends = np.concatenate([indices[breaks], [indices[-1]]]) + 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


# --- the scenario ---------------------------------------------------------------------------------------------


def generate(built: Built, *, trips: int, seed: int, start: datetime, name: str | None = None,
             settings: dict | None = None, progress: Callable[[int, int], None] | None = None,
             difficulty: str = "standard") -> tuple[Scenario, list[TruthLine]]:  # fmt: skip
    """`trips` trips over the world, from `start` on: the scenario and its ground truth, deterministic for the seed
    (and the difficulty: `standard`, or `hard` with the cases near the rules' thresholds, plan_specs)."""
    rng = random.Random(seed)
    rules = RuleSettings.from_mapping(settings or {})
    maker = TripMaker(built, rules, rng)
    world: World = built.world
    fleet = world.vehicles
    devices = {v.id: _device(seed, v.device_id) for v in fleet}
    free_at = {v.id: rng.uniform(0, 120) * 60 for v in fleet}
    t0 = int(start.timestamp())
    drafts: list[tuple[int, str, Draft]] = []
    for n, spec in enumerate(plan_specs(trips, rng, difficulty), start=1):
        vehicle = min(free_at, key=lambda v: (free_at[v], v))
        begin = _working_hours(t0 + int(free_at[vehicle]), rng)
        free_at[vehicle] = begin - t0
        draft = maker.make(spec, devices[vehicle], begin)
        free_at[vehicle] += math.ceil(draft.delivered) + rng.uniform(30, 120) * 60
        drafts.append((begin, vehicle, draft))
        if progress:
            progress(n, trips)
    drafts.sort(key=lambda d: (d[0], d[1]))
    out_trips, truth = [], []
    for k, (begin, vehicle, d) in enumerate(drafts, start=1):
        trip_id = f"T{k:04d}"
        moment = datetime.fromtimestamp(begin, start.tzinfo)
        points = []
        for f in d.fixes:
            lon, lat = wgs(f[1], f[2])
            points.append((int(f[0]), round(lat, 6), round(lon, 6), float(f[3])))
        out_trips.append(Trip(trip_id, vehicle, d.info.origin, d.info.destination, d.info.id if d.planned else None,
                              float(DEFAULT_CORRIDOR_M), moment, moment + timedelta(seconds=round(d.expected)),
                              moment + timedelta(seconds=math.floor(d.delivered)), points))  # fmt: skip
        device_id = world.vehicle(vehicle).device_id
        incidents = [d.incident] if d.incident else []
        truth.append(TruthLine(trip_id, device_id, not incidents, d.spec.look, incidents))
    scenario = Scenario(name or f"sim-{seed}-{trips}", seed, dict(settings or {}), world, out_trips)
    return scenario, truth


BANGKOK = 7 * 3600  # UTC+7, no daylight saving


def _working_hours(unix: int, rng: random.Random) -> int:
    """Pickups happen between 06:00 and 19:00 in Bangkok: a later one waits for the next morning."""
    day, second = divmod(unix + BANGKOK, 86_400)
    if 6 * 3600 <= second < 19 * 3600:
        return unix
    morning = (day + (second >= 19 * 3600)) * 86_400 + 6 * 3600 - BANGKOK
    return morning + int(rng.uniform(0, 45) * 60)


def _device(seed: int, device_id: str) -> Device:
    """Each device its own reporting interval and noise, fixed by the seed and the device."""
    rng = random.Random(f"{seed}:{device_id}")
    return Device(
        interval_s=rng.choice([10, 15, 20, 30, 30, 45, 60]) * rng.uniform(0.9, 1.1),
        sigma_m=rng.uniform(5, 15),
    )
