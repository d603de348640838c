from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "wastelink.web"
    label = "web"
    verbose_name = "Web"
