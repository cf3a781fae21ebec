from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from huitou.api.api import api
from huitou.tenancy.forms import LoginForm
from huitou.web.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("customers/", include("huitou.customers.urls")),
    path("service/", include("huitou.service.urls")),
    path("staff/", include("huitou.tenancy.urls")),
    path("", include("huitou.lifecycle.urls")),  # /prospects/... and the lifecycle parts of /customers/<id>/
    path("followups/", include("huitou.lifecycle.urls_work")),
    path("care/questionnaire/", include("huitou.care.urls_questionnaire")),
    path("care/", include("huitou.care.urls_work")),
    path("complaints/", include("huitou.care.urls_complaints")),
    path("analytics/", include("huitou.analytics.urls")),
    path("imports/", include("huitou.imports.urls")),
    path("loyalty/", include("huitou.loyalty.urls")),
    path("exports/", include("huitou.exports.urls")),
    path("privacy/", include("huitou.privacy.urls")),
    path("messages/", include("huitou.messaging.urls")),
    path("", include("huitou.web.urls")),
]
