"""End to end: `wastelink serve` as a user runs it, in a subprocess on free loopback ports, against a temporary
SQLite database (whatever DATABASE_URL says), driven over real HTTP with the standard library.

`wastelink setup` prepares the database; a small Django script adds a vehicle on an open trip (its manifest has a
planned route), an idle vehicle, two generator users and their sessions. The server is started once for the module
and always stopped.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

HOST = "127.0.0.1"
BIN = Path(sys.executable).with_name("wastelink")

WORLD = r"""
import json
from datetime import timedelta
from decimal import Decimal

import django

django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from wastelink.accounts.models import Organisation, User
from wastelink.manifests.models import Manifest
from wastelink.permits.models import ApplicationLine, Permit, PermitApplication, PermitLine, WasteStream
from wastelink.registry.models import Establishment, Estate, ManagementMethod, Vehicle, WasteCode
from wastelink.tracking.models import Trip

now = timezone.now()
estate = Estate.objects.order_by("code").first()
code = WasteCode.objects.filter(level="entry").order_by("code").values_list("code", flat=True).first()
method = ManagementMethod.objects.order_by("code").values_list("code", flat=True).first()


def establishment(reg, name, **kwargs):
    est = Establishment.objects.create(registration_no=reg, name_th=name, name_en=name, province="Rayong", **kwargs)
    org = Organisation.objects.create(kind="establishment", name_th=name, name_en=name, establishment=est)
    return est, org


gen, gen_org = establishment("72000000000101", "Alpha Chemical", estate=estate, is_generator=True)
_other, other_org = establishment("72000000000102", "Bravo Steel", estate=estate, is_generator=True)
rcv, _ = establishment("10000000000103", "Delta Recycling", is_receiver=True)
trn, _ = establishment("20000000000104", "Echo Logistics", is_transporter=True)
vehicle = Vehicle.objects.create(transporter=trn, plate="70T001", province="Rayong", kind="truck_10w",
                                 capacity_kg=15000, gps_device_id="srv-trip", hazardous_approved=True)
Vehicle.objects.create(transporter=trn, plate="70T002", province="Rayong", kind="truck_10w", capacity_kg=15000,
                       gps_device_id="srv-idle", hazardous_approved=True)
stream = WasteStream.objects.create(generator=gen, waste_code_id=code, name="sludge", source_process="process",
                                    physical_form="sludge", annual_quantity_t=Decimal(100))
app = PermitApplication.objects.create(reference="APP-SRV-1", generator=gen, estate=estate, route="estate",
                                       state="APPROVED", version=1, decided_at=now)
line = ApplicationLine.objects.create(application=app, index=1, stream=stream, quantity_t=Decimal(50), method_id=method,
                                      receiver=rcv, decision="approved", approved_quantity_t=Decimal(50))
permit = Permit.objects.create(number="KO1-SRV-1", application=app, generator=gen, estate=estate,
                               valid_from=now.date() - timedelta(days=10), valid_until=now.date() + timedelta(days=300),
                               issued_at=now - timedelta(days=10), issued_by="test", verification_code="srv00000001")
pline = PermitLine.objects.create(permit=permit, index=1, application_line=line, stream=stream, waste_code_id=code,
                                  method_id=method, receiver=rcv, approved_quantity_t=Decimal(50),
                                  remaining_quantity_t=Decimal(45))
started = now - timedelta(hours=1)
manifest = Manifest.objects.create(
    number="MF-SRV-1", state="IN_TRANSIT", permit_line=pline, generator=gen, transporter=trn, receiver=rcv,
    vehicle=vehicle, waste_code_id=code, declared_quantity=Decimal(5), unit="t", declared_t=Decimal(5),
    container_type="drum", container_count=20, physical_form="sludge", planned_pickup_at=started,
    expected_arrival_at=now + timedelta(hours=3), picked_up_at=started, created_by="test",
    route={"type": "LineString", "coordinates": [[101.15, 12.70], [101.25, 12.80]]}, corridor_width_m=500)
trip = Trip.objects.create(manifest=manifest, vehicle=vehicle, device_id="srv-trip", started_at=started)


def session(username, org):
    user = User.objects.create_user(username=username, password="correct-horse-battery-9",
                                    role="generator_preparer", organisation=org)
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key


print(json.dumps({"trip": trip.id, "started": int(started.timestamp()),
                  "sessions": {"viewer": session("viewer", gen_org), "outsider": session("outsider", other_org)}}))
