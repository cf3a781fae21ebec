"""Wallet pages: the top-up form, the statement (query count pinned), card products, the counter checkout."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from huitou.customers.models import Customer
from huitou.loyalty.models import LoyaltyAccount, TopUpRule
from huitou.loyalty.services.stored_value import stored_value_top_up
from huitou.service.models import OrderState, Payment, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete
from huitou.tenancy.models import Organization, User

M = Decimal


@pytest.fixture
def customer(make_customer: Callable[..., Customer], org: Organization) -> Customer:
    TopUpRule.objects.create(organization=org, minimum=M("1000"), bonus=M("100"))
    return make_customer(name="页面客户")


def test_the_top_up_page_tops_up_and_shows_the_bonus_on_the_statement(
    client_for: Callable[[User], Any], advisor: User, customer: Customer
) -> None:
    client = client_for(advisor)
    url = reverse("loyalty:top_up", args=[customer.pk])
    assert client.get(url).status_code == 200
    answer = client.post(url, {"amount": "1000", "method": "wechat"}, follow=True)
    assert answer.status_code == 200
    account = LoyaltyAccount.objects.for_org(customer.organization_id).get(customer=customer)
    assert (account.stored_principal, account.stored_bonus) == (M("1000.00"), M("100.00"))
    assert "¥1100.00" in answer.content.decode()
    refused = client.post(url, {"amount": "0", "method": "wechat"})
    assert refused.status_code == 422


def test_a_technician_cannot_top_up(client_for: Callable[[User], Any], tech: User, customer: Customer) -> None:
    assert client_for(tech).get(reverse("loyalty:top_up", args=[customer.pk])).status_code == 403


def test_the_statement_page_runs_the_same_queries_for_a_few_entries_or_many(
    client_for: Callable[[User], Any], advisor: User, customer: Customer, django_assert_num_queries: Any
) -> None:
    for _ in range(60):
        stored_value_top_up(customer=customer, amount="10", method="cash", by=advisor)
    client = client_for(advisor)
    url = reverse("loyalty:statement", args=[customer.pk])
    # 1 session, 2 user + organization, 3 the customer, 4 count, 5 a page of keys (the four
    # ledgers' union), 6 the page's stored-value entries + orders, 7 the account's balance,
    # 8 the user's shops.
    with django_assert_num_queries(8):
        answer = client.get(url)
    assert len(answer.context["items"]) == 50 and answer.context["count"] == 60
    assert len(client.get(url + "?page=2").context["items"]) == 10


def test_the_counter_checkout_pays_with_stored_value_and_cash_in_one_step(
    client_for: Callable[[User], Any],
    advisor: User,
    customer: Customer,
    make_vehicle: Callable[..., Any],
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., Any],
) -> None:
    stored_value_top_up(customer=customer, amount="50", method="cash", by=advisor)
    order = make_order(vehicle=make_vehicle(customer))
    order_add_line(order=order, by=advisor, service=make_service_item(), unit_price="80.00")
    order_complete(order=order, by=advisor)
    client = client_for(advisor)
    page = client.get(order.get_absolute_url())
    assert b'id="checkout"' in page.content
    answer = client.post(reverse("loyalty:checkout", args=[order.pk]), {"use_stored_value": "1", "method": "cash"})
    assert answer.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.PAID
    paid = Payment.objects.for_org(order.organization_id).filter(order=order).order_by("pk")
    assert [(p.method, p.amount) for p in paid] == [("stored_value", M("50.00")), ("cash", M("30.00"))]


def test_card_products_pages_are_the_store_managers(
    client_for: Callable[[User], Any], owner: User, advisor: User, make_service_item: Callable[..., Any]
) -> None:
    wash = make_service_item(code="D01", name="标准洗车")
    assert client_for(advisor).get(reverse("loyalty:card_products")).status_code == 403
    client = client_for(owner)
    answer = client.post(
        reverse("loyalty:card_product_new"),
        {"code": "wash-5", "name": "洗车5次卡", "price": "150", "uses": "5", "validity_days": "365",
         "binding": "vehicle", "services": [str(wash.pk)], "is_active": "on"},
    )  # fmt: skip
    assert answer.status_code == 302
    assert "洗车5次卡" in client.get(reverse("loyalty:card_products")).content.decode()
