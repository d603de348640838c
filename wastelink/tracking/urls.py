from django.urls import path

from . import views

urlpatterns = [
    path("osmand", views.osmand, name="osmand"),
    path("osmand/", views.osmand),
    path("live/", views.live_map, name="live_map"),
    path("live/state.json", views.live_state, name="live_state"),
    path("live/stream", views.live_stream, name="live_stream"),
    path("vehicles/status/", views.vehicle_status, name="vehicle_status"),
    path("trips/<int:trip_id>/replay/", views.replay, name="trip_replay"),
    path("trips/<int:trip_id>/track.json", views.trip_track, name="trip_track"),
]
