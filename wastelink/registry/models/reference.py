"""Code lists: waste codes, management methods, receiver factory types.

Loaded from package data (see docs/data-sources.md) and editable by an admin; every edit is audited.
"""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from wastelink.core.waste_codes import HazardMark, effective_mark, is_hazardous


class LocalisedName:
    name_th: str
    name_en: str

    @property
    def name(self) -> str:
        if (get_language() or "th").startswith("th") and self.name_th:
            return self.name_th
        return self.name_en


class WasteCode(LocalisedName, models.Model):
    class Level(models.TextChoices):
        CHAPTER = "chapter", _("chapter")
        SUBCHAPTER = "subchapter", _("sub-chapter")
        ENTRY = "entry", _("entry")

    class ThaiMark(models.TextChoices):
        UNKNOWN = "", _("not verified")
        HA = "HA", _("HA: always hazardous")
        HM = "HM", _("HM: hazardous when it contains dangerous substances")
        NONE = "none", _("non-hazardous")

    code = models.CharField(max_length=6, primary_key=True)
    display = models.CharField(max_length=8)
    level = models.CharField(max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name_en = models.TextField()
    name_th = models.TextField(blank=True)
    eu_hazardous = models.BooleanField(default=False)
    th_mark = models.CharField(max_length=4, choices=ThaiMark.choices, blank=True)
    material_family = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.display} {self.name_en}"

    @property
    def mark(self) -> HazardMark:
        return effective_mark(self.th_mark or None, self.eu_hazardous)

    @property
    def hazardous(self) -> bool:
        return is_hazardous(self.mark)


class ManagementMethod(LocalisedName, models.Model):
    code = models.CharField(max_length=3, primary_key=True)
    group = models.CharField(max_length=40)
    name_en = models.TextField()
    name_th = models.TextField(blank=True)
    name_th_official = models.BooleanField(default=False)
    non_hazardous_only = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"


class FactoryType(LocalisedName, models.Model):
    number = models.CharField(max_length=8, primary_key=True)
    role = models.CharField(max_length=20)
    name_th = models.TextField()
    name_en = models.TextField()

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name_en[:60]}"
