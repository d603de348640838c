"""E-manifests (one waste code on one vehicle trip), their signatures and their versions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from wastelink.core.manifest_rules import Acceptance, DiscrepancyCode, ManifestState, SignerRole
from wastelink.permits.models import PermitLine, PhysicalForm
from wastelink.registry.models import Driver, Establishment, ManagementMethod, Vehicle, WasteCode

STATE_CHOICES = [
    (ManifestState.DRAFT.value, _("draft")),
    (ManifestState.SCHEDULED.value, _("scheduled")),
    (ManifestState.IN_TRANSIT.value, _("in transit")),
    (ManifestState.DELIVERED.value, _("delivered")),
    (ManifestState.RECEIVED.value, _("received")),
    (ManifestState.COMPLETED.value, _("completed")),
    (ManifestState.CANCELLED.value, _("cancelled")),
]


class Manifest(models.Model):
    class Unit(models.TextChoices):
        TONNE = "t", _("tonnes")
        KILOGRAM = "kg", _("kilograms")

    class Container(models.TextChoices):
        DRUM = "drum", _("drums (200 L)")
        IBC = "ibc", _("IBC tanks (1,000 L)")
        BAG = "bag", _("jumbo bags")
        BIN = "bin", _("bins or boxes")
        TANK = "tank", _("tank (bulk liquid)")
        BULK = "bulk", _("bulk, unpackaged")

    class Relation(models.TextChoices):
        RETURN = "return", _("returned to the generator")
        ALTERNATE = "alternate", _("sent on to an alternate receiver")

    number = models.CharField(max_length=30, unique=True)
    state = models.CharField(max_length=12, choices=STATE_CHOICES, default=ManifestState.DRAFT.value)
    permit_line = models.ForeignKey(PermitLine, on_delete=models.PROTECT, related_name="manifests")
    generator = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="manifests_generated")
    transporter = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="manifests_carried")
    receiver = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="manifests_received")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="manifests")
    driver = models.ForeignKey(Driver, null=True, blank=True, on_delete=models.PROTECT, related_name="manifests")
    waste_code = models.ForeignKey(WasteCode, on_delete=models.PROTECT, related_name="+")
    declared_quantity = models.DecimalField(max_digits=12, decimal_places=3)
    unit = models.CharField(max_length=2, choices=Unit.choices, default=Unit.TONNE)
    declared_t = models.DecimalField(max_digits=12, decimal_places=6, help_text="the declaration in tonnes")
    container_type = models.CharField(max_length=8, choices=Container.choices)
    container_count = models.PositiveIntegerField()
    physical_form = models.CharField(max_length=10, choices=PhysicalForm.choices)
    planned_pickup_at = models.DateTimeField()
    expected_arrival_at = models.DateTimeField()
    route = models.JSONField(null=True, blank=True, help_text="planned route: a GeoJSON LineString")
    corridor_width_m = models.PositiveIntegerField(default=500)
    # receipt
    received_kg = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    acceptance = models.CharField(max_length=8, choices=[(a.value, a.value) for a in Acceptance], blank=True)
    discrepancy = models.BooleanField(default=False)
    discrepancy_code = models.CharField(max_length=1, choices=[(c.value, c.value) for c in DiscrepancyCode], blank=True)
    discrepancy_reason = models.TextField(blank=True)
    discrepancy_new_code = models.ForeignKey(WasteCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    discrepancy_reviewed_by = models.CharField(max_length=150, blank=True)
    discrepancy_review_note = models.TextField(blank=True)
    final_method = models.ForeignKey(ManagementMethod, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    treated_on = models.DateField(null=True, blank=True)
    # links and times
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    relation = models.CharField(max_length=10, choices=Relation.choices, blank=True)
    version = models.PositiveIntegerField(default=1)
    revision = models.PositiveIntegerField(default=0)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "expected_arrival_at"]),
            models.Index(fields=["generator", "state"]),
            models.Index(fields=["receiver", "state"]),
            models.Index(fields=["transporter", "state"]),
        ]

    def __str__(self) -> str:
        return self.number


class Signature(models.Model):
    """A hand-over of custody: who signed, in which role, when, and the hash of the document they were shown."""

    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="signatures")
    role = models.CharField(max_length=12, choices=[(r.value, r.value) for r in SignerRole])
    signer = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    document_sha256 = models.CharField(max_length=64)
    manifest_version = models.PositiveIntegerField()

    class Meta:
        ordering = ["manifest_id", "signed_at"]
        constraints = [models.UniqueConstraint(fields=["manifest", "role"], name="one_signature_per_role")]

    def __str__(self) -> str:
        return f"{self.manifest_id} {self.role}"


class ManifestVersion(models.Model):
    """A correction after signatures: the content before and after, with the reason. Earlier versions stay."""

    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    content = models.JSONField()
    reason = models.TextField(blank=True)
    changed = models.JSONField(default=list, help_text="the fields that changed from the previous version")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["manifest_id", "version"]
        constraints = [models.UniqueConstraint(fields=["manifest", "version"], name="manifest_version_unique")]

    def __str__(self) -> str:
        return f"{self.manifest_id} v{self.version}"


class ApprovedRoute(models.Model):
    """A route officers approved between two sites; a manifest may take its planned route from this library."""

    name = models.CharField(max_length=200)
    origin = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="routes_from")
    destination = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="routes_to")
    geometry = models.JSONField(help_text="GeoJSON LineString")
    corridor_width_m = models.PositiveIntegerField(default=500)
    approved_by = models.CharField(max_length=150)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["origin_id", "destination_id", "name"]
        indexes = [models.Index(fields=["origin", "destination", "active"])]

    def __str__(self) -> str:
        return self.name
