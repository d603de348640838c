"""The scenario against the pure detector, offline: what the rules of core/detection.py would raise, matched with
the ground truth. A check of the generator (and a first look at the rules), not of the platform: the platform's
replay runs the same points through ingest, geofences and the alert engine.

Observations are built as the platform builds them: in the corridor when within `corridor_width_m` of the planned
route in UTM zone 47N metres; in a site's zone within 300 m of its location (FACILITY for receivers and other
facilities, SITE for generators), in rest areas and hot spots by their polygons. Trips are opened at their start,
fed in fix-time order across the whole scenario, and time is advanced every `tick_s` seconds of fix time (as a live
worker would); a delivery is reported at its claim.
"""

from __future__ import annotations

import heapq
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import shapely

from wastelink.core.detection import (
    FACILITY,
    HOT_SPOT,
    REST_AREA,
    RULES,
    SITE,
    Detector,
    Firing,
    Observation,
    Place,
    RuleSettings,
    TripPlan,
    Zone,
)

from .scenario import Scenario, TruthLine
from .world import SITE_RADIUS_M, TO_UTM, RouteLine, zone_shapes


@dataclass
class Result:
    trips: int = 0
    clean: int = 0
    incidents: Counter = field(default_factory=Counter)  # kind → incidents
    detected: Counter = field(default_factory=Counter)  # kind → incidents detected
    # kind → seconds from each incident's start to its firing
    latency_s: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_variant: Counter = field(default_factory=Counter)  # (kind, variant, detected) → count
    variant_latency_s: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    missed: list[tuple[str, str]] = field(default_factory=list)  # (trip, kind)
    missed_variants: list[str | None] = field(default_factory=list)  # the variant of each missed incident
    looks: Counter = field(default_factory=Counter)  # look → clean trips
    # Alerts on clean trips: (trip, rule, look); other alerts on incident trips: (trip, labelled kind, rule).
    false_alerts: list[tuple[str, str, str | None]] = field(default_factory=list)
    extra_alerts: list[tuple[str, str, str]] = field(default_factory=list)


def observations(scenario: Scenario) -> dict[str, list[Observation]]:
    """Each trip's observations, with its corridor flag and zones."""
    world = scenario.world
    sx, sy = TO_UTM.transform(np.array([s.lon for s in world.sites]), np.array([s.lat for s in world.sites]))
    site_zone = [
        Zone(FACILITY if s.role != "generator" else SITE, f"site:{s.id}", s.name) for s in world.sites
    ]
    polys = zone_shapes(world)
    fence_zone = {
        z.id: Zone(REST_AREA if z.kind == "rest_area" else HOT_SPOT, f"fence:{z.id}", z.name)
        for z in world.zones
    }
    lines = {r.id: RouteLine.from_geojson(r.geometry) for r in world.routes}
    out = {}
    for t in scenario.trips:
        if not t.points:
            out[t.id] = []
            continue
        pts = np.array([[p[2], p[1]] for p in t.points])
        xs, ys = TO_UTM.transform(pts[:, 0], pts[:, 1])
        xs, ys = np.asarray(xs), np.asarray(ys)
        near = (
            np.hypot(xs[:, None] - np.asarray(sx)[None, :], ys[:, None] - np.asarray(sy)[None, :])
            <= SITE_RADIUS_M
        )
        inside = {zid: shapely.contains_xy(poly, xs, ys) for zid, poly in polys.items()}
        corridor = None
        if t.route is not None:
            d = shapely.distance(lines[t.route].line, shapely.points(xs, ys))
            corridor = d <= t.corridor_width_m
        obs = []
        for k, p in enumerate(t.points):
            zones = tuple(site_zone[j] for j in np.flatnonzero(near[k])) + tuple(
                fence_zone[zid] for zid, flags in inside.items() if flags[k]
            )
            obs.append(Observation(datetime.fromtimestamp(p[0], UTC), p[1], p[2],
                                   None if corridor is None else bool(corridor[k]), zones, p[3]))  # fmt: skip
        out[t.id] = obs
    return out


def run_detector(scenario: Scenario, settings: RuleSettings | None = None, tick_s: float = 15.0
                 ) -> dict[str, list[Firing]]:  # fmt: skip
    """Every firing (updates included) per trip id."""
    settings = settings or scenario.rule_settings()
    world = scenario.world
    sites = {s.id: s for s in world.sites}
    obs = observations(scenario)
    number = {t.id: i for i, t in enumerate(scenario.trips, start=1)}
    events: list[tuple] = []
    for t in scenario.trips:
        events.append((t.start, 0, t.id, None))
        events += [(o.fix_time, 1, t.id, o) for o in obs[t.id]]
        if t.delivered_at is not None:
            events.append((t.delivered_at, 2, t.id, None))
    heapq.heapify(events)
    detector = Detector(settings)
    fired: dict[str, list[Firing]] = defaultdict(list)
    by_number = {v: k for k, v in number.items()}
    trips = {t.id: t for t in scenario.trips}
    next_tick = None
    last = None
    while events:
        at, order, trip_id, o = heapq.heappop(events)
        if next_tick is None or at >= next_tick:
            for f in detector.advance(at):
                fired[by_number[f.trip_id]].append(f)
            next_tick = at + timedelta(seconds=tick_s)
        t = trips[trip_id]
        if order == 0:
            origin, dest = sites[t.from_site], sites[t.to_site]
            detector.open(TripPlan(number[trip_id], t.start, Place(f"site:{origin.id}", origin.lat, origin.lon),
                                   Place(f"site:{dest.id}", dest.lat, dest.lon), t.expected_arrival))  # fmt: skip
        elif order == 1:
            fired[trip_id] += detector.observe(number[trip_id], o)
        else:
            fired[trip_id] += detector.deliver(number[trip_id], at)
            detector.close(number[trip_id])
        last = at
    if last is not None:  # the trips still open: time passes on after the last fix
        for f in detector.advance(last + timedelta(hours=6)):
            fired[by_number[f.trip_id]].append(f)
    return fired


