"""Warranty on the pages: the catalog's usual terms, the promise on the order page's lines and on the bill."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from huitou.service import errors
from huitou.service.models import OrderLine, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

PROMISE = "质保 3个月或3,000公里"


@pytest.fixture
def brakes(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(name="刹车片更换", category="repair", warranty_months=3, warranty_km=3000)


def terms(line: OrderLine) -> tuple[int | None, int | None]:
    line = OrderLine.objects.for_org(line.organization_id).get(pk=line.pk)
    return line.warranty_months, line.warranty_km


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# --- the catalog -------------------------------------------------------------------------------


def test_the_store_manager_gives_a_service_item_its_usual_warranty(
    client_for: Callable[[User], Client], owner: User, org: Organization
) -> None:
    client = client_for(owner)
    form = {"category": "repair", "code": "ZD01", "name": "刹车片更换", "labour_price": "350", "is_active": "on"}
    refused = client.post(reverse("service:catalog_service_new"), form | {"warranty_months": "121"})
    assert escape(zh(errors.WARRANTY_MONTHS_INVALID)) in refused.content.decode()
    client.post(reverse("service:catalog_service_new"), form | {"warranty_months": "3", "warranty_km": "3000"})
    item = ServiceItem.objects.for_org(org).get(code="ZD01")
    assert (item.warranty_months, item.warranty_km) == (3, 3000)
    assert PROMISE in client.get(reverse("service:catalog_list")).content.decode()
    edit = client.get(reverse("service:catalog_service_edit", args=[item.pk])).content.decode()
    assert 'name="warranty_months" value="3"' in edit and 'name="warranty_km" value="3000"' in edit


# --- the order page ----------------------------------------------------------------------------


def test_a_line_added_on_the_page_promises_the_item_s_terms_or_those_typed(
    client_for: Callable[[User], Client], make_order: Callable[..., ServiceOrder], advisor: User, brakes: ServiceItem
) -> None:
    order = make_order()
    client = client_for(advisor)
    url = reverse("service:order_line_add", args=[order.pk])
    item = {"item": f"service:{brakes.pk}", "quantity": "1"}
    client.post(url, item | {"warranty_months": "", "warranty_km": ""})
    client.post(url, item | {"warranty_months": "6", "warranty_km": ""})
    first, second = OrderLine.objects.for_org(order.organization_id).filter(order=order).order_by("pk")
    assert (terms(first), terms(second)) == ((3, 3000), (6, 3000))
    page = client.get(order.get_absolute_url()).content.decode()
    assert PROMISE in page and "质保 6个月或3,000公里" in page


def test_the_advisor_changes_a_line_s_promise_on_the_page(
    client_for: Callable[[User], Client], make_order: Callable[..., ServiceOrder], advisor: User, brakes: ServiceItem
) -> None:
    order = make_order()
    line = order_add_line(order=order, by=advisor, service=brakes)
    client = client_for(advisor)
    page = client.get(order.get_absolute_url()).content.decode()
    assert reverse("service:order_line_warranty", args=[order.pk, line.pk]) in page
    assert f'id="id_w{line.pk}_warranty_months"' in page and f'id="id_w{line.pk}_reason"' not in page  # unpaid
    url = reverse("service:order_line_warranty", args=[order.pk, line.pk])
    refused = client.post(url, {"warranty_months": "0", "warranty_km": "3000"})
    assert escape(zh(errors.WARRANTY_MONTHS_INVALID)) in refused.content.decode()
    response = client.post(url, {"warranty_months": "12", "warranty_km": ""}, follow=True)
    assert "质保 12个月" in response.content.decode()
    assert terms(line) == (12, None)
    # PostgreSQL's jsonb keeps the keys of an entry's changes in its own order: compare by label.
    (change,) = [row.changes for row in response.context["history"] if "质保项目" in {c[0] for c in row.changes}]
    assert {label: (old, new) for label, old, new in change} == {
        "质保项目": (None, "刹车片更换"),
        "质保（月）": (3, 12),
        "质保（公里）": (3000, None),
    }


def test_a_paid_order_s_promise_needs_a_reason_on_the_page(
    client_for: Callable[[User], Client], make_order: Callable[..., ServiceOrder], advisor: User, brakes: ServiceItem
) -> None:
    order = make_order()
    line = order_add_line(order=order, by=advisor, service=brakes)
    order_complete(order=order, by=advisor)
    order_pay(order=order, by=advisor, method="cash", amount=order.total)
    client = client_for(advisor)
    assert f'id="id_w{line.pk}_reason"' in client.get(order.get_absolute_url()).content.decode()
    url = reverse("service:order_line_warranty", args=[order.pk, line.pk])
    refused = client.post(url, {"warranty_months": "6", "warranty_km": "3000"})
    assert escape(zh(errors.WARRANTY_REASON_REQUIRED)) in refused.content.decode()
    client.post(url, {"warranty_months": "6", "warranty_km": "3000", "reason": "延期服务"})
    assert terms(line) == (6, 3000)


def test_a_technician_sees_the_promise_but_no_form_and_is_refused_with_the_reason(
    client_for: Callable[[User], Client], make_order: Callable[..., ServiceOrder], advisor: User, tech: User,
    brakes: ServiceItem,
) -> None:  # fmt: skip
    order = make_order()
    line = order_add_line(order=order, by=advisor, service=brakes)
    client = client_for(tech)
    page = client.get(order.get_absolute_url()).content.decode()
    url = reverse("service:order_line_warranty", args=[order.pk, line.pk])
    assert PROMISE in page and url not in page
    refused = client.post(url, {"warranty_months": "12", "warranty_km": ""})
    assert escape(zh(errors.WARRANTY_CHANGE_NOT_YOURS)) in refused.content.decode()
    add = client.post(
        reverse("service:order_line_add", args=[order.pk]),
        {"item": f"service:{brakes.pk}", "quantity": "1", "warranty_months": "12"},
    )
    assert escape(zh(errors.WARRANTY_NOT_YOURS)) in add.content.decode()
    assert terms(line) == (3, 3000)


def test_the_bill_prints_the_promise_on_its_line(
    client_for: Callable[[User], Client], make_order: Callable[..., ServiceOrder], advisor: User, brakes: ServiceItem
) -> None:
    order = make_order()
    order_add_line(order=order, by=advisor, service=brakes)
    client = client_for(advisor)
    for layout in ("a4", "receipt"):
        bill = client.get(reverse("service:order_bill", args=[order.pk]) + f"?format={layout}").content.decode()
        assert f'<div class="line-warranty">{PROMISE}</div>' in bill


def test_promises_cost_the_order_page_and_the_bill_no_query(
    client_for: Callable[[User], Client],
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., ServiceItem],
    advisor: User,
    brakes: ServiceItem,
) -> None:
    plain, promised = make_order(), make_order()
    wash = make_service_item(name="精致洗车")
    for _ in range(5):
        order_add_line(order=plain, by=advisor, service=wash)
        order_add_line(order=promised, by=advisor, service=brakes)
    client = client_for(advisor)
    for url in ("", "bill/"):
        assert queries(client, promised.get_absolute_url() + url) == queries(client, plain.get_absolute_url() + url)


def test_a_refused_change_of_one_line_opens_that_line_s_form_only(
    client_for: Callable[[User], Client], make_order: Callable[..., ServiceOrder], advisor: User, brakes: ServiceItem
) -> None:
    order = make_order()
    first = order_add_line(order=order, by=advisor, service=brakes)
    second = order_add_line(order=order, by=advisor, service=brakes)
    response: Any = client_for(advisor).post(
        reverse("service:order_line_warranty", args=[order.pk, second.pk]), {"warranty_months": "999"}
    )
    lines = {line.pk: line for line in response.context["lines"]}
    assert lines[second.pk].warranty_form.errors and not lines[first.pk].warranty_form.errors
    assert response.content.decode().count('<details class="line-warranty" open>') == 1
