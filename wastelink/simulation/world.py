"""A simulated world: sites, road-like routes between them, rest areas, hot spots and vehicles.

Built from the registry's establishments and vehicles (the demo data: generator → receiver pairs that hold an active
permit line, so that `wastelink scenario load` can open a manifest for every trip), or, without a database, from
synthetic places around the estates' reference coordinates. Geometry is worked in UTM zone 47N metres, as the
platform's corridors are.

Placement keeps clean driving unambiguous: hot spots sit 170–430 m beside one route (inside its 500 m corridor, so a
hot-spot visit can be a short detour) and at least 700 m from every other route; facilities a truck may wrongly
visit sit ~500 m beside a route; nothing is placed near the sites, where trucks wait.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon

from .scenario import Route, Site, Vehicle, World, Zone

TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32647", always_xy=True)
TO_WGS = Transformer.from_crs("EPSG:32647", "EPSG:4326", always_xy=True)
SITE_RADIUS_M = 300.0  # tracking/services/fences.py: a site is a circle of this radius around its location
MIN_ROUTE_M, MAX_ROUTE_M = 5_000.0, 60_000.0
PAIR_RANGE_M = (4_000.0, 46_000.0)  # straight distance of a pair, so that its road route is 5–60 km
# A hot spot keeps this far from every route but its own: beyond any clean truck's reach (edge noise 450 m + outliers).
HOT_SPOT_OTHER_ROUTES_M = 700.0
# A facility whose centre lies this far from a route stands beside it: its yard is inside the 500 m corridor.
BESIDE_FACILITY_M = (430.0, 520.0)


def utm(lon: float, lat: float) -> tuple[float, float]:
    x, y = TO_UTM.transform(lon, lat)
    return float(x), float(y)


def wgs(x: float, y: float) -> tuple[float, float]:
    """(lon, lat) of a UTM point."""
    lon, lat = TO_WGS.transform(x, y)
    return float(lon), float(lat)


class RouteLine:
    """A route in metres: position and direction at a distance along it, and the distance along of a point."""

    def __init__(self, xy: np.ndarray) -> None:
        self.xy = np.asarray(xy, dtype=float)
        seg = np.diff(self.xy, axis=0)
        self.seg_len = np.hypot(seg[:, 0], seg[:, 1])
        self.cum = np.concatenate([[0.0], np.cumsum(self.seg_len)])
        self.length = float(self.cum[-1])
        self.line = LineString(self.xy)

    @classmethod
    def from_geojson(cls, geometry: dict) -> RouteLine:
        coords = np.asarray(geometry["coordinates"], dtype=float)
        xs, ys = TO_UTM.transform(coords[:, 0], coords[:, 1])
        return cls(np.column_stack([xs, ys]))

    def _segment(self, s: float) -> int:
        return int(np.clip(np.searchsorted(self.cum, s, side="right") - 1, 0, len(self.seg_len) - 1))

    def at(self, s: float) -> np.ndarray:
        s = min(max(s, 0.0), self.length)
        i = self._segment(s)
        f = (s - self.cum[i]) / self.seg_len[i] if self.seg_len[i] > 0 else 0.0
        return self.xy[i] + f * (self.xy[i + 1] - self.xy[i])

    def normal(self, s: float) -> np.ndarray:
        """The unit vector to the left of the direction of travel at s."""
        i = self._segment(min(max(s, 0.0), self.length))
        d = (self.xy[i + 1] - self.xy[i]) / max(self.seg_len[i], 1e-9)
        return np.array([-d[1], d[0]])

    def project(self, x: float, y: float) -> float:
        return float(self.line.project(Point(x, y)))

    def distance(self, x: float, y: float) -> float:
        return float(self.line.distance(Point(x, y)))

    def straight_around(self, s: float, half: float) -> bool:
        """Whether the stretch [s - half, s + half] is nearly straight, without a corner (a lay-by or a yard fits
        there): its chord is almost as long as the stretch and it strays little from it."""
        if not half <= s <= self.length - half:
            return False
        a, b = self.at(s - half), self.at(s + half)
        chord = float(np.hypot(*(b - a)))
        mids = [self.at(s + f * half) for f in (-0.5, 0.0, 0.5)]
        return chord >= 1.96 * half and all(LineString([a, b]).distance(Point(*m)) <= 30 for m in mids)

    def geojson(self) -> dict:
        lons, lats = TO_WGS.transform(self.xy[:, 0], self.xy[:, 1])
        return {
            "type": "LineString",
            "coordinates": [
                [round(float(a), 6), round(float(b), 6)] for a, b in zip(lons, lats, strict=True)
            ],
        }


def polygon_geojson(poly: Polygon) -> dict:
    xs, ys = poly.exterior.coords.xy
    lons, lats = TO_WGS.transform(np.asarray(xs), np.asarray(ys))
    ring = [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lons, lats, strict=True)]
    ring[-1] = ring[0]
    return {"type": "Polygon", "coordinates": [ring]}


# --- road-like paths -----------------------------------------------------------------------------------------


def road_path(a: np.ndarray, b: np.ndarray, rng: random.Random) -> np.ndarray:
    """A perturbed grid path from a to b: blocks along the a→b axis with lateral jogs, right-angled corners where
    the road turns, and gentle wiggles on long straights. Never runs backwards along the axis, so it cannot loop."""
    d = b - a
    length = float(np.hypot(*d))
    u = d / length
    n = np.array([-u[1], u[0]])
    k = max(2, round(length / rng.uniform(2_500, 4_500)))
    stations = np.sort(np.array([rng.uniform(0.08, 0.92) * length for _ in range(k - 1)]))
    stations = np.concatenate([[0.0], stations, [length]])
    walk = np.cumsum([0.0] + [rng.gauss(0, min(1_400.0, 0.09 * length)) for _ in range(k)])
    lateral = walk - walk[-1] * stations / length  # a bridge: the path starts at a and ends at b
    pts: list[np.ndarray] = [a]
    for i in range(k):
        s0, s1, l0, l1 = stations[i], stations[i + 1], lateral[i], lateral[i + 1]
        if s1 - s0 > 600 and abs(l1 - l0) > 120 and rng.random() < 0.6:
            corner = (s1, l0) if rng.random() < 0.5 else (s0, l1)  # along then across, or across then along
            pts.append(a + corner[0] * u + corner[1] * n)
        elif s1 - s0 > 1_500:  # a long leg without a corner still bends a little
            bend = rng.choice((-1, 1)) * rng.uniform(0.03, 0.08) * (s1 - s0)
            pts.append(a + (s0 + s1) / 2 * u + ((l0 + l1) / 2 + bend) * n)
        pts.append(a + s1 * u + l1 * n)
    return _wiggle(np.array(pts), rng)


def _wiggle(pts: np.ndarray, rng: random.Random) -> np.ndarray:
    """Vertices every ~300 m on long legs, nudged a few metres sideways: drawn roads are never ruler-straight."""
    out = [pts[0]]
    for p, q in zip(pts, pts[1:], strict=False):
        leg = float(np.hypot(*(q - p)))
        pieces = int(leg // 300)
        if pieces >= 2:
            normal = np.array([-(q - p)[1], (q - p)[0]]) / leg
            for j in range(1, pieces):
                out.append(p + (q - p) * j / pieces + normal * rng.uniform(-12, 12))
        out.append(q)
    return np.array(out)


# --- the world -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float
    registration: str | None = None


@dataclass
class Candidates:
    """What a world may be built from: places, the pairs that may carry waste (by index), and vehicles."""

    generators: list[Place]
    receivers: list[Place]  # every licensed waste facility near the pairs
    pairs: list[tuple[int, int]]  # (generator index, receiver index)
    vehicles: list[Vehicle]
    warnings: list[str] = field(default_factory=list)


@dataclass
class Built:
    world: World
    lines: dict[str, RouteLine]  # route id → its line in metres
    warnings: list[str]


def _xy(p: Place) -> np.ndarray:
    return np.array(utm(p.lon, p.lat))


def build_world(c: Candidates, rng: random.Random, *, max_routes: int = 30) -> Built:
    warnings = list(c.warnings)
    gen_xy = [_xy(g) for g in c.generators]
    rec_xy = [_xy(r) for r in c.receivers]

    def far_from_receivers(xy: np.ndarray, margin: float, skip: int | None = None) -> bool:
        return all(float(np.hypot(*(xy - r))) >= margin for j, r in enumerate(rec_xy) if j != skip)

    # A truck waits at the origin and the destination: neither may lie within reach of another facility's site.
    usable = [(g, r) for g, r in dict.fromkeys(c.pairs)
              if PAIR_RANGE_M[0] <= float(np.hypot(*(gen_xy[g] - rec_xy[r]))) <= PAIR_RANGE_M[1]
              and far_from_receivers(gen_xy[g], 500.0) and far_from_receivers(rec_xy[r], 450.0, skip=r)]  # fmt: skip
    if len(usable) < len(set(c.pairs)):
        warnings.append(f"{len(set(c.pairs)) - len(usable)} of {len(set(c.pairs))} generator–receiver pairs left out "
                        f"(straight distance outside 4–46 km, or a site within reach of another facility)")  # fmt: skip
    if not usable:
        raise ValueError("no generator–receiver pair 4–46 km apart to build routes between")
    rng.shuffle(usable)
    usable = sorted(usable[:max_routes])
    lines: list[RouteLine] = []
    for g, r in list(usable):
        line = _best_route(gen_xy[g], rec_xy[r], [x for j, x in enumerate(rec_xy) if j != r], rng)
        if line is None:  # no road-like path of 5–60 km between them
            usable.remove((g, r))
            warnings.append(
                f"no road-like route of 5–60 km between {c.generators[g].name} and {c.receivers[r].name}"
            )
        else:
            lines.append(line)
    if not lines:
        raise ValueError("no route could be built between the generator–receiver pairs")

    sites: list[Site] = []
    site_of: dict[tuple[str, int], str] = {}

    def add_site(kind: str, i: int, place: Place, role: str) -> str:
        if (kind, i) not in site_of:
            site_of[(kind, i)] = f"S{len(sites) + 1}"
            sites.append(Site(site_of[(kind, i)], role, place.name, round(place.lat, 6), round(place.lon, 6),
                              place.registration))  # fmt: skip
        return site_of[(kind, i)]

    routes = []
    for (g, r), line in zip(usable, lines, strict=True):
        a, b = add_site("g", g, c.generators[g], "generator"), add_site("r", r, c.receivers[r], "receiver")
        routes.append((f"R{len(routes) + 1}", a, b, line))
    # Other facilities near the routes are places a truck could wrongly deliver to.
    for j, place in enumerate(c.receivers):
        if ("r", j) not in site_of and min(line.distance(*rec_xy[j]) for line in lines) < 3_000:
            add_site("r", j, place, "facility")
    zones, extra_sites = _place_features(routes, sites, rng)
    sites += extra_sites
    world = World(
        sites, zones, [Route(rid, a, b, line.geojson()) for rid, a, b, line in routes], list(c.vehicles)
    )
    return Built(world, {rid: line for rid, _, _, line in routes}, warnings)


def _best_route(
    a: np.ndarray, b: np.ndarray, facilities: list[np.ndarray], rng: random.Random
) -> RouteLine | None:
    """Of a few candidate paths as winding as roads are, the one that keeps farthest from other facilities (trucks
    crawl past them); None if no candidate fits 5–60 km."""
    best, best_score = None, -1.0
    straight = float(np.hypot(*(b - a)))
    for _ in range(40):
        line = RouteLine(road_path(a, b, rng))
        if not (MIN_ROUTE_M <= line.length <= MAX_ROUTE_M) or not line.line.is_simple:
            continue
        if not 1.12 <= line.length / straight <= 1.6:
            continue  # roads wind: 1.2–1.4 times the straight distance is usual
        score = min([line.distance(*f) for f in facilities] + [600.0])
        if score > best_score:
            best, best_score = line, score
        if best_score >= 600.0:
            break
    return best


def _place_features(routes: list[tuple[str, str, str, RouteLine]], sites: list[Site], rng: random.Random
                    ) -> tuple[list[Zone], list[Site]]:  # fmt: skip
    """Rest areas on about half the routes, hot spots beside a third, a facility beside a third (where no real one
    already stands beside the route)."""
    site_xy = [np.array(utm(s.lon, s.lat)) for s in sites]
    facility_xy = [xy for s, xy in zip(sites, site_xy, strict=True) if s.role != "generator"]
    taken: list[np.ndarray] = []  # centres of the zones and facilities placed so far
    zones: list[Zone] = []
    extra: list[Site] = []
    order = sorted(routes, key=lambda r: -r[3].length)  # the longest routes have room for the most

    def clear_of(xy: np.ndarray, sites_m: float, taken_m: float) -> bool:
        return all(np.hypot(*(xy - p)) >= sites_m for p in site_xy) and all(
            np.hypot(*(xy - p)) >= taken_m for p in taken
        )

    def spot(
        line: RouteLine, lo: float, hi: float, half: float, lateral: float
    ) -> tuple[float, np.ndarray] | None:
        for _ in range(60):
            s = rng.uniform(lo, hi) * line.length
            if line.straight_around(s, half):
                side = rng.choice((-1.0, 1.0))
                return s, line.at(s) + side * lateral * line.normal(s)
        return None

    def facility(rid: str, line: RouteLine) -> bool:
        if any(BESIDE_FACILITY_M[0] <= line.distance(*f) <= BESIDE_FACILITY_M[1] for f in facility_xy):
            return False  # a real one already stands beside this route
        found = spot(line, 0.3, 0.7, 350, rng.uniform(470, 510))
        if (
            not found
            or not clear_of(found[1], 2_000, 1_000)
            or any(o.distance(*found[1]) < 450 for *_, o in routes)
        ):
            return False
        lon, lat = wgs(*found[1])
        extra.append(Site(f"S{len(sites) + len(extra) + 1}", "facility", f"Waste recovery yard beside {rid}",
                          round(lat, 6), round(lon, 6)))  # fmt: skip
        site_xy.append(found[1])
        facility_xy.append(found[1])
        taken.append(found[1])
        return True

    def hot_spot(rid: str, line: RouteLine) -> bool:
        found = spot(line, 0.25, 0.75, 200, 300)
        if not found or not clear_of(found[1], 1_200, 1_000):
            return False
        hot = _blob(found[1], rng.uniform(110, 130), rng)
        if line.line.distance(hot) < 150 or any(
            o.line.distance(hot) < HOT_SPOT_OTHER_ROUTES_M for r, *_, o in routes if r != rid
        ):
            return False
        zones.append(
            Zone(
                f"Z{len(zones) + 1}", "hot_spot", f"Reported dumping ground near {rid}", polygon_geojson(hot)
            )
        )
        taken.append(found[1])
        return True

    def rest_area(rid: str, line: RouteLine) -> bool:
        found = spot(line, 0.3, 0.7, 200, 150)
        if not found or not clear_of(found[1], 1_000, 1_000):
            return False
        s = found[0]
        along = line.at(s + 1) - line.at(s - 1)
        rest = _rectangle(found[1], along / np.hypot(*along), 300, 160)
        zones.append(Zone(f"Z{len(zones) + 1}", "rest_area", f"Truck rest area, km {s / 1000:.0f} of {rid}",
                          polygon_geojson(rest)))  # fmt: skip
        taken.append(found[1])
        return True

    # Each kind on its own routes where it can (the longest first): a route then has room for its incidents.
    quotas = [(facility, max(2, math.ceil(len(routes) / 3))), (hot_spot, max(2, math.ceil(len(routes) / 3))),
              (rest_area, max(2, math.ceil(len(routes) / 2)))]  # fmt: skip
    used: set[str] = set()
    for place, quota in quotas:
        for crowded in (False, True):
            for rid, _, _, line in order:
                if quota and line.length >= 8_000 and (crowded or rid not in used):
                    if any(place(rid, line) for _ in range(15)):
                        quota -= 1
                        used.add(rid)
    return zones, extra


def _blob(centre: np.ndarray, radius: float, rng: random.Random) -> Polygon:
    """An irregular patch of land, as an officer would draw a dumping ground."""
    angles = np.linspace(0, 2 * math.pi, 9)[:-1]
    radii = [radius * rng.uniform(0.8, 1.15) for _ in angles]
    return Polygon(
        [
            (centre[0] + r * math.cos(t), centre[1] + r * math.sin(t))
            for r, t in zip(radii, angles, strict=True)
        ]
    )


def _rectangle(centre: np.ndarray, along: np.ndarray, length: float, width: float) -> Polygon:
    across = np.array([-along[1], along[0]])
    corners = [
        centre + sa * length / 2 * along + sb * width / 2 * across
        for sa, sb in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    return Polygon(corners)


# --- where candidates come from --------------------------------------------------------------------------------


EASTERN_SEABOARD = ("Chonburi", "Rayong")


def synthetic_candidates(rng: random.Random, *, vehicles: int) -> Candidates:
    """Places around the eastern seaboard's estates (reference coordinates from the registry's package data):
    factories inside the estates, receivers and other facilities outside them. Every pair may carry waste."""
    with resources.files("wastelink.registry.data").joinpath("estates.csv").open(encoding="utf-8") as fh:
        estates = [r for r in csv.DictReader(fh) if r["province_en"] in EASTERN_SEABOARD]
    generators, receivers = [], []
    for e in estates:
        for k in range(2):
            lat, lon = _near(float(e["lat"]), float(e["lon"]), 1_000, rng)
            generators.append(
                Place(f"{e['name_en'].replace(' Industrial Estate', '')} plant {k + 1}", lat, lon)
            )
    for k in range(9):
        e = rng.choice(estates)
        lat, lon = _near(float(e["lat"]), float(e["lon"]), rng.uniform(4_000, 14_000), rng, exact=True)
        receivers.append(Place(f"Eastern waste treatment centre {k + 1}", lat, lon))
    pairs = [(g, r) for g in range(len(generators)) for r in range(len(receivers))]
    return Candidates(generators, receivers, pairs, synthetic_vehicles(rng, vehicles))


def synthetic_vehicles(rng: random.Random, n: int) -> list[Vehicle]:
    out = []
    for i in range(n):
        out.append(
            Vehicle(
                f"V{i + 1}",
                f"{rng.randint(70, 72)}-{rng.randint(1000, 9999)}",
                f"86{rng.randint(10**12, 10**13 - 1)}",
            )
        )
    return out


def _near(
    lat: float, lon: float, metres: float, rng: random.Random, exact: bool = False
) -> tuple[float, float]:
    x, y = utm(lon, lat)
    angle, dist = rng.uniform(0, 2 * math.pi), metres if exact else rng.uniform(0, metres)
    lon2, lat2 = wgs(x + dist * math.cos(angle), y + dist * math.sin(angle))
    return round(lat2, 6), round(lon2, 6)


def database_candidates(rng: random.Random, *, vehicles: int) -> Candidates:
    """The registry's establishments and vehicles. Pairs are the active permit lines' generator → receiver (a
    scenario's trips become manifests on such lines); without any, every generator → receiver pair, with a warning."""
    from wastelink.permits.models import PermitLine
    from wastelink.registry.models import Establishment
    from wastelink.registry.models import Vehicle as VehicleRow
    from wastelink.tracking.models import Trip as TripRow

    located = Establishment.objects.filter(lat__isnull=False, lon__isnull=False, status="active").order_by(
        "id"
    )
    receivers = list(located.filter(is_receiver=True))
    warnings = []
    lines = set(
        PermitLine.objects.filter(permit__state="ACTIVE").values_list("permit__generator_id", "receiver_id")
    )
    rec_index = {r.id: i for i, r in enumerate(receivers)}
    gen_rows = (
        list(located.filter(id__in={g for g, _ in lines}))
        if lines
        else list(located.filter(is_generator=True))
    )
    gen_index = {g.id: i for i, g in enumerate(gen_rows)}
    pairs = [(gen_index[g], rec_index[r]) for g, r in sorted(lines) if g in gen_index and r in rec_index]
    if not pairs:
        warnings.append("no active permit lines between located establishments: pairs are made up, and "
                        "`wastelink scenario load` will refuse the trips")  # fmt: skip
        pairs = [(g, r) for g in range(len(gen_rows)) for r in range(len(receivers))]
    if not receivers or not gen_rows:
        raise ValueError("the database holds no located generators and receivers: run `wastelink demo load`, "
                         "or build a synthetic world with --world-from none")  # fmt: skip
    busy = set(TripRow.objects.filter(state=TripRow.State.OPEN).values_list("device_id", flat=True))
    rows = [v for v in VehicleRow.objects.filter(active=True, gps_device_id__isnull=False).select_related("transporter")
            .order_by("id") if v.gps_device_id not in busy]  # fmt: skip
    if not rows:
        raise ValueError("the database holds no active vehicle with a GPS device free of an open trip")
    chosen = sorted(rng.sample(range(len(rows)), min(vehicles, len(rows))))
    fleet = [Vehicle(f"V{k + 1}", rows[i].plate, rows[i].gps_device_id, rows[i].transporter.registration_no)
             for k, i in enumerate(chosen)]  # fmt: skip

    def place(e) -> Place:
        return Place(e.name_en or e.name_th, e.lat, e.lon, e.registration_no)

    return Candidates([place(g) for g in gen_rows], [place(r) for r in receivers], pairs, fleet, warnings)


def zone_shapes(world: World) -> dict[str, Polygon]:
    """Zones as polygons in UTM metres."""
    out = {}
    for z in world.zones:
        ring = np.asarray(z.geometry["coordinates"][0], dtype=float)
        xs, ys = TO_UTM.transform(ring[:, 0], ring[:, 1])
        out[z.id] = shapely.Polygon(np.column_stack([xs, ys]))
    return out
