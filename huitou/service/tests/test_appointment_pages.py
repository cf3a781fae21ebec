"""The appointment pages: booking, full and closed slots, state buttons, permissions, isolation, hours, query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS

from huitou.service import errors
from huitou.service.models import Appointment, OpeningHours, ServiceOrder
from huitou.service.services.appointments import appointment_book, appointment_transition
from huitou.service.tests.support import next_monday
from huitou.tenancy.models import Shop
from huitou.testing.fixtures import first_shop
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

State = Appointment.State
DAY_URL = reverse("service:appointment_day")
WEEK_URL = reverse("service:appointment_week")
NEW_URL = reverse("service:appointment_new")


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.fixture
def monday() -> dt.date:
    return next_monday()


@pytest.fixture
def booked(org: Any, advisor: Any, make_customer: Any, make_vehicle: Any, make_opening_hours: Any, monday: dt.date):
    """A customer with a car booked at 09:00 next Monday (1 bay a slot on Mondays, closed on Sundays)."""
    make_opening_hours(weekdays=range(6), bays=1)
    customer = make_customer(name="张三丰")
    vehicle = make_vehicle(customer, plate="粤B5K2M8")
    return appointment_book(
        shop=first_shop(org), customer=customer, vehicle=vehicle, day=monday, slot=dt.time(9), by=advisor
    )


def _today_appointment(
    org: Any, customer: Any, vehicle: Any = None, state: str = State.BOOKED, hour: int = 9, shop: Any = None
) -> Appointment:
    """Today's appointment written directly: booking refuses past times and the test may run late at night."""
    return Appointment.objects.create(
        organization=org,
        shop=shop or first_shop(org),
        customer=customer,
        vehicle=vehicle,
        day=timezone.localdate(),
        slot=dt.time(hour),
        state=state,
    )


# --- booking ---------------------------------------------------------------------------------


def test_booking_from_the_customer_file_puts_the_car_on_the_day_calendar(
    client_for, advisor, org, make_customer, make_vehicle, make_opening_hours, make_service_item, monday
):
    make_opening_hours()
    customer = make_customer(name="张三丰")
    vehicle = make_vehicle(customer, plate="粤B5K2M8")
    wash = make_service_item(name="精洗", category="detailing")
    client = client_for(advisor)

    file_page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert f'href="{NEW_URL}?customer={customer.pk}"' in file_page
    form_page = client.get(f"{NEW_URL}?customer={customer.pk}&day={monday}")
    body = form_page.content.decode()
    assert form_page.status_code == 200 and "张三丰" in body
    assert f'<option value="{vehicle.pk}" selected>' in body  # the only car is preselected
    assert '<option value="08:00">' in body and '<option value="17:00">' in body

    response = client.post(
        NEW_URL,
        {
            "customer": customer.pk,
            "vehicle": vehicle.pk,
            "service": wash.pk,
            "day": monday.isoformat(),
            "slot": "10:00",
            "note": "顺便看看刹车",
        },
    )
    appointment = Appointment.objects.get(customer=customer)
    assert response.status_code == 302
    assert response["Location"] == f"{DAY_URL}?day={monday}#appointment-{appointment.pk}"
    assert (appointment.day, appointment.slot, appointment.state) == (monday, dt.time(10), State.BOOKED)
    assert appointment.vehicle == vehicle and appointment.service == wash and appointment.shop == first_shop(org)
    assert appointment.created_by == advisor and appointment.note == "顺便看看刹车"

    day = client.get(response["Location"])
    assert any("张三丰" in m for m in _messages(day))
    card = day.content.decode()
    assert f'id="appointment-{appointment.pk}"' in card
    assert "粤B5K2M8" in card and "精洗" in card and "顺便看看刹车" in card
    assert 'id="slot-1000"' in card


