from django.urls import path

from . import views

urlpatterns = [
    path("alerts/", views.alert_queue, name="alert_queue"),
    path("alerts/dashboard/", views.alert_dashboard, name="alert_dashboard"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert_detail"),
]
