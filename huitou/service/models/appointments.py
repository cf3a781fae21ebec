"""Appointments (预约): a shop's opening hours and bays (工位) decide what can be booked."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer, Vehicle
from huitou.service.models.catalog import ServiceItem
from huitou.tenancy.models import Shop, TenantModel


class OpeningHours(TenantModel):
    """One weekday's hours at a shop, cut into slots of ``slot_minutes``, each with ``bays`` places."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("weekday"))  # 0 = Monday
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=60)
    bays = models.PositiveSmallIntegerField(_("bays per slot"), default=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "shop", "weekday"], name="hours_unique_weekday"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="hours_weekday_range"),
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="hours_closes_after_opens"),
        ]


class Appointment(TenantModel):
    class State(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CONFIRMED = "confirmed", _("Confirmed")
        ARRIVED = "arrived", _("Arrived")
        CONVERTED = "converted", _("Order opened")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    # States that hold a bay in their slot.
    HOLDING = (State.BOOKED, State.CONFIRMED, State.ARRIVED, State.CONVERTED)

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="appointments")
    vehicle = models.ForeignKey(Vehicle, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(ServiceItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day"))
    slot = models.TimeField(_("time"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.BOOKED)
    note = models.CharField(_("note"), max_length=200, blank=True)
    order = models.ForeignKey(
        "service.ServiceOrder", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        indexes = [
            models.Index(fields=["organization", "shop", "day", "slot"], name="appointment_org_shop_day_idx"),
            models.Index(fields=["organization", "customer", "-day"], name="appointment_org_customer_idx"),
        ]
