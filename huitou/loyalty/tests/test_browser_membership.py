"""A store manager makes a customer a member and settles their bill with stored value and a coupon, in Chromium.

From the customer's file: join, top up ¥1,000 by WeChat (the starter rule adds
¥100), give a ¥20 labour coupon; then receive the car, do the work and settle
at the counter on a phone with the coupon and the card. The statement shows
the top-up and the spend, the coupon is used, and the bill prints both the
stored-value payment and the coupon line. Screenshots at 390 and 1440 px of
the member panel, the checkout, the bill and the statement.

Selectors rely on form field names, hrefs and CSS classes; messages are
compared as the zh-hans catalogue renders them.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from huitou.loyalty.models import Coupon, CouponTemplate, LoyaltyAccount
from huitou.loyalty.selectors.wallet import stored_value_sum
from huitou.loyalty.starter import LABOUR_COUPON, loyalty_seed
from huitou.service.models import OrderState, ServiceItem, ServiceOrder
from huitou.service.starter import catalog_seed
from huitou.testing.browser import artifacts_dir, no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORDER_URL = re.compile(r"/service/orders/(\d+)/(#[a-z]+)?$")
M = Decimal


def element_shot(page: Any, selector: str, name: str) -> None:
    """One part of the page (the member panel, the checkout) cut from a full-page capture taken from
    the top, so that the fixed top bar of a phone is not drawn over it."""
    page.evaluate("window.scrollTo(0, 0)")
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    page.screenshot(path=str(artifacts_dir() / f"{name}.png"), full_page=True, clip=box)


def test_a_member_tops_up_and_pays_with_stored_value_and_a_coupon(
    page: Any,
    phone_page: Any,
    org: Any,
    owner: Any,
    make_customer: Any,
    make_vehicle: Any,
    login: Any,
    shot: Any,
) -> None:
    catalog_seed(organization=org)
    loyalty_seed(organization=org)  # 普通会员…钻石卡, 充1000送100, the 20元工时券
    big_service = ServiceItem.objects.for_org(org).get(code="M02")  # 大保养（三滤+机油）, ¥180
    customer = make_customer(name="陈美玲", phone="13922223333")
    make_vehicle(customer, plate="粤B7Q2L9", brand="本田", model="雅阁")
    login(page, owner)
    login(phone_page, owner)

    # The file: not a member yet. Join at the first tier.
    page.goto(customer.get_absolute_url())
    panel = page.locator("#membership")
    expect(panel.locator("header .badge")).to_have_text("非会员")
    panel.locator("select[name=tier]").select_option("regular")
    panel.locator("form.member-join button[type=submit]").click()
    expect(page.locator(".msg-success")).to_contain_text("陈美玲")
    expect(panel.locator(".tier-badge")).to_have_text("普通会员")
    expect(page.locator("#file-stage")).to_have_attribute("data-stage", "member")

    # Top up ¥1,000 by WeChat: the starter rule adds ¥100, and the page says so.
    panel.locator("a.top-up").click()
    expect(page.locator(".top-up-rules")).to_contain_text("¥1000")
    page.fill("input[name=amount]", "1000")
    page.select_option("select[name=method]", "wechat")
    page.click("form.top-up-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/statement/\?ledger=stored_value$"))
    expect(page.locator(".msg-success")).to_have_text("已充值 ¥1000.00，赠送 ¥100.00：余额 ¥1100.00。")
    expect(page.locator(".page-head .balance")).to_have_text("¥1100.00")

    # A ¥20 labour coupon by hand, from the file.
    page.goto(customer.get_absolute_url())
    panel.locator("a.give-coupon").click()
    labour = CouponTemplate.objects.for_org(org).get(code=LABOUR_COUPON)
    page.select_option("select[name=template]", str(labour.pk))
    page.click("form button.primary")
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(panel.locator(".member-coupons li")).to_have_count(1)
    expect(panel.locator(".member-coupons li")).to_contain_text("20元工时券")
    expect(panel.locator("dd.stored")).to_contain_text("¥1100.00")
    expect(panel.locator("dd.stored")).to_contain_text("¥100.00")  # the bonus, shown apart
    element_shot(page, "#membership", "membership-01-panel-1440")
    phone_page.goto(customer.get_absolute_url())
    no_horizontal_scroll(phone_page)
    element_shot(phone_page, "#membership", "membership-01-panel-390")

    # The car comes in: find it by its plate, open the order, the work is done.
    page.goto("/service/orders/new/")
    page.fill("input[name=plate]", "粤B7Q2L9")
    page.click("form.plate-search button[type=submit]")
    expect(page.locator(".order-who")).to_contain_text("陈美玲")
    page.click("form.order-open button[type=submit]")
    expect(page).to_have_url(ORDER_URL)
    order = ServiceOrder.objects.for_org(org).get()
    page.select_option("select[name=item]", f"service:{big_service.pk}")
    page.click("form.line-add button[type=submit]")
    expect(page.locator("tr.line")).to_have_count(1)
    page.click("button.start")
    page.click("button.complete")
    expect(page.locator(".badge.order-completed")).to_be_visible()
    checkout = page.locator("#checkout")
    expect(checkout.locator("input[name=use_stored_value]")).to_be_checked()
    element_shot(page, "#checkout", "membership-02-checkout-1440")

    # At the counter on a phone: the coupon and the stored value settle it in one step.
    phone_page.goto(order.get_absolute_url())
    counter = phone_page.locator("#checkout")
    counter.scroll_into_view_if_needed()
    no_horizontal_scroll(phone_page)
    counter.locator("select[name=coupon_id]").select_option(label="20元工时券")
    element_shot(phone_page, "#checkout", "membership-02-checkout-390")
    counter.locator("button[type=submit]").click()
    expect(phone_page.locator(".msg-success")).to_contain_text("¥160.00")
    expect(phone_page.locator(".badge.order-paid")).to_be_visible()
    expect(phone_page.locator("table.payments tbody tr")).to_have_count(1)
    expect(phone_page.locator("table.payments tbody tr")).to_contain_text("储值")
    no_horizontal_scroll(phone_page)

    order.refresh_from_db()
    assert order.state == OrderState.PAID
    assert (order.total, order.amount_paid) == (M("160.00"), M("160.00"))
    account = LoyaltyAccount.objects.for_org(org).get(customer=customer)
    assert account.stored_balance == M("940.00") == stored_value_sum(customer)
    used = Coupon.objects.for_org(org).get(customer=customer, used_order=order)
    assert used.state == Coupon.State.USED and used.template_id == labour.pk
    # The paid bill of ¥160 earns the next one by the starter rule (满100送20工时券).
    assert Coupon.objects.for_org(org).filter(customer=customer, state=Coupon.State.ISSUED).count() == 1

    # The statement: the top-up and the spend; the coupon given, used, and the next one earned.
    page.goto(customer.get_absolute_url())
    expect(panel.locator("dd.stored")).to_contain_text("¥940.00")
    expect(panel.locator(".member-coupons li")).to_have_count(1)  # the one the rule gave
    panel.locator("a.statement").click()
    expect(page.locator("tr.ledger-stored_value.kind-top_up td.amount")).to_have_text("+¥1100.00")
    spend = page.locator("tr.ledger-stored_value.kind-spend")
    expect(spend.locator("td.amount")).to_have_text("−¥160.00")
    expect(spend).to_contain_text(order.number)
    expect(page.locator("tr.ledger-coupons.kind-use")).to_contain_text("20元工时券")
    expect(page.locator("tr.ledger-coupons.kind-use")).to_contain_text(order.number)
    issued = page.locator("tr.ledger-coupons.kind-issue")
    expect(issued).to_have_count(2)
    expect(issued.first).to_contain_text("消费结账后")  # the starter rule's, newest first
    expect(issued.last).to_contain_text("手动发放")
    expect(page.locator("tr.ledger-coupons.kind-use")).to_contain_text("已使用")
    no_horizontal_scroll(page)
    phone_page.goto(page.url)
    no_horizontal_scroll(phone_page)
    shot(phone_page, "membership-05-statement-all-390")
    page.goto(page.url.split("?")[0] + "?ledger=stored_value")
    expect(page.locator("table.statement tbody tr")).to_have_count(2)
    no_horizontal_scroll(page)
    shot(page, "membership-04-statement-1440")
    phone_page.goto(page.url)
    no_horizontal_scroll(phone_page)
    shot(phone_page, "membership-04-statement-390")

    # The bill: the coupon as a line of its own, the stored-value payment, the member's tier.
    page.goto(order.get_absolute_url())
    page.click("a.bill-a4")
    bill = page.locator("article.bill")
    expect(bill.locator("tr.bill-line")).to_have_count(2)
    expect(bill.locator("tr.bill-line").nth(1)).to_contain_text("20元工时券")
    expect(bill.locator("tr.bill-line").nth(1).locator("td.amount")).to_have_text("−¥20.00")
    expect(bill.locator("dt.payment")).to_contain_text("储值")
    expect(bill.locator("dd.payment")).to_have_text("¥160.00")
    expect(bill.locator(".bill-totals dd.total")).to_have_text("¥160.00")
    expect(bill.locator(".bill-member")).to_contain_text("普通会员")
    no_horizontal_scroll(page)
    shot(page, "membership-03-bill-1440")
    phone_page.goto(f"{order.get_absolute_url()}bill/?format=receipt")
    receipt = phone_page.locator("article.bill")
    expect(receipt.locator("li.bill-line").nth(1)).to_contain_text("20元工时券")
    expect(receipt.locator("dt.payment")).to_contain_text("储值")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "membership-03-bill-390")
