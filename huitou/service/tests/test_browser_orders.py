"""A service advisor receiving a car and billing it honestly, in Chromium, at a desk and on a phone.

Selectors rely on form field names, hrefs, form actions and CSS classes, not
on UI wording, because the wording is being translated. Messages are
compared with the message as the zh-hans catalogue renders it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from huitou.customers.models import Customer
from huitou.service.models import OrderState, Recommendation, ServiceOrder
from huitou.service.services.catalog import part_save, service_item_save
from huitou.testing.browser import artifacts_dir, no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORDER_URL = re.compile(r"/service/orders/(\d+)/(#[a-z]+)?$")


def pdf_page_width_mm(page: Any) -> float:
    """The width of the first page when the current page is printed with its own @page size."""
    data = page.pdf(prefer_css_page_size=True, print_background=True)
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert box, "no MediaBox in the PDF"
    return float(box.group(1)) / 72 * 25.4


def test_advisor_receives_a_car_by_its_plate_and_bills_it_honestly(
    page: Any,
    phone_page: Any,
    org: Any,
    advisor: Any,
    tech: Any,
    make_customer: Any,
    make_vehicle: Any,
    login: Any,
    shot: Any,
) -> None:
    oil = service_item_save(
        organization=org,
        data={"code": "BY01", "name": "小保养（机油更换）", "category": "maintenance", "labour_price": "120.00"},
    )
    oil_filter = part_save(
        organization=org, data={"code": "LQ01", "name": "机油滤芯", "sale_price": "45.00", "cost": "20.00"}
    )
    customer = make_customer(name="张三丰", phone="13812345678")
    make_vehicle(customer, plate="粤B5K2M8", brand="丰田", model="凯美瑞", mileage_km=42_000)
    login(page, advisor)

    # From the workbench: type the plate, the car and its owner are found.
    page.goto("/")
    page.click("main a.open-order")
    page.fill("input[name=plate]", "粤b5k2m8")
    page.click("form.plate-search button[type=submit]")
    expect(page.locator(".order-who")).to_contain_text("张三丰")
    expect(page.locator(".order-open .plate.big")).to_have_text("粤B5K2M8")
    expect(page.locator("select[name=advisor]")).to_have_value(str(advisor.pk))
    page.fill("input[name=mileage]", "45230")
    page.fill("textarea[name=description]", "保养到期，刹车偶尔有异响")
    shot(page, "orders-01-receive-by-plate")
    page.click("form.order-open button[type=submit]")

    expect(page).to_have_url(ORDER_URL)
    expect(page.locator(".msg-success")).to_contain_text("粤B5K2M8")
    order = ServiceOrder.objects.for_org(advisor.organization_id).get()
    expect(page.locator(".badge.order-open")).to_be_visible()
    expect(page.locator("dd.mileage")).to_have_text("45230 km")

    # A service line done by the technician, then a part line with a discount.
    lines = page.locator("tr.line")
    page.select_option("select[name=item]", f"service:{oil.pk}")
    page.select_option("select[name=technician_id]", str(tech.pk))
    page.click("form.line-add button[type=submit]")
    expect(lines).to_have_count(1)
    page.select_option("select[name=item]", f"part:{oil_filter.pk}")
    page.fill("input[name=quantity]", "2")
    page.fill("input[name=discount]", "100")  # more than the line: refused on the field
    page.click("form.line-add button[type=submit]")
    expect(page.locator(".field:has([name=discount]).has-error")).to_be_visible()
    expect(lines).to_have_count(1)
    page.fill("input[name=discount]", "10")
    page.click("form.line-add button[type=submit]")
    expect(lines).to_have_count(2)
    expect(lines.nth(1).locator("td.amount")).to_have_text("¥80.00")
    expect(page.locator(".totals dd.total")).to_have_text("¥200.00")

    # The technician, on a phone, finds worn brake pads and recommends new ones.
    login(phone_page, tech)
    phone_page.goto(order.get_absolute_url())
    expect(phone_page.locator(".phone")).to_have_text("138****5678")
    phone_page.locator("#recommendations details > summary").click()
    phone_page.fill("input[name=description]", "前刹车片磨损，剩3毫米")
    phone_page.select_option("select[name=urgency]", Recommendation.Urgency.SOON)
    phone_page.fill("input[name=estimate]", "380")
    phone_page.click("form.recommend-form button[type=submit]")
    expect(phone_page.locator("li.recommendation")).to_have_count(1)
    expect(phone_page.locator("form[action$='/payments/']")).to_have_count(0)  # technicians take no money
    no_horizontal_scroll(phone_page)
    shot(phone_page, "orders-02-phone-technician")

    # The customer declines it for today; it stays for the follow-up.
    page.reload()
    page.click("li.recommendation button.decline")
    expect(page.locator("li.recommendation.status-declined")).to_have_count(1)

    # Start, complete, then pay in two parts: cash and WeChat Pay.
    page.click("button.start")
    expect(page.locator(".badge.order-in_progress")).to_be_visible()
    page.click("button.complete")
    expect(page.locator(".badge.order-completed")).to_be_visible()
    pay = page.locator("form.pay-form")
    expect(pay.locator("input[name=amount]")).to_have_value("200.00")
    pay.locator("select[name=method]").select_option("cash")
    pay.locator("input[name=amount]").fill("100")
    pay.locator("button[type=submit]").click()
    expect(page.locator("table.payments tbody tr")).to_have_count(1)
    expect(pay.locator("input[name=amount]")).to_have_value("100.00")
    pay.locator("select[name=method]").select_option("wechat")
    pay.locator("button[type=submit]").click()

    # Paid and locked: no more lines, a banner says why.
    expect(page.locator(".badge.order-paid")).to_be_visible()
    expect(page.locator("table.payments tbody tr")).to_have_count(2)
    expect(page.locator("form.line-add")).to_have_count(0)
    expect(page.locator("tr.line .row-actions button")).to_have_count(0)
    # The warranty promised on each line can still be corrected, with a reason (the money cannot).
    expect(page.locator("tr.line details.line-warranty")).to_have_count(2)
    expect(page.locator(".banner-locked")).to_be_visible()
    order.refresh_from_db()
    assert order.state == OrderState.PAID and order.amount_paid == Decimal("200.00")
    shot(page, "orders-03-paid-and-locked")

    # A later change is an adjustment with a reason; the refund goes back through the payment form.
    page.locator("#adjustments details > summary").click()
    page.fill("form.adjust-form input[name=amount]", "-20")
    page.click("form.adjust-form button[type=submit]")
    expect(page.locator(".field:has([name=reason]).has-error")).to_be_visible()  # a reason is required
    page.fill("form.adjust-form input[name=reason]", "老客户保养优惠，店长同意")
    page.click("form.adjust-form button[type=submit]")
    expect(page.locator("ul.adjustments li")).to_contain_text("老客户保养优惠，店长同意")
    expect(page.locator(".totals dd.total")).to_have_text("¥180.00")
    expect(page.locator("form.pay-form input[name=amount]")).to_have_value("-20.00")
    page.click("form.pay-form button[type=submit]")
    expect(page.locator(".totals dd.due-amount")).to_have_text("¥0.00")
    expect(page.locator("ol.order-history")).to_contain_text("老客户保养优惠，店长同意")
    shot(page, "orders-04-adjusted")
    customer.refresh_from_db()
    assert (customer.visit_count, customer.lifetime_spend) == (1, Decimal("180.00"))

    # The bill, A4 and 80 mm receipt: every line as charged, the adjustment with its reason.
    page.click("a.bill-a4")
    expect(page).to_have_url(re.compile(r"/bill/\?format=a4$"))
    bill = page.locator("article.bill")
    expect(page.locator(".topbar")).to_have_count(0)
    expect(bill.locator("tr.bill-line")).to_have_count(2)
    expect(bill.locator(".number")).to_have_text(order.number)
    expect(bill.locator(".mileage")).to_have_text("45230 km")
    expect(bill.locator(".bill-totals")).to_contain_text("老客户保养优惠，店长同意")
    expect(bill.locator(".bill-totals dd.total")).to_have_text("¥180.00")
    expect(bill.locator(".bill-advice")).to_contain_text("前刹车片磨损")
    shot(page, "orders-05-bill-a4")
    assert 209 < pdf_page_width_mm(page) < 211  # @page bill-a4: A4
    page.emulate_media(media="print")
    page.screenshot(path=str(artifacts_dir() / "orders-06-bill-a4-print.png"), full_page=True)
    page.emulate_media(media="no-override")

    page.click(".bill-toolbar a[href='?format=receipt']")
    expect(page).to_have_url(re.compile(r"format=receipt$"))
    expect(bill.locator("li.bill-line")).to_have_count(2)
    expect(bill.locator(".bill-totals dd.total")).to_have_text("¥180.00")
    assert 79 < pdf_page_width_mm(page) < 81  # @page bill-receipt: 80 mm
    shot(page, "orders-07-bill-receipt")

    # On a phone: the day's orders as cards, the order, the bill, the customer file's visits.
    phone_page.context.clear_cookies()  # the technician signs out; the advisor signs in
    login(phone_page, advisor)
    phone_page.goto("/service/orders/")
    expect(phone_page.locator("table.orders tbody tr")).to_have_count(1)
    expect(phone_page.locator("table.orders .badge.order-paid")).to_be_visible()
    no_horizontal_scroll(phone_page)
    shot(phone_page, "orders-08-phone-list")
    phone_page.goto(order.get_absolute_url())
    no_horizontal_scroll(phone_page)
    shot(phone_page, "orders-09-phone-order")
    phone_page.goto(f"{order.get_absolute_url()}bill/?format=receipt")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "orders-10-phone-receipt")
    phone_page.goto(customer.get_absolute_url())
    visits = phone_page.locator("#visits")
    expect(visits.locator(".visit-count")).to_have_text("1")
    expect(visits.locator("table.visit-list tbody tr")).to_have_count(1)
    expect(visits.locator("ul.declined")).to_contain_text("前刹车片磨损")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "orders-11-phone-customer-visits")

    page.goto(customer.get_absolute_url())
    expect(page.locator("#visits .lifetime-spend")).to_contain_text("180.00")
    page.locator("#visits").scroll_into_view_if_needed()
    page.locator("#visits").screenshot(path=str(artifacts_dir() / "orders-12-customer-visits.png"))
    assert Customer.objects.for_org(advisor.organization_id).get(pk=customer.pk).visit_count == 1


def test_an_unknown_plate_leads_to_registering_the_customer(
    page: Any, advisor: Any, login: Any, shot: Any, make_customer: Any, make_vehicle: Any
) -> None:
    make_vehicle(make_customer(name="李四"), plate="京A12345")
    login(page, advisor)
    page.goto("/service/orders/new/")
    page.fill("input[name=plate]", "粤B00001")
    page.click("form.plate-search button[type=submit]")
    expect(page.locator(".unknown-plate")).to_contain_text("粤B00001")
    expect(page.locator("form.order-open")).to_have_count(0)
    shot(page, "orders-13-unknown-plate")
    page.click(".unknown-plate a[href$='/customers/new/']")
    expect(page).to_have_url(re.compile(r"/customers/new/$"))


def test_store_manager_keeps_the_catalog_and_sees_the_day(
    page: Any,
    phone_page: Any,
    org: Any,
    owner: Any,
    advisor: Any,
    make_customer: Any,
    make_vehicle: Any,
    login: Any,
    shot: Any,
) -> None:
    from huitou.service.services.orders import order_add_line, order_complete, order_open, order_pay, order_void
    from huitou.tenancy.models import Shop

    shops = list(Shop.objects.for_org(org).order_by("pk"))
    part_save(organization=org, data={"code": "LQ01", "name": "机油滤芯", "sale_price": "45.00", "cost": "20.00"})
    wash = service_item_save(
        organization=org, data={"code": "MR01", "name": "精致洗车", "category": "detailing", "labour_price": "40.00"}
    )
    login(page, owner)

    # A new service item with a maintenance interval and a lower price at the second shop.
    page.goto("/service/orders/")
    page.click("main a[href$='/service/catalog/']")
    page.click("main a[href$='/catalog/services/new/']")
    page.select_option("select[name=category]", "maintenance")
    page.fill("input[name=code]", "BY01")
    page.fill("input[name=name]", "小保养（机油更换）")
    page.fill("input[name=labour_price]", "120")
    page.fill("input[name=interval_km]", "5000")
    page.fill("input[name=interval_months]", "6")
    page.fill(f"input[name=shop_price_{shops[1].pk}]", "-5")
    page.click("form.form button[type=submit]")
    expect(page.locator(f".field:has([name=shop_price_{shops[1].pk}]).has-error")).to_be_visible()
    page.fill(f"input[name=shop_price_{shops[1].pk}]", "99")
    shot(page, "catalog-01-service-form")
    page.click("form.form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/service/catalog/$"))
    expect(page.locator("table.catalog").first).to_contain_text("小保养（机油更换）")
    expect(page.locator("table.catalog").first).to_contain_text("¥99.00")
    expect(page.locator("table.catalog").last).to_contain_text("(56%)")
    shot(page, "catalog-02-list")

    # A busy morning at the first shop: orders in every state.
    states = []
    for i in range(8):
        customer = make_customer(name=f"车主{i}")
        order = order_open(
            organization=org,
            shop=shops[0],
            vehicle=make_vehicle(customer, mileage_km=10_000 + i),
            by=advisor,
            mileage_km=20_000 + i * 1000,
        )
        order_add_line(order=order, by=advisor, service=wash, quantity=str(1 + i % 3))
        if i % 4 == 1:
            order_complete(order=order, by=advisor)
        if i % 4 == 2:
            order_complete(order=order, by=advisor)
            order_pay(order=order, by=advisor, method="alipay", amount=order.total)
        if i == 7:
            order_void(order=order, by=advisor, reason="客户改约明天")
        states.append(order.state)
    page.goto("/service/orders/")
    expect(page.locator("table.orders tbody tr")).to_have_count(8)
    expect(page.locator(".chips .chip").first).to_contain_text("8")
    shot(page, "orders-14-day-desk")
    page.click(".chips a[href$='state=paid']")
    expect(page.locator("table.orders tbody tr")).to_have_count(states.count("paid"))

    login(phone_page, owner)
    phone_page.goto("/service/catalog/")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "catalog-03-phone-list")
    phone_page.goto("/service/orders/")
    expect(phone_page.locator("table.orders tbody tr")).to_have_count(8)
    no_horizontal_scroll(phone_page)
    shot(phone_page, "orders-15-day-phone")
