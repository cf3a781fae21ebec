"""The wallet API: top-ups, the card refund, the statement, card products, paying with stored value and cards."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from huitou.api.services import token_create
from huitou.api.tests.conftest import ApiClient
from huitou.customers.models import Customer, Vehicle
from huitou.loyalty import errors
from huitou.loyalty.models import CardProduct, LoyaltyAccount, PackageCard, TopUpRule
from huitou.loyalty.services.cards import card_product_save
from huitou.loyalty.services.stored_value import stored_value_top_up
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

M = Decimal


@pytest.fixture
def as_api() -> Callable[[User], ApiClient]:
    """``as_api(user)``: a client with a fresh bearer token of ``user``."""
    return lambda user: ApiClient(token_create(user=user, name="tests")[1])


@pytest.fixture
def customer(make_customer: Callable[..., Customer], org: Organization) -> Customer:
    TopUpRule.objects.create(organization=org, minimum=M("1000"), bonus=M("100"))
    return make_customer(name="接口客户")


@pytest.fixture
def car(customer: Customer, make_vehicle: Callable[..., Vehicle]) -> Vehicle:
    return make_vehicle(customer)


@pytest.fixture
def wash(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(code="D01", name="标准洗车", labour_price="40.00")


def top_ups(customer: Customer) -> str:
    return f"/api/v1/customers/{customer.pk}/stored-value/top-ups"


def test_a_top_up_answers_the_entry_and_the_balance(
    as_api: Callable[[User], ApiClient], advisor: User, customer: Customer
) -> None:
    answer = as_api(advisor).post_json(top_ups(customer), {"amount": "1000.00", "method": "wechat"})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["stored_value"] == {"principal": "1000.00", "bonus": "100.00", "balance": "1100.00"}
    assert (body["entry"]["kind"], body["entry"]["principal"], body["entry"]["bonus"]) == (
        "top_up",
        "1000.00",
        "100.00",
    )


def test_a_technician_may_not_top_up(as_api: Callable[[User], ApiClient], tech: User, customer: Customer) -> None:
    assert as_api(tech).post_json(top_ups(customer), {"amount": "100", "method": "cash"}).status_code == 403


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount": "0", "method": "cash"}, "amount"),
        ({"amount": "1.234", "method": "cash"}, "amount"),
        ({"amount": "100", "method": "stored_value"}, "method"),
        ({"amount": 10.5, "method": "cash"}, "amount"),
    ],
)
def test_a_wrong_top_up_answers_422_on_its_field(
    as_api: Callable[[User], ApiClient], advisor: User, customer: Customer, payload: dict[str, Any], field: str
) -> None:
    answer = as_api(advisor).post_json(top_ups(customer), payload)
    assert answer.status_code == 422, answer.content
    assert field in answer.json()["errors"]
    assert not LoyaltyAccount.objects.for_org(customer.organization_id).filter(customer=customer).exists()


def test_the_card_refund_is_the_store_managers(
    as_api: Callable[[User], ApiClient], advisor: User, owner: User, customer: Customer
) -> None:
    stored_value_top_up(customer=customer, amount="1000", method="cash", by=advisor)
    url = f"/api/v1/customers/{customer.pk}/stored-value/refund"
    assert as_api(advisor).post_json(url, {"method": "cash", "reason": "搬家"}).status_code == 403
    answer = as_api(owner).post_json(url, {"method": "cash", "reason": "搬家"})
    assert answer.status_code == 201, answer.content
    assert answer.json()["entry"]["principal"] == "-1000.00"
    assert answer.json()["stored_value"]["balance"] == "0.00"
    again = as_api(owner).post_json(url, {"method": "cash", "reason": "搬家"})
    assert (again.status_code, again.json()["detail"]) == (409, zh(errors.CARD_REFUND_NOTHING))


def _due(order: ServiceOrder, item: ServiceItem, by: User, price: str) -> ServiceOrder:
    order_add_line(order=order, by=by, service=item, unit_price=price)
    return order_complete(order=order, by=by)


def test_paying_with_stored_value_more_than_the_balance_answers_409_and_writes_nothing(
    as_api: Callable[[User], ApiClient],
    advisor: User,
    customer: Customer,
    car: Vehicle,
    wash: ServiceItem,
    make_order: Callable[..., ServiceOrder],
) -> None:
    stored_value_top_up(customer=customer, amount="100", method="cash", by=advisor)
    order = _due(make_order(vehicle=car), wash, advisor, "150.00")
    client = as_api(advisor)
    answer = client.post_json(f"/api/v1/orders/{order.pk}/payments", {"method": "stored_value", "amount": "150.00"})
    assert answer.status_code == 409
    assert answer.json()["detail"] == zh(errors.BALANCE_TOO_LOW, balance=M("100.00"), amount=M("150.00"))
    assert client.get(f"/api/v1/orders/{order.pk}").json()["payments"] == []
    answer = client.post_json(f"/api/v1/orders/{order.pk}/payments", {"method": "stored_value", "amount": "100.00"})
    assert answer.status_code == 201
    statement = client.get(f"/api/v1/customers/{customer.pk}/statement?ledger=stored_value").json()
    assert statement["count"] == 2
    assert [(i["ledger"], i["amount"], i["balance_after"], i["order_id"]) for i in statement["items"]] == [
        ("stored_value", "-100.00", "0.00", order.pk),
        ("stored_value", "100.00", "100.00", None),
    ]
    assert set(statement["items"][0]) == {"at", "ledger", "amount", "balance_after", "reason", "order_id"}


def test_the_statement_pages_across_the_ledgers(
    as_api: Callable[[User], ApiClient], advisor: User, customer: Customer
) -> None:
    for amount in ("10", "20", "30"):
        stored_value_top_up(customer=customer, amount=amount, method="cash", by=advisor)
    client = as_api(advisor)
    first = client.get(f"/api/v1/customers/{customer.pk}/statement?page_size=2").json()
    second = client.get(f"/api/v1/customers/{customer.pk}/statement?page_size=2&page=2").json()
    assert (first["count"], [i["amount"] for i in first["items"]]) == (3, ["30.00", "20.00"])
    assert [i["amount"] for i in second["items"]] == ["10.00"]
    assert client.get(f"/api/v1/customers/{customer.pk}/statement?ledger=nope").status_code == 422


@pytest.fixture
def product(org: Organization, wash: ServiceItem) -> CardProduct:
    return card_product_save(
        organization=org,
        data={"code": "wash-2", "name": "洗车2次卡", "price": "70", "uses": 2, "services": [wash.pk]},
    )


def test_card_products_are_listed_and_written_by_the_store_manager(
    as_api: Callable[[User], ApiClient], owner: User, advisor: User, wash: ServiceItem, product: CardProduct
) -> None:
    payload = {"code": "wash-10", "name": "洗车10次卡", "price": "299.00", "uses": 10, "services": [wash.pk]}
    assert as_api(advisor).post_json("/api/v1/loyalty/card-products", payload).status_code == 403
    made = as_api(owner).post_json("/api/v1/loyalty/card-products", payload)
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["price"], body["uses"], body["binding"], body["services"]) == ("299.00", 10, "vehicle", [wash.pk])
    assert body["sale_item_id"] is not None
    taken = as_api(owner).post_json("/api/v1/loyalty/card-products", payload)
    assert (taken.status_code, taken.json()["errors"]["code"]) == (422, [zh(errors.PRODUCT_CODE_TAKEN)])
    changed = as_api(owner).patch_json(f"/api/v1/loyalty/card-products/{body['id']}", {"price": "280"})
    assert changed.json()["price"] == "280.00"
    listed = as_api(advisor).get("/api/v1/loyalty/card-products").json()["items"]
    assert [p["code"] for p in listed] == ["wash-10", "wash-2"]


def test_a_line_paid_by_a_package_card(
    as_api: Callable[[User], ApiClient],
    advisor: User,
    tech: User,
    product: CardProduct,
    car: Vehicle,
    make_order: Callable[..., ServiceOrder],
) -> None:
    sale = make_order(vehicle=car)
    assert product.sale_item is not None
    order_add_line(order=sale, by=advisor, service=product.sale_item)
    order_complete(order=sale, by=advisor)
    order_pay(order=sale, by=advisor, method="cash", amount=sale.total)
    card = PackageCard.objects.for_org(sale.organization_id).get(sold_order=sale)
    order = make_order(vehicle=car)
    url = f"/api/v1/orders/{order.pk}/lines"
    assert as_api(tech).post_json(url, {"package_card_id": card.pk}).status_code == 403
    client = as_api(advisor)
    for _ in range(2):
        answer = client.post_json(url, {"package_card_id": card.pk})
        assert answer.status_code == 201, answer.content
    lines = answer.json()["lines"]
    assert [(ln["amount"], ln["note"]) for ln in lines] == [("0.00", "套餐卡抵扣 · 洗车2次卡")] * 2
    last = client.post_json(url, {"package_card_id": card.pk})
    assert (last.status_code, last.json()["detail"]) == (409, zh(errors.CARD_NO_USES_LEFT))


def test_another_organizations_card_is_unknown(
    as_api: Callable[[User], ApiClient],
    advisor: User,
    car: Vehicle,
    make_order: Callable[..., ServiceOrder],
    other_org: Organization,
) -> None:
    order = make_order(vehicle=car)
    answer = as_api(advisor).post_json(f"/api/v1/orders/{order.pk}/lines", {"package_card_id": 987654})
    assert answer.status_code == 422
    assert answer.json()["errors"] == {"package_card_id": [zh(errors.CARD_UNKNOWN)]}
