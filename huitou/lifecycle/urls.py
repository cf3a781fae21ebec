from django.urls import path  # noqa: F401

app_name = "lifecycle"

# Prospects and the lifecycle panel of the customer file.
urlpatterns: list = []
