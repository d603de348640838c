"""Positions from vehicles' GPS devices, trips tied to manifests, and geofences."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wastelink.manifests.models import Manifest
from wastelink.registry.models import Establishment, Estate, Vehicle


class Trip(models.Model):
    """A manifest's journey: opened when the load is picked up (IN_TRANSIT), closed on delivery."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("trip state", "open")
        CLOSED = "closed", pgettext_lazy("trip state", "closed")

    manifest = models.OneToOneField(Manifest, on_delete=models.PROTECT, related_name="trip")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="trips")
    device_id = models.CharField(max_length=64, db_index=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    last_fix_at = models.DateTimeField(null=True, blank=True)
    points = models.PositiveIntegerField(default=0)
    outside_corridor_points = models.PositiveIntegerField(default=0)
    simplified_track = models.JSONField(
        null=True, blank=True, help_text="GeoJSON LineString kept after retention"
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["state", "device_id"])]

    def __str__(self) -> str:
        return f"trip {self.manifest_id}"


class Position(models.Model):
    """One accepted fix. (device_id, fix_time) is the natural key: a repeat is the same point, dropped."""

    device_id = models.CharField(max_length=64)
    fix_time = models.DateTimeField()
    received_at = models.DateTimeField()
    lat = models.FloatField()
    lon = models.FloatField()
    speed_kmh = models.FloatField(null=True, blank=True)
    course = models.FloatField(null=True, blank=True)
    altitude = models.FloatField(null=True, blank=True)
    accuracy = models.FloatField(null=True, blank=True)
    battery = models.FloatField(null=True, blank=True)
    mock = models.BooleanField(default=False)
    attributes = models.JSONField(default=dict, blank=True)
    # No foreign-key constraint and no index of its own: the deferred check of every row was the largest single
    # cost of a write (docs/benchmarks.md). The pipeline takes the trip from its open trips, which it checks
    # against the trips version in the transaction that writes the point; trips are never deleted (their
    # manifests protect them). The (trip, fix_time) index serves every look-up by trip.
    trip = models.ForeignKey(Trip, null=True, blank=True, on_delete=models.SET_NULL, related_name="positions",
                             db_constraint=False, db_index=False)  # fmt: skip
    in_corridor = models.BooleanField(null=True, help_text="null outside trips or without a planned route")

    class Meta:
        ordering = ["device_id", "fix_time"]
        constraints = [
            models.UniqueConstraint(fields=["device_id", "fix_time"], name="position_device_fix_unique")
        ]
        # Every index is written on every point: only those some query uses. (Retention reads by fix time alone,
        # a full scan once a day; an index for it would cost every point a fourth B-tree.)
        indexes = [models.Index(fields=["trip", "fix_time"])]

    def __str__(self) -> str:
        return f"{self.device_id}@{self.fix_time.isoformat()}"


class TripsVersion(models.Model):
    """One row, given new random values by database triggers whenever what the ingest pipeline keeps of open trips
    may have changed: `trips` when a trip is inserted or deleted or its state, device, start or manifest changes;
    `routes` when a manifest's planned route or corridor width changes. The pipeline reads the row once a batch and
    looks trips (and, after `routes` changed, their routes) up again only then, whichever process, bulk update or
    hand-run SQL made the change (migration tracking/0002 creates the triggers; a test fails if a later migration
    loses them, as SQLite's table rebuilds do)."""

    trips = models.BigIntegerField(default=0)
    routes = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"trips version {self.trips}/{self.routes}"


class Geofence(models.Model):
    class Kind(models.TextChoices):
        ESTATE = "estate", _("estate boundary")
        SITE = "site", _("generator or receiver site")
        REST_AREA = "rest_area", _("authorised rest area")
        HOT_SPOT = "hot_spot", _("hot spot (dumping risk)")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200)
    geometry = models.JSONField(help_text="GeoJSON Polygon or MultiPolygon")
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    estate = models.ForeignKey(
        Estate, null=True, blank=True, on_delete=models.CASCADE, related_name="geofences"
    )
    establishment = models.ForeignKey(Establishment, null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="geofences")  # fmt: skip
    active = models.BooleanField(default=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.name}"


class IngestCounter(models.Model):
    """Refused points per device and reason (unknown devices are counted, never stored)."""

    device_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=80)
    count = models.PositiveBigIntegerField(default=0)
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device_id", "reason"], name="ingest_counter_unique")]

    def __str__(self) -> str:
        return f"{self.device_id} {self.reason}: {self.count}"
