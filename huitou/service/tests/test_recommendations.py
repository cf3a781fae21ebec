"""Recommendations (建议项目): accepted work becomes a line; declined work stays for follow-up."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from huitou.customers.models import Customer, Vehicle
from huitou.service import errors
from huitou.service.errors import StateConflict
from huitou.service.models import OrderLine, Recommendation, ServiceItem, ServiceOrder
from huitou.service.selectors import declined_recommendations
from huitou.service.services.catalog import shop_price_set
from huitou.service.services.orders import (
    order_remove_line,
    order_void,
    recommendation_add,
    recommendation_decide,
)
from huitou.service.tests.support import conflict, fresh, history, paid, refused
from huitou.tenancy.models import Organization, User


@pytest.fixture
def customer(make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(name="张三")


@pytest.fixture
def vehicle(customer: Customer, make_vehicle: Callable[..., Vehicle]) -> Vehicle:
    return make_vehicle(customer)


@pytest.fixture
def order(make_order: Callable[..., ServiceOrder], vehicle: Vehicle) -> ServiceOrder:
    return make_order(vehicle=vehicle)


@pytest.fixture
def brakes(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(code="WX-SC", name="更换刹车片", category="repair", labour_price="480")


def test_a_technician_records_further_work_on_the_order(
    order: ServiceOrder, customer: Customer, vehicle: Vehicle, brakes: ServiceItem, tech: User
) -> None:
    found = recommendation_add(
        order=order, by=tech, description=" 前刹车片剩 2mm ", urgency="now", estimate="450", service=brakes
    )
    found = Recommendation.objects.for_org(found.organization_id).get(pk=found.pk)
    assert (found.order_id, found.customer_id, found.vehicle_id, found.service) == (
        order.pk,
        customer.pk,
        vehicle.pk,
        brakes,
    )
    assert (found.description, found.urgency, found.estimate, found.status) == (
        "前刹车片剩 2mm",
        "now",
        Decimal("450.00"),
        "open",
    )
    assert (found.recorded_by, found.decided_at, found.line) == (tech, None, None)
    assert history(order)[-1].changes == {"recommendation": [None, "前刹车片剩 2mm"]}
    assert history(order)[-1].actor == tech


def test_a_recommendation_of_a_catalog_item_is_described_by_its_name(
    order: ServiceOrder, brakes: ServiceItem, tech: User
) -> None:
    assert recommendation_add(order=order, by=tech, description="", service=brakes).description == "更换刹车片"


def test_a_free_text_recommendation_needs_a_description(order: ServiceOrder, tech: User) -> None:
    with pytest.raises(ValidationError) as exc:
        recommendation_add(order=order, by=tech, description="  ")
    assert refused(exc, "description") == [errors.DESCRIPTION_REQUIRED]
    assert not Recommendation.objects.for_org(order.organization_id).exists()


@pytest.mark.parametrize("estimate", ["-1", "1.234", 99.9, "abc"])
def test_it_refuses_a_bad_estimate(order: ServiceOrder, tech: User, estimate: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        recommendation_add(order=order, by=tech, description="空调滤芯脏", estimate=estimate)
    assert refused(exc, "estimate") == [errors.PRICE_INVALID]


def test_it_refuses_an_unknown_urgency(order: ServiceOrder, tech: User) -> None:
    with pytest.raises(ValidationError) as exc:
        recommendation_add(order=order, by=tech, description="空调滤芯脏", urgency="yesterday")
    assert exc.value.message_dict["urgency"] == [str(errors.URGENCY_INVALID)]
    assert not Recommendation.objects.for_org(order.organization_id).exists()


def test_it_refuses_a_service_item_of_another_organization(
    order: ServiceOrder, tech: User, make_service_item: Callable[..., ServiceItem], other_org: Organization
) -> None:
    with pytest.raises(ValidationError) as exc:
        recommendation_add(order=order, by=tech, description="x", service=make_service_item(organization=other_org))
    assert refused(exc, "service_id") == [errors.ITEM_UNKNOWN]


def test_a_void_order_takes_no_recommendation(order: ServiceOrder, advisor: User, tech: User) -> None:
    order_void(order=order, by=advisor, reason="取消")
    with pytest.raises(StateConflict) as exc:
        recommendation_add(order=order, by=tech, description="轮胎老化")
    assert conflict(exc) == str(errors.ORDER_VOID)


def test_a_paid_order_may_still_record_work_for_later(
    order: ServiceOrder, brakes: ServiceItem, advisor: User, tech: User
) -> None:
    paid(order, brakes, advisor, "480")
    found = recommendation_add(order=order, by=tech, description="轮胎老化", urgency="later")
    recommendation_decide(recommendation=found, by=advisor, accept=False)
    assert Recommendation.objects.for_org(found.organization_id).get(pk=found.pk).status == "declined"


def test_accepted_work_becomes_a_line_at_the_estimate(
    order: ServiceOrder, brakes: ServiceItem, advisor: User, tech: User
) -> None:
    found = recommendation_add(order=order, by=tech, description="前刹车片", estimate="450", service=brakes)
    recommendation_decide(recommendation=found, by=advisor, accept=True)
    found = Recommendation.objects.for_org(found.organization_id).get(pk=found.pk)
    line = OrderLine.objects.get(order=order)
    assert (found.status, found.line, found.decided_at is not None) == ("accepted", line, True)
    assert (line.service, line.unit_price, line.amount) == (brakes, Decimal("450.00"), Decimal("450.00"))
    assert fresh(order).total == Decimal("450.00")


def test_accepted_work_without_an_estimate_is_charged_at_the_shops_price(
    order: ServiceOrder, brakes: ServiceItem, advisor: User, tech: User
) -> None:
    shop_price_set(shop=order.shop, item=brakes, price="460")
    found = recommendation_add(order=order, by=tech, description="前刹车片", service=brakes)
    recommendation_decide(recommendation=found, by=advisor, accept=True)
    assert OrderLine.objects.get(order=order).unit_price == Decimal("460.00")


def test_free_text_work_needs_its_service_item_to_be_accepted(
    order: ServiceOrder, brakes: ServiceItem, advisor: User, tech: User
) -> None:
    found = recommendation_add(order=order, by=tech, description="刹车有异响", estimate="300")
    with pytest.raises(ValidationError) as exc:
        recommendation_decide(recommendation=found, by=advisor, accept=True)
    assert refused(exc, "service_id") == [errors.ITEM_REQUIRED]
    assert Recommendation.objects.for_org(found.organization_id).get(pk=found.pk).status == "open"

    recommendation_decide(recommendation=found, by=advisor, accept=True, service=brakes)
    found = Recommendation.objects.for_org(found.organization_id).get(pk=found.pk)
    assert (found.status, found.service, found.line.unit_price) == ("accepted", brakes, Decimal("300.00"))


def test_declined_work_stays_declined_for_the_follow_up(
    order: ServiceOrder,
    customer: Customer,
    make_customer: Callable[..., Customer],
    make_order: Callable[..., ServiceOrder],
    brakes: ServiceItem,
    advisor: User,
    tech: User,
) -> None:
    declined = recommendation_add(order=order, by=tech, description="更换雨刮", urgency="soon", estimate="120")
    accepted = recommendation_add(order=order, by=tech, description="刹车片", service=brakes)
    waiting = recommendation_add(order=order, by=tech, description="轮胎换位")
    someone_elses = recommendation_add(order=make_order(), by=tech, description="电瓶老化")
    recommendation_decide(recommendation=declined, by=advisor, accept=False)
    recommendation_decide(recommendation=accepted, by=advisor, accept=True)
    recommendation_decide(recommendation=someone_elses, by=advisor, accept=False)

    declined = Recommendation.objects.for_org(declined.organization_id).get(pk=declined.pk)
    assert (declined.status, declined.line, declined.decided_at is not None) == ("declined", None, True)
    assert OrderLine.objects.filter(order=order).count() == 1
    assert list(declined_recommendations(customer=customer)) == [declined]
    assert waiting.status == "open"
    assert any(
        e.changes == {"recommendation": ["更换雨刮", "更换雨刮"], "recommendation_status": ["open", "declined"]}
        for e in history(order)
    )


@pytest.mark.parametrize(("first", "second"), [(True, False), (False, True), (True, True), (False, False)])
def test_the_customer_decides_only_once(
    order: ServiceOrder, brakes: ServiceItem, advisor: User, tech: User, first: bool, second: bool
) -> None:
    found = recommendation_add(order=order, by=tech, description="刹车片", service=brakes)
    recommendation_decide(recommendation=found, by=advisor, accept=first)
    with pytest.raises(StateConflict) as exc:
        recommendation_decide(
            recommendation=Recommendation.objects.for_org(found.organization_id).get(pk=found.pk),
            by=advisor,
            accept=second,
        )
    assert conflict(exc) == str(errors.RECOMMENDATION_DECIDED)
    assert Recommendation.objects.for_org(found.organization_id).get(pk=found.pk).status == (
        "accepted" if first else "declined"
    )
    assert OrderLine.objects.filter(order=order).count() == (1 if first else 0)


def test_a_paid_order_cannot_accept_work_into_its_lines(
    order: ServiceOrder, brakes: ServiceItem, advisor: User, tech: User
) -> None:
    found = recommendation_add(order=order, by=tech, description="刹车片", service=brakes)
    paid(order, brakes, advisor, "100")
    with pytest.raises(StateConflict) as exc:
        recommendation_decide(recommendation=found, by=advisor, accept=True)
    assert conflict(exc) == str(errors.ORDER_LOCKED)
    assert Recommendation.objects.for_org(found.organization_id).get(pk=found.pk).status == "open"
    assert fresh(order).total == Decimal("100.00")


def test_removing_the_line_of_accepted_work_reopens_the_recommendation(
    order: ServiceOrder, brakes: ServiceItem, advisor: User, tech: User
) -> None:
    found = recommendation_add(order=order, by=tech, description="刹车片", service=brakes)
    recommendation_decide(recommendation=found, by=advisor, accept=True)
    order_remove_line(line=OrderLine.objects.get(order=order), by=advisor)
    found = Recommendation.objects.for_org(found.organization_id).get(pk=found.pk)
    assert (found.status, found.line) == ("open", None)
    assert fresh(order).total == Decimal("0.00")
