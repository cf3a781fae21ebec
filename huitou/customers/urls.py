from django.urls import path

from huitou.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_new, name="new"),
    path("deleted/", views.customer_deleted_list, name="deleted"),
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
