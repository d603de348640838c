"""Ingest over OsmAnd HTTP, the live stream (Server-Sent Events), and the tracking pages."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from wastelink.core.telemetry import DecodeError, decode_osmand_json, decode_osmand_query
from wastelink.detection.access import is_official
from wastelink.registry.models import Vehicle
from wastelink.registry.services.fleet import visible_vehicles
from wastelink.tracking.access import message_visible, stream_scope, visible_trips
from wastelink.tracking.bus import AsyncQueueSubscriber, get_bus, wire
from wastelink.tracking.models import Position, Trip
from wastelink.tracking.services.geography import corridor_wgs84
from wastelink.tracking.services.group_commit import ingest_one

MAX_BODY = 64 * 1024


@csrf_exempt
def osmand(request: HttpRequest) -> HttpResponse:
    """One position per request, as Traccar Client and many trackers send it. 200 only once the point is stored
    (or was stored before: a repeat is a duplicate, still 200, so clients stop retrying). Under ASGI (`wastelink
    serve`) `/osmand` is answered by `tracking/ingest_asgi.py` with the same answers; this view serves WSGI."""
    if request.method not in ("GET", "POST"):
        return HttpResponse("method not allowed\n", status=405)
    now = timezone.now()
    try:
        if request.method == "POST" and request.content_type == "application/json":
            if len(request.body) > MAX_BODY:
                return HttpResponse("body too large\n", status=413)
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                return HttpResponse("malformed JSON\n", status=400)
            fix = decode_osmand_json(body, now)
        else:
            params = {k: v for k, v in request.GET.lists()}
            if request.method == "POST":
                params.update({k: v for k, v in request.POST.lists()})
            fix = decode_osmand_query(params, now)
    except DecodeError as exc:
        return HttpResponse(f"{exc}\n", status=400)
    result = ingest_one(fix, now=now)
    if result.status in ("accepted", "duplicate"):
        return HttpResponse("OK\n" if result.status == "accepted" else "OK duplicate\n")
    if result.status == "unknown_device":
        return HttpResponse("unknown device\n", status=404)
    return HttpResponse(f"rejected: {result.reason}\n", status=400)


async def live_stream(request: HttpRequest):
    """Server-Sent Events: positions and trip events the viewer may see, as they are stored."""
    user = await request.auser()
    if not user.is_authenticated:
        return JsonResponse({"errors": [{"rule": "auth.required", "field": "session", "message_en": "sign in",
                                         "message_th": "กรุณาเข้าสู่ระบบ", "severity": "error"}]}, status=401)  # fmt: skip
    scope = await sync_to_async(stream_scope)(user)
    holder = {"scope": scope}
    official = await sync_to_async(is_official)(user)

    def keep(m: dict) -> bool:
        # Alerts reach the parties only once resolved: a driver must not learn that an inspector is on the way.
        if m.get("type") in ("alert", "alert_updated") and not official and m.get("state") != "resolved":
            return False
        return message_visible(holder["scope"], m)

    subscriber = AsyncQueueSubscriber(get_bus(), keep=keep)

    async def events():
        try:
            yield "retry: 3000\n\n"
            last_refresh = asyncio.get_running_loop().time()
            while True:
                try:
                    message = await asyncio.wait_for(subscriber.queue.get(), timeout=15)
                    yield f"event: {message['type']}\ndata: {json.dumps(message, ensure_ascii=False, default=wire)}\n\n"
                except TimeoutError:
                    yield ": keep-alive\n\n"
                if asyncio.get_running_loop().time() - last_refresh > 10:  # new trips become visible
                    holder["scope"] = await sync_to_async(stream_scope)(user)
                    last_refresh = asyncio.get_running_loop().time()
        finally:
            subscriber.unsubscribe()

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@login_required
def live_map(request: HttpRequest) -> HttpResponse:
    return render(request, "tracking/live.html", {})


@login_required
def live_state(request: HttpRequest) -> JsonResponse:
    """The map's starting picture: open trips with their corridors and last positions."""
    # Each trip's latest position read from the (trip, fix time) index within the one query.
    latest = Position.objects.filter(trip=OuterRef("pk")).order_by("-fix_time")
    trips = visible_trips(request.user).filter(state="open").annotate(
        last_lat=Subquery(latest.values("lat")[:1]), last_lon=Subquery(latest.values("lon")[:1]),
        last_fix=Subquery(latest.values("fix_time")[:1]))[:500]  # fmt: skip
    out = []
    for t in trips:
        last = {"lat": t.last_lat, "lon": t.last_lon, "fix_time": t.last_fix.isoformat()} if t.last_fix else None
        out.append({"trip": t.id, "manifest": t.manifest.number, "plate": t.vehicle.plate, "device_id": t.device_id,
                    "corridor": corridor_wgs84(t.manifest.route, t.manifest.corridor_width_m),
                    "route": t.manifest.route, "last": last})  # fmt: skip
    return JsonResponse({"trips": out})


