"""Establishments (factories, transporters, receivers) and what they hold: licences, vehicles, drivers."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .estates import Estate
from .reference import FactoryType, LocalisedName, ManagementMethod, WasteCode


class EstablishmentStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    SUSPENDED = "suspended", _("suspended")
    CLOSED = "closed", _("closed")


class Establishment(LocalisedName, models.Model):
    registration_no = models.CharField(
        max_length=14, unique=True, help_text="14-digit factory registration number"
    )
    legacy_no = models.CharField(max_length=60, blank=True, help_text="legacy number such as 3-106-1/50ชบ")
    name_th = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255, blank=True)
    diw_generator_id = models.CharField(max_length=20, blank=True)
    diw_transporter_id = models.CharField(max_length=20, blank=True)
    address = models.TextField(blank=True)
    province = models.CharField(max_length=100, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    estate = models.ForeignKey(
        Estate, null=True, blank=True, on_delete=models.PROTECT, related_name="establishments"
    )
    factory_type = models.ForeignKey(FactoryType, null=True, blank=True, on_delete=models.PROTECT)
    is_generator = models.BooleanField(default=False)
    is_transporter = models.BooleanField(default=False)
    is_receiver = models.BooleanField(default=False)
    status = models.CharField(
        max_length=12, choices=EstablishmentStatus.choices, default=EstablishmentStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name_en", "registration_no"]
        indexes = [models.Index(fields=["estate", "is_generator"]), models.Index(fields=["is_receiver"])]

    def __str__(self) -> str:
        return self.name_en or self.name_th

    @property
    def roles(self) -> list[str]:
        return [r for r, on in (("generator", self.is_generator), ("transporter", self.is_transporter),
                                ("receiver", self.is_receiver)) if on]  # fmt: skip


class ReceiverLicence(models.Model):
    """A receiver's licence: the waste codes and methods it may take, and how much per year."""

    receiver = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="receiver_licences")
    licence_no = models.CharField(max_length=60, unique=True)
    factory_type = models.ForeignKey(FactoryType, on_delete=models.PROTECT)
    waste_codes = models.ManyToManyField(WasteCode, related_name="receiver_licences")
    methods = models.ManyToManyField(ManagementMethod, related_name="receiver_licences")
    annual_capacity_t = models.DecimalField(max_digits=12, decimal_places=3)
    valid_from = models.DateField()
    valid_until = models.DateField()
    suspended = models.BooleanField(default=False)

    class Meta:
        ordering = ["licence_no"]

    def __str__(self) -> str:
        return self.licence_no

    def is_valid_on(self, day=None) -> bool:
        day = day or timezone.localdate()
        return not self.suspended and self.valid_from <= day <= self.valid_until


class TransporterLicence(models.Model):
    transporter = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="transporter_licences"
    )
    licence_no = models.CharField(max_length=60, unique=True)
    hazardous_approved = models.BooleanField(default=False)
    valid_from = models.DateField()
    valid_until = models.DateField()
    suspended = models.BooleanField(default=False)

    class Meta:
        ordering = ["licence_no"]

    def __str__(self) -> str:
        return self.licence_no

    def is_valid_on(self, day=None) -> bool:
        day = day or timezone.localdate()
        return not self.suspended and self.valid_from <= day <= self.valid_until


class Vehicle(models.Model):
    class Kind(models.TextChoices):
        TRUCK_6W = "truck_6w", _("6-wheel truck")
        TRUCK_10W = "truck_10w", _("10-wheel truck")
        TANKER = "tanker", _("tanker")
        SEMI_TRAILER = "semi_trailer", _("semi-trailer")
        PICKUP = "pickup", _("pickup")
        ROLL_OFF = "roll_off", _("roll-off (hook lift)")

    transporter = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="vehicles")
    plate = models.CharField(max_length=20, help_text="normalised, without spaces or hyphens")
    province = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    capacity_kg = models.PositiveIntegerField()
    gps_device_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    hazardous_approved = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["plate"]
        constraints = [
            models.UniqueConstraint(fields=["plate", "province"], name="vehicle_plate_province_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plate} {self.province}"


class Driver(models.Model):
    transporter = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="drivers")
    name = models.CharField(max_length=200)
    licence_no = models.CharField(max_length=40)
    hazardous_trained = models.BooleanField(default=False)
    phone = models.CharField(max_length=30, blank=True)
    user = models.OneToOneField(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="driver"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["transporter", "licence_no"], name="driver_licence_unique")
        ]

    def __str__(self) -> str:
        return self.name
