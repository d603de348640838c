"""Alerts raised by the detection rules, and their handling by officers (OPEN → ACKNOWLEDGED → DISPATCHED → RESOLVED)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wastelink.core import detection as rules
from wastelink.manifests.models import Manifest
from wastelink.registry.models import Estate, Vehicle
from wastelink.tracking.models import Trip

RULE_CHOICES = [
    (rules.CORRIDOR_DEVIATION, _("corridor deviation")),
    (rules.UNAUTHORISED_STOP, _("unauthorised stop")),
    (rules.HOT_SPOT_ENTRY, _("hot-spot entry")),
    (rules.SIGNAL_LOSS, _("signal loss")),
    (rules.WRONG_DESTINATION, _("wrong destination")),
    (rules.OVERDUE, _("overdue")),
    (rules.IMPLAUSIBLE_MOVEMENT, _("implausible movement")),
]


class Alert(models.Model):
    """One episode of one rule on one trip: (trip, rule, episode_at) is unique, so replays never duplicate."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("alert state", "open")
        ACKNOWLEDGED = "acknowledged", pgettext_lazy("alert state", "acknowledged")
        DISPATCHED = "dispatched", pgettext_lazy("alert state", "inspector dispatched")
        RESOLVED = "resolved", pgettext_lazy("alert state", "resolved")

    class Severity(models.TextChoices):
        LOW = "low", pgettext_lazy("severity", "low")
        MEDIUM = "medium", pgettext_lazy("severity", "medium")
        HIGH = "high", pgettext_lazy("severity", "high")

    class Resolution(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed violation")
        FALSE_ALARM = "false_alarm", _("false alarm")

    trip = models.ForeignKey(Trip, on_delete=models.PROTECT, related_name="alerts")
    manifest = models.ForeignKey(Manifest, on_delete=models.PROTECT, related_name="alerts")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="alerts")
    rule = models.CharField(max_length=24, choices=RULE_CHOICES)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    episode_at = models.DateTimeField(help_text="fix time the rule's episode began")
    fired_at = models.DateTimeField(help_text="fix time at which the rule fired")
    raised_at = models.DateTimeField(help_text="when the platform raised the alert")
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    facts = models.JSONField(default=dict)
    evidence = models.JSONField(default=list, help_text="track segment: [fix time, lat, lon] …")
    # The estates whose officers see the alert: where the load started and where it was going.
    origin_estate = models.ForeignKey(Estate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    destination_estate = models.ForeignKey(Estate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")  # fmt: skip
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    inspector = models.CharField(max_length=200, blank=True, help_text="who was sent to intercept")
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")  # fmt: skip
    dispatched_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=12, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")  # fmt: skip
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["trip", "rule", "episode_at"], name="alert_trip_rule_episode")]
        indexes = [models.Index(fields=["state", "raised_at"]), models.Index(fields=["rule", "raised_at"])]

    def __str__(self) -> str:
        return f"{self.rule} on {self.manifest_id} at {self.fired_at:%Y-%m-%d %H:%M}"
