"""Roles, organisation kinds, and which role belongs to which kind of organisation.

Access decisions themselves are made in accounts/access.py from the user's organisation and role; this module
only names them.
"""

from __future__ import annotations

from enum import StrEnum


class OrganisationKind(StrEnum):
    ESTABLISHMENT = "establishment"  # a factory, transporter or receiver
    ESTATE_OFFICE = "estate_office"  # an IEAT estate office covering one or more estates
    IEAT_HQ = "ieat_hq"  # IEAT headquarters: every estate
    DIW = "diw"  # the Department of Industrial Works: national regulator
    PLATFORM = "platform"  # the platform's own administrators


class Role(StrEnum):
    GENERATOR_PREPARER = "generator_preparer"
    GENERATOR_CERTIFIER = "generator_certifier"
    TRANSPORTER_DISPATCHER = "transporter_dispatcher"
    TRANSPORTER_DRIVER = "transporter_driver"
    RECEIVER_OPERATOR = "receiver_operator"
    RECEIVER_CERTIFIER = "receiver_certifier"
    ESTATE_OFFICER = "estate_officer"
    HQ_OFFICER = "hq_officer"
    REGULATOR = "regulator"
    ADMIN = "admin"


ROLE_ORGANISATION_KIND: dict[Role, OrganisationKind] = {
    Role.GENERATOR_PREPARER: OrganisationKind.ESTABLISHMENT,
    Role.GENERATOR_CERTIFIER: OrganisationKind.ESTABLISHMENT,
    Role.TRANSPORTER_DISPATCHER: OrganisationKind.ESTABLISHMENT,
    Role.TRANSPORTER_DRIVER: OrganisationKind.ESTABLISHMENT,
    Role.RECEIVER_OPERATOR: OrganisationKind.ESTABLISHMENT,
    Role.RECEIVER_CERTIFIER: OrganisationKind.ESTABLISHMENT,
    Role.ESTATE_OFFICER: OrganisationKind.ESTATE_OFFICE,
    Role.HQ_OFFICER: OrganisationKind.IEAT_HQ,
    Role.REGULATOR: OrganisationKind.DIW,
    Role.ADMIN: OrganisationKind.PLATFORM,
}

# Which establishment role (generator / transporter / receiver) a user role acts for.
PARTY_OF_ROLE: dict[Role, str] = {
    Role.GENERATOR_PREPARER: "generator",
    Role.GENERATOR_CERTIFIER: "generator",
    Role.TRANSPORTER_DISPATCHER: "transporter",
    Role.TRANSPORTER_DRIVER: "transporter",
    Role.RECEIVER_OPERATOR: "receiver",
    Role.RECEIVER_CERTIFIER: "receiver",
}

OFFICER_ROLES = frozenset({Role.ESTATE_OFFICER, Role.HQ_OFFICER})
NATIONAL_ROLES = frozenset({Role.HQ_OFFICER, Role.REGULATOR, Role.ADMIN})


def role_fits_organisation(role: Role, kind: OrganisationKind) -> bool:
    return ROLE_ORGANISATION_KIND[role] == kind
