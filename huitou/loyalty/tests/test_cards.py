"""Package cards: products with their sale item, issued when paid, used on a 0.00 line, given back, expiry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.customers.models import Customer, Vehicle
from huitou.loyalty import errors
from huitou.loyalty.models import CardProduct, PackageCard, PackageCardEntry
from huitou.loyalty.selectors.wallet import cards_for_customer, statement
from huitou.loyalty.services.cards import (
    card_product_save,
    card_use,
    cards_expire,
)
from huitou.service.errors import StateConflict
from huitou.service.models import OrderLine, ServiceItem, ServiceOrder
from huitou.service.services.orders import (
    order_add_line,
    order_adjust,
    order_complete,
    order_pay,
    order_remove_line,
    order_void,
)
from huitou.tenancy.models import Organization, User

M = Decimal


@pytest.fixture
def wash(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(code="D01", name="标准洗车", labour_price="40.00", category="detailing")


@pytest.fixture
def product(org: Organization, wash: ServiceItem) -> CardProduct:
    return card_product_save(
        organization=org,
        data={"code": "wash-3", "name": "洗车3次卡", "price": "99", "uses": 3, "validity_days": 30,
              "binding": "vehicle", "services": [wash.pk]},
    )  # fmt: skip


@pytest.fixture
def customer(make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(name="次卡客户")


@pytest.fixture
def car(customer: Customer, make_vehicle: Callable[..., Vehicle]) -> Vehicle:
    return make_vehicle(customer)


@pytest.fixture
def open_order(make_order: Callable[..., ServiceOrder], car: Vehicle) -> Callable[[], ServiceOrder]:
    return lambda: make_order(vehicle=car)


@pytest.fixture
def card(product: CardProduct, advisor: User, open_order: Callable[[], ServiceOrder]) -> PackageCard:
    order = open_order()
    assert product.sale_item is not None
    order_add_line(order=order, by=advisor, service=product.sale_item)
    order_complete(order=order, by=advisor)
    order_pay(order=order, by=advisor, method="cash", amount=order.total)
    return PackageCard.objects.for_org(order.organization_id).get(sold_order=order)


def fresh(card: PackageCard) -> PackageCard:
    return PackageCard.objects.for_org(card.organization_id).get(pk=card.pk)


def test_a_product_is_sold_as_its_own_service_item(product: CardProduct, wash: ServiceItem) -> None:
    item = product.sale_item
    assert item is not None
    assert (item.code, item.name, item.labour_price, item.category) == (
        "CARD-WASH-3",
        "洗车3次卡",
        M("99.00"),
        "detailing",
    )
    assert list(product.services.all()) == [wash]


def test_changing_a_product_changes_its_sale_item(org: Organization, product: CardProduct) -> None:
    card_product_save(
        organization=org, product=product, data={"name": "洗车3次卡(新)", "price": "109", "is_active": False}
    )
    item = ServiceItem.objects.for_org(org).get(pk=product.sale_item_id)
    assert (item.name, item.labour_price, item.is_active) == ("洗车3次卡(新)", M("109.00"), False)


def test_a_product_is_refused_field_by_field(org: Organization, product: CardProduct) -> None:
    with pytest.raises(ValidationError) as exc:
        card_product_save(
            organization=org,
            data={"code": "wash-3", "name": "", "price": "-1", "uses": 0, "validity_days": 0, "binding": "x",
                  "services": []},
        )  # fmt: skip
    assert exc.value.message_dict == {
        "code": [str(errors.PRODUCT_CODE_TAKEN)],
        "name": [str(errors.PRODUCT_NAME_REQUIRED)],
        "price": [str(errors.PRODUCT_PRICE_INVALID)],
        "uses": [str(errors.PRODUCT_USES_INVALID)],
        "validity_days": [str(errors.PRODUCT_DAYS_INVALID)],
        "binding": [str(errors.PRODUCT_BINDING_INVALID)],
        "services": [str(errors.PRODUCT_SERVICES_REQUIRED)],
    }


def test_a_product_cannot_cover_another_organizations_service(
    org: Organization, other_org: Organization, make_service_item: Callable[..., ServiceItem]
) -> None:
    theirs = make_service_item(organization=other_org, code="X1")
    with pytest.raises(ValidationError) as exc:
        card_product_save(organization=org, data={"code": "c", "name": "c", "price": "1", "uses": 1,
                                                  "services": [theirs.pk]})  # fmt: skip
    assert exc.value.message_dict == {"services": [str(errors.PRODUCT_SERVICES_REQUIRED)]}


def test_paying_the_sale_issues_the_card_bound_to_the_car(
    card: PackageCard, car: Vehicle, product: CardProduct
) -> None:
    assert (card.uses_total, card.uses_left, card.vehicle_id, card.state) == (3, 3, car.pk, "active")
    assert card.expires_on == timezone.localdate(card.sold_at) + dt.timedelta(days=30)
    sale = PackageCardEntry.objects.for_org(card.organization_id).get(card=card)
    assert (sale.kind, sale.amount, sale.uses_after) == ("sale", 3, 3)
    assert cards_for_customer(car.customer) == [
        {"id": card.pk, "name": "洗车3次卡", "remaining": 3, "vehicle_id": car.pk, "plate": car.plate,
         "expires_on": card.expires_on}
    ]  # fmt: skip


def test_a_customer_card_is_bound_to_no_car(
    org: Organization, product: CardProduct, advisor: User, open_order: Callable[[], ServiceOrder]
) -> None:
    card_product_save(organization=org, product=product, data={"binding": "customer"})
    order = open_order()
    assert product.sale_item is not None
    order_add_line(order=order, by=advisor, service=product.sale_item, quantity="2")
    order_complete(order=order, by=advisor)
    order_pay(order=order, by=advisor, method="cash", amount=order.total)
    cards = list(PackageCard.objects.for_org(org).filter(sold_order=order))
    assert [(c.vehicle_id, c.uses_left) for c in cards] == [(None, 3), (None, 3)]


def test_a_use_adds_a_line_priced_zero_with_the_card_on_the_bill(
    card: PackageCard, wash: ServiceItem, advisor: User, open_order: Callable[[], ServiceOrder]
) -> None:
    order = open_order()
    line = card_use(order=order, card=card, service=wash, by=advisor)
    assert (line.amount, line.unit_price, line.note, line.service_id) == (0, 0, "套餐卡抵扣 · 洗车3次卡", wash.pk)
    assert fresh(card).uses_left == 2
    use = PackageCardEntry.objects.for_org(card.organization_id).filter(card=card).latest("pk")
    assert (use.kind, use.amount, use.uses_after, use.order_id, use.line_id) == ("use", -1, 2, order.pk, line.pk)


def test_a_use_replaces_a_priced_line_of_the_service(
    card: PackageCard, wash: ServiceItem, advisor: User, tech: User, open_order: Callable[[], ServiceOrder]
) -> None:
    order = open_order()
    priced = order_add_line(order=order, by=advisor, service=wash, technician=tech)
    assert order.total == M("40.00")
    line = card_use(order=order, card=card, service=wash, by=advisor, replaces=priced)
    assert not OrderLine.objects.for_org(order.organization_id).filter(pk=priced.pk).exists()
    assert (line.technician_id, order.total) == (tech.pk, 0)


def test_the_last_use_marks_the_card_used_up_and_a_further_use_is_refused(
    card: PackageCard, wash: ServiceItem, advisor: User, open_order: Callable[[], ServiceOrder]
) -> None:
    order = open_order()
    for _ in range(3):
        card_use(order=order, card=card, service=wash, by=advisor)
    assert (fresh(card).uses_left, fresh(card).state) == (0, "used_up")
    with pytest.raises(StateConflict) as exc:
        card_use(order=order, card=card, service=wash, by=advisor)
    assert str(exc.value) == str(errors.CARD_NO_USES_LEFT)
    assert OrderLine.objects.for_org(order.organization_id).filter(order=order).count() == 3


def test_a_card_does_not_pay_a_service_it_does_not_cover(
    card: PackageCard, advisor: User, open_order: Callable[[], ServiceOrder], make_service_item: Any
) -> None:
    other = make_service_item(code="M01", name="小保养")
    with pytest.raises(ValidationError) as exc:
        card_use(order=open_order(), card=card, service=other, by=advisor)
    assert exc.value.message_dict == {"service_id": [str(errors.CARD_SERVICE_NOT_COVERED % {"service": "小保养"})]}


def test_a_vehicle_card_does_not_pay_for_another_car(
    card: PackageCard, wash: ServiceItem, advisor: User, customer: Customer, make_vehicle: Any, make_order: Any
) -> None:
    other_car = make_vehicle(customer)
    with pytest.raises(StateConflict) as exc:
        card_use(order=make_order(vehicle=other_car), card=card, service=wash, by=advisor)
    assert str(exc.value) == str(errors.CARD_OTHER_VEHICLE % {"plate": card.vehicle.plate})  # type: ignore[union-attr]


def test_an_expired_card_is_refused(
    card: PackageCard, wash: ServiceItem, advisor: User, open_order: Callable[[], ServiceOrder]
) -> None:
    later = timezone.now() + dt.timedelta(days=31)
    with pytest.raises(StateConflict) as exc:
        card_use(order=open_order(), card=card, service=wash, by=advisor, now=later)
    assert str(exc.value) == str(errors.CARD_EXPIRED % {"date": card.expires_on})


def test_removing_the_line_gives_the_use_back(
    card: PackageCard, wash: ServiceItem, advisor: User, open_order: Callable[[], ServiceOrder]
) -> None:
    order = open_order()
    line = card_use(order=order, card=card, service=wash, by=advisor)
    line_id = line.pk
    order_remove_line(line=line, by=advisor)
    assert fresh(card).uses_left == 3
    back = PackageCardEntry.objects.for_org(card.organization_id).filter(card=card).latest("pk")
    assert (back.kind, back.amount, back.uses_after, back.line_id) == ("return", 1, 3, line_id)


def test_voiding_the_order_gives_every_use_back_once(
    card: PackageCard, wash: ServiceItem, advisor: User, open_order: Callable[[], ServiceOrder]
) -> None:
    order = open_order()
    for _ in range(3):
        card_use(order=order, card=card, service=wash, by=advisor)
    order_void(order=order, by=advisor, reason="客户取消")
    assert (fresh(card).uses_left, fresh(card).state) == (3, "active")
    kinds = PackageCardEntry.objects.for_org(card.organization_id).filter(card=card).values_list("kind", flat=True)
    assert sorted(kinds) == ["return", "return", "return", "sale", "use", "use", "use"]


def test_refunding_the_sale_to_zero_revokes_an_unused_card(card: PackageCard, owner: User) -> None:
    order = card.sold_order
    assert order is not None
    order_adjust(order=order, by=owner, amount=-order.total, reason="退卡")
    assert (fresh(card).state, fresh(card).uses_left) == ("revoked", 0)


def test_the_expiry_job_takes_the_uses_left_once(card: PackageCard, customer: Customer) -> None:
    after = card.expires_on + dt.timedelta(days=1)
    assert cards_expire(organization=card.organization_id, today=card.expires_on) == 0
    assert cards_expire(organization=card.organization_id, today=after) == 1
    assert cards_expire(organization=card.organization_id, today=after) == 0
    assert (fresh(card).state, fresh(card).uses_left) == ("expired", 0)
    items = statement(customer=customer, ledger="package_cards").items
    assert [(i.kind, i.amount, i.balance_after) for i in items] == [("expire", "-3", "0"), ("sale", "3", "3")]


def test_the_nightly_job_expires_yesterday_s_cards(card: PackageCard) -> None:
    from huitou.loyalty.tasks import cards_expire_daily

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    PackageCard.objects.for_org(card.organization_id).filter(pk=card.pk).update(expires_on=yesterday)
    cards_expire_daily()  # huey runs the organization's task at once in the tests
    assert (fresh(card).state, fresh(card).uses_left) == ("expired", 0)


def test_a_use_given_back_after_expiry_expires_again(
    card: PackageCard, wash: ServiceItem, advisor: User, open_order: Callable[[], ServiceOrder]
) -> None:
    order = open_order()
    line = card_use(order=order, card=card, service=wash, by=advisor)
    cards_expire(organization=card.organization_id, today=card.expires_on + dt.timedelta(days=1))
    order_remove_line(line=line, by=advisor)
    assert (fresh(card).state, fresh(card).uses_left) == ("expired", 0)