"""


@dataclass
class Server:
    port: int
    osmand_port: int
    db: Path
    world: dict

    def url(self, path: str, osmand: bool = False) -> str:
        return f"http://{HOST}:{self.osmand_port if osmand else self.port}{path}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server exited with code {proc.returncode}"
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {HOST}:{port} after {timeout_s:.0f} s")


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=15) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _send(url: str, method: str, body: bytes = b"", content_type: str = "") -> tuple[int, bytes]:
    headers = {"Content-Type": content_type} if content_type else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body or None, method=method, headers=headers),
                                    timeout=15) as resp:  # fmt: skip
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(WASTELINK_HOME=str(home), WASTELINK_LOG_LEVEL="WARNING")
    env.pop("WASTELINK_SQLITE_PATH", None)
    setup = subprocess.run(
        [str(BIN), "setup"], cwd=home, env=env, capture_output=True, text=True, timeout=300
    )
    assert setup.returncode == 0, setup.stderr
    made = subprocess.run([sys.executable, "-c", WORLD], cwd=home, env={**env, "DJANGO_SETTINGS_MODULE": "wastelink.settings"},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    world = json.loads(made.stdout.strip().splitlines()[-1])
    port, osmand_port = _free_port(), _free_port()
    log = open(home / "server.log", "w+b")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(BIN), "serve", "--no-setup", "--host", HOST, "--port", str(port), "--osmand-port",
                             str(osmand_port)], cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    try:
        try:
            _wait_for_port(osmand_port, proc)
            _wait_for_port(port, proc)
        except AssertionError:
            log.seek(0)
            raise AssertionError(log.read().decode(errors="replace")[-3000:]) from None
        yield Server(port, osmand_port, home / "wastelink.sqlite3", world)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        log.close()


def _positions(db: Path, device: str) -> list[tuple]:
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute("SELECT lat, lon, trip_id, in_corridor FROM tracking_position WHERE device_id = ? "
                           "ORDER BY fix_time", (device,)).fetchall()  # fmt: skip
    finally:
        con.close()


def test_osmand_on_the_ingest_port_root_and_on_the_platform_port(server):
    t = int(time.time()) - 120
    on_ingest = {"id": "srv-idle", "lat": "12.71", "lon": "101.16", "timestamp": str(t), "speed": "10"}
    assert _get(server.url("/?" + urlencode(on_ingest), osmand=True)) == (200, b"OK\n")
    on_platform = {"id": "srv-idle", "lat": "12.72", "lon": "101.17", "timestamp": str(t + 30)}
    assert _get(server.url("/osmand?" + urlencode(on_platform))) == (200, b"OK\n")
    assert _get(server.url("/?" + urlencode(on_ingest), osmand=True)) == (200, b"OK duplicate\n")
    assert _get(server.url("/any/path?" + urlencode({**on_ingest, "id": "nobody"}), osmand=True))[0] == 404
    assert _positions(server.db, "srv-idle") == [(12.71, 101.16, None, None), (12.72, 101.17, None, None)]


def test_the_ingest_port_takes_forms_and_json_and_refuses_bad_requests_with_the_reason(server):
    """The OsmAnd port answers without Django's views: the same answers as /osmand for every shape of request."""
    t = int(time.time()) - 300
    url = server.url("/", osmand=True)
    form = urlencode({"id": "srv-idle", "lat": "12.73", "lon": "101.18", "timestamp": str(t), "batt": "77"}).encode()
    assert _send(url, "POST", form, "application/x-www-form-urlencoded") == (200, b"OK\n")
    # Form fields override the query's; the query's own fields still count.
    both = url + "?" + urlencode({"id": "srv-idle", "lat": "1", "lon": "1", "timestamp": str(t + 10)})
    fields = urlencode({"lat": "12.74", "lon": "101.19"}).encode()
    assert _send(both, "POST", fields, "application/x-www-form-urlencoded") == (200, b"OK\n")
    body = {"device_id": "srv-idle", "location": {"timestamp": datetime_iso(t + 20),
                                                  "coords": {"latitude": 12.75, "longitude": 101.2, "speed": 5}}}  # fmt: skip
    assert _send(url, "POST", json.dumps(body).encode(), "application/json; charset=utf-8") == (200, b"OK\n")
    assert _send(url, "POST", json.dumps(body).encode(), "application/json") == (200, b"OK duplicate\n")
    assert _send(url, "POST", b"{oops", "application/json") == (400, b"malformed JSON\n")
    assert _get(url + "?" + urlencode({"lat": "12.7", "lon": "101.1"}))[0] == 400  # no device id
    bad = _get(url + "?" + urlencode({"id": "srv-idle", "lat": "95", "lon": "101.1", "timestamp": str(t)}))
    assert bad[0] == 400 and b"rejected: invalid coordinates" in bad[1]
    assert _get(url + "?" + urlencode({"id": "srv-idle", "lat": "abc", "lon": "101.1"}))[0] == 400
    assert _send(url, "PUT", b"x", "text/plain") == (405, b"method not allowed\n")
    nul = _get(url + "?" + urlencode({"id": "srv-idle", "lat": "12.7", "lon": "101.1", "note": "a\x00b"}))
    assert nul == (400, b"NUL characters are not accepted\n")
    body_nul = json.dumps({**body, "device_id": "srv-idle\x00"}).encode()  # written \u0000 in JSON
    assert _send(url, "POST", body_nul, "application/json")[0] == 400
    many = urlencode({"id": "srv-idle", "lat": "12.7", "lon": "101.1", **{f"f{k}": "1" for k in range(120)}})
    assert _get(url + "?" + many) == (400, b"more than 100 fields\n")
    huge = b"id=srv-idle&note=" + b"x" * (70 * 1024)
    assert _send(url, "POST", huge, "application/x-www-form-urlencoded") == (413, b"body too large\n")
    # A client that goes away half-way through its body: nothing is stored (its last number may be cut short).
    cut = b"id=srv-idle&lat=12.76&lon=101.2"
    with socket.create_connection((HOST, server.osmand_port), timeout=15) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(cut) + 20, cut))  # fmt: skip
    time.sleep(0.5)
    stored = _positions(server.db, "srv-idle")
    assert all(lat != 12.76 for lat, *_ in stored)
    assert (12.73, 101.18, None, None) in stored and (12.74, 101.19, None, None) in stored
    assert (12.75, 101.2, None, None) in stored and all(lat != 95 for lat, *_ in stored)


