from django.db import models
from django.utils.translation import gettext_lazy as _

from .reference import LocalisedName


class Estate(LocalisedName, models.Model):
    """An industrial estate (or the industrial port). Its boundary is GeoJSON with a bbox for quick filtering."""

    class Operator(models.TextChoices):
        IEAT = "IEAT", _("IEAT-operated")
        JOINT_VENTURE = "joint-venture", _("joint venture")

    class BoundarySource(models.TextChoices):
        GENERATED = "generated", _("generated around the centre (demo)")
        UPLOADED = "uploaded", _("uploaded by an officer")

    code = models.SlugField(max_length=60, unique=True)
    name_th = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    province = models.CharField(max_length=100)
    operator = models.CharField(max_length=20, choices=Operator.choices)
    lat = models.FloatField()
    lon = models.FloatField()
    boundary = models.JSONField(null=True, blank=True)
    boundary_source = models.CharField(max_length=20, choices=BoundarySource.choices, blank=True)
    min_lon = models.FloatField(null=True, blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    max_lon = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_en
