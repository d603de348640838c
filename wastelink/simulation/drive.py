"""Drive a fleet over the OsmAnd HTTP protocol: send fixes to a running server, paced by their fix times.

Each device sends its own fixes one request at a time, in fix-time order, as Traccar Client does; devices run
concurrently (asyncio + aiohttp). At `speed` X fix time advances X times faster than the wall clock (1: real time;
0: as fast as the server answers). The server refuses fixes more than 5 minutes in the future, so the driver
refuses up front to drive a scenario that would send such fixes (and withholds any that drift there anyway);
`shift_to_now` moves a scenario so that its first fix is now, for a real-time drive.

`drive(url, fixes)` is the entry point for any fleet (a demo fleet builds its own fixes); `drive_scenario` drives a
scenario file's trips.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp

from wastelink.core.telemetry import KNOT_KMH, MAX_FUTURE

from .scenario import Scenario

FUTURE_S = MAX_FUTURE.total_seconds()


@dataclass(frozen=True, order=True)
class Fix:
    time: int  # unix seconds
    device_id: str
    lat: float
    lon: float
    speed_kmh: float


@dataclass
class DriveResult:
    points: int = 0  # fixes to send
    sent: int = 0  # requests answered
    accepted: int = 0  # 200 OK
    duplicates: int = 0  # 200 OK duplicate (a repeat the server already holds)
    refused: int = 0  # answered 4xx: unknown device, bad point, …
    errors: int = 0  # no usable answer after retries (connection refused, 5xx)
    withheld: int = 0  # not sent: would have been too far in the future of the clock at sending
    shift_s: int = 0  # how far the fixes were moved in time (shift to now)
    seconds: float = 0.0
    reasons: Counter = field(default_factory=Counter)  # "404 unknown device" → count

    def line(self) -> str:
        return (f"sent {self.sent}/{self.points}: accepted {self.accepted}, duplicates {self.duplicates}, "
                f"refused {self.refused}, errors {self.errors}, withheld {self.withheld} ({self.seconds:.1f} s)")  # fmt: skip


class DriveError(ValueError):
    """A drive that must not start (fixes that would be sent into the future)."""


def scenario_fixes(scenario: Scenario) -> list[Fix]:
    devices = {v.id: v.device_id for v in scenario.world.vehicles}
    return sorted(Fix(p[0], devices[t.vehicle], p[1], p[2], p[3]) for t in scenario.trips for p in t.points)


def check_future(fixes: list[Fix], speed: float, now: float) -> None:
    """Refuse a drive in which a fix would reach the server more than 5 minutes ahead of the clock."""
    if not fixes:
        return
    first = fixes[0].time
    for f in fixes:
        sent_at = now if speed <= 0 else now + (f.time - first) / speed
        ahead = f.time - sent_at
        if ahead > FUTURE_S:
            when = datetime.fromtimestamp(f.time, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
            raise DriveError(
                f"refusing to drive: the fix of device {f.device_id} at {when} would be sent {ahead / 60:.1f} min "
                f"ahead of the clock, and the server refuses fixes more than {FUTURE_S / 60:.0f} minutes in the "
                f"future. Drive a scenario that lies in the past, or use --shift-to-now with --speed 1."
            )


def shift_to(fixes: list[Fix], first: int) -> tuple[list[Fix], int]:
    if not fixes:
        return fixes, 0
    shift = first - fixes[0].time
    return [Fix(f.time + shift, f.device_id, f.lat, f.lon, f.speed_kmh) for f in fixes], shift


async def drive_async(url: str, fixes: list[Fix], *, speed: float = 1.0, concurrency: int = 64,
                      progress: Callable[[DriveResult], None] | None = None, every_s: float = 5.0,
                      clock: Callable[[], float] = time.time) -> DriveResult:  # fmt: skip
    fixes = sorted(fixes)
    out = DriveResult(points=len(fixes))
    started, wall0 = time.perf_counter(), clock()
    check_future(fixes, speed, wall0)
    by_device: dict[str, list[Fix]] = defaultdict(list)
    for f in fixes:
        by_device[f.device_id].append(f)
    first = fixes[0].time if fixes else 0
    gate = asyncio.Semaphore(concurrency)

    async def device(session: aiohttp.ClientSession, own: list[Fix]) -> None:
        for f in own:
            if speed > 0:
                wait = wall0 + (f.time - first) / speed - clock()
                if wait > 0:
                    await asyncio.sleep(wait)
            if f.time - clock() > FUTURE_S:  # the server would refuse it: say so here instead
                out.withheld += 1
                continue
            async with gate:
                await _send(session, url, f, out)

    async def report() -> None:
        while True:
            await asyncio.sleep(every_s)
            out.seconds = time.perf_counter() - started
            progress(out)  # type: ignore[misc]

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        reporter = asyncio.create_task(report()) if progress else None
        try:
            await asyncio.gather(*(device(session, own) for own in by_device.values()))
        finally:
            if reporter:
                reporter.cancel()
    out.seconds = time.perf_counter() - started
    return out


async def _send(session: aiohttp.ClientSession, url: str, f: Fix, out: DriveResult) -> None:
    params = {"id": f.device_id, "lat": f"{f.lat:.6f}", "lon": f"{f.lon:.6f}", "timestamp": str(f.time),
              "speed": f"{f.speed_kmh / KNOT_KMH:.2f}"}  # fmt: skip
    for attempt in range(4):
        try:
            async with session.get(url, params=params) as response:
                body = (await response.text()).strip()
                if response.status >= 500:
                    raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)
        except (TimeoutError, aiohttp.ClientError):
            if attempt == 3:
                out.errors += 1
                return
            await asyncio.sleep(0.5 * 2**attempt)  # a device retries later; the server drops repeats
            continue
        out.sent += 1
        if response.status == 200:
            if "duplicate" in body:
                out.duplicates += 1
            else:
                out.accepted += 1
        else:
            out.refused += 1
            out.reasons[f"{response.status} {body.splitlines()[0] if body else ''}".strip()] += 1
        return


def drive(url: str, fixes: list[Fix], **options) -> DriveResult:
    """Send the fixes (see `drive_async` for the options) and return the counts."""
    return asyncio.run(drive_async(url, fixes, **options))


def drive_scenario(url: str, scenario: Scenario, *, shift_to_now: bool = False, **options) -> DriveResult:
    fixes = scenario_fixes(scenario)
    shift = 0
    if shift_to_now:
        fixes, shift = shift_to(fixes, int(time.time()))
    result = drive(url, fixes, **options)
    result.shift_s = shift
    return result
