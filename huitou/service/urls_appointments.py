"""Appointment pages. Every name starts with "appointment" or "hours" (the navigation relies on it)."""

from django.urls import path

from huitou.service.views import appointments as views

urlpatterns = [
    path("appointments/", views.appointment_day, name="appointment_day"),
    path("appointments/week/", views.appointment_week, name="appointment_week"),
    path("appointments/new/", views.appointment_new, name="appointment_new"),
    path("appointments/new/slots/", views.appointment_slots, name="appointment_slots"),
    path("appointments/arrivals/", views.arrivals, name="arrivals"),
    path("appointments/hours/", views.hours_edit, name="hours_edit"),
    path("appointments/<int:appointment_id>/state/", views.appointment_state, name="appointment_state"),
    path("appointments/<int:appointment_id>/order/", views.appointment_convert, name="appointment_convert"),
]
