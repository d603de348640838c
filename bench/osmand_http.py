"""OsmAnd over HTTP: one point per request from 200 concurrent simulated devices, against a bare endpoint of the same
server that stores nothing. Printed, never asserted.

`wastelink serve --no-setup` runs as a subprocess on 127.0.0.1 (free ports) against the benchmark's database, with
WASTELINK_BENCH_BARE=1 so that its OsmAnd port also answers `/_bench/bare` ("OK", without Django or the database).
200 simulated devices (each a vehicle on an open trip with a planned route, `tracking_world`) send their points one
request at a time (the next when the previous is answered, on a kept-alive connection, as Traccar Client does),
`GET /?id=…&timestamp=…&lat=…&lon=…&speed=…` on the OsmAnd port: the real pipeline, a transaction per point. The
baseline is the same requests to `/_bench/bare`, the same server, the same client. Each phase is bounded in
requests (20,000) and time (120 s), after a warm-up of 2 requests per device. Only loopback addresses are used, and
the server is stopped at the end whatever happens.

Figures: requests per second, latency p50 / p99 (request sent → body read, as the device sees it), status codes,
and the CPU seconds per request of the server process and of the client (both share the machine's cores).
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.core.management import call_command
from django.db import connection

from wastelink.tracking.models import Position

from . import tracking_world
from .precheck import Progress, _cpus

DEVICES = 200
REQUESTS = 20_000
WARMUP = 2  # requests per device before each timed phase
TIME_LIMIT_S = 120.0
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {timeout_s:.0f} s")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc; 0 where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(WASTELINK_BENCH_BARE="1", WASTELINK_LOG_LEVEL="WARNING", WASTELINK_HOME=home)
    if connection.vendor == "postgresql":  # the benchmark's own test database, not the one DATABASE_URL names
        parts = urlsplit(os.environ["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + str(connection.settings_dict["NAME"])))
    else:
        env["WASTELINK_SQLITE_PATH"] = str(connection.settings_dict["NAME"])
    return env


def _command(port: int, osmand_port: int) -> list[str]:
    script = Path(sys.executable).with_name("wastelink")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "wastelink.cli"]
    return base + [
        "serve",
        "--no-setup",
        "--host",
        HOST,
        "--port",
        str(port),
        "--osmand-port",
        str(osmand_port),
    ]


class Phase:
    def __init__(self, label: str) -> None:
        self.label = label
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.errors: Counter = Counter()
        self.elapsed = 0.0
        self.server_cpu = 0.0
        self.client_cpu = 0.0

    @property
    def done(self) -> int:
        return len(self.latencies)


async def _drive(base: str, paths: list[list[str]], phase: Phase | None, bar: Progress | None) -> None:
    """Every simulated device sends its paths one after the other; all devices at once. Bounded by the paths given
    and by TIME_LIMIT_S."""
    import aiohttp

    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIME_LIMIT_S
    pending = [0]
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def device(own: list[str]) -> None:
            for path in own:
                if loop.time() > deadline:
                    return
                t0 = time.perf_counter()
                try:
                    async with session.get(base + path) as resp:
                        await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    if phase is not None:
                        phase.errors[type(exc).__name__] += 1
                    continue
                if phase is not None:
                    phase.latencies.append(time.perf_counter() - t0)
                    phase.statuses[status] += 1
                if bar is not None:
                    pending[0] += 1
                    if pending[0] >= 250:
                        bar.advance(pending[0])
                        pending[0] = 0

        await asyncio.gather(*(device(own) for own in paths))
        if bar is not None and pending[0]:
            bar.advance(pending[0])


def _measure(label: str, base: str, warmup: list[list[str]], timed: list[list[str]], pid: int) -> Phase:
    asyncio.run(_drive(base, warmup, None, None))
    phase = Phase(label)
    bar = Progress(label, sum(len(p) for p in timed))
    cpu0, client0, t0 = _cpu_seconds(pid), time.process_time(), time.perf_counter()
    asyncio.run(_drive(base, timed, phase, bar))
    phase.elapsed = time.perf_counter() - t0
    phase.server_cpu, phase.client_cpu = _cpu_seconds(pid) - cpu0, time.process_time() - client0
    return phase


def run(*, seed: int, scale: float = 1.0) -> None:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        print("\n== OsmAnd over HTTP: skipped (aiohttp is missing: pip install -e '.[test]') ==")
        return
    t_build = time.perf_counter()
    call_command("setup", verbosity=0, stdout=io.StringIO())
    n_req = max(2_000, int(REQUESTS * scale))
    per_device = -(-n_req // DEVICES)
    fleet = tracking_world.build("HT", DEVICES, seed, Progress("fleet", DEVICES))
    by_device: dict[str, list[str]] = defaultdict(list)
    for msg in tracking_world.messages(fleet, (per_device + WARMUP) * DEVICES, seed):
        by_device[msg["id"][0]].append(urlencode(msg, doseq=True))
    queries = [by_device[d] for d in fleet.devices]
    warm = [q[:WARMUP] for q in queries]
    timed = [q[WARMUP : WARMUP + per_device] for q in queries]
    build_s = time.perf_counter() - t_build
    connection.close()  # the server has the database to itself

    port, osmand_port = _free_port(), _free_port()
    home = tempfile.mkdtemp(prefix="wastelink-bench-http-")
    log = open(os.path.join(home, "server.log"), "w+b")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(_command(port, osmand_port), env=_server_env(home), cwd=home, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_for_port(osmand_port, proc)
        _wait_for_port(port, proc)
        base = f"http://{HOST}:{osmand_port}"
        bare = _measure("bare endpoint", base, [[f"/_bench/bare?{q}" for q in w] for w in warm],
                        [[f"/_bench/bare?{q}" for q in t] for t in timed], proc.pid)  # fmt: skip
        real = _measure("OsmAnd ingest", base, [[f"/?{q}" for q in w] for w in warm],
                        [[f"/?{q}" for q in t] for t in timed], proc.pid)  # fmt: skip
    except Exception:
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace")[-4000:])
        raise
    finally:
        _stop(proc)
        log.close()
        shutil.rmtree(home, ignore_errors=True)
    stored = Position.objects.filter(device_id__in=fleet.devices).count()

    db = _db()
    print()
    print("== OsmAnd over HTTP: one point per request, 200 concurrent devices ==")
    print(f"seed {seed}; scale {scale:g}; {db}; {_cpus()} CPU(s); `wastelink serve` (uvicorn) on {HOST}, the client "
          f"(aiohttp) in this process; set up in {build_s:.1f} s")  # fmt: skip
    print(f"per phase: {DEVICES} devices × {per_device} requests (after {WARMUP} warm-up requests each), "
          f"at most {TIME_LIMIT_S:.0f} s")  # fmt: skip
    for ph in (bare, real):
        rps = ph.done / ph.elapsed if ph.elapsed else 0.0
        q = (
            statistics.quantiles(ph.latencies, n=100, method="inclusive")
            if len(ph.latencies) > 1
            else [0.0] * 99
        )
        codes = ", ".join(f"{k}: {v:,}" for k, v in sorted(ph.statuses.items()))
        errors = ", ".join(f"{k}: {v:,}" for k, v in sorted(ph.errors.items())) or "none"
        print(f"{ph.label:<14} {rps:8,.0f} req/s   p50 {q[49] * 1000:7.1f} ms   p99 {q[98] * 1000:7.1f} ms   "
              f"{ph.done:,} requests in {ph.elapsed:5.1f} s; status {codes}; errors {errors}; CPU per request: "
              f"server {ph.server_cpu / max(ph.done, 1) * 1000:.2f} ms, client "
              f"{ph.client_cpu / max(ph.done, 1) * 1000:.2f} ms")  # fmt: skip
    bare_rps, real_rps = bare.done / bare.elapsed, real.done / real.elapsed
    print(f"ratio          ingest {real_rps / bare_rps:.2f} of the bare endpoint's requests per second; "
          f"positions stored for these devices: {stored:,}")  # fmt: skip


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on Ctrl-C
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


def _db() -> str:
    if connection.vendor == "sqlite":
        return f"SQLite {connection.Database.sqlite_version}"
    version = getattr(connection, "pg_version", 0)
    return f"{connection.vendor} {version // 10000}.{version % 10000}" if version else connection.vendor
