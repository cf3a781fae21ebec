from django.urls import path

from huitou.analytics import views

app_name = "analytics"

urlpatterns = [
    path("funnel/", views.funnel_page, name="funnel"),
    # The version in the path lets browsers cache the file for a year (see views.plotly_js).
    path(f"plotly-{views.plotly_version()}.min.js", views.plotly_js, name="plotly_js"),
]
