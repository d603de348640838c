from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "wastelink.registry"
    label = "registry"
    verbose_name = "Registry"
