from django.urls import path

from . import views

urlpatterns = [
    path("manifests/", views.manifests, name="manifests"),
    path("manifests/new/", views.new_manifest, name="new_manifest"),
    path("manifests/bulk/", views.bulk, name="manifests_bulk"),
    path("manifests/overdue/", views.overdue, name="manifests_overdue"),
    path("manifests/<str:number>/", views.detail, name="manifest_detail"),
    path("manifests/<str:number>/pdf/", views.pdf, name="manifest_pdf"),
    path("gate/", views.gate, name="gate"),
    path("mass-balance/", views.balance, name="mass_balance"),
]
