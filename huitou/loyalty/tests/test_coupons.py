"""Coupons: templates and rules, issuing by hand, by rule and in bulk, one use as a discount line, back, revoked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from huitou.customers.models import Customer
from huitou.loyalty import errors
from huitou.loyalty.models import Coupon, CouponEntry, CouponKind, CouponTemplate, CouponTrigger
from huitou.loyalty.selectors.rewards import coupons_expiring, coupons_for_customer
from huitou.loyalty.services.coupons import (
    coupon_apply,
    coupon_issue,
    coupon_revoke,
    coupon_rule_save,
    coupon_template_save,
    coupons_birthday,
    coupons_expire,
    coupons_issue_bulk,
    coupons_on_trigger,
)
from huitou.service.errors import StateConflict
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import (
    order_add_line,
    order_adjust,
    order_complete,
    order_pay,
    order_remove_line,
    order_void,
)
from huitou.tenancy.models import Organization, User

CN = dt.timezone(dt.timedelta(hours=8))


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=CN)


@pytest.fixture
def wash(make_service_item: Any) -> ServiceItem:
    return make_service_item(code="D01", name="标准洗车", category="detailing", labour_price="50.00")


@pytest.fixture
def oil(make_service_item: Any) -> ServiceItem:
    return make_service_item(code="M01", name="小保养", labour_price="300.00")


@pytest.fixture
def labour20(org: Organization, wash: ServiceItem, oil: ServiceItem) -> CouponTemplate:
    return coupon_template_save(
        organization=org,
        data={
            "code": "labour-20",
            "name": "20元工时券",
            "kind": CouponKind.AMOUNT,
            "value": "20",
            "min_spend": "100",
            "days_valid": 90,
            "services": [wash, oil],
        },
    )


@pytest.fixture
def customer(make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(name="陈先生")


@pytest.fixture
def open_order(
    advisor: User, make_vehicle: Callable[..., Any], make_order: Callable[..., ServiceOrder]
) -> Callable[..., ServiceOrder]:
    def run(customer: Customer, *items: ServiceItem) -> ServiceOrder:
        vehicle = customer.vehicles.first() or make_vehicle(customer)
        order = make_order(vehicle=vehicle)
        for item in items:
            order_add_line(order=order, by=advisor, service=item)
        order.refresh_from_db()
        return order

    return run


def states(customer: Customer) -> list[str]:
    return list(
        Coupon.objects.for_org(customer.organization_id)
        .filter(customer=customer)
        .order_by("pk")
        .values_list("state", flat=True)
    )


def test_a_template_is_checked_and_saved(org: Organization, wash: ServiceItem) -> None:
    with pytest.raises(ValidationError) as caught:
        coupon_template_save(organization=org, data={"code": "x y", "name": "", "kind": "gift", "days_valid": 0})
    problems = caught.value.message_dict
    assert problems["code"] == [str(errors.TEMPLATE_CODE_REQUIRED)]
    assert problems["name"] == [str(errors.TEMPLATE_NAME_REQUIRED)]
    assert problems["kind"] == [str(errors.TEMPLATE_KIND_INVALID)]
    assert problems["days_valid"] == [str(errors.TEMPLATE_DAYS_INVALID)]
    with pytest.raises(ValidationError) as caught:
        coupon_template_save(organization=org, data={"code": "p", "name": "折", "kind": "percent", "value": "120"})
    assert caught.value.message_dict["value"] == [str(errors.TEMPLATE_PERCENT_INVALID)]
    with pytest.raises(ValidationError) as caught:
        coupon_template_save(organization=org, data={"code": "f", "name": "免", "kind": "free_service"})
    assert caught.value.message_dict["free_service"] == [str(errors.TEMPLATE_FREE_SERVICE_REQUIRED)]
    free = coupon_template_save(
        organization=org, data={"code": "free-d01", "name": "免费洗车券", "kind": "free_service", "free_service": wash}
    )
    assert list(free.services.all()) == [wash]
    with pytest.raises(ValidationError) as caught:
        coupon_template_save(organization=org, data={"code": "free-d01", "name": "又", "kind": "amount", "value": "5"})
    assert caught.value.message_dict["code"] == [str(errors.TEMPLATE_CODE_TAKEN)]
    changed = coupon_template_save(organization=org, data={"name": "免费标准洗车券"}, template=free)
    assert (changed.code, changed.name, changed.kind) == ("free-d01", "免费标准洗车券", "free_service")


def test_a_template_takes_only_its_own_organizations_services(
    org: Organization, other_org: Organization, make_service_item: Any
) -> None:
    theirs = make_service_item(organization=other_org)
    with pytest.raises(ValidationError) as caught:
        coupon_template_save(
            organization=org, data={"code": "a", "name": "a", "kind": "amount", "value": "5", "services": [theirs]}
        )
    assert caught.value.message_dict["services"] == [str(errors.TEMPLATE_SERVICE_UNKNOWN)]


def test_issued_by_hand_it_is_valid_for_the_templates_days(
    customer: Customer, labour20: CouponTemplate, advisor: User
) -> None:
    coupon = coupon_issue(
        customer=customer, template=labour20, source=CouponTrigger.MANUAL, by=advisor, now=at(2025, 3, 1)
    )
    assert (coupon.state, coupon.name, coupon.expires_on) == ("issued", "20元工时券", dt.date(2025, 5, 30))
    assert len(coupon.code) == 10
    entry = CouponEntry.objects.for_org(customer.organization_id).get(coupon=coupon)
    assert (entry.kind, entry.state_after, entry.by_id) == ("issue", "issued", advisor.pk)
    assert coupons_for_customer(customer, today=dt.date(2025, 3, 2)) == [
        {
            "id": coupon.pk,
            "name": "20元工时券",
            "code": coupon.code,
            "state": "issued",
            "expires_on": dt.date(2025, 5, 30),
            "kind": "amount",
        }
    ]


def test_using_it_adds_a_discount_line_on_the_service_it_covers(
    customer: Customer, labour20: CouponTemplate, advisor: User, oil: ServiceItem, open_order: Any
) -> None:
    coupon = coupon_issue(customer=customer, template=labour20, source=CouponTrigger.MANUAL, by=advisor)
    order = open_order(customer, oil)
    line = coupon_apply(order=order, coupon=coupon, by=advisor)
    order.refresh_from_db()
    coupon.refresh_from_db()
    assert (line.kind, line.name, line.amount, line.note) == (
        "discount",
        "20元工时券",
        Decimal("-20.00"),
        f"优惠券 {coupon.code}",
    )
    assert line.applies_to.service_id == oil.pk
    assert order.total == Decimal("280.00")
    assert (coupon.state, coupon.used_order_id) == ("used", order.pk)
    use = CouponEntry.objects.for_org(order.organization_id).get(coupon=coupon, kind="use")
    assert (use.amount, use.line_id, use.order_id) == (Decimal("20.00"), line.pk, order.pk)


def test_a_second_use_is_a_conflict(
    customer: Customer, labour20: CouponTemplate, advisor: User, oil: ServiceItem, open_order: Any
) -> None:
    coupon = coupon_issue(customer=customer, template=labour20, source=CouponTrigger.MANUAL, by=advisor)
    coupon_apply(order=open_order(customer, oil), coupon=coupon, by=advisor)
    second = open_order(customer, oil)
    with pytest.raises(StateConflict) as caught:
        coupon_apply(order=second, coupon=coupon, by=advisor)
    assert caught.value.message == errors.COUPON_NOT_AVAILABLE % {"state": Coupon.State.USED.label}
    second.refresh_from_db()
    assert second.total == Decimal("300.00")


def test_it_is_refused_below_its_minimum_spend_after_its_date_and_for_someone_else(
    customer: Customer,
    make_customer: Callable[..., Customer],
    labour20: CouponTemplate,
    advisor: User,
    wash: ServiceItem,
    oil: ServiceItem,
    open_order: Any,
) -> None:
    coupon = coupon_issue(customer=customer, template=labour20, source=CouponTrigger.MANUAL, by=advisor)
    with pytest.raises(StateConflict) as caught:
        coupon_apply(order=open_order(customer, wash), coupon=coupon, by=advisor)
    assert caught.value.message == errors.COUPON_MIN_SPEND % {"min": Decimal("100.00"), "total": Decimal("50.00")}
    with pytest.raises(StateConflict) as caught:
        coupon_apply(
            order=open_order(customer, oil), coupon=coupon, by=advisor, now=dt.datetime.now(CN) + dt.timedelta(days=91)
        )
    assert caught.value.message == errors.COUPON_EXPIRED % {"date": coupon.expires_on}
    with pytest.raises(ValidationError) as refused:
        coupon_apply(order=open_order(make_customer(), oil), coupon=coupon, by=advisor)
    assert refused.value.message_dict["coupon_id"] == [str(errors.COUPON_NOT_THEIRS)]
    coupon.refresh_from_db()
    assert coupon.state == "issued"


def test_a_percentage_coupon_takes_its_share_of_the_order(
    org: Organization, customer: Customer, advisor: User, oil: ServiceItem, wash: ServiceItem, open_order: Any
) -> None:
    ten = coupon_template_save(
        organization=org, data={"code": "ten", "name": "九折券", "kind": "percent", "value": "10"}
    )
    coupon = coupon_issue(customer=customer, template=ten, source=CouponTrigger.MANUAL, by=advisor)
    order = open_order(customer, oil, wash)
    line = coupon_apply(order=order, coupon=coupon, by=advisor)
    assert (line.amount, line.applies_to_id) == (Decimal("-35.00"), None)


def test_a_free_service_coupon_covers_that_lines_amount(
    org: Organization, customer: Customer, advisor: User, oil: ServiceItem, wash: ServiceItem, open_order: Any
) -> None:
    free = coupon_template_save(
        organization=org, data={"code": "free-m01", "name": "免费小保养券", "kind": "free_service", "free_service": oil}
    )
    coupon = coupon_issue(customer=customer, template=free, source=CouponTrigger.MANUAL, by=advisor)
    with pytest.raises(StateConflict) as caught:
        coupon_apply(order=open_order(customer, wash), coupon=coupon, by=advisor)
    assert caught.value.message == errors.COUPON_NOTHING_TO_DISCOUNT
    order = open_order(customer, oil, wash)
    line = coupon_apply(order=order, coupon=coupon, by=advisor)
    order.refresh_from_db()
    assert (line.amount, line.applies_to.service_id, order.total) == (Decimal("-300.00"), oil.pk, Decimal("50.00"))


def test_one_coupon_per_order(
    customer: Customer, labour20: CouponTemplate, advisor: User, oil: ServiceItem, open_order: Any
) -> None:
    first, second = (
        coupon_issue(customer=customer, template=labour20, source=CouponTrigger.MANUAL, by=advisor) for _ in range(2)
    )
    order = open_order(customer, oil)
    coupon_apply(order=order, coupon=first, by=advisor)
    with pytest.raises(StateConflict) as caught:
        coupon_apply(order=order, coupon=second, by=advisor)
    assert caught.value.message == errors.COUPON_ONE_PER_ORDER


def test_removing_its_line_or_the_line_it_discounts_or_voiding_gives_it_back(
    customer: Customer, labour20: CouponTemplate, advisor: User, oil: ServiceItem, open_order: Any
) -> None:
    coupon = coupon_issue(customer=customer, template=labour20, source=CouponTrigger.MANUAL, by=advisor)
    order = open_order(customer, oil)
    line = coupon_apply(order=order, coupon=coupon, by=advisor)
    order_remove_line(line=line, by=advisor)
    assert states(customer) == ["issued"]
    line = coupon_apply(order=order, coupon=coupon, by=advisor)
    assert line.applies_to is not None
    order_remove_line(line=line.applies_to, by=advisor)  # the discount goes with it
    assert states(customer) == ["issued"]
    order = open_order(customer, oil)
    coupon_apply(order=order, coupon=coupon, by=advisor)
    order_void(order=order, by=advisor, reason="客户取消")
    coupon.refresh_from_db()
    assert (coupon.state, coupon.used_order_id) == ("issued", None)
    kinds = CouponEntry.objects.for_org(order.organization_id).filter(coupon=coupon).order_by("pk")
    assert list(kinds.values_list("kind", flat=True)) == ["issue", "use", "return", "use", "return", "use", "return"]


def test_the_paid_order_rule_issues_once_and_a_full_refund_revokes_the_unused_coupon(
    org: Organization,
    customer: Customer,
    labour20: CouponTemplate,
    advisor: User,
    owner: User,
    oil: ServiceItem,
    wash: ServiceItem,
    open_order: Any,
) -> None:
    coupon_rule_save(organization=org, data={"template": labour20, "trigger": "order_paid", "min_order_total": "100"})
    small = open_order(customer, wash)
    order_complete(order=small, by=advisor)
    order_pay(order=small, by=advisor, method="cash", amount=small.total)
    assert states(customer) == []  # 50 < 100
    order = open_order(customer, oil)
    order_complete(order=order, by=advisor)
    order_pay(order=order, by=advisor, method="cash", amount=order.total)
    assert states(customer) == ["issued"]
    coupon = Coupon.objects.for_org(org).get(customer=customer)
    assert (coupon.source, coupon.origin_order_id) == ("order_paid", order.pk)
    assert coupons_on_trigger(customer=customer, trigger="order_paid", by=None, order=order) == []
    order_adjust(order=order, by=owner, amount="-100.00", reason="折让")
    assert states(customer) == ["issued"]
    order_adjust(order=order, by=owner, amount="-200.00", reason="全额退款")
    assert states(customer) == ["revoked"]


def test_the_joining_rule_issues_once(org: Organization, customer: Customer, labour20: CouponTemplate) -> None:
    coupon_rule_save(organization=org, data={"template": labour20, "trigger": "joined"})
    assert len(coupons_on_trigger(customer=customer, trigger="joined", by=None)) == 1
    assert coupons_on_trigger(customer=customer, trigger="joined", by=None) == []


def test_a_rule_needs_a_trigger_of_its_own_kind(org: Organization, labour20: CouponTemplate) -> None:
    with pytest.raises(ValidationError) as caught:
        coupon_rule_save(organization=org, data={"template": labour20, "trigger": "manual"})
    assert caught.value.message_dict["trigger"] == [str(errors.RULE_TRIGGER_INVALID)]


def test_the_birthday_month_job_issues_once_a_year(
    org: Organization, make_customer: Callable[..., Customer], labour20: CouponTemplate
) -> None:
    coupon_rule_save(organization=org, data={"template": labour20, "trigger": "birthday"})
    june = make_customer(birth_month=6, birth_day=9)
    july = make_customer(birth_month=7, birth_day=9)
    assert coupons_birthday(organization=org, now=at(2025, 6, 1)) == 1
    assert coupons_birthday(organization=org, now=at(2025, 6, 1)) == 0
    assert (states(june), states(july)) == (["issued"], [])
    assert coupons_birthday(organization=org, now=at(2026, 6, 1)) == 1


def test_bulk_issue_checks_the_list_and_runs_in_the_background_once(
    org: Organization,
    other_org: Organization,
    make_customer: Callable[..., Customer],
    labour20: CouponTemplate,
    owner: User,
    outsider: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    people = [make_customer() for _ in range(3)]
    stranger = make_customer(organization=other_org, by=outsider)
    with pytest.raises(ValidationError) as caught:
        coupons_issue_bulk(template=labour20, customer_ids=[people[0].pk, stranger.pk], by=owner)
    assert caught.value.message_dict["customer_ids"] == [str(errors.BULK_CUSTOMERS_UNKNOWN)]
    with django_capture_on_commit_callbacks(execute=True):
        batch = coupons_issue_bulk(template=labour20, customer_ids=[p.pk for p in people], by=owner)
    assert [states(p) for p in people] == [["issued"]] * 3
    from huitou.loyalty.services.coupons import coupons_issue_batch

    assert coupons_issue_batch(template=labour20, customer_ids=[p.pk for p in people], batch=batch, by=owner) == 0
    assert Coupon.objects.for_org(org).filter(source="bulk").count() == 3


def test_revoked_by_hand_and_only_when_issued(
    customer: Customer, labour20: CouponTemplate, advisor: User, owner: User
) -> None:
    coupon = coupon_issue(customer=customer, template=labour20, source=CouponTrigger.MANUAL, by=advisor)
    coupon_revoke(coupon=coupon, by=owner, reason="发错")
    with pytest.raises(StateConflict):
        coupon_revoke(coupon=coupon, by=owner, reason="again")


def test_the_expiry_job_and_the_care_hook(
    org: Organization, customer: Customer, labour20: CouponTemplate, advisor: User
) -> None:
    soon = coupon_issue(customer=customer, template=labour20, source="manual", by=advisor, now=at(2025, 1, 1))
    later = coupon_issue(customer=customer, template=labour20, source="manual", by=advisor, now=at(2025, 2, 1))
    assert list(coupons_expiring(organization=org, within_days=7, today=dt.date(2025, 3, 26))) == [soon]
    assert list(coupons_expiring(organization=org, within_days=40, today=dt.date(2025, 3, 26))) == [soon, later]
    assert coupons_expire(organization=org, now=at(2025, 4, 1)) == 0  # soon's last day is 2025-04-01
    assert coupons_expire(organization=org, now=at(2025, 4, 2)) == 1
    assert coupons_expire(organization=org, now=at(2025, 4, 2)) == 0
    soon.refresh_from_db()
    assert soon.state == "expired"
    assert list(coupons_expiring(organization=org, within_days=7, today=dt.date(2025, 3, 26))) == []
