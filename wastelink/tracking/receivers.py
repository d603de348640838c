"""A manifest entering IN_TRANSIT opens a trip for its vehicle's device; DELIVERED closes it. A vehicle saved or
deleted in this process empties the ingest pipeline's device cache (other processes see the change within its
few seconds)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from wastelink.audit import services as audit
from wastelink.manifests.signals import manifest_delivered, manifest_in_transit
from wastelink.registry.models import Vehicle
from wastelink.tracking.bus import get_bus
from wastelink.tracking.models import Trip


@receiver(manifest_in_transit)
def open_trip(sender, manifest, **kwargs) -> None:
    trip, created = Trip.objects.get_or_create(
        manifest=manifest,
        defaults={"vehicle_id": manifest.vehicle_id, "device_id": manifest.vehicle.gps_device_id or "",
                  "started_at": manifest.picked_up_at or timezone.now()},
    )  # fmt: skip
    if created:
        # Only one open trip per device: a vehicle cannot carry two manifests' trips at once in the tracking view;
        # an older open trip of the same device is closed here (its manifest stays as it is).
        Trip.objects.filter(device_id=trip.device_id, state=Trip.State.OPEN).exclude(id=trip.id).exclude(device_id="").update(
            state=Trip.State.CLOSED, ended_at=timezone.now())  # fmt: skip
        audit.record(actor="system:tracking", action="trip.open", obj=trip, after=audit.snapshot(trip))
        _publish("trip_opened", trip)


@receiver(manifest_delivered)
def close_trip(sender, manifest, **kwargs) -> None:
    trip = Trip.objects.filter(manifest=manifest, state=Trip.State.OPEN).first()
    if trip is None:
        return
    before = audit.snapshot(trip)
    trip.state = Trip.State.CLOSED
    trip.ended_at = manifest.delivered_at or timezone.now()
    trip.save(update_fields=["state", "ended_at"])
    audit.record(actor="system:tracking", action="trip.close", obj=trip, before=before, after=audit.snapshot(trip))
    _publish("trip_closed", trip)


def _publish(kind: str, trip: Trip) -> None:
    from django.db import transaction

    message = {"type": kind, "trip": trip.id, "manifest": trip.manifest.number, "device_id": trip.device_id,
               "vehicle": trip.vehicle_id, "at": timezone.now().isoformat()}  # fmt: skip
    transaction.on_commit(lambda: get_bus().publish([message]))


def keep_trips_version_row(sender, using="default", **kwargs) -> None:
    """After migrations, and after a flush of the tables (which empties them and then runs this signal): the row
    the triggers renew must exist, or the ingest pipeline looks trips up on every batch."""
    from django.db import connections

    from wastelink.tracking.models import TripsVersion

    if TripsVersion._meta.db_table in connections[using].introspection.table_names():  # not when migrated back
        TripsVersion.objects.using(using).get_or_create(id=1)


@receiver([post_save, post_delete], sender=Vehicle)
def forget_devices(sender, **kwargs) -> None:
    from wastelink.tracking.services.ingest import devices

    devices.clear()
