"""The store manager reading the dashboard in Chromium, at a desk and on a phone.

Selectors rely on URLs, form field names, ids, classes and ``data-*``
attributes, not on UI wording. A key figure is ``a.stat[data-figure=<name>]``
with its raw number in ``.num[data-value]``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from huitou.analytics.tests.dashboard_dataset import Dashboard as Data
from huitou.tenancy.models import User
from huitou.testing.browser import no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "/analytics/"
MARCH = f"{URL}?from=2025-03-01&to=2025-03-31"
PLOTLY_LOADS = 30_000


def figure(page: Any, name: str) -> Any:
    return page.locator(f'a.stat[data-figure="{name}"] .num')


def test_store_manager_reads_the_dashboard_and_opens_what_is_behind_a_number(
    page: Any, phone_page: Any, owner: User, login: Any, shot: Any, dashboard_data: Data
) -> None:
    # From the menu: the last 90 days (nothing in them), then March 2025.
    login(page, owner)
    page.click(f'nav a[href="{URL}"]')
    expect(page).to_have_url(re.compile(r"/analytics/$"))
    expect(figure(page, "revenue")).to_have_attribute("data-value", "0.00")
    page.goto(MARCH)
    expect(page.locator("#dash-chart-money svg.main-svg").first).to_be_visible(timeout=PLOTLY_LOADS)
    for chart in ("sources", "returns", "cohorts", "top"):
        expect(page.locator(f"#dash-chart-{chart} svg.main-svg").first).to_be_visible()
    expect(figure(page, "revenue")).to_have_attribute("data-value", "2399.00")
    expect(figure(page, "orders")).to_have_text("11")
    expect(figure(page, "repeat_rate")).to_have_text("83.3%")
    expect(page.locator("table.returns-table tr[data-days='7'] td.rate")).to_have_text("60.0%")
    # The chart answers the pointer.
    page.locator("#dash-chart-money .barlayer .point path").nth(10).hover(force=True)
    expect(page.locator("#dash-chart-money .hoverlayer .hovertext")).not_to_have_count(0)
    shot(page, "dashboard-desk")

    # One shop: the figures change in place (htmx), the address says so.
    page.evaluate("window.__same_page = true")
    page.select_option("form.dash-filters select[name=shop]", str(dashboard_data.shop_a.pk))
    expect(page).to_have_url(re.compile(rf"shop={dashboard_data.shop_a.pk}"))
    expect(figure(page, "revenue")).to_have_attribute("data-value", "1689.00")
    assert page.evaluate("window.__same_page") is True
    expect(page.locator("#dash-chart-money .plot-container")).to_have_count(1)

    # By week.
    page.click("label:has(input[name=grain][value=week])")
    expect(page.locator("table.series-table tbody tr")).to_have_count(6)

    # A number opens the orders behind it.
    page.click('a.stat[data-figure="orders"]')
    expect(page).to_have_url(re.compile(r"/orders/\?figure=paid"))
    expect(page.locator(".figure-behind")).to_be_visible()
    expect(page.locator("table.orders tbody tr")).to_have_count(7)

    # On a phone: the figures two by two, the charts fit, nothing scrolls sideways.
    login(phone_page, owner)
    phone_page.goto(MARCH)
    expect(phone_page.locator("#dash-chart-money svg.main-svg").first).to_be_visible(timeout=PLOTLY_LOADS)
    expect(phone_page.locator("#dash-chart-cohorts svg.main-svg").first).to_be_visible()
    expect(figure(phone_page, "active_customers")).to_have_text("6")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "dashboard-phone")
