"""Membership pages: the member panel on the file (pinned queries), joining from it, the members list,
the settings and tiers pages, the tier on the bill."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from huitou.customers.models import Customer, Stage
from huitou.loyalty.models import LoyaltyAccount, LoyaltyProgram, Tier
from huitou.loyalty.selectors.members import member_panel
from huitou.loyalty.services.tiers import membership_set_tier
from huitou.loyalty.starter import loyalty_seed
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.service.starter import catalog_seed
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(org: Organization) -> Organization:
    catalog_seed(organization=org)
    loyalty_seed(organization=org)
    return org


def test_the_member_panel_reads_in_eight_queries_for_a_member(
    seeded: Organization, make_order: Callable[..., ServiceOrder], owner: User, django_assert_num_queries: Any
) -> None:
    order = make_order()
    customer = order.customer
    membership_set_tier(customer=customer, tier="gold", by=owner)  # two free-wash coupons
    order_add_line(order=order, by=owner, service=ServiceItem.objects.for_org(seeded).get(code="D07"))
    order_complete(order=order, by=owner)
    order.refresh_from_db()
    order_pay(order=order, by=owner, method="cash", amount=order.amount_due)
    # 1 the account with its tier, 2 the tiers, 3 the last tier changes (+ tiers, staff), 4 the 12 months'
    # spend and visits, 5 the package cards, 6 the coupons, 7 the referees, 8 the referral rewards.
    with django_assert_num_queries(8):
        panel = member_panel(customer)
    assert panel["tier"].code == "gold" and panel["is_member"]
    assert len(panel["coupons"]) >= 2
    assert panel["spend_12m"] == order.total and panel["visits_12m"] == 1
    assert panel["next_tier"]["tier"].code == "diamond"


def test_the_member_panel_of_someone_who_is_not_a_member_is_six_queries(
    seeded: Organization, make_customer: Callable[..., Customer], django_assert_num_queries: Any
) -> None:
    customer = make_customer()
    # 1 the account (none), 2 the tiers, 3 the cards, 4 the coupons, 5 the referees, 6 the rewards.
    with django_assert_num_queries(6):
        panel = member_panel(customer)
    assert not panel["is_member"] and panel["points"] == 0


def test_an_advisor_joins_a_customer_from_the_file(
    seeded: Organization,
    make_customer: Callable[..., Customer],
    advisor: User,
    client_for: Callable[[User], Any],
) -> None:
    customer = make_customer(stage=Stage.CUSTOMER)
    client = client_for(advisor)
    page = client.get(customer.get_absolute_url())
    body = page.content.decode()
    assert 'id="membership"' in body and "加入会员" in body
    response = client.post(reverse("loyalty:membership_set", args=[customer.pk]), {"tier": "silver"})
    assert response.status_code == 302 and response["Location"].endswith("#membership")
    account = LoyaltyAccount.objects.for_org(seeded).get(customer=customer)
    assert account.tier is not None and account.tier.code == "silver"
    body = client.get(customer.get_absolute_url()).content.decode()
    assert "银卡" in body and account.number in body and "工时 5% 折扣" in body


def test_joining_again_at_the_same_tier_says_why_on_the_file(
    seeded: Organization, make_customer: Callable[..., Customer], advisor: User, client_for: Callable[[User], Any]
) -> None:
    customer = make_customer(stage=Stage.CUSTOMER)
    membership_set_tier(customer=customer, tier="silver", by=advisor)
    client = client_for(advisor)
    response = client.post(reverse("loyalty:membership_set", args=[customer.pk]), {"tier": "silver"}, follow=True)
    assert "客户已是该等级。" in response.content.decode()


def test_technicians_and_customer_service_cannot_join_customers(
    seeded: Organization,
    make_customer: Callable[..., Customer],
    tech: User,
    service: User,
    client_for: Callable[[User], Any],
) -> None:
    customer = make_customer()
    for user in (tech, service):
        body = client_for(user).get(customer.get_absolute_url()).content.decode()
        assert 'id="membership"' in body and 'name="tier"' not in body
        response = client_for(user).post(reverse("loyalty:membership_set", args=[customer.pk]), {"tier": "gold"})
        assert response.status_code == 403
    assert not LoyaltyAccount.objects.for_org(seeded).exists()


def test_the_members_home_lists_members_by_tier(
    seeded: Organization,
    make_customer: Callable[..., Customer],
    owner: User,
    tech: User,
    client_for: Callable[[User], Any],
) -> None:
    gold = make_customer(name="金卡张三", stage=Stage.CUSTOMER)
    silver = make_customer(name="银卡李四", stage=Stage.CUSTOMER)
    membership_set_tier(customer=gold, tier="gold", by=owner)
    membership_set_tier(customer=silver, tier="silver", by=owner)
    body = client_for(tech).get(reverse("loyalty:home")).content.decode()
    assert "金卡张三" in body and "银卡李四" in body
    assert reverse("loyalty:tiers") not in body  # settings are the store manager's
    only_gold = client_for(owner).get(reverse("loyalty:home"), {"tier": "gold"}).content.decode()
    assert "金卡张三" in only_gold and "银卡李四" not in only_gold and reverse("loyalty:tiers") in only_gold


def test_the_store_manager_changes_the_settings_and_adds_a_tier(
    seeded: Organization, owner: User, advisor: User, client_for: Callable[[User], Any]
) -> None:
    assert client_for(advisor).get(reverse("loyalty:program")).status_code == 403
    assert client_for(advisor).get(reverse("loyalty:tiers")).status_code == 403
    client = client_for(owner)
    assert client.get(reverse("loyalty:tiers")).status_code == 200
    settings = {
        "points_per_yuan": "2",
        "point_value": "0.01",
        "birthday_multiplier": "2",
        "points_expire_after_years": "1",
        "max_points_share": "0.5",
        "tier_review_months": "6",
    }
    response = client.post(reverse("loyalty:program"), settings)
    assert response.status_code == 302
    program = LoyaltyProgram.objects.for_org(seeded).get()
    assert (program.points_per_yuan, program.tier_review_months) == (2, 6)

    tier = {
        "code": "vip",
        "name": "尊享卡",
        "rank": "4",
        "entry_rule": "purchase",
        "entry_threshold": "0",
        "price": "",
        "keep_threshold": "0",
        "labour_discount_percent": "20",
        "parts_discount_percent": "10",
        "points_multiplier": "3",
        "free_service": "D01",
        "free_services_per_year": "6",
        "benefits_note": "专属车位",
        "is_active": "on",
    }
    refused = client.post(reverse("loyalty:tier_new"), tier)
    assert refused.status_code == 200 and "直接购买的等级需要填写价格。" in refused.content.decode()
    saved = client.post(reverse("loyalty:tier_new"), {**tier, "price": "2999"})
    assert saved.status_code == 302
    vip = Tier.objects.for_org(seeded).get(code="vip")
    assert (vip.price, vip.free_services_per_year, vip.sale_item is not None) == (2999, 6, True)
    edit = client.post(reverse("loyalty:tier_edit", args=[vip.pk]), {**tier, "price": "3999", "name": "至尊卡"})
    assert edit.status_code == 302
    vip.refresh_from_db()
    assert (vip.name, vip.price) == ("至尊卡", 3999)


def test_the_bill_prints_the_members_tier(
    seeded: Organization, make_order: Callable[..., ServiceOrder], owner: User, client_for: Callable[[User], Any]
) -> None:
    order = make_order()
    membership_set_tier(customer=order.customer, tier="gold", by=owner)
    order_add_line(order=order, by=owner, service=ServiceItem.objects.for_org(seeded).get(code="M02"))
    body = client_for(owner).get(reverse("service:order_bill", args=[order.pk])).content.decode()
    assert "会员：金卡" in body and "会员折扣 · 金卡 工时 10%" in body
