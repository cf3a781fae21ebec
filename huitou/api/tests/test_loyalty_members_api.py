"""/api/v1 membership: a customer's membership (read, join, change tier) and the tiers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huitou.customers.models import Customer, Stage
from huitou.loyalty import errors
from huitou.loyalty.models import LoyaltyAccount, Tier, TierChange
from huitou.loyalty.starter import loyalty_seed
from huitou.service.starter import catalog_seed
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(org: Organization) -> Organization:
    catalog_seed(organization=org)
    loyalty_seed(organization=org)
    return org


def test_a_customer_who_is_not_a_member(
    seeded: Organization, make_customer: Callable[..., Customer], tech: User, api_for: Callable[[User], Any]
) -> None:
    customer = make_customer()
    response = api_for(tech).get(f"/api/v1/customers/{customer.pk}/membership")
    assert response.status_code == 200
    assert response.json() == {
        "tier": None,
        "points": 0,
        "stored_value": {"principal": "0.00", "bonus": "0.00", "balance": "0.00"},
        "package_cards": [],
        "coupons": [],
    }


def test_joining_and_changing_tier(
    seeded: Organization, make_customer: Callable[..., Customer], advisor: User, api_for: Callable[[User], Any]
) -> None:
    customer = make_customer(stage=Stage.CUSTOMER)
    api = api_for(advisor)
    response = api.post_json(f"/api/v1/customers/{customer.pk}/membership", {"tier": "gold"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["tier"] == {"code": "gold", "name": "金卡"}
    # 金卡 gives two free washes a year: two coupons, soonest expiry first.
    assert [c["name"] for c in body["coupons"]].count("免费标准洗车券") == 2
    assert set(body["coupons"][0]) == {"id", "name", "state", "expires_on"}
    customer.refresh_from_db()
    assert customer.stage == Stage.MEMBER

    moved = api.post_json(f"/api/v1/customers/{customer.pk}/membership", {"tier": "diamond"})
    assert moved.json()["tier"]["code"] == "diamond"
    assert [c["name"] for c in moved.json()["coupons"]].count("免费标准洗车券") == 4  # topped up to 4 this year
    same = api.post_json(f"/api/v1/customers/{customer.pk}/membership", {"tier": "diamond"})
    assert (same.status_code, same.json()["detail"]) == (409, str(errors.TIER_SAME))
    unknown = api.post_json(f"/api/v1/customers/{customer.pk}/membership", {"tier": "platinum"})
    assert (unknown.status_code, unknown.json()["errors"]) == (422, {"tier": [str(errors.TIER_UNKNOWN)]})
    assert TierChange.objects.for_org(seeded).filter(customer=customer).count() == 2


def test_only_those_who_sell_memberships_may_join_a_customer(
    seeded: Organization,
    make_customer: Callable[..., Customer],
    service: User,
    tech: User,
    api_for: Callable[[User], Any],
) -> None:
    customer = make_customer()
    for user in (service, tech):
        response = api_for(user).post_json(f"/api/v1/customers/{customer.pk}/membership", {"tier": "regular"})
        assert response.status_code == 403
    assert not LoyaltyAccount.objects.for_org(seeded).exists()


def test_membership_read_is_four_queries(
    seeded: Organization, make_customer: Callable[..., Customer], owner: User, api_for: Callable[[User], Any]
) -> None:
    customer = make_customer()
    api = api_for(owner)
    api.post_json(f"/api/v1/customers/{customer.pk}/membership", {"tier": "silver"})
    api.get(f"/api/v1/customers/{customer.pk}/membership")  # warm the token's caches
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/v1/customers/{customer.pk}/membership")
    assert response.status_code == 200
    # Authentication: the token with its user and organization, last-used bookkeeping when due; then
    # 1 the customer, 1 the account with its tier, 1 the package cards, 1 the coupons.
    own = [q["sql"] for q in queries.captured_queries if "api_token" not in q["sql"]]
    assert sum("loyalty_" in q or "customers_customer" in q for q in own) == 4


def test_tiers_list_and_the_store_manager_adds_and_changes_one(
    seeded: Organization, owner: User, advisor: User, api_for: Callable[[User], Any]
) -> None:
    listed = api_for(advisor).get("/api/v1/loyalty/tiers")
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [(t["code"], t["name"], t["rank"]) for t in items] == [
        ("regular", "普通会员", 0),
        ("silver", "银卡", 1),
        ("gold", "金卡", 2),
        ("diamond", "钻石卡", 3),
    ]
    assert items[2]["free_service"] == "D01" and items[2]["free_services_per_year"] == 2
    assert items[2]["labour_discount_percent"] == "10.00"

    refused = api_for(advisor).post_json(
        "/api/v1/loyalty/tiers", {"code": "vip", "name": "尊享", "entry_rule": "spend"}
    )
    assert refused.status_code == 403

    api = api_for(owner)
    created = api.post_json(
        "/api/v1/loyalty/tiers",
        {"code": "vip", "name": "尊享卡", "rank": 4, "entry_rule": "purchase", "price": "1999"},
    )
    assert created.status_code == 201, created.json()
    vip = created.json()
    assert (vip["price"], vip["sale_item_id"] is not None) == ("1999.00", True)
    taken = api.post_json("/api/v1/loyalty/tiers", {"code": "vip", "name": "又一个", "entry_rule": "spend"})
    assert (taken.status_code, taken.json()["errors"]["code"]) == (422, [str(errors.TIER_CODE_TAKEN)])
    no_price = api.post_json("/api/v1/loyalty/tiers", {"code": "vip2", "name": "二", "entry_rule": "purchase"})
    assert no_price.json()["errors"] == {"price": [str(errors.TIER_PRICE_REQUIRED)]}

    changed = api.patch_json(f"/api/v1/loyalty/tiers/{vip['id']}", {"labour_discount_percent": "20"})
    assert changed.status_code == 200
    assert (changed.json()["labour_discount_percent"], changed.json()["price"]) == ("20.00", "1999.00")
    assert Tier.objects.for_org(seeded).get(code="vip").labour_discount_percent == 20
