"""Who sees which vehicles and trips live.

An estate officer sees the trips that start or end in their estates; a transporter its own vehicles; generators
and receivers the trips of their manifests; HQ every estate's; the regulator and admins everything.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from wastelink.accounts.access import officer_estate_ids, own_establishment_id, role_of
from wastelink.core.roles import PARTY_OF_ROLE, Role

from .models import Trip


def visible_trips(user) -> QuerySet[Trip]:
    qs = Trip.objects.select_related("manifest", "vehicle", "manifest__generator", "manifest__receiver")
    role = role_of(user)
    if role in (Role.REGULATOR, Role.ADMIN):
        return qs
    if role == Role.HQ_OFFICER:
        return qs.filter(Q(manifest__generator__estate__isnull=False) | Q(manifest__receiver__estate__isnull=False))
    if role == Role.ESTATE_OFFICER:
        estates = list(officer_estate_ids(user) or [])
        return qs.filter(Q(manifest__generator__estate_id__in=estates) | Q(manifest__receiver__estate_id__in=estates))
    return qs.filter(party_filter(user))


def party_filter(user) -> Q:
    """What a party's user sees of trips (and of their alerts): a transporter its own vehicles', a generator or a
    receiver its manifests'. Both models have `vehicle` and `manifest`. Matches nothing for anyone else."""
    own = own_establishment_id(user)
    role = role_of(user)
    party = PARTY_OF_ROLE.get(role) if role else None
    if own and party == "transporter":
        return Q(vehicle__transporter_id=own)
    if own and party == "generator":
        return Q(manifest__generator_id=own)
    if own and party == "receiver":
        return Q(manifest__receiver_id=own)
    return Q(pk__in=[])


def stream_scope(user) -> tuple[set[int], set[str]] | None:
    """(trip ids, device ids) a viewer may follow live; None means everything.

    Evaluated when the stream opens and refreshed by the stream loop, so that filtering a message in the ingest
    thread needs no database query.
    """
    role = role_of(user)
    if role in (Role.REGULATOR, Role.ADMIN):
        return None
    # Open trips, and trips closed within the last hour: alerts raised at or after the delivery (a delivery
    # claimed away from the receiver, a late signal loss) name a trip that has just closed.
    recent = Q(state="open") | Q(ended_at__gte=timezone.now() - timedelta(hours=1))
    trips = set(visible_trips(user).filter(recent).values_list("id", flat=True))
    devices: set[str] = set()
    own = own_establishment_id(user)
    if own and PARTY_OF_ROLE.get(role) == "transporter":
        from wastelink.registry.models import Vehicle

        devices = set(Vehicle.objects.filter(transporter_id=own).exclude(gps_device_id=None)
                      .values_list("gps_device_id", flat=True))  # fmt: skip
    return trips, devices


def message_visible(scope: tuple[set[int], set[str]] | None, message: dict) -> bool:
    if scope is None:
        return True
    trips, devices = scope
    return message.get("trip") in trips or message.get("device_id") in devices
