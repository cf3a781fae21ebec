from django.urls import path

from huitou.analytics import views, views_dashboard, views_rfm, views_staff

app_name = "analytics"

urlpatterns = [
    path("", views_dashboard.dashboard_page, name="dashboard"),
    path("funnel/", views.funnel_page, name="funnel"),
    path("staff/", views_staff.staff_ranking, name="staff"),
    path("staff/<int:user_id>/", views_staff.staff_member, name="staff_member"),
    path("grades/", views_rfm.rfm_page, name="rfm"),
    path("grades/recompute/", views_rfm.rfm_recompute, name="rfm_recompute"),
    path("grades/rules/", views_rfm.grade_rules_edit, name="grade_rules"),
    path("grades/customers/<int:customer_id>/", views_rfm.grade_override, name="grade_override"),
    # The version in the path lets browsers cache the file for a year (see views.plotly_js).
    path(f"plotly-{views.plotly_version()}.min.js", views.plotly_js, name="plotly_js"),
]
