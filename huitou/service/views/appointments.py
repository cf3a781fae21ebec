"""Appointment pages: the shop's day calendar and week grid, booking, today's arrivals, opening hours.

Thin: forms convert, ``services.appointments`` decides, selectors read. The
shop is the request's current shop (the switcher in the navigation).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from huitou.customers.models import Customer, Vehicle
from huitou.customers.presentation import visible_phone
from huitou.customers.selectors import customer_list
from huitou.service import selectors
from huitou.service.errors import StateConflict
from huitou.service.forms_appointments import AppointmentForm, hours_forms
from huitou.service.models import Appointment, OpeningHours
from huitou.service.services import appointments as services
from huitou.service.services.appointments import TRANSITIONS
from huitou.service.services.appointments import slot_starts as slot_starts
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.middleware import current_shop
from huitou.tenancy.models import Shop, User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors

State = Appointment.State
# Days the pages accept in ?day=; anything else shows today.
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
ONE_DAY = dt.timedelta(days=1)

# The state buttons, in the order they are shown.
ACTIONS: list[tuple[str, Any, str]] = [
    (State.CONFIRMED, gettext_lazy("Confirm"), ""),
    (State.ARRIVED, gettext_lazy("Arrived"), "primary"),
    (State.NO_SHOW, gettext_lazy("No-show"), ""),
    (State.CANCELLED, gettext_lazy("Cancel"), "danger-outline"),
]
DONE: dict[str, Any] = {
    State.CONFIRMED: gettext_lazy("Appointment of %(name)s confirmed."),
    State.ARRIVED: gettext_lazy("%(name)s has arrived."),
    State.NO_SHOW: gettext_lazy("%(name)s did not come: marked as no-show."),
    State.CANCELLED: gettext_lazy("Appointment of %(name)s cancelled."),
}
# The service's error keys, as the booking form names its fields.
FORM_FIELDS = {"customer_id": "customer", "vehicle_id": "vehicle", "service_id": "service"}


@dataclass
class SlotRow:
    """One slot of the day calendar: its bays and who holds them."""

    start: dt.time
    bays: int
    past: bool
    appointments: list[Appointment] = field(default_factory=list)

    @property
    def booked(self) -> int:
        return sum(1 for a in self.appointments if a.state in Appointment.HOLDING)

    @property
    def free(self) -> int:
        return max(self.bays - self.booked, 0)

    @property
    def places(self) -> list[bool]:
        """One flag per bay, taken first, for the little bay meter."""
        return [i < self.booked for i in range(self.bays)]


@dataclass(frozen=True)
class WeekCell:
    start: dt.time
    bays: int
    booked: int
    past: bool

    @property
    def level(self) -> str:
        if self.booked >= self.bays:
            return "full"
        return "some" if self.booked else "none"


@dataclass(frozen=True)
class WeekDay:
    day: dt.date
    hours: OpeningHours | None
    cells: list[WeekCell]

    @property
    def booked(self) -> int:
        return sum(c.booked for c in self.cells)

    @property
    def capacity(self) -> int:
        return sum(c.bays for c in self.cells)


def _day_param(value: str | None, default: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return default
    return day if FIRST_DAY <= day <= LAST_DAY else default


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _started(day: dt.date, start: dt.time, now: dt.datetime) -> bool:
    """Whether the slot has begun, in the shop's (the site's) time zone."""
    return dt.datetime.combine(day, start) <= timezone.localtime(now).replace(tzinfo=None)


def _day_url(day: dt.date, anchor: str = "") -> str:
    return f"{reverse('service:appointment_day')}?day={day.isoformat()}{anchor}"


def _decorate(appointments: list[Appointment], user: User, now: dt.datetime) -> list[Appointment]:
    """Add what the cards show: the phone this user may see and the buttons the state allows."""
    for a in appointments:
        allowed = TRANSITIONS.get(a.state, set())
        started = _started(a.day, a.slot, now)
        a.phone = visible_phone(a.customer, user)  # type: ignore[attr-defined]
        a.actions = [  # type: ignore[attr-defined]
            (target, label, css)
            for target, label, css in ACTIONS
            if target in allowed and (target != State.NO_SHOW or started)
        ]
        a.can_open_order = State.CONVERTED in allowed  # type: ignore[attr-defined]
        a.late = a.state in (State.BOOKED, State.CONFIRMED) and started  # type: ignore[attr-defined]
    return appointments


def _no_shop(request: StaffRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {**context, "no_shop": True})


@staff_required(Perm.VIEW_APPOINTMENTS)
def appointment_day(request: StaffRequest) -> HttpResponse:
    """The shop's day: each slot with its bays, who is booked and the free places.

    Queries: session, user (+organization), the user's shops (the current
    shop), the weekday's opening hours, the day's appointments with customer,
    vehicle and service. The same five however many appointments there are.
    """
    org = request.organization
    today = timezone.localdate()
    day = _day_param(request.GET.get("day"), today)
    context: dict[str, Any] = {"day": day, "today": today, "previous": day - ONE_DAY, "next": day + ONE_DAY}
    shop = current_shop(request)
    if shop is None:
        return _no_shop(request, "service/appointment_day.html", context)
    now = timezone.now()
    hours = OpeningHours.objects.for_org(org).filter(shop=shop, weekday=day.weekday()).first()
    appointments = _decorate(
        list(selectors.appointments_between(organization=org, shop_id=shop.pk, first=day, last=day)),
        request.user,
        now,
    )
    rows: dict[dt.time, SlotRow] = {}
    if hours is not None:
        rows = {start: SlotRow(start, hours.bays, _started(day, start, now)) for start in slot_starts(hours)}
    outside: list[Appointment] = []  # booked before the hours changed: kept visible, never lost
    for a in appointments:
        row = rows.get(a.slot)
        (row.appointments if row is not None else outside).append(a)
    context.update(
        shop=shop,
        hours=hours,
        rows=list(rows.values()),
        outside=outside,
        booked=sum(r.booked for r in rows.values()),
        capacity=sum(r.bays for r in rows.values()),
        arrived=sum(1 for a in appointments if a.state in (State.ARRIVED, State.CONVERTED)),
    )
    return render(request, "service/appointment_day.html", context)


@staff_required(Perm.VIEW_APPOINTMENTS)
def appointment_week(request: StaffRequest) -> HttpResponse:
    """Seven days from Monday: per day and slot, the places booked of the bays.

    Queries: session, user (+organization), the user's shops, the shop's
    opening hours (every weekday), the week's bookings counted per day and
    slot. The same five however many appointments there are.
    """
    org = request.organization
    today = timezone.localdate()
    day = _day_param(request.GET.get("day"), today)
    monday = max(day - dt.timedelta(days=day.weekday()), FIRST_DAY)
    sunday = monday + dt.timedelta(days=6)
    context: dict[str, Any] = {
        "day": day,
        "today": today,
        "monday": monday,
        "sunday": sunday,
        "previous": monday - dt.timedelta(days=7),
        "next": monday + dt.timedelta(days=7),
        "this_week": monday <= today <= sunday,
    }
    shop = current_shop(request)
    if shop is None:
        return _no_shop(request, "service/appointment_week.html", context)
    now = timezone.now()
    hours = {h.weekday: h for h in OpeningHours.objects.for_org(org).filter(shop=shop)}
    counts = {
        (row["day"], row["slot"]): row["n"]
        for row in Appointment.objects.for_org(org)
        .filter(shop=shop, day__gte=monday, day__lte=sunday, state__in=Appointment.HOLDING)
        .values("day", "slot")
        .annotate(n=Count("pk"))
        .order_by()
    }
    columns = []
    for offset in range(7):
        current = monday + dt.timedelta(days=offset)
        row = hours.get(current.weekday())
        cells = (
            [
                WeekCell(start, row.bays, counts.get((current, start), 0), _started(current, start, now))
                for start in slot_starts(row)
            ]
            if row
            else []
        )
        columns.append(WeekDay(current, row, cells))
    context.update(shop=shop, columns=columns)
    return render(request, "service/appointment_week.html", context)


def _free_slots(shop: Shop, day: dt.date) -> tuple[list[tuple[dt.time, int]], bool]:
    """The day's times that can still be booked, with their free places; and whether the shop is closed."""
    slots = services.slots_for(shop=shop, day=day)
    now = timezone.now()
    return [(s.start, s.free) for s in slots if s.free and not _started(day, s.start, now)], not slots


