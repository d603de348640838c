"""Who may see and change what. Every service asks here; views and API endpoints never decide access themselves.

- An establishment's users see their own establishment and what it holds.
- An estate officer sees the establishments in the estates their office covers, and manages them.
- A headquarters officer sees and manages every estate's establishments.
- The regulator (DIW) sees everything read-only, and manages establishments outside the estates, which it owns.
- An admin sees and manages everything.
- Receivers and transporters are licensed public facilities: every signed-in user can read their directory entry
  (name, registration, licences), so a generator can choose one; their vehicles and drivers stay private.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from wastelink.core.findings import Forbidden, error
from wastelink.core.roles import OFFICER_ROLES, Role
from wastelink.registry.models import Establishment, Estate

from .models import User


def role_of(user: User) -> Role | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser and not user.role:
        return Role.ADMIN
    return user.role_enum


def own_establishment_id(user: User) -> int | None:
    org = user.organisation
    return org.establishment_id if org is not None else None


def officer_estate_ids(user: User) -> set[int] | None:
    """The estates an officer covers; None means 'all estates' (HQ, regulator, admin)."""
    role = role_of(user)
    if role in (Role.HQ_OFFICER, Role.REGULATOR, Role.ADMIN):
        return None
    if role == Role.ESTATE_OFFICER and user.organisation is not None:
        return set(user.organisation.estates.values_list("id", flat=True))
    return set()


def is_officer(user: User) -> bool:
    return role_of(user) in OFFICER_ROLES


def is_national_reader(user: User) -> bool:
    return role_of(user) in (Role.HQ_OFFICER, Role.REGULATOR, Role.ADMIN)


def visible_establishments(user: User) -> QuerySet[Establishment]:
    """Establishments whose full record (including private holdings) the user may read."""
    qs = Establishment.objects.all()
    role = role_of(user)
    if role is None:
        return qs.none()
    if role in (Role.REGULATOR, Role.ADMIN):
        return qs
    if role == Role.HQ_OFFICER:
        return qs.filter(estate__isnull=False)
    if role == Role.ESTATE_OFFICER:
        return qs.filter(estate_id__in=officer_estate_ids(user) or [])
    own = own_establishment_id(user)
    return qs.filter(id=own) if own else qs.none()


def directory_establishments(user: User) -> QuerySet[Establishment]:
    """What a user can find in the registry: their full view plus the public receiver and transporter entries."""
    if role_of(user) is None:
        return Establishment.objects.none()
    visible_ids = visible_establishments(user).values("id")
    return Establishment.objects.filter(Q(id__in=visible_ids) | Q(is_receiver=True) | Q(is_transporter=True))


def can_read_establishment(user: User, est: Establishment) -> bool:
    return visible_establishments(user).filter(id=est.id).exists()


def can_manage_establishment(user: User, est: Establishment | None, *, estate: Estate | None = None) -> bool:
    """Create or change registry data of an establishment (or of a new one in `estate`)."""
    role = role_of(user)
    estate_id = est.estate_id if est is not None else (estate.id if estate else None)
    if role == Role.ADMIN:
        return True
    if role == Role.REGULATOR:
        return estate_id is None
    if role == Role.HQ_OFFICER:
        return estate_id is not None
    if role == Role.ESTATE_OFFICER:
        return estate_id is not None and estate_id in (officer_estate_ids(user) or set())
    return False


def can_manage_fleet(user: User, transporter: Establishment) -> bool:
    """Vehicles and drivers: the transporter's dispatcher, or whoever manages the establishment."""
    if role_of(user) == Role.TRANSPORTER_DISPATCHER and own_establishment_id(user) == transporter.id:
        return True
    return can_manage_establishment(user, transporter)


def can_manage_estate(user: User, estate: Estate) -> bool:
    role = role_of(user)
    if role in (Role.ADMIN, Role.HQ_OFFICER):
        return True
    return role == Role.ESTATE_OFFICER and estate.id in (officer_estate_ids(user) or set())


def can_edit_reference_data(user: User) -> bool:
    return role_of(user) == Role.ADMIN


def require(condition: bool, field: str = "", what: str = "this record", what_th: str = "ข้อมูลนี้") -> None:
    """Refuse with 403 unless `condition`; `what` names the thing in English, `what_th` in Thai."""
    if not condition:
        raise Forbidden(error("access.denied", field or "access", f"you may not change {what}",
                              f"ท่านไม่มีสิทธิ์แก้ไข{what_th}"))  # fmt: skip


class SystemActor:
    """The platform acting for itself (setup, demo load, imports run by an operator): an admin in access terms."""

    is_authenticated = True
    is_superuser = True
    is_active = True
    role = Role.ADMIN.value
    role_enum = Role.ADMIN
    organisation = None
    id = None
    pk = None

    def __init__(self, name: str) -> None:
        self.username = f"system:{name}"

    def __str__(self) -> str:
        return self.username