def datetime_iso(unix: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))


class EventStream:
    """A Server-Sent Events connection read with the standard library, with deadlines."""

    def __init__(self, server: Server, session: str) -> None:
        self.conn = http.client.HTTPConnection(HOST, server.port, timeout=15)
        self.conn.request("GET", "/live/stream", headers={"Cookie": f"sessionid={session}",
                                                          "Accept": "text/event-stream"})  # fmt: skip
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.read(500)
        assert self.resp.getheader("Content-Type", "").startswith("text/event-stream")
        self.text = ""

    def until(self, needle: str, timeout_s: float) -> bool:
        """Read until `needle` has arrived (True) or the deadline passes (False)."""
        deadline = time.monotonic() + timeout_s
        while needle not in self.text:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.conn.sock.settimeout(left)
            try:
                chunk = self.resp.read1(65536)
            except TimeoutError:
                return False
            if not chunk:
                return False
            self.text += chunk.decode()
        return True

    def close(self) -> None:
        self.conn.close()


def test_live_stream_brings_a_position_to_a_viewer_of_the_trip_and_not_to_others(server):
    viewer = EventStream(server, server.world["sessions"]["viewer"])
    outsider = EventStream(server, server.world["sessions"]["outsider"])
    try:
        # The stream's first line says it is open, and so subscribed to the bus.
        assert viewer.until("retry:", 10) and outsider.until("retry:", 10)
        point = {
            "id": "srv-trip",
            "lat": "12.75",
            "lon": "101.20",
            "timestamp": str(server.world["started"] + 60),
        }
        assert _get(server.url("/?" + urlencode(point), osmand=True)) == (200, b"OK\n")
        assert viewer.until("event: position", 5), viewer.text
        data = json.loads(viewer.text.split("event: position\ndata: ", 1)[1].split("\n", 1)[0])
        assert data["device_id"] == "srv-trip" and data["trip"] == server.world["trip"]
        assert data["manifest"] == "MF-SRV-1" and data["in_corridor"] is True
        assert not outsider.until("event: position", 2), outsider.text
    finally:
        viewer.close()
        outsider.close()
    assert _positions(server.db, "srv-trip") == [(12.75, 101.20, server.world["trip"], 1)]


def test_live_stream_needs_a_session(server):
    assert _get(server.url("/live/stream"))[0] == 401
