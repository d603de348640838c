"""Who sees and acts on manifests.

- The generator's users: their factory's manifests; preparers draft, certifiers sign for the generator.
- The transporter's users: the manifests it carries; drivers and dispatchers sign at pickup and mark delivery.
- The receiver's users: what is consigned to it; operators weigh and complete, certifiers sign receipt.
- Estate officers: manifests whose generator or receiver is in their estates; HQ every estate's; the regulator and
  admins everything (read-only for the regulator, except reviewing discrepancies of factories outside estates).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from wastelink.accounts.access import officer_estate_ids, own_establishment_id, role_of
from wastelink.core.roles import Role

from .models import Manifest

GENERATOR = {Role.GENERATOR_PREPARER, Role.GENERATOR_CERTIFIER}
TRANSPORTER = {Role.TRANSPORTER_DISPATCHER, Role.TRANSPORTER_DRIVER}
RECEIVER = {Role.RECEIVER_OPERATOR, Role.RECEIVER_CERTIFIER}


def visible_manifests(user) -> QuerySet[Manifest]:
    qs = Manifest.objects.select_related("generator", "transporter", "receiver", "vehicle", "waste_code")
    role = role_of(user)
    own = own_establishment_id(user)
    if role in (Role.REGULATOR, Role.ADMIN):
        return qs
    if role == Role.HQ_OFFICER:
        return qs.filter(Q(generator__estate__isnull=False) | Q(receiver__estate__isnull=False))
    if role == Role.ESTATE_OFFICER:
        estates = list(officer_estate_ids(user) or [])
        return qs.filter(Q(generator__estate_id__in=estates) | Q(receiver__estate_id__in=estates))
    if own and role in GENERATOR:
        return qs.filter(generator_id=own)
    if own and role in TRANSPORTER:
        return qs.filter(transporter_id=own)
    if own and role in RECEIVER:
        return qs.filter(receiver_id=own)
    return qs.none()


def acts_for(user, establishment_id: int, roles: set[Role]) -> bool:
    return role_of(user) in roles and own_establishment_id(user) == establishment_id


def is_officer_for(user, manifest: Manifest) -> bool:
    role = role_of(user)
    if role == Role.ADMIN or role == Role.HQ_OFFICER:
        return True
    if role == Role.REGULATOR:
        return manifest.generator.estate_id is None
    if role == Role.ESTATE_OFFICER:
        estates = officer_estate_ids(user) or set()
        return manifest.generator.estate_id in estates or manifest.receiver.estate_id in estates
    return False
