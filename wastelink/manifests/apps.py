from django.apps import AppConfig


class ManifestsConfig(AppConfig):
    name = "wastelink.manifests"
    label = "manifests"
    verbose_name = "Manifests"
