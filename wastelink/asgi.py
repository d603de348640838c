"""The platform under ASGI (`wastelink serve`). Devices' points on `/osmand` are answered by the OsmAnd port's own
handler (`tracking/ingest_asgi.py`: the same answers, without a Django request and a thread per request), so a
device behind a proxy that exposes only the main port is served as fast as on port 5055."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wastelink.settings")
django_application = get_asgi_application()

from wastelink.tracking import ingest_asgi  # noqa: E402 - after Django is set up


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/osmand":
        await ingest_asgi.application(scope, receive, send)
    else:
        await django_application(scope, receive, send)
