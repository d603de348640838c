"""The dedicated OsmAnd ingest server (port 5055 by convention): every request, whatever its path, is a position.

Trackers post to the server root (`http://host:5055/?id=…`); this ASGI wrapper hands each request to the platform's
`/osmand` view, so both ports share one pipeline.

For benchmarks only: with WASTELINK_BENCH_BARE=1 in the server's environment, `/_bench/bare` answers "OK" without
touching Django or the database (the baseline of `bench/osmand_http.py`: what the HTTP server alone costs). Unset,
that path is a position like any other.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

_django = None
BENCH_BARE = os.environ.get("WASTELINK_BENCH_BARE", "").strip().lower() in {"1", "true", "yes", "on"}


async def application(scope, receive, send):
    global _django
    if BENCH_BARE and scope["type"] == "http" and scope["path"] == "/_bench/bare":
        await _bare(receive, send)
        return
    if _django is None:
        _django = get_asgi_application()
    if scope["type"] == "http":
        scope = dict(scope, path="/osmand", raw_path=b"/osmand")
    await _django(scope, receive, send)


async def _bare(receive, send) -> None:
    while True:  # read the request body, if any, as a real endpoint would
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"3")]})  # fmt: skip
    await send({"type": "http.response.body", "body": b"OK\n"})
