from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/<int:token_id>/revoke/", views.revoke_token_view, name="revoke_token"),
    path("estates/", views.estates_map, name="estates_map"),
    path("estates/<slug:code>/", views.estate_detail, name="estate_detail"),
    path("establishments/", views.establishments, name="establishments"),
    path("establishments/<int:establishment_id>/", views.establishment_detail, name="establishment_detail"),
    path("vehicles/", views.vehicles, name="vehicles"),
    path("waste-codes/", views.waste_codes, name="waste_codes"),
    path("audit/", views.audit_log, name="audit_log"),
]
