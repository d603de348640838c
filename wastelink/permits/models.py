"""Waste-stream declarations, กอ.1 applications (with frozen versions and documents), permits and their lines."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wastelink.core.permit_states import ApplicationState, PermitState
from wastelink.registry.models import Establishment, Estate, FactoryType, ManagementMethod, WasteCode


class PhysicalForm(models.TextChoices):
    SOLID = "solid", _("solid")
    SLUDGE = "sludge", _("sludge")
    LIQUID = "liquid", _("liquid")
    POWDER = "powder", _("powder or dust")
    GAS = "gas", _("gas in containers")
    MIXED = "mixed", _("mixed")


class WasteStream(models.Model):
    """A generator's declared waste stream: what it produces, from which process, how much a year."""

    generator = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="waste_streams")
    waste_code = models.ForeignKey(WasteCode, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=255, help_text="the waste as the factory names it")
    source_process = models.CharField(max_length=255)
    physical_form = models.CharField(max_length=10, choices=PhysicalForm.choices)
    annual_quantity_t = models.DecimalField(max_digits=12, decimal_places=3)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["generator_id", "waste_code_id", "id"]

    def __str__(self) -> str:
        return f"{self.waste_code_id} {self.name}"


APPLICATION_STATE_CHOICES = [
    (ApplicationState.DRAFT.value, _("draft")),
    (ApplicationState.SUBMITTED.value, _("submitted")),
    (ApplicationState.UNDER_REVIEW.value, _("under review")),
    (ApplicationState.INFO_REQUESTED.value, _("information requested")),
    (ApplicationState.APPROVED.value, _("approved")),
    (ApplicationState.PARTIALLY_APPROVED.value, _("partially approved")),
    (ApplicationState.REJECTED.value, _("rejected")),
]
PERMIT_STATE_CHOICES = [
    (PermitState.ACTIVE.value, pgettext_lazy("permit state", "active")),
    (PermitState.SUSPENDED.value, pgettext_lazy("permit state", "suspended")),
    (PermitState.REVOKED.value, _("revoked")),
    (PermitState.EXPIRED.value, _("expired")),
]


class PermitApplication(models.Model):
    class Route(models.TextChoices):
        ESTATE = "estate", _("estate office")
        REGULATOR = "regulator", _("Department of Industrial Works")

    reference = models.CharField(max_length=30, unique=True)
    generator = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="permit_applications")
    estate = models.ForeignKey(Estate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    route = models.CharField(max_length=10, choices=Route.choices)
    state = models.CharField(max_length=20, choices=APPLICATION_STATE_CHOICES, default=ApplicationState.DRAFT.value)
    version = models.PositiveIntegerField(default=0, help_text="number of the last submitted version")
    revision = models.PositiveIntegerField(default=0, help_text="bumped by every change; guards concurrent writes")
    note = models.TextField(blank=True)
    findings = models.JSONField(default=list, blank=True, help_text="latest pre-check results")
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    info_request = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    decision_reason = models.TextField(blank=True)
    auto_decided = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "estate"]), models.Index(fields=["generator", "state"])]

    def __str__(self) -> str:
        return self.reference


