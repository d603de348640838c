"""Who sees which alerts, and who handles them.

Seeing follows the trips (tracking/access.py): an estate officer sees the alerts of loads that start or end in
their estates (the alert's origin and destination estates, filled in when it is raised); HQ every estate's; the
regulator and admins everything; a transporter its own vehicles'; a generator or receiver their manifests'.

Handling (acknowledge, dispatch, resolve) is for officials only: estate officers, HQ, the regulator and admins.
The parties may read their alerts once resolved, never change them: while an alert is open an inspector may be on
the way, and a driver must not be tipped off (the live stream holds them back likewise). An alert the user may not
see answers 404.

Hot spots are drawn by officials for officials (tracking/services/geofences.py): a party reading a hot-spot alert
learns that its truck entered one, but not the hot spot's name or key (`public_facts`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from wastelink.accounts.access import officer_estate_ids, role_of
from wastelink.core.detection import HOT_SPOT_ENTRY
from wastelink.core.roles import Role
from wastelink.tracking.access import party_filter

from .models import Alert

OFFICIALS = frozenset({Role.ESTATE_OFFICER, Role.HQ_OFFICER, Role.REGULATOR, Role.ADMIN})
HIDDEN_FROM_PARTIES = {HOT_SPOT_ENTRY: ("zone", "zone_name")}


def visible_alerts(user) -> QuerySet[Alert]:
    qs = Alert.objects.select_related("manifest", "vehicle", "trip", "origin_estate", "destination_estate")
    role = role_of(user)
    if role in (Role.REGULATOR, Role.ADMIN):
        return qs
    if role == Role.HQ_OFFICER:
        return qs.filter(Q(origin_estate__isnull=False) | Q(destination_estate__isnull=False))
    if role == Role.ESTATE_OFFICER:
        estates = list(officer_estate_ids(user) or [])
        return qs.filter(Q(origin_estate_id__in=estates) | Q(destination_estate_id__in=estates))
    return qs.filter(party_filter(user), state=Alert.State.RESOLVED)


def is_official(user) -> bool:
    return role_of(user) in OFFICIALS


def can_handle(user, alert: Alert) -> bool:
    """Acknowledge, dispatch, resolve: an official who sees the alert."""
    return is_official(user) and visible_alerts(user).filter(id=alert.id).exists()


def public_facts(user, alert: Alert) -> dict[str, Any]:
    """The alert's facts as this user may read them (parties do not learn where the hot spots are)."""
    facts = dict(alert.facts or {})
    if not is_official(user):
        for key in HIDDEN_FROM_PARTIES.get(alert.rule, ()):
            facts.pop(key, None)
    return facts
