from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "wastelink.tracking"
    label = "tracking"
    verbose_name = "Tracking"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the manifest signals that open and close trips
