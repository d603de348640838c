"""How a truck moves and what its GPS device reports: the true track, then the fixes sampled from it.

The true track is sampled every `DT` seconds in UTM metres. Driving follows a speed process: a cruise speed that
wanders (30–90 km/h), acceleration and braking limits of a loaded truck, slowing for corners and before a stop.
Fixes are taken from the track at the device's own reporting interval with jitter, carry time-correlated GPS noise
(and rare outliers), and skip the silences a scenario asks for.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from .world import RouteLine

DT = 2.0  # seconds between samples of the true track
ACCEL, BRAKE = 0.5, 0.8  # m/s²: a loaded truck gathers speed slowly and brakes gently
CREEP = 1.5  # m/s: the speed at which a truck rolls the last metres into a stop


class Track:
    """The true motion of one truck: time (s from the trip's start), position (m), speed (km/h)."""

    def __init__(self, xy: np.ndarray, t0: float = 0.0) -> None:
        self.t, self.x, self.y, self.v = [t0], [float(xy[0])], [float(xy[1])], [0.0]

    @property
    def now(self) -> float:
        return self.t[-1]

    @property
    def pos(self) -> np.ndarray:
        return np.array([self.x[-1], self.y[-1]])

    def mark(self) -> int:
        return len(self.t)

    def rollback(self, mark: int) -> None:
        del self.t[mark:], self.x[mark:], self.y[mark:], self.v[mark:]

    def _add(self, dt: float, xy: np.ndarray, kmh: float) -> None:
        self.t.append(self.t[-1] + dt)
        self.x.append(float(xy[0]))
        self.y.append(float(xy[1]))
        self.v.append(kmh)

    def dwell(self, seconds: float) -> None:
        """Stand still (the device's noise makes it look otherwise)."""
        end = self.now + seconds
        while self.now < end - 1e-9:
            self._add(min(DT, end - self.now), self.pos, 0.0)

    def drive(self, path: np.ndarray, rng: random.Random, cruise_kmh: float, end_kmh: float = 0.0,
              wander_kmh: float = 8.0, low_kmh: float = 30.0, high_kmh: float = 90.0) -> None:  # fmt: skip
        """Drive along `path` (from the current position) and end at its last point at `end_kmh`; the driver's wish
        wanders around `cruise_kmh` within `low_kmh`…`high_kmh`."""
        path = np.vstack([self.pos, path])
        keep = np.concatenate([[True], np.hypot(*np.diff(path, axis=0).T) > 0.01])
        line = RouteLine(path[keep])
        if line.length < 1.0:
            return
        # Junctions: a sharp corner is a junction, and about a third of them hold the truck at a red light.
        junctions = [c for c in _corners(line) if c[1] > 60 and rng.random() < 0.3]
        grid, cap = _speed_caps(line, end_kmh / 3.6, [c[0] for c in junctions])
        s, v, cruise = 0.0, self.v[-1] / 3.6, cruise_kmh
        slow_until, now = -1.0, self.now
        steps: list[tuple[float, float, float]] = []  # (dt, s, km/h); positions are looked up at the end
        while s < line.length:
            if junctions and s + max(v, CREEP) * DT >= junctions[0][0]:
                s, v = junctions.pop(0)[0], 0.0
                for _ in range(int(rng.uniform(20, 100) / DT)):
                    now += DT
                    steps.append((DT, s, 0.0))
                continue
            # The driver's wish wanders around the cruise speed; now and then a slow lorry ahead holds it down.
            cruise += -(cruise - cruise_kmh) * DT / 90 + wander_kmh * math.sqrt(2 * DT / 90) * rng.gauss(0, 1)
            cruise = min(max(cruise, low_kmh), high_kmh)
            if slow_until < now and rng.random() < DT / 900:
                slow_until = now + rng.uniform(45, 150)
            wish = (min(cruise, rng.uniform(32, 40)) if now < slow_until else cruise) / 3.6
            want = min(wish, cap[min(int(s / 10.0), len(cap) - 1)])
            v = min(want, v + ACCEL * DT) if want > v else max(want, v - BRAKE * 1.5 * DT)
            step = max(v, CREEP) * DT
            if s + step >= line.length:
                steps.append(((line.length - s) / max(v, CREEP), line.length, end_kmh))
                break
            s += step
            now += DT
            steps.append((DT, s, v * 3.6))
        along = np.array([st[1] for st in steps])
        xs = np.interp(along, line.cum, line.xy[:, 0])
        ys = np.interp(along, line.cum, line.xy[:, 1])
        for (dt, _, kmh), x, y in zip(steps, xs, ys, strict=True):
            self._add(dt, (x, y), kmh)

    def crawl(self, path: np.ndarray, rng: random.Random, minutes: float) -> float:
        """Stop-and-go in a jam along `path` for about `minutes`: short halts, short rolls at walking-to-cycling
        pace. Returns the metres covered."""
        line = RouteLine(np.vstack([self.pos, path]))
        s, end = 0.0, self.now + minutes * 60
        while self.now < end and s < line.length - 5:
            self.dwell(rng.uniform(20, 110))
            roll_end, top = self.now + rng.uniform(60, 130), rng.uniform(9, 18) / 3.6
            v = 0.0
            while self.now < roll_end and s < line.length - 5:
                v = min(top, v + ACCEL * DT)
                s = min(s + v * DT, line.length - 5)
                self._add(DT, line.at(s), v * 3.6)
            self.v[-1] = 0.0
        return s

    def extend(self, other: Track) -> None:
        """Append another track that starts where this one ends (its clock starting at 0)."""
        base = self.now
        self.t += [base + t for t in other.t[1:]]
        self.x += other.x[1:]
        self.y += other.y[1:]
        self.v += other.v[1:]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return np.array(self.t), np.array(self.x), np.array(self.y), np.array(self.v)


def _corners(line: RouteLine) -> list[tuple[float, float]]:
    """(distance along, degrees turned) of the path's vertices that turn more than 20°."""
    seg = np.diff(line.xy, axis=0)
    heading = np.arctan2(seg[:, 1], seg[:, 0])
    turn = np.degrees(np.abs((np.diff(heading) + np.pi) % (2 * np.pi) - np.pi))
    return [(float(line.cum[i + 1]), float(turn[i])) for i in np.flatnonzero(turn > 20)]


def _speed_caps(line: RouteLine, end_ms: float, stops: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """The highest speed at each distance along a path that still lets the truck slow for the corners ahead (and
    gather speed after them), halt at the `stops`, and reach the end at `end_ms`."""
    grid = np.arange(0.0, line.length + 10.0, 10.0)
    caps = np.full(len(grid), 90 / 3.6)
    for at, turn in _corners(line):
        # A right angle is taken at about 20 km/h; a red light stops the truck.
        corner_ms = 0.0 if at in stops else max(15.0, 80.0 - 0.65 * turn) / 3.6
        caps = np.minimum(caps, np.sqrt(corner_ms**2 + 2 * BRAKE * np.abs(grid - at)))
    caps = np.minimum(caps, np.sqrt(end_ms**2 + 2 * BRAKE * np.maximum(line.length - grid, 0.0)))
    return grid, caps


def steady_progress(track: Track, since: int, window_s: float = 480.0, metres: float = 260.0) -> bool:
    """Whether, from every moment since sample `since`, the truck is `metres` away `window_s` later: a crawl that
    never stands within a stop's radius long (a jam, not a halt)."""
    t, x, y, _ = track.arrays()
    t, x, y = t[since:], x[since:], y[since:]
    later = np.searchsorted(t, t + window_s)
    ok = later < len(t)
    i = np.flatnonzero(ok)
    return bool(np.all(np.hypot(x[later[i]] - x[i], y[later[i]] - y[i]) >= metres))


def sub_path(line: RouteLine, s0: float, s1: float, lateral=None) -> np.ndarray:
    """The route from s0 to s1 as points; `lateral(s)` shifts each point sideways (metres, left positive)."""
    inner = [line.xy[i] for i in range(len(line.cum)) if s0 < line.cum[i] < s1]
    inner_s = [float(line.cum[i]) for i in range(len(line.cum)) if s0 < line.cum[i] < s1]
    if lateral is None:
        return np.array([line.at(s0), *inner, line.at(s1)])
    ss = sorted(set(np.arange(s0, s1, 40.0).tolist() + inner_s + [s1]))
    return np.array([line.at(s) + lateral(s) * line.normal(s) for s in ss])


@dataclass(frozen=True)
class Device:
    interval_s: float  # its reporting interval
    sigma_m: float  # its GPS noise


def sample_fixes(track: Track, device: Device, rng: random.Random, start_unix: int, until: float,
                 silences: list[tuple[float, float]]) -> list[list]:  # fmt: skip
    """The fixes the device sends, [unix, x, y, km/h] with x, y in metres (noise added), in time order."""
    t, x, y, v = track.arrays()
    out: list[list] = []
    at = rng.uniform(0, device.interval_s)
    last_unix, ex, ey, last_t = start_unix - 1, 0.0, 0.0, None
    while at <= until:
        unix = start_unix + int(round(at))
        quiet = any(a < at < b for a, b in silences)
        if not quiet and unix > last_unix and unix <= start_unix + until:
            # Time-correlated noise: a GPS error drifts over a minute or so rather than jumping fix to fix.
            rho = math.exp(-(at - last_t) / 45.0) if last_t is not None else 0.0
            k = math.sqrt(1 - rho * rho) * device.sigma_m
            ex, ey = rho * ex + k * rng.gauss(0, 1), rho * ey + k * rng.gauss(0, 1)
            dx, dy = ex, ey
            if rng.random() < 0.01:  # multipath: now and then a fix lands 30–50 m off
                angle, far = rng.uniform(0, 2 * math.pi), rng.uniform(30, 50)
                dx, dy = far * math.cos(angle), far * math.sin(angle)
            kmh = float(np.interp(at, t, v))
            kmh = abs(rng.gauss(0, 0.4)) if kmh < 0.5 else max(0.0, kmh + rng.gauss(0, 1.0))
            out.append(
                [unix, float(np.interp(at, t, x)) + dx, float(np.interp(at, t, y)) + dy, round(kmh, 1)]
            )
            last_unix, last_t = unix, at
        step = device.interval_s * rng.uniform(0.85, 1.2)
        if rng.random() < 0.012:  # a dropped report or two: the device's natural short gaps
            step *= rng.uniform(2, 4)
        at = max(at + step, at + 1.0)
    return out
