from django.apps import AppConfig


class PermitsConfig(AppConfig):
    name = "wastelink.permits"
    label = "permits"
    verbose_name = "Permits"
