"""Coupon and points pages: templates and rules, issuing by hand, the year-end list (with their query counts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from huitou.customers.models import Customer
from huitou.loyalty import errors
from huitou.loyalty.models import Coupon, CouponRule, CouponTemplate
from huitou.loyalty.services.coupons import coupon_rule_save, coupon_template_save
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh


@pytest.fixture
def oil(make_service_item: Any) -> ServiceItem:
    return make_service_item(code="M01", name="小保养", labour_price="300.00")


@pytest.fixture
def templates(org: Organization, oil: ServiceItem) -> list[CouponTemplate]:
    made = [
        coupon_template_save(
            organization=org,
            data={"code": f"c{n}", "name": f"{n}元券", "kind": "amount", "value": str(n), "services": [oil]},
        )
        for n in (5, 10, 20)
    ]
    for template in made:
        coupon_rule_save(organization=org, data={"template": template, "trigger": "order_paid"})
    return made


def test_the_coupon_list_shows_templates_and_rules_in_a_fixed_number_of_queries(
    client_for: Callable[[User], Client], owner: User, templates: list[CouponTemplate], django_assert_num_queries: Any
) -> None:
    client = client_for(owner)
    # 1 session, 2 user (+organization), 3 templates (+free service), 4 their services, 5 their rules,
    # 6 the user's shops (switcher)
    with django_assert_num_queries(6):
        response = client.get(reverse("loyalty:coupon_templates"))
    assert response.status_code == 200
    body = response.content.decode()
    assert all(t.name in body for t in templates)
    assert body.count(zh("After a paid order")) >= 3


def test_only_the_store_manager_sees_the_coupon_settings(
    client_for: Callable[[User], Client], advisor: User, templates: list[CouponTemplate]
) -> None:
    assert client_for(advisor).get(reverse("loyalty:coupon_templates")).status_code == 403
    assert client_for(advisor).get(reverse("loyalty:points_year_end")).status_code == 403


def test_a_template_is_made_and_a_rule_added_and_stopped_from_the_pages(
    client_for: Callable[[User], Client], owner: User, org: Organization, oil: ServiceItem
) -> None:
    client = client_for(owner)
    response = client.post(
        reverse("loyalty:coupon_template_new"),
        {"code": "labour-20", "name": "20元工时券", "kind": "amount", "value": "20", "min_spend": "100"}
        | {"days_valid": "90", "services": [oil.pk], "is_active": "on"},
    )
    assert response.status_code == 302
    template = CouponTemplate.objects.for_org(org).get(code="labour-20")
    client.post(
        reverse("loyalty:coupon_rule_add", args=[template.pk]), {"trigger": "order_paid", "min_order_total": "100"}
    )
    rule = CouponRule.objects.for_org(org).get(template=template)
    assert (rule.trigger, str(rule.min_order_total), rule.is_active) == ("order_paid", "100.00", True)
    client.post(reverse("loyalty:coupon_rule_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.is_active is False
    response = client.post(reverse("loyalty:coupon_rule_add", args=[template.pk]), {"trigger": "manual"}, follow=True)
    assert zh(errors.RULE_TRIGGER_INVALID) in response.content.decode()


def test_the_edit_form_shows_the_services_error(
    client_for: Callable[[User], Client], owner: User, templates: list[CouponTemplate]
) -> None:
    response = client_for(owner).post(
        reverse("loyalty:coupon_template_edit", args=[templates[0].pk]),
        {"code": "c5", "name": "5元券", "kind": "percent", "value": "0", "days_valid": "90", "is_active": "on"},
    )
    assert response.status_code == 200
    assert zh(errors.TEMPLATE_PERCENT_INVALID) in response.content.decode()


def test_the_front_desk_gives_a_coupon_by_hand(
    client_for: Callable[[User], Client],
    advisor: User,
    tech: User,
    make_customer: Callable[..., Customer],
    templates: list[CouponTemplate],
) -> None:
    customer = make_customer(name="陈先生")
    url = reverse("loyalty:coupon_issue", args=[customer.pk])
    assert client_for(tech).get(url).status_code == 403
    page = client_for(advisor).get(url)
    assert page.status_code == 200 and "20元券" in page.content.decode()
    response = client_for(advisor).post(url, {"template": templates[2].pk})
    assert response.status_code == 302
    coupon = Coupon.objects.for_org(customer.organization_id).get(customer=customer)
    assert (coupon.name, coupon.source, coupon.issued_by_id) == ("20元券", "manual", advisor.pk)


def test_the_year_end_list_in_a_fixed_number_of_queries(
    client_for: Callable[[User], Client],
    owner: User,
    advisor: User,
    oil: ServiceItem,
    make_customer: Callable[..., Customer],
    make_vehicle: Any,
    make_order: Callable[..., ServiceOrder],
    django_assert_num_queries: Any,
) -> None:
    paid_year = None
    for n in range(3):
        customer = make_customer(name=f"积分客户{n}")
        order = make_order(vehicle=make_vehicle(customer))
        order_add_line(order=order, by=advisor, service=oil, unit_price=f"{100 * (n + 1)}.00")
        order_complete(order=order, by=advisor)
        order_pay(order=order, by=advisor, method="cash", amount=order.total)
        paid_year = order.paid_at.year
    assert paid_year is not None
    client = client_for(owner)
    # 1 session, 2 user (+organization), 3 the count, 4 the page's sums, 5 their customers (+account, tier),
    # 6 the user's shops (switcher)
    with django_assert_num_queries(6):
        response = client.get(reverse("loyalty:points_year_end"), {"year": paid_year + 1})
    body = response.content.decode()
    assert body.index("积分客户2") < body.index("积分客户1") < body.index("积分客户0")
    assert "300" in body
    empty = client.get(reverse("loyalty:points_year_end"), {"year": paid_year}).content.decode()
    assert "积分客户0" not in empty
