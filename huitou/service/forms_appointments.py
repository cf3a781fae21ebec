"""Forms of the appointment pages. They convert types; the services decide."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Vehicle
from huitou.service.models import Category, OpeningHours, ServiceItem

TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class AppointmentForm(forms.Form):
    """Book a bay: the customer comes from the picker, the slot list holds only free times."""

    customer = forms.IntegerField(widget=forms.HiddenInput)
    vehicle = forms.TypedChoiceField(label=_("Vehicle"), coerce=int, empty_value=None, required=False)
    service = forms.TypedChoiceField(label=_("Service"), coerce=int, empty_value=None, required=False)
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    slot = forms.TimeField(label=_("Time"), widget=forms.Select, input_formats=["%H:%M", "%H:%M:%S"])
    note = forms.CharField(
        label=_("Note"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("What the customer asked for")}),
    )

    def __init__(
        self,
        *args: Any,
        vehicles: Sequence[Vehicle] = (),
        services: Iterable[ServiceItem] = (),
        free_slots: Sequence[tuple[dt.time, int]] = (),
        closed: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        vehicle = self.fields["vehicle"]
        vehicle.choices = [(v.pk, f"{v.plate} {v.title}".strip()) for v in vehicles]  # type: ignore[attr-defined]
        # A car to receive when the customer has one; a customer without a car can still book.
        vehicle.required = bool(vehicles)
        if not vehicles:
            vehicle.choices = [("", _("No vehicle on file"))]  # type: ignore[attr-defined]
            vehicle.widget.attrs["disabled"] = True
        self.fields["service"].choices = _service_choices(services)  # type: ignore[attr-defined]
        slot = self.fields["slot"]
        slot.widget.choices = [(start.strftime("%H:%M"), _slot_label(start, free)) for start, free in free_slots]
        if closed:
            slot.help_text = _("The shop is closed on this day.")
        elif not free_slots:
            slot.help_text = _("No free time left on this day. Choose another day.")


def _slot_label(start: dt.time, free: int) -> str:
    return str(_("%(time)s · %(free)s free")) % {"time": start.strftime("%H:%M"), "free": free}


def _service_choices(services: Iterable[ServiceItem]) -> list[Any]:
    groups: dict[str, list[tuple[int, str]]] = {}
    for item in services:
        groups.setdefault(item.category, []).append((item.pk, item.name))
    labels = dict(Category.choices)
    return [("", "—"), *[(labels.get(category, category), items) for category, items in groups.items()]]


class HoursForm(forms.Form):
    """One weekday's opening hours, or closed. What an open day needs and how its slots fit
    are the service's rules (``opening_hours_set``)."""

    is_open = forms.BooleanField(label=_("Open this day"), required=False)
    opens = forms.TimeField(label=_("Opens"), required=False, widget=TIME_INPUT)
    closes = forms.TimeField(label=_("Closes"), required=False, widget=TIME_INPUT)
    slot_minutes = forms.IntegerField(
        label=_("Slot length (minutes)"),
        min_value=10,
        max_value=480,
        initial=60,
        required=False,
        widget=forms.NumberInput(attrs={"step": 5, "inputmode": "numeric"}),
    )
    bays = forms.IntegerField(
        label=_("Bays per slot"),
        min_value=1,
        max_value=100,
        initial=2,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, weekday: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.weekday = weekday

    @property
    def weekday_name(self) -> str:
        return str(WEEKDAYS[self.weekday])


def hours_forms(data: Any, hours: Iterable[OpeningHours]) -> list[HoursForm]:
    """Seven forms, Monday first, filled from the shop's opening hours."""
    by_day = {h.weekday: h for h in hours}
    forms_ = []
    for weekday in range(7):
        row = by_day.get(weekday)
        initial: dict[str, Any] = {"is_open": row is not None, "slot_minutes": 60, "bays": 2}
        if row is not None:
            initial.update(opens=row.opens, closes=row.closes, slot_minutes=row.slot_minutes, bays=row.bays)
        forms_.append(HoursForm(data, prefix=f"d{weekday}", initial=initial, weekday=weekday))
    return forms_
