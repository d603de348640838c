from django.contrib import admin

from .models import Alert


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Read-only: alerts are raised by the engine and handled through the alert pages (audited), never edited here."""

    list_display = [
        "id",
        "rule",
        "severity",
        "state",
        "manifest",
        "vehicle",
        "fired_at",
        "raised_at",
        "resolution",
    ]
    list_filter = ["state", "rule", "severity", "resolution"]
    search_fields = ["manifest__number", "vehicle__plate", "inspector"]
    date_hierarchy = "raised_at"
    list_select_related = ["manifest", "vehicle"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