@login_required
def vehicle_status(request: HttpRequest) -> HttpResponse:
    """Every vehicle with a device the viewer follows: moving, stopped, or no signal since when. Those of the
    viewer's own organisations, and those on an open trip the viewer may see (an estate officer follows the trucks
    carrying their estates' waste, whoever owns them)."""
    on_trips = visible_trips(request.user).filter(state="open").values("vehicle_id")
    # One query whatever the number of vehicles: each vehicle's latest fix read from the (device, fix time) index.
    latest = Position.objects.filter(device_id=OuterRef("gps_device_id")).order_by("-fix_time")
    vehicles = list((visible_vehicles(request.user) | Vehicle.objects.filter(id__in=on_trips))
                    .exclude(gps_device_id=None).exclude(gps_device_id="").select_related("transporter").distinct()
                    .annotate(last_fix=Subquery(latest.values("fix_time")[:1]),
                              last_speed=Subquery(latest.values("speed_kmh")[:1])))  # fmt: skip
    trips: dict[int, Trip] = {}
    for trip in Trip.objects.filter(vehicle__in=[v.id for v in vehicles], state="open").select_related("manifest"):
        trips.setdefault(trip.vehicle_id, trip)  # newest first (the model's ordering), as before
    now = timezone.now()
    rows = []
    for v in vehicles:
        last = {"fix_time": v.last_fix, "speed_kmh": v.last_speed} if v.last_fix else None
        if last is None:
            status = "never"
        elif now - v.last_fix > timedelta(minutes=10):
            status = "no_signal"
        elif (v.last_speed or 0) > 5:
            status = "moving"
        else:
            status = "stopped"
        rows.append({"vehicle": v, "last": last, "status": status, "trip": trips.get(v.id)})
    order = {"no_signal": 0, "moving": 1, "stopped": 2, "never": 3}
    rows.sort(key=lambda r: (order[r["status"]], r["vehicle"].plate))
    return render(request, "tracking/vehicles.html", {"rows": rows})


@login_required
def replay(request: HttpRequest, trip_id: int) -> HttpResponse:
    trip = visible_trips(request.user).filter(id=trip_id).first()
    if trip is None:
        raise Http404
    return render(request, "tracking/replay.html", {"trip": trip})


@login_required
def trip_track(request: HttpRequest, trip_id: int) -> JsonResponse:
    trip = visible_trips(request.user).filter(id=trip_id).first()
    if trip is None:
        raise Http404
    points = list(Position.objects.filter(trip=trip).order_by("fix_time")
                  .values_list("fix_time", "lat", "lon", "speed_kmh", "in_corridor")[:20000])  # fmt: skip
    return JsonResponse({
        "trip": trip.id, "manifest": trip.manifest.number, "plate": trip.vehicle.plate,
        "corridor": corridor_wgs84(trip.manifest.route, trip.manifest.corridor_width_m), "route": trip.manifest.route,
        "simplified": trip.simplified_track,
        "points": [{"t": t.isoformat(), "lat": la, "lon": lo, "speed": s, "in": c} for t, la, lo, s, c in points],
    })  # fmt: skip
