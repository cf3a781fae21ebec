"""The store manager sorting the staff ranking in Chromium, at a desk and on a phone; an advisor's own page.

Selectors rely on URLs, form field names, classes and ``data-key`` attributes
(a row: ``table.staff-table tbody tr[data-key="<username>"] td.<figure>``, the
raw number in ``data-value``), not on the wording being translated.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from huitou.analytics.tests import staff_dataset
from huitou.tenancy.models import User
from huitou.testing.browser import no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "/analytics/staff/?from=2025-03-01&to=2025-03-31"


def keys(page: Any) -> list[str]:
    return page.locator("table.staff-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.key)")


def test_store_manager_sorts_the_ranking_and_an_advisor_reads_their_own_page(
    page: Any,
    phone_page: Any,
    org: Any,
    owner: User,
    advisor: User,
    service: User,
    tech: User,
    other_org: Any,
    outsider: User,
    login: Any,
    shot: Any,
    make_customer: Any,
) -> None:
    data = staff_dataset.build(
        org=org,
        staff={"owner": owner, "advisor": advisor, "service": service, "tech": tech},
        other_org=other_org,
        outsider=outsider,
        make_customer=make_customer,
    )

    login(page, owner)
    page.goto(URL)
    expect(page.locator("table.staff-table tbody tr")).to_have_count(4)
    assert keys(page) == ["advisor", "left", "owner", "service"]  # most conversions first
    row = page.locator('table.staff-table tbody tr[data-key="advisor"]')
    expect(row.locator("td.followups_done")).to_have_text("2")
    expect(row.locator("td.satisfaction")).to_have_text("4.00")
    expect(row.locator("td.file_completeness")).to_have_text("50.0%")
    expect(page.locator('table.staff-table tbody tr[data-key="service"] td.satisfaction')).to_have_text("—")
    shot(page, "staff-ranking-desk")

    # A click on a header sorts on the server by it; again, the other way.
    page.click("table.staff-table thead a[data-sort-key=file_completeness]")
    expect(page).to_have_url(re.compile(r"sort=-file_completeness"))
    assert keys(page) == ["service", "advisor", "left", "owner"]
    page.click("table.staff-table thead a[data-sort-key=file_completeness]")
    expect(page).to_have_url(re.compile(r"sort=file_completeness"))
    assert keys(page) == ["advisor", "service", "left", "owner"]

    # A figure leads to the rows behind it: advisor's conversions on their page.
    page.click('table.staff-table tbody tr[data-key="advisor"] td.conversions a')
    expect(page).to_have_url(re.compile(rf"/analytics/staff/{advisor.pk}/\?from=2025-03-01&to=2025-03-31#converted"))
    expect(page.locator("#converted li")).to_have_count(2)

    # On a phone: the rows are cards, sorted with the form's select; nothing scrolls sideways.
    login(phone_page, owner)
    phone_page.goto(URL)
    expect(phone_page.locator("table.staff-table tbody tr")).to_have_count(4)
    no_horizontal_scroll(phone_page)
    shot(phone_page, "staff-ranking-phone")
    phone_page.select_option("select[name=sort]", "complaints")
    phone_page.click("form.staff-filters button[type=submit]")
    expect(phone_page).to_have_url(re.compile(r"sort=complaints"))
    assert keys(phone_page) == ["left", "owner", "service", "advisor"]
    no_horizontal_scroll(phone_page)

    # The advisor sees their own page, and is refused the ranking.
    advisor_page = phone_page.context.browser.new_context(
        base_url=page.url.split("/analytics")[0], viewport={"width": 390, "height": 844}, locale="zh-CN"
    ).new_page()
    login(advisor_page, advisor)
    advisor_page.goto(f"/analytics/staff/{advisor.pk}/?from=2025-03-01&to=2025-03-31")
    expect(advisor_page.locator(".staff-stats .stat.followups .num")).to_have_text("2")
    expect(advisor_page.locator(".staff-stats .stat.completeness .num")).to_have_text("50.0%")
    no_horizontal_scroll(advisor_page)
    shot(advisor_page, "staff-member-phone")
    response = advisor_page.goto("/analytics/staff/")
    assert response is not None and response.status == 403
    assert data.staff["left"].is_active is False
