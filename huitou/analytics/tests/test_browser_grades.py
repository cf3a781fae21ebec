"""The store manager grading customers in Chromium, at a desk and on a phone.

Selectors rely on URLs, form field names, ids, classes and ``data-*``
attributes, not on UI wording.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huitou.analytics.rfm import scores_refresh
from huitou.service.models import ServiceOrder
from huitou.service.tests.support import paid
from huitou.tenancy.models import User
from huitou.testing.browser import no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "/analytics/grades/"


def test_store_manager_reads_segments_sets_rules_and_grades_a_customer(
    page: Any,
    phone_page: Any,
    owner: User,
    advisor: User,
    login: Any,
    shot: Any,
    make_customer: Any,
    make_vehicle: Any,
    make_order: Any,
    make_service_item: Any,
) -> None:
    item = make_service_item(name="保养")
    today = timezone.localdate()
    plan = [
        # name, days ago of each paid visit, amount each
        ("张伟", [200, 140, 80, 20], "680.00"),
        ("王芳", [5], "1280.00"),
        ("李娜", [300, 240], "299.00"),
        ("刘洋", [30, 15, 3], "150.00"),
        ("陈静", [90], "88.00"),
    ]
    files = {}
    for name, days, amount in plan:
        customer = make_customer(name=name)
        car = make_vehicle(customer)
        for ago in days:
            order = paid(make_order(car), item, advisor, amount)
            ServiceOrder.objects.for_org(owner.organization_id).filter(pk=order.pk).update(
                paid_at=timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=ago), dt.time(12)))
            )
        files[name] = customer
    scores_refresh(organization=owner.organization_id)

    login(page, owner)
    page.goto(URL)
    expect(page.locator("table.segment-counts tbody tr")).to_have_count(8)
    expect(page.locator("table.segment-counts tfoot th.num")).to_have_text("5")
    expect(page.locator("table.cut-points tbody tr")).to_have_count(5)
    shot(page, "grades-01-desk")

    # A rule: A for 重要价值 and 一般保持 — saved, everyone regraded, the counts link to the list.
    page.check("input[name=a_segments][value=keep]")
    page.click("form.grade-rules button[type=submit]")
    expect(page).to_have_url(re.compile(r"/analytics/grades/$"))
    expect(page.locator("input[name=a_segments][value=keep]")).to_be_checked()
    page.locator('table.grade-counts tr[data-grade="A"] a').click()
    expect(page).to_have_url(re.compile(r"customer_grade=A"))
    expect(page.locator("select[name=customer_grade]")).to_have_value("A")

    # A grade set by hand on the file, with the reason, shows there and in the list.
    page.goto(f"/customers/{files['陈静'].pk}/")
    page.select_option("#grade-choice", "A")
    page.fill("form.grade-override input[name=reason]", "车队负责人，介绍了三位同事")
    page.click("form.grade-override button[type=submit]")
    expect(page.locator("#file-grade")).to_have_attribute("data-grade", "A")
    expect(page.locator("#grade")).to_contain_text("车队负责人")
    shot(page, "grades-02-desk-file")

    login(phone_page, owner)
    phone_page.goto(URL)
    expect(phone_page.locator("table.segment-counts tbody tr")).to_have_count(8)
    no_horizontal_scroll(phone_page)
    shot(phone_page, "grades-03-phone")
    phone_page.goto("/customers/?customer_grade=A")
    expect(phone_page.locator("td.scores .badge.value-A").first).to_be_visible()
    no_horizontal_scroll(phone_page)
    shot(phone_page, "grades-04-phone-list")
