"""The OsmAnd driver against a tiny local HTTP server that records what it receives."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from wastelink.simulation.drive import DriveError, Fix, check_future, drive, scenario_fixes, shift_to


class Recorder(BaseHTTPRequestHandler):
    """Answers as the platform's OsmAnd endpoint does: 200 OK, 200 OK duplicate, 404 for an unknown device."""

    def do_GET(self):  # noqa: N802 - the http.server API
        q = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        with self.server.lock:
            self.server.seen.append(q)
            key = (q["id"], q["timestamp"])
            if q["id"] == "unknown":
                status, body = 404, "unknown device\n"
            elif key in self.server.keys:
                status, body = 200, "OK duplicate\n"
            else:
                self.server.keys.add(key)
                status, body = 200, "OK\n"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    httpd.daemon_threads = True
    httpd.seen, httpd.keys, httpd.lock = [], set(), threading.Lock()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_every_fix_of_a_scenario_is_sent_once_and_in_order_per_device(server, drawn):
    _, scenario, _ = drawn
    fixes = [
        f
        for f in scenario_fixes(scenario)
        if f.device_id in {v.device_id for v in scenario.world.vehicles[:3]}
    ]
    fixes = fixes[:600]
    result = drive(server.url, fixes, speed=0, concurrency=16)
    assert result.points == result.sent == result.accepted == len(fixes) == len(server.seen)
    assert result.refused == result.errors == result.withheld == result.duplicates == 0
    assert {(q["id"], int(q["timestamp"])) for q in server.seen} == {(f.device_id, f.time) for f in fixes}
    arrived = defaultdict(list)
    for q in server.seen:
        arrived[q["id"]].append(int(q["timestamp"]))
    assert all(times == sorted(times) for times in arrived.values())  # each device sends in fix-time order
    f = fixes[0]
    q = next(q for q in server.seen if (q["id"], int(q["timestamp"])) == (f.device_id, f.time))
    assert (float(q["lat"]), float(q["lon"])) == pytest.approx((f.lat, f.lon), abs=1e-6)
    assert float(q["speed"]) == pytest.approx(f.speed_kmh / 1.852, abs=0.01)  # knots


def test_refusals_and_duplicates_are_counted_with_their_reasons(server):
    t = int(time.time()) - 3600
    fixes = [Fix(t, "dev-a", 12.7, 101.1, 40.0), Fix(t + 10, "dev-a", 12.701, 101.1, 40.0),
             Fix(t + 10, "dev-a", 12.701, 101.1, 40.0), Fix(t + 5, "unknown", 12.7, 101.1, 0.0)]  # fmt: skip
    result = drive(server.url, fixes, speed=0)
    assert (result.sent, result.accepted, result.duplicates, result.refused) == (4, 2, 1, 1)
    assert result.reasons == {"404 unknown device": 1}
    assert "refused 1" in result.line()


def test_fixes_are_paced_by_their_fix_times(server):
    t = int(time.time()) - 3600
    fixes = [Fix(t + 10 * k, "dev-a", 12.7 + k / 1000, 101.1, 40.0) for k in range(4)]  # 30 s of fix time
    begun = time.monotonic()
    result = drive(server.url, fixes, speed=30)  # … in about one second
    assert result.accepted == 4
    assert 0.9 <= time.monotonic() - begun < 5


def test_a_drive_into_the_future_is_refused_before_anything_is_sent(server):
    now = int(time.time())
    fixes = [Fix(now + 60 * k, "dev-a", 12.7, 101.1, 40.0) for k in range(60)]  # an hour from now on
    with pytest.raises(DriveError, match="more than 5 minutes in the future"):
        drive(server.url, fixes, speed=10)  # fix time would run ten times ahead of the clock
    with pytest.raises(DriveError, match="--shift-to-now"):
        check_future(fixes, speed=0, now=now - 3600)
    check_future(fixes, speed=1, now=now)  # real time from now on is fine
    assert server.seen == []


def test_shift_to_now_sends_the_first_fix_now(server):
    fixes, shift = shift_to(
        [Fix(1_700_000_000 + k, "dev-a", 12.7, 101.1, 30.0) for k in range(3)], int(time.time())
    )
    assert shift > 0
    result = drive(server.url, fixes, speed=1)
    assert result.accepted == 3
    assert abs(int(server.seen[0]["timestamp"]) - time.time()) < 10


def test_fixes_that_drift_into_the_future_are_withheld(server):
    now = time.time()
    calls = []

    def clock() -> float:  # the first reading is true; later ones lag ten minutes behind
        calls.append(1)
        return now if len(calls) == 1 else now - 600

    fixes = [Fix(int(now), "dev-a", 12.7, 101.1, 30.0)]
    result = drive(server.url, fixes, speed=0, clock=clock)
    assert (result.withheld, result.sent) == (1, 0) and server.seen == []
