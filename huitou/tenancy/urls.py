from django.urls import path

from huitou.tenancy import views

app_name = "tenancy"
urlpatterns = [
    path("", views.staff_list, name="staff_list"),
    path("new/", views.staff_new, name="staff_new"),
    path("<int:user_id>/", views.staff_edit, name="staff_edit"),
    path("settings/lifecycle/", views.lifecycle_settings, name="lifecycle_settings"),
]