def test_the_time_list_offers_only_free_slots_and_reloads_for_another_day(
    client_for, advisor, booked, monday, make_customer
):
    customer = make_customer()
    client = client_for(advisor)
    body = client.get(f"{NEW_URL}?customer={customer.pk}&day={monday}").content.decode()
    assert '<option value="09:00">' not in body  # the one bay of 09:00 is taken
    assert '<option value="10:00">' in body
    assert 'hx-get="' + reverse("service:appointment_slots") + '"' in body

    sunday = monday + dt.timedelta(days=6)
    partial = client.get(
        reverse("service:appointment_slots") + f"?day={sunday}", headers={"HX-Request": "true"}
    ).content.decode()
    assert "<html" not in partial and "<option" not in partial
    assert zh("The shop is closed on this day.") in partial
    tuesday = client.get(
        reverse("service:appointment_slots") + f"?day={monday + dt.timedelta(days=1)}&slot=09:00"
    ).content.decode()
    assert '<option value="09:00" selected>' in tuesday


def test_a_full_slot_shows_the_message_and_books_nothing(client_for, service, booked, monday, make_customer):
    other = make_customer(name="李四")
    client = client_for(service)  # customer service books too

    response = client.post(NEW_URL, {"customer": other.pk, "day": monday.isoformat(), "slot": "09:00"})

    assert response.status_code == 200
    assert response.context["form"].errors["slot"] == [str(errors.SLOT_FULL)]
    body = response.content.decode()
    assert 'class="form-errors" role="alert"' in body
    assert str(errors.SLOT_FULL) in body
    assert not Appointment.objects.filter(customer=other).exists()
    assert Appointment.objects.for_org(service.organization_id).filter(day=monday, slot=dt.time(9)).count() == 1


def test_a_closed_day_shows_closed_and_refuses_bookings(client_for, advisor, booked, monday, make_customer):
    sunday = monday + dt.timedelta(days=6)
    client = client_for(advisor)
    page = client.get(f"{DAY_URL}?day={sunday}")
    assert page.context["rows"] == []
    assert 'class="empty closed-day"' in page.content.decode()
    week = client.get(f"{WEEK_URL}?day={monday}")
    assert [bool(c.cells) for c in week.context["columns"]] == [True] * 6 + [False]

    customer = make_customer()
    response = client.post(NEW_URL, {"customer": customer.pk, "day": sunday.isoformat(), "slot": "09:00"})
    assert response.context["form"].errors["slot"] == [str(errors.SLOT_CLOSED)]
    assert not Appointment.objects.filter(customer=customer).exists()


def test_a_past_time_is_not_offered_and_is_refused(client_for, advisor, make_customer, make_opening_hours):
    make_opening_hours(opens=dt.time(0), closes=dt.time(23, 59), slot_minutes=30)
    customer = make_customer()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    client = client_for(advisor)
    body = client.get(f"{NEW_URL}?customer={customer.pk}&day={yesterday}").content.decode()
    assert '<option value="' not in body.split('name="slot"')[1].split("</select>")[0]
    response = client.post(NEW_URL, {"customer": customer.pk, "day": yesterday.isoformat(), "slot": "09:00"})
    assert response.context["form"].errors["slot"] == [str(errors.SLOT_PAST)]


def test_a_vehicle_of_another_customer_is_refused_on_the_field(
    client_for, advisor, make_customer, make_vehicle, make_opening_hours, monday
):
    make_opening_hours()
    customer = make_customer()
    make_vehicle(customer)
    someone_elses = make_vehicle(make_customer())
    response = client_for(advisor).post(
        NEW_URL, {"customer": customer.pk, "vehicle": someone_elses.pk, "day": monday.isoformat(), "slot": "09:00"}
    )
    assert response.status_code == 200 and "vehicle" in response.context["form"].errors
    assert not Appointment.objects.for_org(advisor.organization_id).exists()


