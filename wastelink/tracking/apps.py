from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "wastelink.tracking"
    label = "tracking"
    verbose_name = "Tracking"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import receivers  # connects the manifest signals that open and close trips

        post_migrate.connect(receivers.keep_trips_version_row, sender=self)
