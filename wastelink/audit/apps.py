from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "wastelink.audit"
    label = "audit"
    verbose_name = "Audit"
