from django.urls import include, path

from muster.api import api

urlpatterns = [
    path("api/", api.urls),
    path("accounts/", include("muster.accounts.urls")),
    path("office/", include("muster.office.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("muster.portal.urls")),
]
