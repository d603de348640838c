from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from wastelink.registry.admin import AuditedAdmin

from .models import ApiToken, Organisation, User


@admin.register(User)
class WastelinkUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "organisation", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = UserAdmin.fieldsets + (
        ("wastelink", {"fields": ("organisation", "role", "preferred_language")}),
    )


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ["name_en", "kind", "establishment"]
    list_filter = ["kind"]
    filter_horizontal = ["estates"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "scopes", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["prefix", "secret_hash", "created_at", "last_used_at"]
