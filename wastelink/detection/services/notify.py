"""Telling people about a new alert: signed webhooks, and email plus an in-app notice to the estate officers.

`alert_raised(alert)` is called by the engine once the alert is committed. It never blocks the caller on the
network and never raises for a delivery failure: the webhook POSTs and the emails are handed to a small pool of
background threads (`outbox`), retried with backoff, and failures are logged.

Webhooks (settings WASTELINK["ALERT_WEBHOOK_URLS"], env WASTELINK_ALERT_WEBHOOK_URLS, comma-separated): a JSON POST
to each URL with

    X-Wastelink-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with WASTELINK_ALERT_WEBHOOK_SECRET>
    X-Wastelink-Timestamp: <Unix seconds when the delivery was made up; also "sent_at" inside the signed body>
    X-Wastelink-Event: alert.raised
    X-Wastelink-Delivery: <uuid; the same on every retry, so a receiver can drop repeats>

A receiver recomputes the HMAC over the bytes it received (before parsing them) and compares in constant time;
to refuse replays it checks that "sent_at" in the body (covered by the signature) is recent. A 2xx answer ends a
delivery; a network error, a timeout, a 429 or a 5xx is retried; any other answer is given up at once.

Email and in-app notice: to the active estate officers covering the alert's origin or destination estate, when
the alert's severity reaches WASTELINK["ALERT_EMAIL_MIN_SEVERITY"] (default high); email only to those with an
address, in Thai and English, through Django's configured mail backend.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import close_old_connections
from django.utils import timezone

from wastelink.accounts.models import Notification, User
from wastelink.core.alert_states import SEVERITY_RANK, severity_at_least
from wastelink.core.roles import Role
from wastelink.core.thai_dates import format_thai_datetime
from wastelink.detection.models import Alert

from .alerts import RULE_TEXT, SEVERITY_TEXT, describe

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Wastelink-Signature"
TIMESTAMP_HEADER = "X-Wastelink-Timestamp"


def _setting(name: str, default: Any) -> Any:
    return settings.WASTELINK.get(name, default)


# --- the background outbox ------------------------------------------------------------------------------------
class Outbox:
    """A few daemon threads working through a bounded queue. `submit` never blocks: when the queue is full the job
    is dropped and logged. Threads start on first use and again after a fork (server workers)."""

    def __init__(self, workers: int = 4, maxsize: int = 1000) -> None:
        self.workers = workers
        self.queue: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue(maxsize)
        self._lock = threading.Lock()
        self._pid: int | None = None

    def _ensure_started(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            for n in range(self.workers):
                threading.Thread(target=self._run, name=f"alert-notify-{n}", daemon=True).start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> bool:
        self._ensure_started()
        try:
            self.queue.put_nowait((fn, args))
        except queue.Full:
            log.error("alert notification dropped: the outbox is full (%d jobs waiting)", self.queue.qsize())
            return False
        return True

    def _run(self) -> None:
        while True:
            fn, args = self.queue.get()
            try:
                fn(*args)
            except Exception:  # a job's failure is logged; the worker carries on
                log.exception("alert notification job failed")
            finally:
                close_old_connections()  # a job that read the database leaves no connection behind
                self.queue.task_done()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every submitted job has finished (tests, orderly shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self.queue.all_tasks_done:
            while self.queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.queue.all_tasks_done.wait(remaining)
        return True


outbox = Outbox()


# --- webhooks -------------------------------------------------------------------------------------------------
def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str, secret: str) -> bool:
    """What a receiver does (and the tests): recompute over the raw bytes and compare in constant time."""
    return hmac.compare_digest(sign(body, secret), signature or "")


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The alert as a webhook sends it: everything an officer's system needs to act, with a link to the page."""
    rule_en, rule_th = RULE_TEXT.get(alert.rule, (alert.rule, alert.rule))
    return {
        "id": alert.id, "rule": alert.rule, "rule_en": rule_en, "rule_th": rule_th, "severity": alert.severity,
        "state": alert.state, "trip": alert.trip_id, "manifest": alert.manifest.number,
        "vehicle": alert.vehicle.plate, "device_id": alert.trip.device_id,
        "episode_at": alert.episode_at.isoformat(), "fired_at": alert.fired_at.isoformat(),
        "raised_at": alert.raised_at.isoformat(), "lat": alert.lat, "lon": alert.lon, "facts": alert.facts,
        "evidence": alert.evidence,
        "origin_estate": alert.origin_estate.code if alert.origin_estate else None,
        "destination_estate": alert.destination_estate.code if alert.destination_estate else None,
        "url": f"{settings.SITE_URL}/alerts/{alert.id}/",
    }  # fmt: skip


