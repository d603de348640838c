from django.urls import path

from . import views

urlpatterns = [
    path("streams/", views.streams, name="streams"),
    path("applications/", views.applications, name="applications"),
    path("applications/<int:application_id>/", views.application_detail, name="application_detail"),
    path("applications/<int:application_id>/precheck/", views.precheck_panel, name="precheck_panel"),
    path("applications/<int:application_id>/documents/<int:document_id>/", views.document, name="document"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/<int:application_id>/", views.review_detail, name="review_detail"),
    path("permits/", views.permits, name="permits"),
    path("permits/<str:number>/", views.permit_detail, name="permit_detail"),
    path("permits/<str:number>/certificate.pdf", views.certificate, name="permit_certificate"),
    path("verify/<str:number>/", views.verify, name="verify"),
    path("notifications/", views.notifications, name="notifications"),
]
