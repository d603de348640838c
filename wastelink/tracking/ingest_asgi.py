"""The dedicated OsmAnd ingest server (port 5055 by convention): every request, whatever its path, is a position.

Trackers post to the server root (`http://host:5055/?id=…`); this ASGI wrapper hands each request to the platform's
`/osmand` view, so both ports share one pipeline.
"""

from __future__ import annotations

from django.core.asgi import get_asgi_application

_django = None


async def application(scope, receive, send):
    global _django
    if _django is None:
        _django = get_asgi_application()
    if scope["type"] == "http":
        scope = dict(scope, path="/osmand", raw_path=b"/osmand")
    await _django(scope, receive, send)