def webhook_urls() -> list[str]:
    raw = _setting("ALERT_WEBHOOK_URLS", [])
    urls = [u.strip() for u in (raw.split(",") if isinstance(raw, str) else raw) if u and u.strip()]
    good = []
    for url in urls:
        if url.lower().startswith(("http://", "https://")):
            good.append(url)
        else:
            log.error("alert webhook URL ignored (only http and https): %r", url[:200])
    return good


def send_webhooks(event: str, data: dict[str, Any], urls: list[str] | None = None) -> int:
    """Queue one signed delivery per URL; returns how many were queued."""
    urls = webhook_urls() if urls is None else urls
    if not urls:
        return 0
    now = int(time.time())
    delivery = str(uuid.uuid4())
    body = json.dumps({"event": event, "delivery": delivery, "sent_at": now, "alert": data}, ensure_ascii=False,
                      separators=(",", ":"), default=str).encode("utf-8")  # fmt: skip
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "wastelink-alerts/1",
               TIMESTAMP_HEADER: str(now), "X-Wastelink-Event": event, "X-Wastelink-Delivery": delivery}  # fmt: skip
    secret = _setting("ALERT_WEBHOOK_SECRET", "")
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    else:
        log.warning("alert webhooks are sent unsigned: WASTELINK_ALERT_WEBHOOK_SECRET is not set")
    queued = 0
    for url in urls:
        queued += outbox.submit(deliver, url, body, headers)
    return queued


def deliver(url: str, body: bytes, headers: dict[str, str]) -> bool:
    """POST with retries: a few attempts with exponential backoff. Runs on an outbox thread; never raises."""
    attempts = max(1, int(_setting("ALERT_WEBHOOK_ATTEMPTS", 4)))
    timeout = float(_setting("ALERT_WEBHOOK_TIMEOUT_S", 5.0))
    backoff = float(_setting("ALERT_WEBHOOK_BACKOFF_S", 1.0))
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked
                response.read(1024)
                log.info("alert webhook delivered to %s (%s)", url, response.status)
                return True
        except urllib.error.HTTPError as exc:
            retry = exc.code == 429 or exc.code >= 500
            reason = f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            retry, reason = True, str(getattr(exc, "reason", exc))[:200]
        if not retry or attempt == attempts:
            log.error("alert webhook to %s failed after %d attempt(s): %s", url, attempt, reason)
            return False
        log.warning("alert webhook to %s failed (%s); retrying", url, reason)
        time.sleep(backoff * 2 ** (attempt - 1))
    return False


# --- officers: email and in-app notice ------------------------------------------------------------------------
def officers_for(alert: Alert):
    """The active estate officers whose office covers the alert's origin or destination estate."""
    estates = {e for e in (alert.origin_estate_id, alert.destination_estate_id) if e is not None}
    if not estates:
        return User.objects.none()
    return User.objects.filter(role=Role.ESTATE_OFFICER.value, is_active=True,
                               organisation__estates__in=estates).distinct().order_by("id")  # fmt: skip


def min_severity() -> str:
    value = str(_setting("ALERT_EMAIL_MIN_SEVERITY", "high")).strip().lower()
    if value not in SEVERITY_RANK:
        log.warning("WASTELINK_ALERT_EMAIL_MIN_SEVERITY=%r is not low, medium or high; using high", value)
        return "high"
    return value


