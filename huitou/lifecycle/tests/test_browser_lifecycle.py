"""A prospect's way from the counter to a paying customer, and into the funnel, in Chromium.

Selectors rely on form field names, hrefs, form actions, CSS classes and
data attributes (the stage code in ``data-stage``), not on UI wording,
because the wording is being translated. Messages are compared with the
message as the zh-hans catalogue renders it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huitou.customers.models import Customer, Stage, Vehicle
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUp, FollowUpTask
from huitou.service.models import OrderState, ServiceOrder
from huitou.service.services.catalog import service_item_save
from huitou.testing.browser import artifacts_dir, no_horizontal_scroll
from huitou.testing.text import zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE_URL = re.compile(r"/customers/(\d+)/(#.*)?$")
ORDER_URL = re.compile(r"/service/orders/(\d+)/(#[a-z]+)?$")


def test_a_prospect_captured_at_the_counter_is_followed_up_pays_and_shows_in_the_funnel(
    page: Any, phone_page: Any, org: Any, advisor: Any, owner: Any, login: Any, shot: Any
) -> None:
    coating = service_item_save(
        organization=org, data={"code": "DJ01", "name": "全车镀晶", "category": "detailing", "labour_price": "1280.00"}
    )
    next_week = timezone.localdate() + dt.timedelta(days=7)

    # At the counter, on a phone: the prospect list, then quick capture.
    login(phone_page, advisor)
    phone_page.goto("/prospects/")
    expect(phone_page.locator(".empty")).to_be_visible()
    phone_page.click("main a.capture")
    expect(phone_page).to_have_url(re.compile(r"/prospects/new/$"))
    expect(phone_page.locator("select[name=owner]")).to_have_value("me")
    phone_page.fill("input[name=name]", "张先生")
    phone_page.fill("input[name=phone]", "138 1234 5678")
    phone_page.select_option("select[name=source]", "flyer")
    phone_page.fill("textarea[name=need]", "全车镀晶，预算三千左右，想下周做")
    phone_page.fill("input[name=plate]", "粤b5k2m8")
    phone_page.fill("input[name=brand]", "丰田")
    phone_page.fill("input[name=model]", "凯美瑞")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "lifecycle-01-capture-phone")
    phone_page.click("form.capture-form button.primary")

    # The new file: a prospect, with the standard plan's calls to make.
    expect(phone_page).to_have_url(FILE_URL)
    expect(phone_page.locator(".msg-success")).to_contain_text("张先生")
    customer = Customer.objects.for_org(advisor.organization_id).get(name="张先生")
    assert (customer.phone, customer.source.code, customer.owner) == ("+8613812345678", "flyer", advisor)
    assert Vehicle.objects.get(customer=customer).plate == "粤B5K2M8"
    panel = phone_page.locator("#lifecycle")
    expect(panel).to_have_attribute("data-stage", Stage.PROSPECT)
    expect(panel.locator(".need")).to_have_text("全车镀晶，预算三千左右，想下周做")
    expect(panel.locator("li.task")).to_have_count(3)
    no_horizontal_scroll(phone_page)
    shot(phone_page, "lifecycle-02-new-file-phone")

    # First follow-up: nothing written is refused on its field; then graded A with a next step.
    panel.locator("#followup-form > summary").click()
    form = panel.locator("form.followup")
    form.locator("select[name=channel]").select_option("wechat")
    form.locator("button[type=submit]").click()
    content = phone_page.locator("#lifecycle .field:has([name=content])")
    expect(content).to_have_class(re.compile(r"\bhas-error\b"))
    expect(content.locator(".error")).to_have_text(zh(errors.CONTENT_REQUIRED))
    form = phone_page.locator("#lifecycle form.followup")
    form.locator("textarea[name=content]").fill("发了同款车镀晶的照片，客户很满意，问能不能周六做")
    form.locator("input[name=result]").fill("有兴趣，想看实物")
    form.locator("select[name=grade]").select_option("A")
    form.locator("input[name=next_step]").fill("周六上午电话确认到店时间")
    form.locator("input[name=next_due]").fill(next_week.isoformat())
    form.locator("button[type=submit]").click()
    expect(panel).to_have_attribute("data-stage", Stage.INTENT)
    expect(phone_page.locator("#file-stage")).to_have_attribute("data-stage", Stage.INTENT)  # the head, out of band
    expect(panel.locator(".badge.grade[data-grade=A]")).to_be_visible()
    expect(panel.locator(".msg-success")).to_be_visible()
    expect(panel.locator("li.followup")).to_have_count(1)
    expect(panel.locator("ol.stage-history li")).to_have_count(2)
    shot(phone_page, "lifecycle-03-first-followup-phone")

    # Second follow-up, answering the next step from its task.
    task = FollowUpTask.objects.get(customer=customer, closed_at=None, due_on=next_week, action__startswith="周六")
    panel.locator(f"#task-{task.pk} a.record-task").click()
    form = phone_page.locator("#lifecycle form.followup")
    expect(form.locator("input[name=task_id]")).to_have_value(str(task.pk))
    expect(form.locator(".answering")).to_contain_text("周六上午电话确认到店时间")
    form.locator("textarea[name=content]").fill("电话确认：周六上午十点到店施工")
    form.locator("button[type=submit]").click()
    expect(panel.locator("li.followup")).to_have_count(2)
    expect(panel.locator(f"#task-{task.pk}")).to_have_count(0)
    assert FollowUp.objects.filter(customer=customer).count() == 2
    no_horizontal_scroll(phone_page)
    shot(phone_page, "lifecycle-04-second-followup-phone")
    panel.screenshot(path=str(artifacts_dir() / "lifecycle-04-panel-phone.png"))

    # The prospect list shows them, graded, with their next follow-up.
    phone_page.goto("/prospects/")
    row = phone_page.locator("table.prospects tbody tr.prospect")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-grade", "A")
    expect(row.locator("td.name a")).to_have_text("张先生")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "lifecycle-05-prospect-list-phone")

    # At the desk: the file, then an order for the car, a line, completed and paid.
    login(page, advisor)
    page.goto(customer.get_absolute_url())
    expect(page.locator("#lifecycle")).to_have_attribute("data-stage", Stage.INTENT)
    shot(page, "lifecycle-06-file-desk")
    page.locator("#lifecycle").screenshot(path=str(artifacts_dir() / "lifecycle-06-panel-desk.png"))
    page.click("#lifecycle ~ section a.open-order")
    page.fill("input[name=mileage]", "23500")
    page.click("form.order-open button[type=submit]")
    expect(page).to_have_url(ORDER_URL)
    page.select_option("select[name=item]", f"service:{coating.pk}")
    page.click("form.line-add button[type=submit]")
    expect(page.locator("tr.line")).to_have_count(1)
    page.click("button.start")
    expect(page.locator(".badge.order-in_progress")).to_be_visible()
    page.click("button.complete")
    expect(page.locator(".badge.order-completed")).to_be_visible()
    pay = page.locator("form.pay-form")
    pay.locator("select[name=method]").select_option("wechat")
    pay.locator("button[type=submit]").click()
    expect(page.locator(".badge.order-paid")).to_be_visible()
    assert ServiceOrder.objects.get(customer=customer).state == OrderState.PAID

    # The first paid order made a customer of them, by itself.
    page.goto(customer.get_absolute_url())
    expect(page.locator("#file-stage")).to_have_attribute("data-stage", Stage.CUSTOMER)
    expect(page.locator("#lifecycle")).to_have_attribute("data-stage", Stage.CUSTOMER)
    expect(page.locator("#lifecycle ol.stage-history li").last).to_have_attribute("data-to", Stage.CUSTOMER)
    expect(page.locator("#lifecycle li.task")).to_have_count(0)  # the prospect plan's calls are cancelled
    shot(page, "lifecycle-07-customer-desk")
    page.goto("/prospects/?owner=")
    expect(page.locator("table.prospects tbody tr")).to_have_count(0)

    # The store manager sees the conversion in the funnel, on the prospect's source.
    page.context.clear_cookies()
    login(page, owner)
    page.goto("/analytics/funnel/")
    flyer = page.locator("table.funnel-table tbody tr.group[data-key=flyer]")
    expect(flyer).to_have_count(1)
    assert int(flyer.locator("td.converted").get_attribute("data-value")) >= 1
    assert int(flyer.locator("td.prospects").get_attribute("data-value")) >= 1
    shot(page, "lifecycle-08-funnel-desk")


def test_a_known_phone_links_to_the_file_and_the_referrer_is_chosen_by_search(
    page: Any, phone_page: Any, advisor: Any, login: Any, shot: Any, make_customer: Any, make_vehicle: Any
) -> None:
    known = make_customer(name="张三", phone="13812345678")
    old = make_customer(name="欧阳老客", phone="13700001111", stage=Stage.MEMBER)
    make_vehicle(old, plate="粤B77777")
    login(page, advisor)

    page.goto("/prospects/new/")
    page.fill("input[name=name]", "张先生")
    page.fill("input[name=phone]", "13812345678")
    page.select_option("select[name=source]", "referral")
    page.fill("input[name=referrer_q]", "欧阳")
    choices = page.locator("#referrer-results .referrer-choices")
    expect(choices.locator(f"input[type=radio][value='{old.pk}']")).to_be_visible()
    choices.locator(f"input[type=radio][value='{old.pk}']").check()
    page.click("form.capture-form button.primary")

    expect(page.locator(".field:has([name=phone])")).to_have_class(re.compile(r"\bhas-error\b"))
    expect(page.locator(".field:has([name=phone]) .error")).to_have_text(zh(errors.DUPLICATE_PHONE, name="张三"))
    link = page.locator(".duplicates a.duplicate-link")
    expect(link).to_have_attribute("href", known.get_absolute_url())
    # The chosen referrer is still chosen.
    expect(page.locator(f"input[name=referrer][value='{old.pk}']")).to_be_checked()
    shot(page, "lifecycle-09-duplicate-desk")

    page.fill("input[name=phone]", "13912345678")
    page.click("form.capture-form button.primary")
    expect(page).to_have_url(FILE_URL)
    captured = Customer.objects.for_org(advisor.organization_id).get(name="张先生")
    assert captured.referrer == old
    expect(page.locator("#lifecycle")).to_contain_text("欧阳老客")

    # On a phone, from the referrer's file: capture someone they refer.
    login(phone_page, advisor)
    phone_page.goto(old.get_absolute_url())
    phone_page.click("#lifecycle a.referral-link")
    expect(phone_page.locator("select[name=source]")).to_have_value("referral")
    expect(phone_page.locator(f"input[name=referrer][value='{old.pk}']")).to_be_checked()
    no_horizontal_scroll(phone_page)
    shot(phone_page, "lifecycle-10-referral-capture-phone")
