from django.urls import path

from huitou.analytics import views_segments
from huitou.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_new, name="new"),
    path("deleted/", views.customer_deleted_list, name="deleted"),
    # Saved segments (analytics): named filters of this list, opened as the list itself.
    path("segments/", views_segments.segment_list, name="segments"),
    path("segments/new/", views_segments.segment_new, name="segment_new"),
    path("segments/<int:segment_id>/", views_segments.segment_detail, name="segment_detail"),
    path("segments/<int:segment_id>/edit/", views_segments.segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/delete/", views_segments.segment_remove, name="segment_delete"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<int:customer_id>/delete/", views.customer_delete, name="delete"),
    path("<int:customer_id>/restore/", views.customer_restore, name="restore"),
    path("<int:customer_id>/consent/", views.consent_change, name="consent"),
    path("<int:customer_id>/pick/", views.customer_pick, name="pick"),
    path("<int:customer_id>/household/", views.household_link, name="household_link"),
    path("<int:customer_id>/household/leave/", views.household_unlink, name="household_unlink"),
    path("<int:customer_id>/vehicles/new/", views.vehicle_new, name="vehicle_new"),
    path("vehicles/<int:vehicle_id>/edit/", views.vehicle_edit, name="vehicle_edit"),
    path("vehicles/<int:vehicle_id>/delete/", views.vehicle_delete, name="vehicle_delete"),
    path("vehicles/<int:vehicle_id>/transfer/", views.vehicle_transfer, name="vehicle_transfer"),
    path("vehicles/<int:vehicle_id>/mileage/", views.mileage_add, name="mileage_add"),
]
