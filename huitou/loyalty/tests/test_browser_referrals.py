"""The referral leaderboard and policies on a phone and at the desk, in Chromium."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from huitou.customers.services import customer_create
from huitou.loyalty.models import ReferralPolicy
from huitou.loyalty.services.referrals import referral_policy_save
from huitou.service.services.orders import order_add_line, order_complete, order_open, order_pay
from huitou.testing.browser import no_horizontal_scroll
from huitou.testing.fixtures import first_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_leaderboard_fits_a_phone_and_the_store_manager_adds_a_policy(
    page: Any,
    phone_page: Any,
    org: Any,
    owner: Any,
    advisor: Any,
    login: Any,
    shot: Any,
    make_service_item: Any,
    make_vehicle: Any,
) -> None:
    referral_policy_save(
        organization=org,
        data={"code": "first-3", "name": "首单3%储值奖励", "kind": "first_bill_percent", "percent": "3"},
    )
    item = make_service_item(labour_price="680.00")
    referrer = customer_create(organization=org, by=advisor, data={"name": "王建国", "phone": "13800001111"})
    for n in range(3):
        referee = customer_create(
            organization=org, by=advisor, data={"name": f"新客{n}", "phone": f"1380000222{n}", "referrer": referrer.pk}
        )
        order = order_open(organization=org, shop=first_shop(org), vehicle=make_vehicle(referee), by=advisor)
        order_add_line(order=order, by=advisor, service=item)
        order_complete(order=order, by=advisor)
        order_pay(order=order, by=advisor, method="cash", amount=Decimal("680.00"))

    login(phone_page, advisor)
    phone_page.goto("/loyalty/referrals/")
    row = phone_page.locator("table.referral-board tbody tr").first
    expect(row).to_contain_text("王建国")
    expect(row.locator("td").nth(4)).to_have_text("¥61.20")
    expect(row.locator("td").nth(3)).to_have_text("¥2040.00")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "referrals-01-leaderboard-phone")

    login(page, owner)
    page.goto("/loyalty/referral-policies/")
    shot(page, "referrals-02-policies-desk")
    page.click("main a.button.primary")
    page.fill("input[name=code]", "fifth")
    page.fill("input[name=name]", "第5位转介绍送保养")
    page.select_option("select[name=kind]", "milestone_coupon")
    page.fill("input[name=milestone]", "5")
    page.click("form button.primary")
    expect(page.locator("form .error").first).to_be_visible()  # a milestone coupon needs its coupon
    shot(page, "referrals-03-policy-refused-desk")
    assert not ReferralPolicy.objects.for_org(org).filter(code="fifth").exists()
    page.goto("/loyalty/referrals/")
    no_horizontal_scroll(page)
    shot(page, "referrals-04-leaderboard-desk")
