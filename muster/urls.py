from django.urls import include, path

from muster.api import api
from muster.audit import views as audit_views
from muster.summons import views as summons_views

urlpatterns = [
    path("api/", api.urls),
    path("accounts/", include("muster.accounts.urls")),
    path("office/", include("muster.office.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("verify/", summons_views.verify, name="verify"),
    path("audit/", audit_views.audit_page, name="audit"),
    path("", include("muster.portal.urls")),
]
