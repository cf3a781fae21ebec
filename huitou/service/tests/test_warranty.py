"""The warranty promised on an order line (质保): the item's usual terms, set at the counter, changed later."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from huitou.service import errors
from huitou.service.errors import RoleRefused, StateConflict
from huitou.service.models import OrderLine, ServiceItem, ServiceOrder
from huitou.service.services.catalog import service_item_save
from huitou.service.services.orders import order_add_discount, order_add_line, order_void
from huitou.service.services.warranty import order_line_warranty_set
from huitou.service.tests.support import history, paid, refused
from huitou.service.warranty import warranty_terms, warranty_words
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db


@pytest.fixture
def brakes(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(name="刹车片更换", category="repair", warranty_months=3, warranty_km=3000)


def terms(line: OrderLine) -> tuple[int | None, int | None]:
    line = OrderLine.objects.for_org(line.organization_id).get(pk=line.pk)
    return line.warranty_months, line.warranty_km


# --- the words and the ranges ----------------------------------------------------------------


def test_the_terms_read_as_on_the_bill() -> None:
    with translation.override("zh-hans"):
        assert warranty_words(3, 3000) == "质保 3个月或3,000公里"
        assert warranty_words(12, None) == "质保 12个月"
        assert warranty_words(None, 50_000) == "质保 50,000公里"
        assert warranty_words(None, None) == ""
    with translation.override("en"):
        assert warranty_words(1, 3000) == "Warranty 1 month or 3,000 km"


def test_terms_are_whole_numbers_within_their_range_or_empty() -> None:
    assert warranty_terms("3", " 3,000 ") == (3, 3000)
    assert warranty_terms("", None) == (None, None)
    assert warranty_terms(120, 500_000) == (120, 500_000)
    wrong = [(0, None), (121, None), ("2.5", None), (True, None), (None, -1), (None, 500_001)]
    for months, km in wrong:
        field = "warranty_km" if months is None else "warranty_months"
        with pytest.raises(ValidationError) as exc:
            warranty_terms(months, km)
        assert list(exc.value.message_dict) == [field]


def test_the_database_refuses_terms_out_of_range_and_a_discount_with_a_warranty(
    make_order: Callable[..., ServiceOrder], advisor: User, brakes: ServiceItem
) -> None:
    line = order_add_line(order=make_order(), by=advisor, service=brakes)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.for_org(line.organization_id).filter(pk=line.pk).update(warranty_months=0)
    discount = order_add_discount(order=line.order, by=advisor, name="会员折扣", amount=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.for_org(line.organization_id).filter(pk=discount.pk).update(warranty_km=3000)


# --- the catalog -----------------------------------------------------------------------------


def test_a_service_item_keeps_its_usual_warranty_and_refuses_one_out_of_range(
    org: Organization, brakes: ServiceItem
) -> None:
    assert (brakes.warranty_months, brakes.warranty_km) == (3, 3000)
    service_item_save(organization=org, data={"warranty_km": ""}, item=brakes)
    brakes.refresh_from_db()
    assert (brakes.warranty_months, brakes.warranty_km) == (3, None)
    with pytest.raises(ValidationError) as exc:
        service_item_save(organization=org, data={"warranty_months": 200, "warranty_km": "abc"}, item=brakes)
    assert refused(exc, "warranty_months") == [zh(errors.WARRANTY_MONTHS_INVALID)]
    assert refused(exc, "warranty_km") == [zh(errors.WARRANTY_KM_INVALID)]
    brakes.refresh_from_db()
    assert (brakes.warranty_months, brakes.warranty_km) == (3, None)


# --- adding a line ---------------------------------------------------------------------------


def test_a_line_promises_its_item_s_warranty_and_the_history_says_so(
    make_order: Callable[..., ServiceOrder], tech: User, brakes: ServiceItem, make_part: Callable[..., object]
) -> None:
    order = make_order()
    line = order_add_line(order=order, by=tech, service=brakes)  # a technician: the item's terms
    assert terms(line) == (3, 3000)
    assert history(order)[-1].changes["warranty_months"] == [None, 3]
    part = order_add_line(order=order, by=tech, part=make_part())  # parts have no usual warranty
    assert terms(part) == (None, None)


def test_the_counter_promises_other_terms_or_none(
    make_order: Callable[..., ServiceOrder], advisor: User, brakes: ServiceItem
) -> None:
    order = make_order()
    longer = order_add_line(order=order, by=advisor, service=brakes, warranty_months=6, warranty_km=None)
    assert terms(longer) == (6, None)
    kept = order_add_line(order=order, by=advisor, service=brakes, warranty_months=6)  # km left out: the item's
    assert terms(kept) == (6, 3000)
    none = order_add_line(order=order, by=advisor, service=brakes, warranty_months=None, warranty_km=None)
    assert terms(none) == (None, None)


def test_a_technician_may_not_promise_other_terms_than_the_item_s(
    make_order: Callable[..., ServiceOrder], tech: User, brakes: ServiceItem
) -> None:
    order = make_order()
    with pytest.raises(RoleRefused) as exc:
        order_add_line(order=order, by=tech, service=brakes, warranty_months=12)
    assert str(exc.value.message) == str(errors.WARRANTY_NOT_YOURS)
    # Naming the item's own terms is no other promise.
    assert terms(order_add_line(order=order, by=tech, service=brakes, warranty_months=3, warranty_km=3000)) == (
        3,
        3000,
    )
    assert OrderLine.objects.for_org(order.organization_id).filter(order=order).count() == 1


def test_terms_out_of_range_refuse_the_line(
    make_order: Callable[..., ServiceOrder], advisor: User, brakes: ServiceItem
) -> None:
    order = make_order()
    with pytest.raises(ValidationError) as exc:
        order_add_line(order=order, by=advisor, service=brakes, warranty_km=600_000)
    assert refused(exc, "warranty_km") == [zh(errors.WARRANTY_KM_INVALID)]
    assert not OrderLine.objects.for_org(order.organization_id).filter(order=order).exists()


# --- changing the promise --------------------------------------------------------------------


def test_the_promise_changes_afterwards_with_its_history(
    make_order: Callable[..., ServiceOrder], advisor: User, brakes: ServiceItem
) -> None:
    order = make_order()
    line = order_add_line(order=order, by=advisor, service=brakes)
    order_line_warranty_set(line=line, by=advisor, months=6, km="5000")
    assert terms(line) == (6, 5000)
    entry = history(order)[-1]
    assert entry.changes == {
        "warranty_of": [None, "刹车片更换"],
        "warranty_months": [3, 6],
        "warranty_km": [3000, 5000],
    }
    before = len(history(order))
    order_line_warranty_set(line=line, by=advisor, months=6, km=5000)  # no change: no entry
    assert len(history(order)) == before
    order_line_warranty_set(line=line, by=advisor, months=None, km="")  # no warranty at all
    assert terms(line) == (None, None)


def test_a_paid_order_s_promise_changes_only_with_a_reason(
    make_order: Callable[..., ServiceOrder], advisor: User, brakes: ServiceItem
) -> None:
    order = paid(make_order(), brakes, advisor, "350.00")
    line = OrderLine.objects.for_org(order.organization_id).get(order=order)
    with pytest.raises(ValidationError) as exc:
        order_line_warranty_set(line=line, by=advisor, months=6, km=3000)
    assert refused(exc, "reason") == [zh(errors.WARRANTY_REASON_REQUIRED)]
    assert terms(line) == (3, 3000)
    order_line_warranty_set(line=line, by=advisor, months=6, km=3000, reason="店长特批延长质保")
    assert terms(line) == (6, 3000)
    assert history(order)[-1].note == "店长特批延长质保"


def test_nobody_changes_a_void_order_s_promise_nor_a_technician_any(
    make_order: Callable[..., ServiceOrder], advisor: User, tech: User, brakes: ServiceItem
) -> None:
    order = make_order()
    line = order_add_line(order=order, by=advisor, service=brakes)
    with pytest.raises(RoleRefused) as role:
        order_line_warranty_set(line=line, by=tech, months=12, km=None)
    assert str(role.value.message) == str(errors.WARRANTY_CHANGE_NOT_YOURS)
    discount = order_add_discount(order=order, by=advisor, name="会员折扣", amount=10)
    with pytest.raises(ValidationError) as exc:
        order_line_warranty_set(line=discount, by=advisor, months=3, km=None)
    assert refused(exc, "warranty_months") == [zh(errors.WARRANTY_ON_DISCOUNT)]
    order_void(order=order, by=advisor, reason="客户取消")
    with pytest.raises(StateConflict) as conflict:
        order_line_warranty_set(line=line, by=advisor, months=12, km=None)
    assert str(conflict.value) == str(errors.ORDER_VOID)
    assert terms(line) == (3, 3000)
