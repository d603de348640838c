"""Telling people about a new alert: signed webhooks (checked against a real local HTTP server), retries and
failures that never reach the caller, and email plus in-app notices to the right estate officers only."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import make_user
from wastelink.accounts.models import Notification
from wastelink.core import detection as rules
from wastelink.core.roles import Role
from wastelink.detection.services import notify

from . import test_alerts_fixtures as fx
from .test_alerts_fixtures import make_alert

pytestmark = pytest.mark.django_db

# The shared fixtures, bound here so that pytest finds them for this module.
_fast_password_hashing = fx._fast_password_hashing
alert_world = fx.alert_world
manifest_world = fx.manifest_world
permit_world = fx.permit_world
SECRET = "s3cret-for-tests"


class Receiver:
    """A tiny webhook receiver on 127.0.0.1: records every request; answers with the statuses given, in turn."""

    def __init__(self, statuses=(200,), delay_s: float = 0.0):
        self.requests: list[dict] = []
        self.statuses = list(statuses)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"body": body, "headers": dict(self.headers), "path": self.path})
                time.sleep(delay_s)
                status = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(*args, **kwargs) -> Receiver:
        r = Receiver(*args, **kwargs)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def hooks(settings):
    def configure(urls, **more):
        settings.WASTELINK = {**settings.WASTELINK, "ALERT_WEBHOOK_URLS": urls, "ALERT_WEBHOOK_SECRET": SECRET,
                              "ALERT_WEBHOOK_TIMEOUT_S": 2.0, "ALERT_WEBHOOK_ATTEMPTS": 3,
                              "ALERT_WEBHOOK_BACKOFF_S": 0.01, **more}  # fmt: skip

    configure([])
    return configure


def closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: connection refused
    return f"http://127.0.0.1:{port}/hook"


def test_the_webhook_is_signed_over_the_raw_body(alert_world, receivers, hooks):
    w = alert_world
    hook = receivers()
    hooks([hook.url])
    alert = make_alert(w.trip, rule=rules.HOT_SPOT_ENTRY)
    notify.alert_raised(alert)
    assert notify.outbox.wait_idle(10)
    assert len(hook.requests) == 1
    got = hook.requests[0]
    body, headers = got["body"], got["headers"]
    assert headers["X-Wastelink-Signature"].startswith("sha256=")
    assert notify.verify(body, headers["X-Wastelink-Signature"], SECRET)
    assert not notify.verify(body, headers["X-Wastelink-Signature"], "another secret")
    assert not notify.verify(body + b" ", headers["X-Wastelink-Signature"], SECRET)
    data = json.loads(body)
    assert data["event"] == "alert.raised" == headers["X-Wastelink-Event"]
    assert (
        str(data["sent_at"]) == headers["X-Wastelink-Timestamp"]
        and data["delivery"] == headers["X-Wastelink-Delivery"]
    )
    assert abs(data["sent_at"] - time.time()) < 60
    a = data["alert"]
    assert a["id"] == alert.id and a["rule"] == "hot_spot_entry" and a["manifest"] == w.trip.manifest.number
    assert (
        a["vehicle"] == "701234" and a["facts"]["zone_name"] == "บ่อดินร้าง หนองแฟบ" and len(a["evidence"]) == 6
    )
    assert a["url"].endswith(f"/alerts/{alert.id}/") and a["rule_th"] and a["origin_estate"] == "map-ta-phut"
    assert headers["Content-Type"].startswith("application/json")


def test_the_caller_never_waits_for_the_network(alert_world, receivers, hooks):
    w = alert_world
    slow = receivers(delay_s=1.5)
    hooks([slow.url])
    alert = make_alert(w.trip)
    started = time.monotonic()
    notify.alert_raised(alert)
    assert time.monotonic() - started < 1.0
    assert notify.outbox.wait_idle(10) and len(slow.requests) == 1


def test_failures_are_retried_then_logged_never_raised(alert_world, receivers, hooks, caplog):
    w = alert_world
    flaky = receivers(statuses=(503, 500, 200))
    broken = receivers(statuses=(500,))
    refused = receivers(statuses=(410,))
    hooks([flaky.url, broken.url, refused.url, closed_port_url(), "ftp://example.test/x"])
    caplog.set_level(logging.INFO, logger="wastelink.detection.services.notify")
    notify.alert_raised(make_alert(w.trip))  # must not raise
    assert notify.outbox.wait_idle(20)
    assert len(flaky.requests) == 3  # 503, 500, then delivered
    assert len(broken.requests) == 3  # every attempt, then given up
    assert len(refused.requests) == 1  # a 4xx other than 429 is not retried
    bodies = {r["body"] for r in flaky.requests}
    assert len(bodies) == 1  # every retry sends the same signed body (same delivery id)
    log = caplog.text
    assert f"delivered to {flaky.url}" in log
    assert f"{broken.url} failed after 3 attempt(s): HTTP 500" in log
    assert f"{refused.url} failed after 1 attempt(s): HTTP 410" in log
    assert "failed after 3 attempt(s): [Errno 111] Connection refused" in log
    assert "only http and https" in log


def test_no_secret_sends_unsigned_and_warns(alert_world, receivers, hooks, caplog):
    w = alert_world
    hook = receivers()
    hooks([hook.url], ALERT_WEBHOOK_SECRET="")
    notify.alert_raised(make_alert(w.trip))
    assert notify.outbox.wait_idle(10)
    assert "X-Wastelink-Signature" not in hook.requests[0]["headers"] and "unsigned" in caplog.text


def test_urls_from_a_comma_separated_string(hooks):
    hooks(" http://a.test/x, ,https://b.test/y ")
    assert notify.webhook_urls() == ["http://a.test/x", "https://b.test/y"]


def test_a_full_outbox_drops_and_logs_without_blocking(caplog):
    box = notify.Outbox(workers=1, maxsize=1)
    gate = threading.Event()
    assert box.submit(gate.wait, 5)
    time.sleep(0.05)  # the worker has taken the first job
    assert box.submit(lambda: None)
    assert box.submit(lambda: None) is False and "dropped" in caplog.text
    gate.set()
    assert box.wait_idle(5)


# --- officers: email and in-app notice ------------------------------------------------------------------------
def test_email_and_notice_go_to_the_officers_of_the_alerts_estates(alert_world, hooks, mailoutbox):
    w = alert_world
    office_a = w.users["officer_a"].organisation
    w.users["quiet"] = make_user("quiet_a", Role.ESTATE_OFFICER, office_a)
    w.users["quiet"].email = ""
    w.users["quiet"].save()
    retired = make_user("retired_a", Role.ESTATE_OFFICER, office_a)
    retired.is_active = False
    retired.save()
    alert = make_alert(w.trip, rule=rules.UNAUTHORISED_STOP)  # high
    notify.alert_raised(alert)
    assert notify.outbox.wait_idle(10)
    assert [m.to for m in mailoutbox] == [["officer_a@example.test"]]  # not B's officer, HQ, the parties
    mail = mailoutbox[0]
    assert w.trip.manifest.number in mail.subject and "701234" in mail.subject
    assert "เหตุผิดปกติ: จอดในจุดที่ไม่ได้รับอนุญาต" in mail.body and "Alert: unauthorised stop" in mail.body
    assert "จอดนิ่ง 12.5 นาที" in mail.body and "Stationary for 12.5 minutes" in mail.body
    assert f"/alerts/{alert.id}/" in mail.body
    assert mail.body.index("เหตุผิดปกติ") < mail.body.index("Alert:")  # Thai first
    notified = set(
        Notification.objects.filter(url=f"/alerts/{alert.id}/").values_list("user__username", flat=True)
    )
    assert notified == {"officer_a", "quiet_a"}  # in-app also for the officer without an address


def test_both_ends_estates_are_told(alert_world, hooks, mailoutbox):
    w = alert_world
    notify.alert_raised(make_alert(w.trip, destination_estate=w.estate_b))
    assert notify.outbox.wait_idle(10)
    assert sorted(m.to[0] for m in mailoutbox) == ["officer_a@example.test", "officer_b@example.test"]


def test_below_the_severity_threshold_nobody_is_mailed(alert_world, hooks, mailoutbox, settings):
    w = alert_world
    notify.alert_raised(make_alert(w.trip, rule=rules.CORRIDOR_DEVIATION))  # medium
    assert notify.outbox.wait_idle(10)
    assert mailoutbox == [] and not Notification.objects.filter(url__startswith="/alerts/").exists()
    settings.WASTELINK = {**settings.WASTELINK, "ALERT_EMAIL_MIN_SEVERITY": "medium"}
    notify.alert_raised(make_alert(w.trip, rule=rules.CORRIDOR_DEVIATION))
    assert notify.outbox.wait_idle(10)
    assert [m.to for m in mailoutbox] == [["officer_a@example.test"]]
    settings.WASTELINK = {**settings.WASTELINK, "ALERT_EMAIL_MIN_SEVERITY": "urgent"}  # a typo: high is used
    assert notify.min_severity() == "high"


def test_a_mail_outage_is_logged_not_raised(alert_world, hooks, settings, caplog):
    w = alert_world
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_TIMEOUT = "127.0.0.1", 1
    settings.EMAIL_PORT = int(closed_port_url().rsplit(":", 1)[1].split("/")[0])  # nobody listens: refused
    notify.alert_raised(make_alert(w.trip))
    assert notify.outbox.wait_idle(10)
    assert "alert email to 1 officer(s) failed" in caplog.text
