"""A complaint on a phone: a paid order's callback scored 2 opens it, the store manager is told, and
customer service takes it through the nine steps to a close with the customer's feedback."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huitou.care.models import STEP_ORDER, Complaint, ComplaintStepKind
from huitou.care.services.questionnaire import questionnaire_seed
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.testing.browser import no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTES = {
    "listen": "耐心听完：保养后发动机有异响",
    "vent": "客户很生气，让他把话说完",
    "apologise": "真诚道歉，给您添麻烦了",
    "confirm": "复述：换机油后冷车启动有异响",
    "explain": "机滤密封圈可能没有装正",
    "propose": "免费复检并重装机滤",
    "compensate": "赠送储值 50 元",
    "outcome": "复检后异响消除",
    "feedback": "客户表示满意，谢谢关心",
}


def test_a_low_callback_score_becomes_a_complaint_closed_after_feedback_on_a_phone(
    phone_page: Any,
    org: Any,
    owner: Any,
    advisor: Any,
    make_customer: Any,
    make_vehicle: Any,
    make_order: Any,
    make_service_item: Any,
    login: Any,
    shot: Any,
) -> None:
    questionnaire_seed(organization=org)
    customer = make_customer(name="王建国", phone="13812345678", owner=advisor.pk)
    car = make_vehicle(customer, plate="粤B7K2M8", brand="大众", model="朗逸")
    paid_at = timezone.now() - dt.timedelta(hours=48)  # the callback is due now: on today's tab at any hour
    order = make_order(vehicle=car, mileage_km=41_200, now=paid_at)
    order_add_line(order=order, by=advisor, service=make_service_item(name="机油保养"), now=paid_at)
    order_complete(order=order, by=advisor, now=paid_at)
    order_pay(order=order, by=advisor, method="wechat", amount=order.total, now=paid_at)

    # The advisor calls back from the phone work list: the customer is unhappy, score 2.
    login(phone_page, advisor)
    phone_page.goto("/care/?due=today")
    phone_page.locator("li.care-task a.record").first.click()
    form = phone_page.locator("form.care-done")
    form.locator(".field.score label", has_text="2").click()
    form.locator("fieldset.question").first.locator("label", has_text="2").click()
    form.locator("textarea[name=result]").fill("换油后发动机有异响，客户不满意")
    form.locator("button[type=submit]").click()
    expect(phone_page.locator(".msg").first).to_be_visible()
    complaint = Complaint.objects.for_org(org).get()
    assert (complaint.source, complaint.order_id) == ("callback", order.pk)

    # The complaint board: open, its age, the next step.
    phone_page.goto("/complaints/")
    card = phone_page.locator("li.complaint-card")
    expect(card).to_have_count(1)
    expect(card.locator(".name")).to_have_text("王建国")
    expect(card.locator(".plate")).to_have_text("粤B7K2M8")
    expect(card.locator(".summary")).to_contain_text("回访评分 2/5")
    expect(card.locator(".next")).to_contain_text("倾听")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "complaint-01-board-390")

    # One complaint: the nine steps, recorded in order.
    card.locator(".name").click()
    expect(phone_page).to_have_url(re.compile(rf"/complaints/{complaint.pk}/$"))
    expect(phone_page.locator("li.complaint-step")).to_have_count(9)
    expect(phone_page.locator("li.complaint-step.is-next .step-label")).to_have_text("倾听")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "complaint-02-detail-390")

    # Closing before the feedback is refused, with the reason.
    phone_page.locator("form.close-form button").click()
    expect(phone_page.locator(".form-errors")).to_contain_text("请先记录客户反馈")

    for i, step in enumerate(STEP_ORDER):
        current = phone_page.locator("li.complaint-step.is-next")
        expect(current.locator(".step-label")).to_have_text(str(ComplaintStepKind(step).label))
        current.locator("textarea[name=note]").fill(NOTES[step])
        if step == "compensate":
            current.locator("input[name=stored_value]").fill("50")
            no_horizontal_scroll(phone_page)
            shot(phone_page, "complaint-03-compensate-390")
        current.locator("button[type=submit]").click()
        expect(phone_page.locator("li.complaint-step.is-done")).to_have_count(i + 1)
    expect(phone_page.locator("li.complaint-step.is-done .step-gift")).to_contain_text("50.00")
    shot(phone_page, "complaint-04-nine-steps-390")

    phone_page.locator("form.close-form button").click()
    expect(phone_page.locator(".msg")).to_contain_text("投诉已结案")
    expect(phone_page.locator(".page-head .badge")).to_contain_text("已结案")
    expect(phone_page.locator(".complaint-log li")).to_have_count(2)
    no_horizontal_scroll(phone_page)
    shot(phone_page, "complaint-05-closed-390")
    complaint.refresh_from_db()
    assert (complaint.state, complaint.steps_done) == ("closed", 9)

    # The store manager was told when the callback opened it.
    phone_page.context.clear_cookies()
    login(phone_page, owner)
    phone_page.goto("/complaints/?state=closed")
    expect(phone_page.locator(".complaint-notices li")).to_contain_text("回访低分")
    expect(phone_page.locator("li.complaint-card.is-closed")).to_have_count(1)
    no_horizontal_scroll(phone_page)
    shot(phone_page, "complaint-06-manager-390")

    # The store manager's settings: the questionnaire and the step deadlines.
    phone_page.goto("/care/questionnaire/")
    expect(phone_page.locator(".question-list li")).to_have_count(6)
    no_horizontal_scroll(phone_page)
    shot(phone_page, "complaint-07-questionnaire-390")
    phone_page.goto("/complaints/deadlines/")
    phone_page.fill("input[name=listen]", "1")
    phone_page.locator("main form button.primary").click()
    expect(phone_page.locator(".msg")).to_contain_text("时限已保存")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "complaint-08-deadlines-390")
