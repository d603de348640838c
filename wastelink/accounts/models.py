"""Organisations, users with one role each, and scoped, revocable API tokens (stored hashed)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wastelink.core.roles import OrganisationKind, Role

ORGANISATION_KIND_CHOICES = [
    (OrganisationKind.ESTABLISHMENT.value, _("establishment")),
    (OrganisationKind.ESTATE_OFFICE.value, _("IEAT estate office")),
    (OrganisationKind.IEAT_HQ.value, _("IEAT headquarters")),
    (OrganisationKind.DIW.value, _("Department of Industrial Works")),
    (OrganisationKind.PLATFORM.value, _("platform administration")),
]

ROLE_CHOICES = [
    (Role.GENERATOR_PREPARER.value, _("generator preparer")),
    (Role.GENERATOR_CERTIFIER.value, _("generator certifier")),
    (Role.TRANSPORTER_DISPATCHER.value, _("transporter dispatcher")),
    (Role.TRANSPORTER_DRIVER.value, _("transporter driver")),
    (Role.RECEIVER_OPERATOR.value, _("receiver operator")),
    (Role.RECEIVER_CERTIFIER.value, _("receiver certifier")),
    (Role.ESTATE_OFFICER.value, _("estate officer")),
    (Role.HQ_OFFICER.value, _("headquarters officer")),
    (Role.REGULATOR.value, _("regulator")),
    (Role.ADMIN.value, _("administrator")),
]


class Organisation(models.Model):
    kind = models.CharField(max_length=20, choices=ORGANISATION_KIND_CHOICES)
    name_th = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255, blank=True)
    establishment = models.OneToOneField(
        "registry.Establishment", null=True, blank=True, on_delete=models.CASCADE, related_name="organisation"
    )
    estates = models.ManyToManyField("registry.Estate", blank=True, related_name="offices")

    class Meta:
        ordering = ["kind", "name_en"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="establishment") | models.Q(establishment__isnull=False),
                name="establishment_org_has_establishment",
            )
        ]

    def __str__(self) -> str:
        return self.name_en or self.name_th


class User(AbstractUser):
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    role = models.CharField(max_length=30, choices=ROLE_CHOICES, blank=True)
    preferred_language = models.CharField(
        max_length=5, choices=[("th", "ไทย"), ("en", "English")], default="th"
    )

    @property
    def role_enum(self) -> Role | None:
        return Role(self.role) if self.role else None


class ApiToken(models.Model):
    """A machine credential. Only a SHA-256 of the secret is stored; the secret is shown once, at creation."""

    class Scope(models.TextChoices):
        READ = "read", _("read")
        WRITE = "write", _("write")
        TELEMETRY = "telemetry", _("telemetry")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Notification(models.Model):
    """An in-app notice to one user (also sent by email); read_at marks it seen."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    title_th = models.CharField(max_length=255)
    title_en = models.CharField(max_length=255)
    url = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title_en
