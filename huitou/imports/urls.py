from django.urls import path

from huitou.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_home, name="home"),
    path("<int:import_id>/", views.import_detail, name="detail"),
    path("<int:import_id>/check", views.import_check_view, name="check"),
    path("<int:import_id>/start", views.import_start_view, name="start"),
    path("<int:import_id>/resume", views.import_resume_view, name="resume"),
    path("<int:import_id>/progress", views.import_progress, name="progress"),
    path("<int:import_id>/errors.xlsx", views.import_errors_xlsx, name="errors"),
]