def _local(value) -> tuple[str, str]:
    local = timezone.localtime(value, timezone.get_default_timezone())
    return local.strftime("%d %b %Y %H:%M"), format_thai_datetime(local)


def email_text(alert: Alert) -> tuple[str, str]:
    """(subject, body): Thai first, then English."""
    rule_en, rule_th = RULE_TEXT.get(alert.rule, (alert.rule, alert.rule))
    sev_en, sev_th = SEVERITY_TEXT.get(alert.severity, (alert.severity, alert.severity))
    fired_en, fired_th = _local(alert.fired_at)
    raised_en, raised_th = _local(alert.raised_at)
    plate, number = alert.vehicle.plate, alert.manifest.number
    place = f"{alert.lat:.5f}, {alert.lon:.5f}" if alert.lat is not None and alert.lon is not None else "–"
    facts = describe(alert.rule, alert.facts)
    url = f"{settings.SITE_URL}/alerts/{alert.id}/"
    subject = f"[wastelink] {rule_th} / {rule_en} · {number} · {plate}"
    th = [f"เหตุผิดปกติ: {rule_th} (ความรุนแรง{sev_th})", f"เอกสารกำกับการขนส่ง: {number}", f"ทะเบียนรถ: {plate}",
          f"เกิดเหตุ (เวลาตามตำแหน่ง GPS): {fired_th}", f"ระบบแจ้งเตือนเมื่อ: {raised_th}", f"ตำแหน่ง: {place}",
          *[t for _, t in facts], f"ดูรายละเอียดและดำเนินการ: {url}"]  # fmt: skip
    en = [f"Alert: {rule_en} (severity {sev_en})", f"Manifest: {number}", f"Vehicle plate: {plate}",
          f"Happened (GPS fix time): {fired_en} Bangkok time", f"Raised: {raised_en}", f"Place: {place}",
          *[e for e, _ in facts], f"See it and act: {url}"]  # fmt: skip
    return subject, "\n".join(th) + "\n\n" + "\n".join(en) + "\n"


def _send_emails(messages: list[EmailMessage]) -> None:
    try:
        get_connection(fail_silently=False).send_messages(messages)
    except Exception:  # an SMTP outage must not take the outbox thread down
        log.exception("alert email to %d officer(s) failed", len(messages))


def notify_officers(alert: Alert) -> list[User]:
    """In-app notice and email to the officers of the alert's estates, at or above the severity threshold."""
    if not severity_at_least(alert.severity, min_severity()):
        return []
    officers = list(officers_for(alert))
    if not officers:
        return []
    rule_en, rule_th = RULE_TEXT.get(alert.rule, (alert.rule, alert.rule))
    title_en = f"Alert: {rule_en} · {alert.manifest.number} · {alert.vehicle.plate}"
    title_th = f"เหตุผิดปกติ: {rule_th} · {alert.manifest.number} · {alert.vehicle.plate}"
    Notification.objects.bulk_create([Notification(user=u, title_en=title_en[:255], title_th=title_th[:255],
                                                   url=f"/alerts/{alert.id}/") for u in officers])  # fmt: skip
    subject, body = email_text(alert)
    messages = [
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [u.email]) for u in officers if u.email
    ]
    if messages:
        outbox.submit(_send_emails, messages)
    return officers


# --- the entry point ------------------------------------------------------------------------------------------
def alert_raised(alert: Alert) -> None:
    """A new alert is committed: webhooks and officers. Returns at once; deliveries run in the background."""
    alert = Alert.objects.select_related("manifest", "vehicle", "trip", "origin_estate",
                                         "destination_estate").get(id=alert.id)  # fmt: skip
    try:
        send_webhooks("alert.raised", alert_payload(alert))
    except Exception:
        log.exception("queueing the webhooks of alert %s failed", alert.id)
    try:
        notify_officers(alert)
    except Exception:
        log.exception("notifying the officers of alert %s failed", alert.id)
