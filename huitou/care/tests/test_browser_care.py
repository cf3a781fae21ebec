"""The care work list in Chromium on a phone: a paid order's callback is recorded with a score;
the store manager's late care by staff, the rules, and a car's estimated mileage on a desk."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huitou.care.models import CallbackQuestion, CareKind, CareTask
from huitou.customers.services import mileage_record
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.testing.browser import no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _paid(make_order: Any, vehicle: Any, advisor: Any, item: Any, when: dt.datetime) -> Any:
    order = make_order(vehicle=vehicle, mileage_km=41_200, now=when)
    order_add_line(order=order, by=advisor, service=item, now=when)
    order_complete(order=order, by=advisor, now=when)
    order_pay(order=order, by=advisor, method="wechat", amount=order.total, now=when)
    return order


def test_a_callback_is_recorded_with_a_score_from_the_phone_work_list(
    page: Any,
    phone_page: Any,
    org: Any,
    owner: Any,
    advisor: Any,
    service: Any,
    make_customer: Any,
    make_vehicle: Any,
    make_order: Any,
    make_service_item: Any,
    login: Any,
    shot: Any,
) -> None:
    # A car paid for 48 hours ago: its callback is due now, on today's tab.
    customer = make_customer(name="王建国", phone="13812345678", owner=advisor.pk)
    car = make_vehicle(customer, plate="粤B7K2M8", brand="大众", model="朗逸")
    mileage_record(vehicle=car, km=36_000, by=advisor, read_at=timezone.now() - dt.timedelta(days=130))
    oil = make_service_item(name="机油保养", interval_km=5000, interval_months=6)
    order = _paid(make_order, car, advisor, oil, timezone.now() - dt.timedelta(hours=48))
    CallbackQuestion.objects.create(organization=org, position=1, text="车辆是否按约定的时间交付？")
    late = make_customer(name="李芳", owner=advisor.pk)
    CareTask.objects.create(
        organization=org,
        kind=CareKind.INSURANCE,
        key="insurance:late",
        customer=late,
        owner=advisor,
        due_on=timezone.localdate() - dt.timedelta(days=3),
        reason="粤B3C9D1 的保险 12月2日 到期",
        script="李芳您好，您爱车的保险快到期了",
        created_at=timezone.now(),
    )

    # The advisor's list on a phone: today's callback with its reason and script.
    login(phone_page, advisor)
    phone_page.goto("/care/")
    cards = phone_page.locator("li.care-task")
    expect(cards).to_have_count(1)
    card = cards.first
    expect(card.locator(".name")).to_have_text("王建国")
    expect(card.locator(".reason")).to_contain_text(f"回访：工单 {order.number}（机油保养）")
    expect(card.locator(".owner")).to_contain_text(advisor.display_name)
    expect(phone_page.locator("a.chip.late")).to_contain_text("1")
    card.locator("details.script summary").click()
    expect(card.locator("details.script p")).to_be_visible()
    no_horizontal_scroll(phone_page)
    shot(phone_page, "care-01-worklist-390")

    # Overdue tab: the insurance reminder three days late.
    phone_page.locator("a.chip", has_text="逾期").click()
    expect(phone_page.locator("li.care-task.is-late")).to_have_count(1)
    expect(phone_page.locator("li.care-task .late")).to_contain_text("3")
    shot(phone_page, "care-02-overdue-390")

    # Back to today's callback: record it with a score of 4 and an answer.
    phone_page.locator("a.chip", has_text="今天").click()
    phone_page.locator("li.care-task a.record").click()
    expect(phone_page).to_have_url(re.compile(r"/care/tasks/\d+/\?next="))
    form = phone_page.locator("form.care-done")
    form.locator(".field.score label", has_text="4").click()
    form.locator("fieldset.question label", has_text="5").click()
    form.locator("textarea[name=result]").fill("客户满意，换油后发动机更安静")
    expect(form.locator("input[name=score][value='4']")).to_be_checked()
    no_horizontal_scroll(phone_page)
    shot(phone_page, "care-03-callback-form-390")
    form.locator("button[type=submit]").click()

    expect(phone_page).to_have_url(re.compile(r"/care/\?due=today$"))
    expect(phone_page.locator(".msg")).to_contain_text("王建国")
    expect(phone_page.locator("li.care-task")).to_have_count(0)
    shot(phone_page, "care-04-done-390")
    callback = CareTask.objects.for_org(org).get(kind=CareKind.CALLBACK, order=order)
    assert (callback.state, callback.score, callback.result) == ("done", 4, "客户满意，换油后发动机更安静")
    assert list(callback.answers.values()) == [5]

    # The car's file shows where its odometer stands and the next maintenance.
    phone_page.goto(f"/customers/{customer.pk}/")
    vehicle = phone_page.locator(f"#vehicle-{car.pk}")
    expect(vehicle.locator("dd.estimate")).to_contain_text("km")
    expect(vehicle.locator("dd.next-maintenance")).to_contain_text("机油保养")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "care-05-vehicle-outlook-390")

    # On a desk, the store manager sees who is late, and sets the rules.
    login(page, owner)
    page.goto("/care/team/")
    rows = page.locator("table.care-team tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(advisor.display_name)
    shot(page, "care-06-team-1440")
    page.goto("/care/rules/")
    rule = page.locator("#rule-maintenance")
    rule.locator("input[name='maintenance-lead_days']").fill("10")
    rule.locator("button[type=submit]").click()
    expect(page.locator(".msg")).to_contain_text("已保存")
    expect(page.locator("#rule-maintenance input[name='maintenance-lead_days']")).to_have_value("10")
    shot(page, "care-07-rules-1440")
    page.goto("/care/")
    shot(page, "care-08-mine-1440")
