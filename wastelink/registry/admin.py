"""Admin for reference data and the registry. Every save and delete through the admin is audited."""

from django.contrib import admin

from wastelink.audit import services as audit

from .models import (
    Driver,
    Establishment,
    Estate,
    FactoryType,
    ManagementMethod,
    ReceiverLicence,
    TransporterLicence,
    Vehicle,
    WasteCode,
)


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        self._after_save = (before, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before, change = getattr(self, "_after_save", (None, change))
        obj = form.instance
        audit.record(actor=request.user, action=f"admin.{'change' if change else 'add'}", obj=obj, before=before,
                     after=audit.snapshot(obj))  # fmt: skip

    def delete_model(self, request, obj):
        before = audit.snapshot(obj)
        label, pk = obj._meta.label_lower, str(obj.pk)
        super().delete_model(request, obj)
        audit.record(
            actor=request.user, action="admin.delete", object_type=label, object_id=pk, before=before
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(WasteCode)
class WasteCodeAdmin(AuditedAdmin):
    list_display = ["display", "name_en", "name_th", "eu_hazardous", "th_mark", "level"]
    list_filter = ["level", "th_mark", "eu_hazardous"]
    search_fields = ["code", "name_en", "name_th"]
    readonly_fields = ["code", "display", "level", "parent"]


@admin.register(ManagementMethod)
class ManagementMethodAdmin(AuditedAdmin):
    list_display = ["code", "group", "name_en", "name_th", "name_th_official", "non_hazardous_only"]
    list_filter = ["group", "non_hazardous_only"]
    readonly_fields = ["code"]


@admin.register(FactoryType)
class FactoryTypeAdmin(AuditedAdmin):
    list_display = ["number", "role", "name_en"]


@admin.register(Estate)
class EstateAdmin(AuditedAdmin):
    list_display = ["code", "name_en", "province", "operator", "boundary_source"]
    list_filter = ["operator", "boundary_source"]
    search_fields = ["code", "name_en", "name_th"]


@admin.register(Establishment)
class EstablishmentAdmin(AuditedAdmin):
    list_display = [
        "registration_no",
        "name_en",
        "estate",
        "is_generator",
        "is_transporter",
        "is_receiver",
        "status",
    ]
    list_filter = ["is_generator", "is_transporter", "is_receiver", "status", "estate"]
    search_fields = ["registration_no", "name_en", "name_th"]


@admin.register(ReceiverLicence)
class ReceiverLicenceAdmin(AuditedAdmin):
    list_display = ["licence_no", "receiver", "factory_type", "annual_capacity_t", "valid_until", "suspended"]
    filter_horizontal = ["waste_codes", "methods"]


@admin.register(TransporterLicence)
class TransporterLicenceAdmin(AuditedAdmin):
    list_display = ["licence_no", "transporter", "hazardous_approved", "valid_until", "suspended"]


@admin.register(Vehicle)
class VehicleAdmin(AuditedAdmin):
    list_display = [
        "plate",
        "province",
        "transporter",
        "kind",
        "gps_device_id",
        "hazardous_approved",
        "active",
    ]
    search_fields = ["plate", "gps_device_id"]


@admin.register(Driver)
class DriverAdmin(AuditedAdmin):
    list_display = ["name", "transporter", "licence_no", "hazardous_trained"]
