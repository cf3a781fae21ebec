from django.urls import path

from huitou.privacy import views

app_name = "privacy"
urlpatterns = [
    path("customers/<int:customer_id>/", views.rights, name="rights"),
    path("customers/<int:customer_id>/copy.json", views.copy_json, name="copy_json"),
    path("customers/<int:customer_id>/copy.xlsx", views.copy_xlsx, name="copy_xlsx"),
    path("customers/<int:customer_id>/erase/", views.erase, name="erase"),
    path("settings/", views.retention, name="retention"),
]
