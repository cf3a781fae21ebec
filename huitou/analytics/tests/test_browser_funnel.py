"""The store manager reading the conversion funnel in Chromium, at a desk and on a phone.

Selectors rely on URLs, form field names, ids, classes and ``data-key``
attributes, not on UI wording, because the wording is being translated.
A row of the table is read as
``table.funnel-table tbody tr[data-key="<source code or username>"] td.<column>``
(columns: prospects, intent, converted, intent-rate, conversion-rate,
median-days, revenue; each cell also carries the raw number in
``data-value``); the total is ``table.funnel-table tfoot tr.total``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huitou.customers.models import Customer
from huitou.lifecycle.services.followups import followup_record
from huitou.service.tests.support import paid
from huitou.tenancy.models import User
from huitou.testing.browser import no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "/analytics/funnel/"
# The first drawing waits for plotly.js (1.4 MB compressed) to arrive and start: generous on a busy machine.
PLOTLY_LOADS = 30_000


def cell(page: Any, key: str, column: str) -> Any:
    return page.locator(f'table.funnel-table tbody tr[data-key="{key}"] td.{column}')


def small_data_set(
    owner: User,
    advisor: User,
    service: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Any],
    make_order: Callable[..., Any],
    make_service_item: Callable[..., Any],
) -> None:
    """Nine files of the last weeks: referral 3 (2 intent, 1 paid), WeChat 4 (3 intent, 2 paid), walk-in 2 (1 paid)."""
    item = make_service_item(name="保养")
    now = timezone.now()
    plan = [
        # name, source, owner, intent, paid amount, days from creation to payment
        ("张伟", "referral", advisor, True, "680.00", 3),
        ("王芳", "referral", advisor, True, None, None),
        ("李娜", "referral", owner, False, None, None),
        ("刘洋", "wechat", service, True, "299.00", 2),
        ("陈静", "wechat", service, True, "1280.00", 9),
        ("杨磊", "wechat", service, True, None, None),
        ("赵敏", "wechat", advisor, False, None, None),
        ("黄强", "walk_in", owner, False, "150.00", 1),
        ("周婷", "walk_in", owner, False, None, None),
    ]
    for i, (name, source, by, intent, amount, days) in enumerate(plan):
        customer = make_customer(name=name, source=source, by=by)
        if intent:
            followup_record(customer=customer, by=by, channel="phone", content="问了保养价格", grade="A")
        if amount:
            paid(make_order(make_vehicle(customer, by=advisor)), item, advisor, Decimal(amount))
        created = now - dt.timedelta(days=20 - i)
        Customer.objects.for_org(owner.organization_id).filter(pk=customer.pk).update(
            created_at=created,
            intent_at=created + dt.timedelta(days=1) if intent or amount else None,
            converted_at=created + dt.timedelta(days=days) if days else None,
        )


def test_store_manager_reads_the_funnel_by_source_then_by_staff(
    page: Any,
    phone_page: Any,
    owner: User,
    advisor: User,
    service: User,
    login: Any,
    shot: Any,
    make_customer: Any,
    make_vehicle: Any,
    make_order: Any,
    make_service_item: Any,
) -> None:
    small_data_set(owner, advisor, service, make_customer, make_vehicle, make_order, make_service_item)

    # From the menu to the funnel of the last 90 days, by source.
    login(page, owner)
    page.click('nav a[href="/analytics/"]')  # the menu's "Analytics": the dashboard, then its tabs
    page.click(f'nav.analytics-nav a[href="{URL}"]')
    expect(page).to_have_url(re.compile(r"/analytics/funnel/$"))
    expect(page.locator(f'nav.analytics-nav a[href="{URL}"]')).to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator("#funnel-chart-total svg.main-svg").first).to_be_visible(timeout=PLOTLY_LOADS)
    expect(page.locator("#funnel-chart-groups svg.main-svg").first).to_be_visible()
    expect(page.locator("#funnel-chart-groups .barlayer .trace")).to_have_count(3)  # prospects, intent, converted
    expect(page.locator("table.funnel-table")).to_have_attribute("data-by", "source")
    expect(page.locator("table.funnel-table tbody tr")).to_have_count(3)
    expect(cell(page, "wechat", "prospects")).to_have_text("4")
    expect(cell(page, "wechat", "converted")).to_have_text("2")
    expect(cell(page, "wechat", "conversion-rate")).to_have_text("50.0%")
    expect(cell(page, "wechat", "median-days")).to_have_text("5.5")  # 2 and 9 days
    expect(cell(page, "wechat", "revenue")).to_have_text("¥1579.00")
    expect(page.locator("table.funnel-table tbody tr[data-key=referral] th")).to_have_text("老带新")
    total = page.locator("table.funnel-table tfoot tr.total")
    expect(total.locator("td.prospects")).to_have_text("9")
    expect(total.locator("td.converted")).to_have_text("4")
    expect(total.locator("td.revenue")).to_have_attribute("data-value", "2409.00")

    # The chart answers the pointer: a tooltip over a bar.
    # (plotly's drag layer lies over the bars and takes the pointer: move there regardless.)
    page.locator("#funnel-chart-groups .barlayer .trace").nth(2).locator("path").first.hover(force=True)
    expect(page.locator("#funnel-chart-groups .hoverlayer .hovertext")).to_have_count(1)
    shot(page, "funnel-01-desk-by-source")

    # By staff: the results change in place (htmx), the address says so.
    page.evaluate("window.__same_page = true")
    page.click("label:has(input[name=by][value=staff])")
    expect(page.locator("table.funnel-table")).to_have_attribute("data-by", "staff")
    expect(page).to_have_url(re.compile(r"by=staff"))
    assert page.evaluate("window.__same_page") is True
    expect(page.locator("table.funnel-table tbody tr")).to_have_count(3)
    expect(page.locator("table.funnel-table tbody tr[data-key=service] th")).to_have_text("赵客服")
    expect(cell(page, "service", "prospects")).to_have_text("3")
    expect(cell(page, "service", "converted")).to_have_text("2")
    expect(cell(page, "advisor", "prospects")).to_have_text("3")
    expect(cell(page, "owner", "revenue")).to_have_text("¥150.00")
    expect(page.locator("#funnel-chart-groups svg.main-svg").first).to_be_visible()
    expect(page.locator("input[name=by][value=staff]")).to_be_checked()
    shot(page, "funnel-02-desk-by-staff")

    # Back: htmx restores the page by source, and the chart is drawn again, once.
    page.go_back()
    expect(page.locator("table.funnel-table")).to_have_attribute("data-by", "source")
    expect(page.locator("#funnel-chart-groups .plot-container")).to_have_count(1)
    expect(page.locator("#funnel-chart-groups .barlayer .trace")).to_have_count(3)
    page.wait_for_function("!!document.getElementById('funnel-chart-groups')._fullLayout")  # live, not a copy
    page.go_forward()
    expect(page.locator("table.funnel-table")).to_have_attribute("data-by", "staff")
    expect(page.locator("#funnel-chart-groups .plot-container")).to_have_count(1)

    # A reversed range is refused on its field, and the table goes away.
    page.fill("input[name=from]", "2025-03-31")
    page.fill("input[name=to]", "2025-03-01")
    page.click("form.funnel-filters button[type=submit]")
    expect(page.locator(".field:has([name=to]) .error")).to_be_visible()
    expect(page.locator("table.funnel-table")).to_have_count(0)

    # A quick range brings it back.
    page.locator(".quick-ranges a.chip").nth(3).click()  # the last 90 days
    expect(page.locator(".quick-ranges a.chip").nth(3)).to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator("table.funnel-table tbody tr")).to_have_count(3)

    # On a phone: the charts fit, the rows are cards, nothing scrolls sideways.
    login(phone_page, owner)
    phone_page.goto(URL)
    expect(phone_page.locator("#funnel-chart-groups svg.main-svg").first).to_be_visible(timeout=PLOTLY_LOADS)
    expect(phone_page.locator("#funnel-chart-total svg.main-svg").first).to_be_visible()
    expect(cell(phone_page, "referral", "intent")).to_have_text("2")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "funnel-03-phone-by-source")
    phone_page.click("label:has(input[name=by][value=staff])")
    expect(phone_page.locator("table.funnel-table")).to_have_attribute("data-by", "staff")
    expect(phone_page.locator("#funnel-chart-groups svg.main-svg").first).to_be_visible()
    no_horizontal_scroll(phone_page)
    shot(phone_page, "funnel-04-phone-by-staff")
