"""The front desk books, confirms and receives a car in Chromium, at 1440px and on a 390px phone.

Selectors rely on field names, hrefs, ids and CSS classes, not on wording;
messages are compared as the zh-hans catalogue renders them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huitou.service import errors
from huitou.service.models import Appointment, OpeningHours, ServiceOrder
from huitou.testing.browser import no_horizontal_scroll
from huitou.testing.fixtures import first_shop
from huitou.testing.text import zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

State = Appointment.State


def test_book_confirm_receive_and_a_full_slot_refused(
    page: Any,
    phone_page: Any,
    owner: Any,
    advisor: Any,
    org: Any,
    login: Any,
    shot: Any,
    make_customer: Any,
    make_vehicle: Any,
    make_service_item: Any,
) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    after = tomorrow + dt.timedelta(days=1)
    wd = tomorrow.weekday()
    zhang = make_customer(name="张三丰", phone="13812345678")
    make_vehicle(zhang, plate="粤B5K2M8", brand="丰田", model="凯美瑞")
    li = make_customer(name="李四", phone="13900001111")
    make_vehicle(li, plate="京A12345")
    wang = make_customer(name="王小明", phone="13700002222")
    make_vehicle(wang, plate="沪C88888")
    wash = make_service_item(name="精洗打蜡", category="detailing")
    make_service_item(name="更换机油", category="maintenance")

    # The store manager opens tomorrow's weekday: 09:00–12:00, one-hour slots, one bay each.
    login(page, owner)
    page.goto("/service/appointments/hours/")
    expect(page.locator("fieldset.hours-day")).to_have_count(7)
    page.check(f"input[name=d{wd}-is_open]")
    page.fill(f"input[name=d{wd}-opens]", "09:00")
    page.fill(f"input[name=d{wd}-closes]", "08:00")
    page.fill(f"input[name=d{wd}-slot_minutes]", "60")
    page.fill(f"input[name=d{wd}-bays]", "1")
    page.click("form.hours-form button[type=submit]")
    closes = page.locator(f"#weekday-{wd} .field:has([name=d{wd}-closes])")
    expect(closes).to_have_class(re.compile(r"\bhas-error\b"))
    expect(closes.locator(".error")).to_have_text(zh("The closing time must be after the opening time."))
    no_horizontal_scroll(page)
    shot(page, "appointments-01-hours-error-1440")
    page.fill(f"input[name=d{wd}-closes]", "12:00")
    page.click("form.hours-form button[type=submit]")
    expect(page.locator(".msg-success")).to_be_visible()
    hours = OpeningHours.objects.get(shop=first_shop(org), weekday=wd)
    assert (hours.opens, hours.closes, hours.slot_minutes, hours.bays) == (dt.time(9), dt.time(12), 60, 1)

    # From the customer file: book 张三丰's car for tomorrow at 10:00.
    page.goto(f"/customers/{zhang.pk}/")
    page.click(f'.file-head a[href$="/service/appointments/new/?customer={zhang.pk}"]')
    expect(page.locator(".appt-who")).to_contain_text("张三丰")
    day_input, slot = page.locator("input[name=day]"), page.locator("select[name=slot]")
    # Today is closed, so the form starts on tomorrow.
    expect(day_input).to_have_value(tomorrow.isoformat())
    expect(slot.locator("option")).to_have_count(3)
    # Another day: the time list reloads (htmx) and says the shop is closed.
    day_input.fill(after.isoformat())
    expect(page.locator("#slot-field .help")).to_have_text(zh("The shop is closed on this day."))
    expect(slot.locator("option")).to_have_count(0)
    day_input.fill(tomorrow.isoformat())
    expect(slot.locator("option")).to_have_count(3)
    expect(page.locator("select[name=vehicle]")).to_have_value(str(zhang.vehicles.get().pk))
    page.select_option("select[name=service]", str(wash.pk))
    slot.select_option("10:00")
    page.fill("input[name=note]", "车身有划痕，先拍照")
    no_horizontal_scroll(page)
    shot(page, "appointments-02-book-1440")
    page.click("form.appt-form button[type=submit]")

    appointment = Appointment.objects.get(customer=zhang)
    expect(page).to_have_url(re.compile(rf"/service/appointments/\?day={tomorrow}#appointment-{appointment.pk}$"))
    expect(page.locator(".msg-success")).to_contain_text("张三丰")
    card = page.locator(f"#appointment-{appointment.pk}")
    expect(card.locator(".plate")).to_have_text("粤B5K2M8")
    expect(card).to_contain_text("精洗打蜡")
    expect(page.locator("#slot-1000")).to_have_class(re.compile(r"\bfull\b"))
    expect(page.locator("#slot-1000 .bays i.taken")).to_have_count(1)
    expect(page.locator("#slot-0900 a.free-place")).to_be_visible()

    # The week grid: tomorrow's 10:00 is full (1/1), and leads back to the day.
    page.click('.appt-tabs a[href*="/service/appointments/week/"]')
    cell = page.locator(f'a.cell[href$="?day={tomorrow}#slot-1000"]')
    expect(cell).to_have_class(re.compile(r"\bfull\b"))
    expect(cell.locator(".count")).to_have_text("1/1")
    expect(page.locator(f'a.cell[href$="?day={tomorrow}#slot-0900"] .count')).to_have_text("0/1")
    no_horizontal_scroll(page)
    shot(page, "appointments-03-week-1440")
    cell.click()
    expect(page).to_have_url(re.compile(rf"\?day={tomorrow}#slot-1000$"))

    # Confirm, then arrived (the state machine does not look at the date).
    card.locator("button[name=state][value=confirmed]").click()
    expect(page.locator(".msg-success")).to_be_visible()
    expect(card.locator(".appt-state")).to_have_class(re.compile(r"\bappt-state-confirmed\b"))
    expect(card.locator("button[name=state][value=confirmed]")).to_have_count(0)
    card.locator("button[name=state][value=arrived]").click()
    expect(card.locator(".appt-state")).to_have_class(re.compile(r"\bappt-state-arrived\b"))
    expect(card.locator("input[name=mileage]")).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.state == State.ARRIVED
    no_horizontal_scroll(page)
    shot(page, "appointments-04-day-arrived-1440")

    # On a phone the advisor starts booking 李四 at 11:00, the last free bay of that hour...
    phone = phone_page
    login(phone, advisor)
    phone.goto(f"/service/appointments/new/?customer={li.pk}&day={tomorrow}")
    phone.select_option("select[name=slot]", "11:00")
    expect(phone.locator("select[name=slot] option")).to_have_count(2)
    no_horizontal_scroll(phone)
    # ...while the desk books 王小明 into it, found with the picker.
    page.goto(f"/service/appointments/new/?day={tomorrow}&slot=11:00")
    page.locator(".appt-pick input[name=q]").press_sequentially("wxm", delay=30)
    choose = page.locator(f'#pick-results a[href*="customer={wang.pk}"]')
    expect(choose).to_be_visible()
    shot(page, "appointments-05-picker-1440")
    choose.click()
    expect(page.locator("select[name=slot]")).to_have_value("11:00")
    page.click("form.appt-form button[type=submit]")
    expect(page.locator(".msg-success")).to_contain_text("王小明")
    # The phone's booking is refused with the reason, and nothing is booked for 李四.
    phone.click("form.appt-form button[type=submit]")
    slot_field = phone.locator(".field:has([name=slot])")
    expect(slot_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(slot_field.locator(".error")).to_have_text(zh(errors.SLOT_FULL))
    expect(phone.locator(".form-errors[role=alert]")).to_be_visible()
    expect(phone.locator("select[name=slot] option")).to_have_count(1)  # only 09:00 is left
    assert not Appointment.objects.filter(customer=li).exists()
    assert Appointment.objects.for_org(advisor.organization_id).filter(day=tomorrow, slot=dt.time(11)).count() == 1
    no_horizontal_scroll(phone)
    shot(phone, "appointments-06-slot-full-390")

    # The day and week on the phone.
    phone.goto(f"/service/appointments/?day={tomorrow}")
    expect(phone.locator(f"#appointment-{appointment.pk} .plate")).to_have_text("粤B5K2M8")
    expect(phone.locator(".slot.full")).to_have_count(2)
    no_horizontal_scroll(phone)
    shot(phone, "appointments-07-day-390")
    phone.goto(f"/service/appointments/week/?day={tomorrow}")
    expect(phone.locator(".week-day")).to_have_count(7)
    no_horizontal_scroll(phone)
    shot(phone, "appointments-08-week-390")

    # The customer is here: open the order with the mileage at arrival.
    page.goto(f"/service/appointments/?day={tomorrow}")
    card.locator("input[name=mileage]").fill("52000")
    card.locator(".appt-convert button[type=submit]").click()
    # The order's page (the customer file while the order pages are not built).
    expect(page).to_have_url(re.compile(r"/(service/orders|customers)/\d+/$"))
    order = ServiceOrder.objects.for_org(advisor.organization_id).get(vehicle__plate="粤B5K2M8")
    expect(page.locator(".msg-success")).to_contain_text(order.number)
    shot(page, "appointments-12-order-opened-1440")
    assert order.mileage_km == 52000
    appointment.refresh_from_db()
    assert appointment.state == State.CONVERTED and appointment.order == order


def test_todays_arrivals_on_the_workbench_and_the_front_desk_page(
    page: Any,
    phone_page: Any,
    advisor: Any,
    owner: Any,
    org: Any,
    login: Any,
    shot: Any,
    make_customer: Any,
    make_vehicle: Any,
) -> None:
    today = timezone.localdate()
    shop = first_shop(org)
    people = [
        ("张三丰", "粤B5K2M8", 9, State.CONFIRMED),
        ("欧阳娜娜", "粤AD12345", 10, State.BOOKED),
        ("李四", "京A12345", 8, State.ARRIVED),
    ]
    for name, plate, hour, state in people:
        customer = make_customer(name=name)
        # Written directly: booking refuses past times, and the test may run late in the day.
        Appointment.objects.create(
            organization=org,
            shop=shop,
            customer=customer,
            vehicle=make_vehicle(customer, plate=plate),
            day=today,
            slot=dt.time(hour),
            state=state,
        )
    for view, width, user in ((page, 1440, advisor), (phone_page, 390, owner)):
        login(view, user)
        panel = view.locator(".arrivals-panel")
        expect(panel.locator(".appt")).to_have_count(3)
        expect(panel.locator(".appt .plate").first).to_have_text("京A12345")  # by time
        no_horizontal_scroll(view)
        shot(view, f"appointments-09-home-{width}")
        view.goto("/service/appointments/arrivals/")
        expect(view.locator("#h-expected ~ .appt")).to_have_count(2)
        expect(view.locator("#h-here ~ .appt")).to_have_count(1)
        no_horizontal_scroll(view)
        shot(view, f"appointments-10-arrivals-{width}")
    # The store manager's opening hours on the phone: one weekday under the other.
    phone_page.goto("/service/appointments/hours/")
    expect(phone_page.locator("fieldset.hours-day")).to_have_count(7)
    no_horizontal_scroll(phone_page)
    shot(phone_page, "appointments-11-hours-390")
    # Marking an expected customer as arrived moves the card to "here now".
    arriving = page.locator(".appt", has_text="欧阳娜娜")
    arriving.locator("button[name=state][value=arrived]").click()
    expect(page.locator("#h-here ~ .appt")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/service/appointments/arrivals/"))
