from django.contrib import admin
from django.urls import include, path

from wastelink.api import api
from wastelink.web.views import set_language

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("wastelink.permits.urls")),
    path("", include("wastelink.manifests.urls")),
    path("", include("wastelink.tracking.urls")),
    path("", include("wastelink.detection.urls")),
    path("", include("wastelink.web.urls")),
]