def test_the_picker_finds_the_customer_and_carries_the_chosen_time(client_for, advisor, make_customer, make_vehicle):
    zhang = make_customer(name="张三丰")
    make_vehicle(zhang, plate="粤B5K2M8")
    make_customer(name="李四")
    client = client_for(advisor)
    partial = client.get(f"{NEW_URL}?q=zsf&day=2030-01-07&slot=09:00", headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert "<html" not in body
    assert "张三丰" in body and "粤B5K2M8" in body and "李四" not in body
    assert f"?customer={zhang.pk}&amp;day=2030-01-07&amp;slot=09%3A00" in body
    full = client.get(f"{NEW_URL}?q=B5K2").content.decode()
    assert "<html" in full and "张三丰" in full


# --- state buttons ---------------------------------------------------------------------------


def test_state_buttons_confirm_then_arrived_and_a_forbidden_change_is_a_message(client_for, advisor, booked, monday):
    client = client_for(advisor)
    url = reverse("service:appointment_state", args=[booked.pk])
    day_url = f"{DAY_URL}?day={monday}"

    page = client.get(day_url).content.decode()
    for target in (State.CONFIRMED, State.ARRIVED, State.CANCELLED):
        assert f'name="state" value="{target}"' in page
    assert f'value="{State.NO_SHOW}"' not in page  # not before the time has come

    response = client.post(url, {"state": State.CONFIRMED, "next": day_url}, follow=True)
    assert response.redirect_chain[-1][0] == day_url
    assert any("张三丰" in m for m in _messages(response))
    booked.refresh_from_db()
    assert booked.state == State.CONFIRMED
    assert f'name="state" value="{State.CONFIRMED}"' not in response.content.decode()

    client.post(url, {"state": State.ARRIVED}, follow=True)
    booked.refresh_from_db()
    assert booked.state == State.ARRIVED

    response = client.post(url, {"state": State.CONFIRMED}, follow=True)
    wanted = str(errors.APPOINTMENT_TRANSITION % {"state": State.ARRIVED.label, "target": State.CONFIRMED.label})
    assert _messages(response) == [wanted]
    assert response.redirect_chain[-1][0] == f"{DAY_URL}?day={monday}#appointment-{booked.pk}"
    booked.refresh_from_db()
    assert booked.state == State.ARRIVED

    response = client.post(url, {"state": "converted"}, follow=True)  # only "open order" converts
    assert len(_messages(response)) == 1 and booked.state == State.ARRIVED


def test_an_offsite_next_is_ignored(client_for, advisor, booked, monday):
    response = client_for(advisor).post(
        reverse("service:appointment_state", args=[booked.pk]),
        {"state": State.CANCELLED, "next": "https://evil.example/"},
    )
    assert response["Location"] == f"{DAY_URL}?day={monday}#appointment-{booked.pk}"


def test_open_order_from_an_arrival(client_for, advisor, booked, monday):
    appointment_transition(appointment=booked, target=State.ARRIVED, by=advisor)
    client = client_for(advisor)
    page = client.get(f"{DAY_URL}?day={monday}").content.decode()
    convert = reverse("service:appointment_convert", args=[booked.pk])
    assert f'action="{convert}"' in page

    response = client.post(convert, {"mileage": "52000"})
    order = ServiceOrder.objects.for_org(advisor.organization_id).get(vehicle=booked.vehicle)
    try:
        wanted = reverse("service:order_detail", args=[order.pk])
    except NoReverseMatch:  # the order pages are built separately: the customer file until then
        wanted = booked.customer.get_absolute_url()
    assert response.status_code == 302 and response["Location"] == wanted
    assert order.mileage_km == 52000
    booked.refresh_from_db()
    assert booked.state == State.CONVERTED and booked.order == order

    again = client.post(convert, follow=True)
    assert ServiceOrder.objects.for_org(advisor.organization_id).count() == 1
    refused = str(errors.APPOINTMENT_TRANSITION % {"state": State.CONVERTED.label, "target": State.CONVERTED.label})
    assert _messages(again)[-1] == refused


def test_open_order_with_a_lower_mileage_is_refused_with_the_reason(client_for, advisor, booked, make_vehicle):
    appointment_transition(appointment=booked, target=State.ARRIVED, by=advisor)
    from huitou.customers.services import mileage_record

    mileage_record(vehicle=booked.vehicle, km=60000, by=advisor)
    response = client_for(advisor).post(
        reverse("service:appointment_convert", args=[booked.pk]), {"mileage": "50000"}, follow=True
    )
    assert not ServiceOrder.objects.for_org(advisor.organization_id).exists()
    assert any("50000" in m for m in _messages(response))
    booked.refresh_from_db()
    assert booked.state == State.ARRIVED


# --- permissions and isolation ---------------------------------------------------------------


def test_technicians_see_the_calendar_without_buttons_and_cannot_change_anything(client_for, tech, booked, monday):
    client = client_for(tech)
    for url in (f"{DAY_URL}?day={monday}", f"{WEEK_URL}?day={monday}", reverse("service:arrivals")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'name="state"' not in response.content.decode()
    page = client.get(f"{DAY_URL}?day={monday}").content.decode()
    assert "张三丰" in page and NEW_URL not in page
    assert "****" in page  # the phone is masked for technicians
    assert client.get(NEW_URL).status_code == 403
    assert client.get(reverse("service:appointment_slots")).status_code == 403
    assert (
        client.post(reverse("service:appointment_state", args=[booked.pk]), {"state": "confirmed"}).status_code == 403
    )
    assert client.post(reverse("service:appointment_convert", args=[booked.pk])).status_code == 403
    assert client.get(reverse("service:hours_edit")).status_code == 403
    booked.refresh_from_db()
    assert booked.state == State.BOOKED


@pytest.mark.parametrize("role", ["owner", "advisor", "service"])
def test_front_desk_roles_book_and_change_states(role, request, client_for, booked):
    client = client_for(request.getfixturevalue(role))
    assert client.get(NEW_URL).status_code == 200
    response = client.post(reverse("service:appointment_state", args=[booked.pk]), {"state": State.CONFIRMED})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.state == State.CONFIRMED
    assert (client.get(reverse("service:hours_edit")).status_code == 200) is (role == "owner")


def test_customer_service_books_but_does_not_open_orders(client_for, service, advisor, booked, monday):
    appointment_transition(appointment=booked, target=State.ARRIVED, by=advisor)
    client = client_for(service)
    page = client.get(f"{DAY_URL}?day={monday}").content.decode()
    assert reverse("service:appointment_convert", args=[booked.pk]) not in page
    assert client.post(reverse("service:appointment_convert", args=[booked.pk])).status_code == 403


def test_another_organizations_ids_are_404(client_for, outsider, booked, other_org, make_opening_hours):
    client = client_for(outsider)
    assert (
        client.post(reverse("service:appointment_state", args=[booked.pk]), {"state": "cancelled"}).status_code == 404
    )
    assert client.post(reverse("service:appointment_convert", args=[booked.pk])).status_code == 404
    assert client.get(f"{NEW_URL}?customer={booked.customer_id}").status_code == 404
    assert (
        client.post(NEW_URL, {"customer": booked.customer_id, "day": "2030-01-07", "slot": "09:00"}).status_code == 404
    )
    # Their own calendar does not show the other organization's booking.
    page = client.get(f"{DAY_URL}?day={booked.day}").content.decode()
    assert "张三丰" not in page
    assert client.get(reverse("service:arrivals")).status_code == 200
    booked.refresh_from_db()
    assert booked.state == State.BOOKED


def test_signed_out_visitors_are_sent_to_sign_in(client, booked):
    for url in (DAY_URL, WEEK_URL, NEW_URL, reverse("service:arrivals"), reverse("service:hours_edit")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


# --- day, week and arrivals ------------------------------------------------------------------


def test_the_day_page_runs_the_same_queries_for_one_appointment_or_many(
    client_for,
    advisor,
    org,
    make_customer,
    make_vehicle,
    make_opening_hours,
    make_service_item,
    monday,
    django_assert_num_queries,
):
    make_opening_hours(bays=8)
    shop = first_shop(org)
    item = make_service_item()
    tuesday = monday + dt.timedelta(days=1)
    customer = make_customer()
    appointment_book(
        shop=shop, customer=customer, vehicle=make_vehicle(customer), day=monday, slot=dt.time(9), by=advisor
    )
    for i in range(30):
        customer = make_customer()
        appointment_book(
            shop=shop,
            customer=customer,
            vehicle=make_vehicle(customer),
            service=item,
            day=tuesday,
            slot=dt.time(8 + i % 10),
            by=advisor,
        )
    client = client_for(advisor)
    # 1 session, 2 user + organization, 3 the user's shops (current shop and switcher),
    # 4 the weekday's opening hours, 5 the day's appointments with customer, vehicle and service.
    with django_assert_num_queries(5):
        response = client.get(f"{DAY_URL}?day={tuesday}")
    assert response.context["booked"] == 30 and response.context["capacity"] == 80
    assert _queries(client, f"{DAY_URL}?day={monday}") == _queries(client, f"{DAY_URL}?day={tuesday}")


def test_the_week_grid_runs_the_same_queries_however_busy_and_counts_per_slot(
    client_for, advisor, org, make_customer, make_opening_hours, monday, django_assert_num_queries
):
    make_opening_hours(weekdays=range(5), bays=3)
    shop = first_shop(org)
    client = client_for(advisor)
    quiet = _queries(client, f"{WEEK_URL}?day={monday}")
    for i in range(20):
        appointment_book(
            shop=shop,
            customer=make_customer(),
            day=monday + dt.timedelta(days=i % 5),
            slot=dt.time(9 + i % 2),
            by=advisor,
        )
    cancelled = appointment_book(shop=shop, customer=make_customer(), day=monday, slot=dt.time(12), by=advisor)
    appointment_transition(appointment=cancelled, target=State.CANCELLED, by=advisor)
    # 1 session, 2 user + organization, 3 the user's shops, 4 the shop's opening hours,
    # 5 the week's bookings counted per day and slot.
    with django_assert_num_queries(5):
        response = client.get(f"{WEEK_URL}?day={monday + dt.timedelta(days=3)}")
    assert _queries(client, f"{WEEK_URL}?day={monday}") == quiet
    columns = response.context["columns"]
    assert [c.day for c in columns] == [monday + dt.timedelta(days=i) for i in range(7)]
    assert [c.booked for c in columns] == [4, 4, 4, 4, 4, 0, 0]
    assert columns[0].capacity == 10 * 3 and columns[5].cells == []
    nine = columns[0].cells[1]
    assert (nine.start, nine.booked, nine.bays, nine.level) == (dt.time(9), 2, 3, "some")
    assert columns[0].cells[4].booked == 0  # the cancelled one frees its bay
    body = response.content.decode()
    assert f'href="{DAY_URL}?day={monday}#slot-0900"' in body


def test_bookings_outside_changed_hours_stay_visible(client_for, advisor, booked, monday, make_opening_hours):
    make_opening_hours(weekdays=[0], opens=dt.time(13), closes=dt.time(18), bays=1)
    response = client_for(advisor).get(f"{DAY_URL}?day={monday}")
    assert response.context["outside"] == [booked]
    assert "张三丰" in response.content.decode()


def test_arrivals_and_the_workbench_panel_show_todays_customers(client_for, advisor, org, make_customer, make_vehicle):
    zhang = make_customer(name="张三丰")
    coming = _today_appointment(org, zhang, make_vehicle(zhang, plate="粤B5K2M8"), hour=9)
    here = _today_appointment(org, make_customer(name="李四"), state=State.ARRIVED, hour=10)
    _today_appointment(org, make_customer(name="王五"), state=State.CANCELLED, hour=11)
    other_shop = Shop.objects.for_org(org).order_by("pk").last()
    _today_appointment(org, make_customer(name="外店客户"), shop=other_shop)
    client = client_for(advisor)

    response = client.get(reverse("service:arrivals"))
    assert [a.pk for a in response.context["expected"]] == [coming.pk]
    assert [a.pk for a in response.context["here"]] == [here.pk]
    body = response.content.decode()
    assert "王五" not in body and "外店客户" not in body

    home = client.get(reverse("web:home"))
    assert [a.pk for a in home.context["arrivals"]] == [coming.pk, here.pk]
    panel = home.content.decode()
    assert 'class="card arrivals-panel"' in panel and "粤B5K2M8" in panel and "李四" in panel
    assert f'name="state" value="{State.ARRIVED}"' in panel


def test_the_day_parameter_falls_back_to_today(client_for, advisor):
    client = client_for(advisor)
    for bad in ("nonsense", "2024-13-40", "9999-12-31", ""):
        response = client.get(f"{DAY_URL}?day={bad}")
        assert response.status_code == 200 and response.context["day"] == timezone.localdate()
    assert client.get(f"{WEEK_URL}?day=2000-01-01").status_code == 200


# --- opening hours ---------------------------------------------------------------------------


def _hours_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for d in range(7):
        if d < 6:
            data.update({f"d{d}-is_open": "on", f"d{d}-opens": "08:30", f"d{d}-closes": "18:00"})
        data.update({f"d{d}-slot_minutes": "90", f"d{d}-bays": "3"})
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_store_manager_sets_the_opening_hours(client_for, owner, org, make_opening_hours):
    make_opening_hours(weekdays=[6])  # open on Sundays until now
    client = client_for(owner)
    page = client.get(reverse("service:hours_edit")).content.decode()
    assert zh(WEEKDAYS[0]) in page and zh(WEEKDAYS[6]) in page

    response = client.post(reverse("service:hours_edit"), _hours_data())
    assert response.status_code == 302
    rows = {h.weekday: h for h in OpeningHours.objects.for_org(org).filter(shop=first_shop(org))}
    assert sorted(rows) == [0, 1, 2, 3, 4, 5]  # Sunday is closed now
    assert (rows[0].opens, rows[0].closes, rows[0].slot_minutes, rows[0].bays) == (dt.time(8, 30), dt.time(18), 90, 3)
    form = client.get(reverse("service:hours_edit"))
    assert form.context["days"][0].initial["bays"] == 3 and form.context["days"][6].initial["is_open"] is False


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"d2-closes": "08:00"}, "closes"),
        ({"d2-opens": ""}, "opens"),
        ({"d2-slot_minutes": "5"}, "slot_minutes"),
        ({"d2-bays": "0"}, "bays"),
        ({"d2-bays": "many"}, "bays"),
        ({"d2-opens": "17:30", "d2-slot_minutes": "60"}, "slot_minutes"),
    ],
)
def test_the_hours_form_explains_mistakes_and_saves_nothing(overrides, field, client_for, owner, org):
    response = client_for(owner).post(reverse("service:hours_edit"), _hours_data(**overrides))
    assert response.status_code == 200
    days = response.context["days"]
    assert list(days[2].errors) == [field]
    assert not any(days[d].errors for d in (0, 1, 3, 4, 5, 6))
    assert 'class="form-errors" role="alert"' in response.content.decode()
    assert not OpeningHours.objects.for_org(org).exists()


def test_a_closed_day_needs_no_times(client_for, owner, org):
    data = _hours_data(**{"d0-is_open": None, "d0-opens": "", "d0-closes": "", "d0-bays": ""})
    assert client_for(owner).post(reverse("service:hours_edit"), data).status_code == 302
    assert sorted(OpeningHours.objects.for_org(org).values_list("weekday", flat=True)) == [1, 2, 3, 4, 5]