class ApplicationLine(models.Model):
    class Decision(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    application = models.ForeignKey(PermitApplication, on_delete=models.CASCADE, related_name="lines")
    index = models.PositiveSmallIntegerField()
    stream = models.ForeignKey(WasteStream, on_delete=models.PROTECT, related_name="application_lines")
    quantity_t = models.DecimalField(max_digits=12, decimal_places=3)
    method = models.ForeignKey(ManagementMethod, on_delete=models.PROTECT, related_name="+")
    receiver = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="+")
    transporters = models.ManyToManyField(Establishment, blank=True, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    approved_quantity_t = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    conditions = models.TextField(blank=True)
    decision_note = models.TextField(blank=True)
    auto_approved = models.BooleanField(default=False)

    class Meta:
        ordering = ["application_id", "index"]
        constraints = [models.UniqueConstraint(fields=["application", "index"], name="application_line_index_unique")]

    def __str__(self) -> str:
        return f"{self.application_id}#{self.index}"


class ApplicationVersion(models.Model):
    """The content as submitted: frozen, so the officer decides on exactly what was sent."""

    application = models.ForeignKey(PermitApplication, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    content = models.JSONField()
    findings = models.JSONField(default=list)
    submitted_by = models.CharField(max_length=150)
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["application_id", "version"]
        constraints = [models.UniqueConstraint(fields=["application", "version"], name="application_version_unique")]

    def __str__(self) -> str:
        return f"{self.application_id} v{self.version}"


class SupportingDocument(models.Model):
    class Kind(models.TextChoices):
        PROCESS = "process", _("process description")
        SITE_PLAN = "site_plan", _("site plan")
        RECEIVER_CONTRACT = "receiver_contract", _("contract or letter of acceptance from the receiver")
        ANALYSIS = "analysis", _("laboratory analysis")
        SDS = "sds", _("safety data sheet")
        OTHER = "other", _("other")

    application = models.ForeignKey(PermitApplication, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to="documents/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application_id", "id"]

    def __str__(self) -> str:
        return self.original_name


class AutoApprovalRule(models.Model):
    """The automatic e-licence table: a line with this code, method and receiver type is approved at once."""

    waste_code = models.ForeignKey(WasteCode, on_delete=models.CASCADE, related_name="+")
    method = models.ForeignKey(ManagementMethod, on_delete=models.CASCADE, related_name="+")
    receiver_type = models.ForeignKey(FactoryType, on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["waste_code_id", "method_id"]
        constraints = [models.UniqueConstraint(fields=["waste_code", "method", "receiver_type"], name="auto_rule_unique")]

    def __str__(self) -> str:
        return f"{self.waste_code_id} × {self.method_id} × {self.receiver_type_id}"


class Permit(models.Model):
    number = models.CharField(max_length=30, unique=True)
    application = models.OneToOneField(PermitApplication, on_delete=models.PROTECT, related_name="permit")
    generator = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="permits")
    estate = models.ForeignKey(Estate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=PERMIT_STATE_CHOICES, default=PermitState.ACTIVE.value)
    valid_from = models.DateField()
    valid_until = models.DateField()
    conditions = models.TextField(blank=True)
    issued_at = models.DateTimeField()
    issued_by = models.CharField(max_length=150)
    verification_code = models.CharField(max_length=16, unique=True)
    state_reason = models.TextField(blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-issued_at"]
        indexes = [
            models.Index(fields=["generator", "state"]),
            models.Index(fields=["state", "valid_until"]),
            # The live permits' ids and validity, so the pre-check's capacity sum joins its permit lines to this
            # small index alone (an index-only scan on PostgreSQL) rather than to the whole table.
            models.Index(
                fields=["id", "valid_from", "valid_until", "application"],
                condition=models.Q(state__in=[PermitState.ACTIVE.value, PermitState.SUSPENDED.value]),
                name="permit_live_validity",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PermitLine(models.Model):
    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="lines")
    index = models.PositiveSmallIntegerField()
    application_line = models.OneToOneField(ApplicationLine, on_delete=models.PROTECT, related_name="permit_line")
    stream = models.ForeignKey(WasteStream, on_delete=models.PROTECT, related_name="permit_lines")
    waste_code = models.ForeignKey(WasteCode, on_delete=models.PROTECT, related_name="+")
    method = models.ForeignKey(ManagementMethod, on_delete=models.PROTECT, related_name="+")
    receiver = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="permit_lines_received")
    transporters = models.ManyToManyField(Establishment, blank=True, related_name="permit_lines_carried")
    approved_quantity_t = models.DecimalField(max_digits=12, decimal_places=3)
    remaining_quantity_t = models.DecimalField(max_digits=12, decimal_places=3)
    conditions = models.TextField(blank=True)

    class Meta:
        ordering = ["permit_id", "index"]
        indexes = [
            models.Index(fields=["stream", "method", "receiver"]),
            # Covers the pre-check's capacity sum (lines of live permits per receiver) without reading the table.
            models.Index(
                fields=["receiver", "permit", "approved_quantity_t"], name="permitline_receiver_cover"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.permit_id}#{self.index}"


class Counter(models.Model):
    """Running numbers per series and year (permit numbers, application references), allocated by UPDATE."""

    series = models.CharField(max_length=20)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="counter_series_year_unique")]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last}"
