"""The dedicated OsmAnd ingest server (port 5055 by convention): every request, whatever its path, is a position.

Answered here rather than by Django's `/osmand` view: the same decoders, the same pipeline, the same answers, but
without a Django request, its middleware and a thread per request, which cost ~4.5 ms of CPU a point and bound
the port to ~220 requests/s (docs/benchmarks.md). A request decodes its point and awaits it on the writer thread
of `AsyncGroupCommit`, which writes every point queued in one transaction and answers each request once the
transaction holding its point has committed.

For benchmarks only: with WASTELINK_BENCH_BARE=1 in the server's environment, `/_bench/bare` answers "OK" without
decoding or the database (the baseline of `bench/osmand_http.py`: what the HTTP server alone costs). Unset, that
path is a position like any other.
"""

from __future__ import annotations

import json
import logging
import os
from urllib.parse import parse_qs

from django.utils import timezone

from wastelink.core.telemetry import DecodeError, decode_osmand_json, decode_osmand_query
from wastelink.tracking.services.group_commit import async_group_commit

# Imported once Django is set up: by `wastelink/asgi.py` after `get_asgi_application()`, and by `wastelink serve`
# (through uvicorn) inside the management command.
BENCH_BARE = os.environ.get("WASTELINK_BENCH_BARE", "").strip().lower() in {"1", "true", "yes", "on"}
MAX_BODY = 64 * 1024
MAX_FIELDS = 100  # a position has about fifteen; Django's own limit for a form is 1,000
GONE = object()  # the client went away before its body was read
log = logging.getLogger(__name__)


async def application(scope, receive, send):
    if scope["type"] != "http":  # lifespan is off; nothing else is served here
        return
    if BENCH_BARE and scope["path"] == "/_bench/bare":
        await _read_body(receive)
        await _answer(send, 200, "OK\n")
        return
    method = scope["method"]
    if method not in ("GET", "POST"):
        await _read_body(receive)
        await _answer(send, 405, "method not allowed\n")
        return
    body = await _read_body(receive)
    if body is GONE:  # a cut-off body must not be stored as a point (its last number may be cut short)
        return
    if body is None:
        await _answer(send, 413, "body too large\n")
        return
    query = scope.get("query_string", b"")
    content_type = _header(scope, b"content-type").split(";")[0].strip().lower()
    json_body = method == "POST" and content_type == "application/json"
    if _has_nul(query) or (b"\x00" in body or b"\\u0000" in body if json_body else _has_nul(body)):
        # As RejectNulMiddleware does on the main port: PostgreSQL cannot store NUL in text.
        await _answer(send, 400, "NUL characters are not accepted\n")
        return
    now = timezone.now()
    try:
        if json_body:
            try:
                message = json.loads(body or b"{}")
            except ValueError:
                await _answer(send, 400, "malformed JSON\n")
                return
            fix = decode_osmand_json(message, now)
        else:
            # As Django's QueryDict reads them: UTF-8, blank values kept; form fields override the query's.
            params = parse_qs(query.decode("utf-8", "replace"), keep_blank_values=True,
                              max_num_fields=MAX_FIELDS)  # fmt: skip
            if method == "POST" and content_type == "application/x-www-form-urlencoded":
                params.update(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True,
                                       max_num_fields=MAX_FIELDS))  # fmt: skip
            fix = decode_osmand_query(params, now)
    except DecodeError as exc:
        await _answer(send, 400, f"{exc}\n")
        return
    except ValueError:  # parse_qs: more than MAX_FIELDS fields
        await _answer(send, 400, f"more than {MAX_FIELDS} fields\n")
        return
    try:
        result = await async_group_commit.submit(fix, now)
    except Exception:
        log.exception("OsmAnd point from %s not stored", fix.device_id)
        await _answer(send, 500, "not stored, try again\n")  # the device keeps the point and retries
        return
    if result.status == "accepted":
        await _answer(send, 200, "OK\n")
    elif result.status == "duplicate":
        await _answer(send, 200, "OK duplicate\n")
    elif result.status == "unknown_device":
        await _answer(send, 404, "unknown device\n")
    else:
        await _answer(send, 400, f"rejected: {result.reason}\n")


async def _read_body(receive):
    """The request body; None once it passes MAX_BODY (the rest is read and dropped); GONE if the client went
    away before the end."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            return GONE
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks) if size <= MAX_BODY else None


def _has_nul(urlencoded: bytes) -> bool:
    return b"\x00" in urlencoded or b"%00" in urlencoded


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


async def _answer(send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
