"""Who sees and acts on streams, applications and permits (built on accounts.access).

- Generator users: their own factory's streams, applications and permits; preparers and certifiers may edit and
  submit.
- Receivers and transporters: the permits whose lines name them (what is consigned to them).
- Estate officers: applications and permits of factories in their estates; they review and decide those.
- The regulator (DIW): reads everything; reviews and decides applications of factories outside the estates.
- Headquarters officers: read every estate's; decide them too (supervision). Admin: everything.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from wastelink.accounts.access import officer_estate_ids, own_establishment_id, role_of
from wastelink.core.roles import PARTY_OF_ROLE, Role

from .models import Permit, PermitApplication, WasteStream

GENERATOR_EDITORS = {Role.GENERATOR_PREPARER, Role.GENERATOR_CERTIFIER}


def _establishment_scope(user, field: str) -> Q | None:
    """Q on `field` (an establishment FK) for what the user may read; None = everything; Q(pk=None)-like = nothing."""
    role = role_of(user)
    if role in (Role.REGULATOR, Role.ADMIN):
        return None
    if role == Role.HQ_OFFICER:
        return Q(**{f"{field}__estate__isnull": False})
    if role == Role.ESTATE_OFFICER:
        return Q(**{f"{field}__estate_id__in": list(officer_estate_ids(user) or [])})
    own = own_establishment_id(user)
    if own and PARTY_OF_ROLE.get(role) == "generator":
        return Q(**{f"{field}_id": own})
    return Q(pk__in=[])


def visible_streams(user) -> QuerySet[WasteStream]:
    scope = _establishment_scope(user, "generator")
    qs = WasteStream.objects.select_related("waste_code", "generator")
    return qs if scope is None else qs.filter(scope)


def visible_applications(user) -> QuerySet[PermitApplication]:
    """A draft is the factory's working copy: officials see an application once it has been submitted."""
    scope = _establishment_scope(user, "generator")
    qs = PermitApplication.objects.select_related("generator", "estate")
    if role_of(user) not in GENERATOR_EDITORS:
        qs = qs.exclude(version=0)
    return qs if scope is None else qs.filter(scope)


def visible_permits(user) -> QuerySet[Permit]:
    qs = Permit.objects.select_related("generator", "estate")
    role = role_of(user)
    own = own_establishment_id(user)
    party = PARTY_OF_ROLE.get(role) if role else None
    if party == "receiver" and own:
        return qs.filter(lines__receiver_id=own).distinct()
    if party == "transporter" and own:
        return qs.filter(lines__transporters__id=own).distinct()
    scope = _establishment_scope(user, "generator")
    return qs if scope is None else qs.filter(scope)


def can_edit_for_generator(user, generator_id: int) -> bool:
    return role_of(user) in GENERATOR_EDITORS and own_establishment_id(user) == generator_id


def can_review(user, application: PermitApplication) -> bool:
    """Decide an application: the officers it is routed to (and HQ for estates; admin always)."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if application.route == PermitApplication.Route.REGULATOR:
        return role == Role.REGULATOR
    if role == Role.HQ_OFFICER:
        return True
    return role == Role.ESTATE_OFFICER and application.estate_id in (officer_estate_ids(user) or set())


def can_supervise_permit(user, permit: Permit) -> bool:
    """Suspend, reinstate or revoke: whoever may decide applications for that factory."""
    return can_review(user, permit.application)
