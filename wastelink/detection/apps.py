from django.apps import AppConfig


class DetectionConfig(AppConfig):
    name = "wastelink.detection"
    label = "detection"
    verbose_name = "Detection"
