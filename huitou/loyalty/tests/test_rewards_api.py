"""The points and coupons API: shapes, the 409s (a coupon's second use, too few points), roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from huitou.api.services import token_create
from huitou.api.tests.conftest import ApiClient
from huitou.customers.models import Customer
from huitou.loyalty import errors
from huitou.loyalty.models import Coupon, CouponTemplate, CouponTrigger, LoyaltyAccount
from huitou.loyalty.services.coupons import coupon_issue, coupon_rule_save, coupon_template_save
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh


@pytest.fixture
def api_for() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        return ApiClient(token_create(user=user, name="tests")[1])

    return make


@pytest.fixture
def oil(make_service_item: Any) -> ServiceItem:
    return make_service_item(code="M01", name="小保养", labour_price="300.00")


@pytest.fixture
def labour20(org: Organization, oil: ServiceItem) -> CouponTemplate:
    return coupon_template_save(
        organization=org,
        data={
            "code": "labour-20",
            "name": "20元工时券",
            "kind": "amount",
            "value": "20",
            "min_spend": "100",
            "services": [oil],
        },
    )


@pytest.fixture
def customer(make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(name="陈先生")


@pytest.fixture
def order_for(advisor: User, make_vehicle: Any, make_order: Any, oil: ServiceItem) -> Callable[..., ServiceOrder]:
    def run(customer: Customer, *, pay: bool = False) -> ServiceOrder:
        order = make_order(vehicle=customer.vehicles.first() or make_vehicle(customer))
        order_add_line(order=order, by=advisor, service=oil)
        if pay:
            order_complete(order=order, by=advisor)
            order_pay(order=order, by=advisor, method="cash", amount=order.total)
        return order

    return run


def test_a_coupon_used_twice_answers_409(
    api_for: Callable[[User], ApiClient], advisor: User, customer: Customer, labour20: CouponTemplate, order_for: Any
) -> None:
    coupon = coupon_issue(customer=customer, template=labour20, source=CouponTrigger.MANUAL, by=advisor)
    api = api_for(advisor)
    first = order_for(customer)
    response = api.post_json(f"/api/v1/orders/{first.pk}/coupons", {"coupon_id": coupon.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == "280.00"
    assert [(line["kind"], line["amount"]) for line in body["lines"]][-1] == ("discount", "-20.00")
    second = order_for(customer)
    response = api.post_json(f"/api/v1/orders/{second.pk}/coupons", {"coupon_id": coupon.pk})
    assert response.status_code == 409
    assert response.json()["detail"] == zh(errors.COUPON_NOT_AVAILABLE, state=zh(Coupon.State.USED.label))


def test_another_customers_or_organizations_coupon_is_a_422(
    api_for: Callable[[User], ApiClient],
    advisor: User,
    customer: Customer,
    make_customer: Callable[..., Customer],
    labour20: CouponTemplate,
    order_for: Any,
) -> None:
    coupon = coupon_issue(customer=make_customer(), template=labour20, source=CouponTrigger.MANUAL, by=advisor)
    response = api_for(advisor).post_json(f"/api/v1/orders/{order_for(customer).pk}/coupons", {"coupon_id": coupon.pk})
    assert response.status_code == 422
    response = api_for(advisor).post_json(f"/api/v1/orders/{order_for(customer).pk}/coupons", {"coupon_id": 999999})
    assert response.status_code == 422


def test_too_few_points_answers_409_and_enough_adds_the_line(
    api_for: Callable[[User], ApiClient], advisor: User, customer: Customer, order_for: Any
) -> None:
    order_for(customer, pay=True)  # 300 points
    order = order_for(customer)
    api = api_for(advisor)
    response = api.post_json(f"/api/v1/orders/{order.pk}/points", {"points": 301})
    assert response.status_code == 409
    assert response.json()["detail"] == zh(errors.POINTS_TOO_FEW, balance=300, points=301)
    response = api.post_json(f"/api/v1/orders/{order.pk}/points", {"points": 0})
    assert response.status_code == 422
    response = api.post_json(f"/api/v1/orders/{order.pk}/points", {"points": 300})
    assert response.status_code == 201
    assert response.json()["total"] == "297.00"
    assert LoyaltyAccount.objects.for_org(customer.organization_id).get(customer=customer).points == 0


def test_a_technician_cannot_take_money_off(
    api_for: Callable[[User], ApiClient], tech: User, customer: Customer, order_for: Any
) -> None:
    order = order_for(customer)
    assert api_for(tech).post_json(f"/api/v1/orders/{order.pk}/points", {"points": 1}).status_code == 403


def test_issuing_by_hand_and_listing_a_customers_coupons(
    api_for: Callable[[User], ApiClient], advisor: User, tech: User, customer: Customer, labour20: CouponTemplate
) -> None:
    response = api_for(advisor).post_json(f"/api/v1/customers/{customer.pk}/coupons", {"template": "labour-20"})
    assert response.status_code == 201
    body = response.json()
    coupon = Coupon.objects.for_org(customer.organization_id).get()
    assert body == {
        "id": coupon.pk,
        "name": "20元工时券",
        "code": coupon.code,
        "state": "issued",
        "expires_on": coupon.expires_on.isoformat(),
        "template": "labour-20",
        "source": "manual",
    }
    response = api_for(advisor).post_json(f"/api/v1/customers/{customer.pk}/coupons", {"template": "nope"})
    assert response.status_code == 422
    assert (
        api_for(tech).post_json(f"/api/v1/customers/{customer.pk}/coupons", {"template": "labour-20"}).status_code
        == 403
    )
    listed = api_for(tech).get(f"/api/v1/customers/{customer.pk}/coupons").json()
    assert (listed["count"], listed["items"][0]["id"]) == (1, coupon.pk)


def test_templates_are_listed_created_and_changed_by_the_store_manager(
    api_for: Callable[[User], ApiClient],
    owner: User,
    advisor: User,
    org: Organization,
    labour20: CouponTemplate,
    oil: ServiceItem,
) -> None:
    coupon_rule_save(organization=org, data={"template": labour20, "trigger": "order_paid", "min_order_total": "100"})
    listed = api_for(advisor).get("/api/v1/loyalty/coupon-templates").json()
    assert listed["items"][0] == {
        "id": labour20.pk,
        "code": "labour-20",
        "name": "20元工时券",
        "kind": "amount",
        "value": "20.00",
        "free_service": None,
        "min_spend": "100.00",
        "days_valid": 90,
        "services": ["M01"],
        "is_active": True,
        "rules": [
            {"id": labour20.rules.get().pk, "trigger": "order_paid", "min_order_total": "100.00", "is_active": True}
        ],
    }
    payload = {
        "code": "free-m01",
        "name": "免费小保养券",
        "kind": "free_service",
        "free_service": "M01",
        "days_valid": 365,
    }
    assert api_for(advisor).post_json("/api/v1/loyalty/coupon-templates", payload).status_code == 403
    response = api_for(owner).post_json("/api/v1/loyalty/coupon-templates", payload)
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["free_service"], created["services"], created["value"]) == ("M01", ["M01"], "0.00")
    response = api_for(owner).post_json("/api/v1/loyalty/coupon-templates", payload)
    assert response.status_code == 422
    response = api_for(owner).patch_json(f"/api/v1/loyalty/coupon-templates/{created['id']}", {"is_active": False})
    assert (response.status_code, response.json()["is_active"], response.json()["name"]) == (200, False, "免费小保养券")


def test_bulk_issue_is_accepted_and_runs_after_the_commit(
    api_for: Callable[[User], ApiClient],
    owner: User,
    make_customer: Callable[..., Customer],
    labour20: CouponTemplate,
    django_capture_on_commit_callbacks: Any,
) -> None:
    people = [make_customer() for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(owner).post_json(
            f"/api/v1/loyalty/coupon-templates/{labour20.pk}/issue", {"customer_ids": [p.pk for p in people]}
        )
    assert response.status_code == 202
    assert response.json()["count"] == 2
    assert Coupon.objects.for_org(labour20.organization_id).filter(source="bulk").count() == 2


def test_the_year_end_list(
    api_for: Callable[[User], ApiClient], owner: User, customer: Customer, order_for: Any
) -> None:
    order = order_for(customer, pay=True)
    year = order.paid_at.year + 1
    body = api_for(owner).get(f"/api/v1/loyalty/points/year-end?year={year}").json()
    assert body == {
        "items": [{"customer_id": customer.pk, "name": "陈先生", "points": 300, "expiring": 300}],
        "count": 1,
        "year": year,
    }