def evaluate(scenario: Scenario, truth: list[TruthLine], settings: RuleSettings | None = None) -> Result:
    fired = run_detector(scenario, settings)
    out = Result(trips=len(truth))
    for line in truth:
        firings = [f for f in fired.get(line.trip, []) if not f.update]
        if line.clean:
            out.clean += 1
            out.looks[line.look] += 1
            out.false_alerts += [(line.trip, f.rule, line.look) for f in firings]
            continue
        for incident in line.incidents:
            out.incidents[incident.kind] += 1
            start = datetime.fromtimestamp(incident.start, UTC)
            match = next(
                (
                    f
                    for f in firings
                    if f.rule == incident.kind and f.fired_at >= start - timedelta(minutes=2)
                ),
                None,
            )
            out.by_variant[(incident.kind, incident.variant, match is not None)] += 1
            if match is None:
                out.missed.append((line.trip, incident.kind))
                out.missed_variants.append(incident.variant)
                continue
            out.detected[incident.kind] += 1
            out.latency_s[incident.kind].append((match.fired_at - start).total_seconds())
            out.variant_latency_s[(incident.kind, incident.variant)].append(
                (match.fired_at - start).total_seconds()
            )
            firings.remove(match)
        out.extra_alerts += [(line.trip, line.incidents[0].kind, f.rule) for f in firings]
    return out


def report(r: Result) -> str:
    rows = [f"offline detector (core/detection.py) over {r.trips} trips, {r.clean} clean",
            f"{'rule':<22} {'incidents':>9} {'detected':>8} {'recall':>7} {'latency min: median':>20} {'max':>6}"]  # fmt: skip
    for kind in RULES:
        n, d, lat = r.incidents[kind], r.detected[kind], r.latency_s.get(kind, [])
        med = f"{statistics.median(lat) / 60:.1f}" if lat else "–"
        top = f"{max(lat) / 60:.1f}" if lat else "–"
        rows.append(f"{kind:<22} {n:>9} {d:>8} {d / n if n else 0:>7.0%} {med:>20} {top:>6}")
    # The variants of the kinds that have named ones (an unnamed one is the standard incident of its kind).
    named = {k for k, v, _ in r.by_variant if v}
    variants = sorted(
        {(k, v) for k, v, _ in r.by_variant if k in named}, key=lambda kv: (RULES.index(kv[0]), kv[1] or "")
    )
    for k, v in variants:
        hit, miss = r.by_variant[(k, v, True)], r.by_variant[(k, v, False)]
        lat = r.variant_latency_s.get((k, v))
        med = (
            f", latency median {statistics.median(lat) / 60:.1f} min, max {max(lat) / 60:.1f}" if lat else ""
        )
        rows.append(f"  {k} / {v or 'standard'}: {hit} of {hit + miss} detected{med}")
    per100 = 100 * len(r.false_alerts) / r.clean if r.clean else 0.0
    rows.append(f"false alerts on clean trips: {len(r.false_alerts)} ({per100:.1f} per 100 clean trips)")
    for (rule, look), n in sorted(Counter((rule, look) for _, rule, look in r.false_alerts).items(), key=str):
        rows.append(f"  {rule} on {look or 'plain'} trips: {n}")
    by_look = Counter(look for _, _, look in r.false_alerts)
    if r.looks:
        rows.append("  per 100 clean trips of each look (alerts/trips): " + ", ".join(
            f"{look or 'plain'} {100 * by_look[look] / n:.1f} ({by_look[look]}/{n})"
            for look, n in sorted(r.looks.items(), key=lambda kv: kv[0] or "")))  # fmt: skip
    rows.append(f"other alerts on incident trips: {len(r.extra_alerts)}")
    for (kind, rule), n in sorted(Counter((k, rule) for _, k, rule in r.extra_alerts).items()):
        rows.append(f"  {rule} on {kind} trips: {n}")
    if r.missed:
        rows.append(
            "missed: "
            + ", ".join(
                f"{t} ({k}{'/' + v if v else ''})"
                for (t, k), v in zip(r.missed[:20], r.missed_variants, strict=False)
            )
            + (" …" if len(r.missed) > 20 else "")
        )
    return "\n".join(rows)