def _carry(source: Any) -> str:
    """The day and time chosen on the calendar, carried through the customer picker."""
    return urlencode({k: source[k] for k in ("day", "slot") if source.get(k)})


@staff_required(Perm.BOOK_APPOINTMENTS)
def appointment_new(request: StaffRequest) -> HttpResponse:
    """Book a bay: pick the customer, then vehicle, service, day and one of the free times.

    A full slot (someone took the last bay meanwhile) is refused with the
    service's message on the time field, and nothing is booked.
    """
    org = request.organization
    shop = current_shop(request)
    if shop is None:
        return _no_shop(request, "service/appointment_form.html", {})
    source = request.POST if request.method == "POST" else request.GET
    customer_id = _int_or_none(source.get("customer"))
    if customer_id is None:
        return _pick(request, source)
    customer = get_scoped_or_404(Customer.objects.active().select_related("owner"), org, pk=customer_id)
    today = timezone.localdate()
    vehicles = list(Vehicle.objects.for_org(org).active().filter(customer=customer).order_by("pk"))
    items = list(selectors.service_items(org))
    if request.method == "POST" or source.get("day"):
        day = _day_param(source.get("day"), today)
        free, closed = _free_slots(shop, day)
    else:  # from the customer file: today, or tomorrow when today is over
        day = today
        free, closed = _free_slots(shop, day)
        if not free:
            day += ONE_DAY
            free, closed = _free_slots(shop, day)
    initial = {
        "customer": customer.pk,
        "day": day,
        "slot": source.get("slot", ""),
        "vehicle": vehicles[0].pk if len(vehicles) == 1 else None,
    }
    form = AppointmentForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        vehicles=vehicles,
        services=items,
        free_slots=free,
        closed=closed,
    )
    form.fields["day"].widget.attrs.update(
        {
            "min": today.isoformat(),
            "hx-get": reverse("service:appointment_slots"),
            "hx-trigger": "change",
            "hx-target": "#slot-field",
            "hx-include": "[name=slot]",
        }
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.appointment_book(
                shop=shop,
                customer=customer,
                day=data["day"],
                slot=data["slot"],
                by=request.user,
                vehicle=next((v for v in vehicles if v.pk == data["vehicle"]), None),
                service=next((s for s in items if s.pk == data["service"]), None),
                note=data["note"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                exc = ValidationError({FORM_FIELDS.get(k, k): v for k, v in exc.error_dict.items()})
            apply_errors(form, exc)
        except StateConflict as exc:
            form.add_error("slot", str(exc.message))
        else:
            messages.success(
                request,
                _("%(name)s booked on %(day)s at %(time)s.")
                % {
                    "name": customer.name,
                    "day": appointment.day.isoformat(),
                    "time": appointment.slot.strftime("%H:%M"),
                },
            )
            return redirect(_day_url(appointment.day, f"#appointment-{appointment.pk}"))
    context = {
        "form": form,
        "customer": customer,
        "phone": visible_phone(customer, request.user),
        "vehicles": vehicles,
        "shop": shop,
        "day": day,
        "wide_fields": ("note",),
    }
    return render(request, "service/appointment_form.html", context)


def _pick(request: StaffRequest, source: Any) -> HttpResponse:
    """The customer picker of the booking form: search results to choose from."""
    q = source.get("q", "").strip()[:50]
    results = []
    if q:
        org = request.organization
        vehicles = Prefetch("vehicles", queryset=Vehicle.objects.active().order_by("pk"), to_attr="active_vehicles")
        found = customer_list(organization=org, q=q).prefetch_related(vehicles)[:8]
        results = [(c, visible_phone(c, request.user)) for c in found]
    context = {
        "results": results,
        "q": q,
        "carry": _carry(source),
        "day": source.get("day", ""),
        "slot": source.get("slot", ""),
    }
    if request.htmx:
        return render(request, "service/_appointment_pick.html", context)
    return render(request, "service/appointment_form.html", context)


@staff_required(Perm.BOOK_APPOINTMENTS)
def appointment_slots(request: StaffRequest) -> HttpResponse:
    """The time field of the booking form for the day just chosen (htmx)."""
    shop = current_shop(request)
    day = _day_param(request.GET.get("day"), timezone.localdate())
    free, closed = _free_slots(shop, day) if shop else ([], True)
    form = AppointmentForm(initial={"slot": request.GET.get("slot", "")}, free_slots=free, closed=closed)
    return render(request, "service/_appointment_slots.html", {"form": form})


def _appointment(request: StaffRequest, appointment_id: int) -> Appointment:
    return get_scoped_or_404(
        Appointment.objects.select_related("customer", "vehicle", "shop__organization"),
        request.organization,
        pk=appointment_id,
    )


def _back(request: StaffRequest, appointment: Appointment) -> HttpResponse:
    """Back to the page the button was on (the day, arrivals, workbench), else to the day."""
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return redirect(wanted)
    return redirect(_day_url(appointment.day, f"#appointment-{appointment.pk}"))


@require_POST
@staff_required(Perm.BOOK_APPOINTMENTS)
def appointment_state(request: StaffRequest, appointment_id: int) -> HttpResponse:
    """Confirm, arrived, no-show or cancel. A change the state forbids comes back as a message."""
    appointment = _appointment(request, appointment_id)
    target = request.POST.get("state", "")[:20]
    try:
        services.appointment_transition(appointment=appointment, target=target, by=request.user)
    except StateConflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, str(DONE.get(target, _("Saved."))) % {"name": appointment.customer.name})
    return _back(request, appointment)


def _order_url(order_id: int, customer: Customer) -> str:
    """The new order's page, or the customer file while the order pages are not there."""
    try:
        return reverse("service:order_detail", args=[order_id])
    except NoReverseMatch:
        return customer.get_absolute_url()


@require_POST
@staff_required(Perm.OPEN_ORDERS)
def appointment_convert(request: StaffRequest, appointment_id: int) -> HttpResponse:
    """The customer is here: open a service order for the booked car, with the mileage at arrival."""
    appointment = _appointment(request, appointment_id)
    try:
        order = services.appointment_convert(
            appointment=appointment,
            by=request.user,
            mileage_km=request.POST.get("mileage", "").strip() or None,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(request, appointment)
    except StateConflict as exc:
        messages.error(request, str(exc.message))
        return _back(request, appointment)
    messages.success(
        request, _("Order %(number)s opened for %(plate)s.") % {"number": order.number, "plate": order.vehicle.plate}
    )
    return redirect(_order_url(order.pk, appointment.customer))


def todays_arrivals(request: StaffRequest) -> list[Appointment]:
    """Today's expected and arrived customers at the current shop, ready for the cards (one query)."""
    shop = current_shop(request)
    if shop is None or not request.user.has_role_perm(Perm.VIEW_APPOINTMENTS):
        return []
    found = selectors.arrivals_today(organization=request.organization, shop_id=shop.pk)
    return _decorate(list(found), request.user, timezone.now())


@staff_required(Perm.VIEW_APPOINTMENTS)
def arrivals(request: StaffRequest) -> HttpResponse:
    """The front desk's today: who is expected (late ones first to catch the eye), who is here.

    Queries: session, user (+organization), the user's shops, today's appointments.
    """
    shop = current_shop(request)
    context: dict[str, Any] = {"today": timezone.localdate()}
    if shop is None:
        return _no_shop(request, "service/appointment_arrivals.html", context)
    found = todays_arrivals(request)
    context.update(
        shop=shop,
        expected=[a for a in found if a.state != State.ARRIVED],
        here=[a for a in found if a.state == State.ARRIVED],
    )
    return render(request, "service/appointment_arrivals.html", context)


@staff_required(Perm.MANAGE_SETTINGS)
def hours_edit(request: StaffRequest) -> HttpResponse:
    """The store manager sets each weekday's hours, slot length and bays, or closes the day."""
    org = request.organization
    shop = current_shop(request)
    if shop is None:
        return _no_shop(request, "service/hours_edit.html", {})
    rows = list(OpeningHours.objects.for_org(org).filter(shop=shop))
    days = hours_forms(request.POST if request.method == "POST" else None, rows)
    if request.method == "POST" and all([f.is_valid() for f in days]):
        week = {
            form.weekday: services.OpeningDay(
                opens=form.cleaned_data["opens"],
                closes=form.cleaned_data["closes"],
                slot_minutes=form.cleaned_data["slot_minutes"],
                bays=form.cleaned_data["bays"],
            )
            if form.cleaned_data["is_open"]
            else None
            for form in days
        }
        try:
            services.opening_hours_week_set(shop=shop, week=week)
        except services.WeekRefused as exc:
            for form in days:
                apply_errors(form, exc.by_weekday.get(form.weekday))
        else:
            messages.success(request, _("Opening hours of %(shop)s saved.") % {"shop": shop.name})
            return redirect("service:hours_edit")
    return render(
        request, "service/hours_edit.html", {"days": days, "shop": shop, "has_errors": any(f.errors for f in days)}
    )
