from django.urls import include, path

from muster.api import api
from muster.summons import views as summons_views

urlpatterns = [
    path("api/", api.urls),
    path("accounts/", include("muster.accounts.urls")),
    path("office/", include("muster.office.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("verify/", summons_views.verify, name="verify"),
    path("", include("muster.portal.urls")),
]
