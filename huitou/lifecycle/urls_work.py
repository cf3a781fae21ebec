from django.urls import path  # noqa: F401

app_name = "followups"

# Work lists, plans, merging, reassignment.
urlpatterns: list = []
