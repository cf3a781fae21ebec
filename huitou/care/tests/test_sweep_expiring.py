"""Coupons and package cards near their last day: one call per customer and day, the rule's days ahead, once.

Known answers: the coupons and cards below are written by hand with their last day on 31 December
2026. With the starter rules a coupon is due 7 days ahead (24 December) and a card 14 days ahead
(17 December); the reasons read "20元工时券，12月31日 到期" and "洗车10次卡 还剩 3 次，12月31日 到期".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from huitou.api.care_schemas import CARE_KINDS
from huitou.care.models import CareKind, CareRule, CareTask, OwnerMode
from huitou.care.services.rule_settings import care_rule_save
from huitou.care.services.rules import rules_for
from huitou.care.services.sweep import care_sweep
from huitou.care.services.sweep_expiring import cards, coupons
from huitou.customers.models import Customer, Vehicle
from huitou.customers.services import customer_delete, vehicle_delete, vehicle_transfer
from huitou.loyalty.models import CardBinding, CardProduct, Coupon, CouponKind, CouponTemplate, PackageCard
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db

LAST = dt.date(2026, 12, 31)
ISSUED = dt.date(2026, 10, 1)
COUPON_DUE = dt.date(2026, 12, 24)  # 7 days ahead
CARD_DUE = dt.date(2026, 12, 17)  # 14 days ahead
COUPON, CARD = CareKind.COUPON_EXPIRING, CareKind.CARD_EXPIRING


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def tasks(org: Organization, kind: str) -> list[CareTask]:
    return list(CareTask.objects.for_org(org).filter(kind=kind).order_by("due_on", "customer_id", "pk"))


RUNS = iter(range(1_000_000))


def sweep(org: Organization, day: dt.date) -> tuple[int, int]:
    """What a night's run adds (each run stamped with its own ``now``)."""
    added = care_sweep(organization=org, day=day, now=at(day, 2) + dt.timedelta(seconds=next(RUNS)))
    return added[COUPON], added[CARD]


@pytest.fixture
def make_coupon() -> Callable[..., Coupon]:
    counter = iter(range(10_000))
    templates: dict[tuple[int, str], CouponTemplate] = {}

    def make(
        customer: Customer,
        name: str = "20元工时券",
        *,
        last_day: dt.date = LAST,
        issued: dt.date = ISSUED,
        state: str = Coupon.State.ISSUED,
    ) -> Coupon:
        org_id = customer.organization_id
        template = templates.get((org_id, name))
        if template is None:
            template = CouponTemplate.objects.create(
                organization_id=org_id, code=f"t{len(templates)}", name=name, kind=CouponKind.AMOUNT, value=20
            )
            templates[(org_id, name)] = template
        return Coupon.objects.create(
            organization_id=org_id,
            customer=customer,
            template=template,
            name=name,
            code=f"C{next(counter):06d}",
            state=state,
            source="manual",
            issued_at=at(issued),
            expires_on=last_day,
        )

    return make


@pytest.fixture
def make_card() -> Callable[..., PackageCard]:
    products: dict[tuple[int, str], CardProduct] = {}

    def make(
        customer: Customer,
        name: str = "洗车10次卡",
        *,
        vehicle: Vehicle | None = None,
        left: int = 3,
        last_day: dt.date = LAST,
        sold: dt.date = ISSUED,
        state: str = PackageCard.State.ACTIVE,
    ) -> PackageCard:
        org_id = customer.organization_id
        product = products.get((org_id, name))
        if product is None:
            product = CardProduct.objects.create(
                organization_id=org_id,
                code=f"p{len(products)}",
                name=name,
                price=Decimal("299.00"),
                uses=10,
                binding=CardBinding.VEHICLE if vehicle else CardBinding.CUSTOMER,
            )
            products[(org_id, name)] = product
        return PackageCard.objects.create(
            organization_id=org_id,
            customer=customer,
            vehicle=vehicle,
            product=product,
            name=name,
            uses_total=10,
            uses_left=left,
            state=state,
            sold_at=at(sold),
            expires_on=last_day,
        )

    return make


@pytest.fixture
def wang(make_customer: Callable[..., Customer], service: User) -> Customer:
    return make_customer(name="王先生", owner=service.pk)


# --- coupons -------------------------------------------------------------------------------------


def test_a_coupon_comes_its_days_ahead_of_its_last_day_once(
    org: Organization, wang: Customer, service: User, make_coupon: Callable[..., Coupon]
) -> None:
    make_coupon(wang)

    assert sweep(org, COUPON_DUE - dt.timedelta(days=1)) == (0, 0)  # 8 days ahead
    assert sweep(org, COUPON_DUE) == (1, 0)
    assert sweep(org, COUPON_DUE) == (0, 0)  # run twice
    assert sweep(org, COUPON_DUE + dt.timedelta(days=2)) == (0, 0)

    (task,) = tasks(org, COUPON)
    assert (task.customer_id, task.owner_id, task.due_on, task.vehicle_id) == (wang.pk, service.pk, COUPON_DUE, None)
    assert task.key == f"coupon_expiring:{wang.pk}:2026-12-31"
    assert task.reason == "20元工时券，12月31日 到期"
    assert task.script == (
        f"王先生您好，这里是{org.name}。您的20元工时券可以用到12月31日，到期前记得来店里用掉，别浪费了。需要帮您约个时间吗？"
    )


def test_one_call_per_customer_and_last_day_whatever_the_number_of_coupons(
    org: Organization,
    wang: Customer,
    make_customer: Callable[..., Customer],
    make_coupon: Callable[..., Coupon],
) -> None:
    make_coupon(wang)
    make_coupon(wang, "免费洗车券")
    make_coupon(wang)
    make_coupon(wang, last_day=LAST - dt.timedelta(days=1))  # another day: another call
    li = make_customer(name="李女士")
    make_coupon(li)

    assert sweep(org, COUPON_DUE) == (3, 0)

    assert [(t.customer_id, t.due_on, t.reason) for t in tasks(org, COUPON)] == [
        (wang.pk, COUPON_DUE - dt.timedelta(days=1), "20元工时券，12月30日 到期"),
        (wang.pk, COUPON_DUE, "20元工时券 ×2、免费洗车券，12月31日 到期"),
        (li.pk, COUPON_DUE, "20元工时券，12月31日 到期"),
    ]
    assert "您的20元工时券 ×2、免费洗车券可以用到12月31日" in tasks(org, COUPON)[1].script


def test_used_revoked_and_expired_coupons_and_coupons_past_their_day_give_nothing(
    org: Organization, wang: Customer, make_coupon: Callable[..., Coupon]
) -> None:
    for state in (Coupon.State.USED, Coupon.State.REVOKED, Coupon.State.EXPIRED):
        make_coupon(wang, state=state)
    make_coupon(wang, last_day=COUPON_DUE - dt.timedelta(days=1))  # its day passed; the expiry job did not run yet

    assert sweep(org, COUPON_DUE) == (0, 0)
    assert tasks(org, COUPON) == []


def test_a_missed_night_is_caught_up_while_the_coupon_can_be_used_and_not_after(
    org: Organization, wang: Customer, make_customer: Callable[..., Customer], make_coupon: Callable[..., Coupon]
) -> None:
    make_coupon(wang)
    make_coupon(make_customer(name="李女士"), last_day=dt.date(2026, 12, 27))

    # The sweep did not run from 20 to 27 December: Wang's reminder comes, late, with its own due day;
    # Li's coupon ended on the 27th and gets none.
    assert sweep(org, dt.date(2026, 12, 28)) == (1, 0)
    (task,) = tasks(org, COUPON)
    assert (task.customer_id, task.due_on) == (wang.pk, COUPON_DUE)
    assert sweep(org, LAST) == (0, 0)
    assert sweep(org, LAST + dt.timedelta(days=1)) == (0, 0)


def test_a_coupon_issued_within_the_days_ahead_is_due_the_day_it_was_issued(
    org: Organization, wang: Customer, make_coupon: Callable[..., Coupon]
) -> None:
    make_coupon(wang, issued=dt.date(2026, 12, 28))  # valid for four days

    assert sweep(org, dt.date(2026, 12, 28)) == (1, 0)
    assert tasks(org, COUPON)[0].due_on == dt.date(2026, 12, 28)


# --- package cards -------------------------------------------------------------------------------


def test_a_card_with_uses_left_comes_its_days_ahead_once_with_its_car(
    org: Organization,
    wang: Customer,
    service: User,
    make_vehicle: Callable[..., Vehicle],
    make_card: Callable[..., PackageCard],
) -> None:
    car = make_vehicle(wang, plate="粤B12345")
    make_card(wang, vehicle=car)

    assert sweep(org, CARD_DUE - dt.timedelta(days=1)) == (0, 0)  # 15 days ahead
    assert sweep(org, CARD_DUE) == (0, 1)
    assert sweep(org, CARD_DUE) == (0, 0)

    (task,) = tasks(org, CARD)
    assert (task.customer_id, task.vehicle_id, task.owner_id, task.due_on) == (wang.pk, car.pk, service.pk, CARD_DUE)
    assert task.key == f"card_expiring:{wang.pk}:2026-12-31"
    assert task.reason == "洗车10次卡 还剩 3 次，12月31日 到期"
    assert task.script.startswith(f"王先生您好，这里是{org.name}。您的洗车10次卡还剩3次，可以用到12月31日。")


def test_cards_of_one_customer_and_day_are_one_call(
    org: Organization, wang: Customer, make_vehicle: Callable[..., Vehicle], make_card: Callable[..., PackageCard]
) -> None:
    make_card(wang, vehicle=make_vehicle(wang))
    make_card(wang, "保养4次卡", left=1)

    assert sweep(org, CARD_DUE) == (0, 1)

    (task,) = tasks(org, CARD)
    assert task.vehicle_id is None  # two cards, not both of one car
    assert task.reason == "洗车10次卡 还剩 3 次、保养4次卡 还剩 1 次，12月31日 到期"
    assert "您的洗车10次卡、保养4次卡还剩3、1次" in task.script


def test_used_up_revoked_and_expired_cards_and_cards_past_their_day_give_nothing(
    org: Organization, wang: Customer, make_card: Callable[..., PackageCard]
) -> None:
    make_card(wang, left=0, state=PackageCard.State.USED_UP)
    make_card(wang, state=PackageCard.State.REVOKED)
    make_card(wang, state=PackageCard.State.EXPIRED)
    make_card(wang, left=0)  # no uses left
    make_card(wang, last_day=CARD_DUE - dt.timedelta(days=1))

    assert sweep(org, CARD_DUE) == (0, 0)


def test_a_missed_night_is_caught_up_for_a_card_until_its_last_day_and_never_before_its_sale(
    org: Organization, wang: Customer, make_customer: Callable[..., Customer], make_card: Callable[..., PackageCard]
) -> None:
    make_card(wang)
    li = make_customer(name="李女士")
    make_card(li, sold=dt.date(2026, 12, 20))  # bought with ten days left

    assert sweep(org, dt.date(2026, 12, 30)) == (0, 2)
    assert [(t.customer_id, t.due_on) for t in tasks(org, CARD)] == [
        (wang.pk, CARD_DUE),
        (li.pk, dt.date(2026, 12, 20)),
    ]
    CareTask.objects.for_org(org).all().delete()
    assert sweep(org, LAST + dt.timedelta(days=1)) == (0, 0)


def test_a_car_s_card_reminds_the_car_s_owner_now_and_not_a_deleted_car(
    org: Organization,
    wang: Customer,
    advisor: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_card: Callable[..., PackageCard],
) -> None:
    sold = make_vehicle(wang, plate="粤B11111")
    scrapped = make_vehicle(wang, plate="粤B22222")
    make_card(wang, vehicle=sold)
    make_card(wang, vehicle=scrapped)
    zhao = make_customer(name="赵先生", owner=advisor.pk)
    vehicle_transfer(vehicle=sold, to_customer=zhao, by=advisor)
    vehicle_delete(vehicle=scrapped, by=advisor)

    assert sweep(org, CARD_DUE) == (0, 1)

    (task,) = tasks(org, CARD)
    assert (task.customer_id, task.vehicle_id, task.owner_id) == (zhao.pk, sold.pk, advisor.pk)
    assert task.script.startswith("赵先生您好")


# --- both ----------------------------------------------------------------------------------------


def test_deleted_customers_get_no_reminder(
    org: Organization,
    wang: Customer,
    advisor: User,
    make_vehicle: Callable[..., Vehicle],
    make_coupon: Callable[..., Coupon],
    make_card: Callable[..., PackageCard],
) -> None:
    make_coupon(wang)
    make_card(wang)
    make_card(wang, vehicle=make_vehicle(wang))
    customer_delete(customer=wang, by=advisor)

    assert sweep(org, COUPON_DUE) == (0, 0)
    assert not CareTask.objects.for_org(org).exists()


def test_a_rule_switched_off_makes_nothing_and_a_fixed_owner_gets_the_rest(
    org: Organization,
    owner: User,
    advisor: User,
    wang: Customer,
    make_coupon: Callable[..., Coupon],
    make_card: Callable[..., PackageCard],
) -> None:
    make_coupon(wang)
    make_card(wang)
    care_rule_save(organization=org, kind=COUPON, data={"is_active": False}, by=owner)
    care_rule_save(
        organization=org, kind=CARD, data={"owner_mode": OwnerMode.FIXED, "owner": advisor.pk, "lead_days": 3}, by=owner
    )

    assert sweep(org, CARD_DUE) == (0, 0)  # the card is now due 3 days ahead
    assert sweep(org, dt.date(2026, 12, 28)) == (0, 1)
    (task,) = tasks(org, CARD)
    assert (task.owner_id, task.due_on) == (advisor.pk, dt.date(2026, 12, 28))
    assert tasks(org, COUPON) == []

    CareRule.objects.for_org(org).filter(kind=COUPON).update(is_active=True)
    assert sweep(org, dt.date(2026, 12, 28)) == (1, 0)


def test_another_organization_s_coupons_and_cards_never_make_tasks_here(
    org: Organization,
    other_org: Organization,
    outsider: User,
    wang: Customer,
    make_customer: Callable[..., Customer],
    make_coupon: Callable[..., Coupon],
    make_card: Callable[..., PackageCard],
) -> None:
    theirs = make_customer(organization=other_org, by=outsider, name="隔壁客户", owner=outsider.pk)
    make_coupon(theirs)
    make_card(theirs)
    make_coupon(wang)

    assert sweep(org, CARD_DUE) == (0, 0)
    assert sweep(org, COUPON_DUE) == (1, 0)
    assert {t.customer_id for t in CareTask.objects.for_org(org)} == {wang.pk}

    assert sweep(other_org, COUPON_DUE) == (1, 1)
    assert {t.customer_id for t in CareTask.objects.for_org(other_org)} == {theirs.pk}
    assert CareTask.objects.for_org(org).count() == 1


def test_each_kind_reads_what_is_due_in_one_query(
    org: Organization,
    wang: Customer,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_coupon: Callable[..., Coupon],
    make_card: Callable[..., PackageCard],
    django_assert_num_queries: Any,
) -> None:
    for _ in range(3):
        customer = make_customer()
        make_coupon(customer)
        make_coupon(customer, "免费洗车券")
        make_card(customer, vehicle=make_vehicle(customer))
    rules = rules_for(org)
    # The coupons (or cards) within the days ahead without a task, with their holder's name and owner.
    with django_assert_num_queries(1):
        assert len(list(coupons(org, COUPON_DUE, rules[COUPON]))) == 3
    with django_assert_num_queries(1):
        assert len(list(cards(org, CARD_DUE, rules[CARD]))) == 3


# --- the pages and the API -----------------------------------------------------------------------


def test_the_rules_page_lists_both_kinds_and_saves_them(
    client_for: Callable[[User], Client], org: Organization, owner: User
) -> None:
    client = client_for(owner)
    rules = reverse("care:rules")

    body = client.get(rules).content.decode()

    for kind in (COUPON, CARD):
        assert f'id="rule-{kind}"' in body and f'name="{kind}-lead_days"' in body
    assert "{coupon}" in body and "{uses_left}" in body
    response = client.post(
        rules,
        {
            "kind": CARD,
            "card_expiring-is_active": "on",
            "card_expiring-lead_days": "30",
            "card_expiring-owner_mode": "customer_owner",
            "card_expiring-script": "{name}您好，您的{card}还剩{uses_left}次",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{rules}#rule-card_expiring"
    saved = CareRule.objects.for_org(org).get(kind=CARD)
    assert (saved.is_active, saved.lead_days, saved.script) == (True, 30, "{name}您好，您的{card}还剩{uses_left}次")
    refused = client.post(rules, {"kind": COUPON, "coupon_expiring-script": "{name}您好，您的{card}"})
    assert refused.status_code == 200 and not CareRule.objects.for_org(org).filter(kind=COUPON).exists()


def test_the_work_list_shows_the_reminders_with_their_reason(
    client_for: Callable[[User], Client],
    org: Organization,
    wang: Customer,
    service: User,
    make_coupon: Callable[..., Coupon],
    make_card: Callable[..., PackageCard],
) -> None:
    today = timezone.localdate()
    make_coupon(wang, last_day=today + dt.timedelta(days=7))
    make_card(wang, last_day=today + dt.timedelta(days=14))
    care_sweep(organization=org, day=today)

    body = client_for(service).get(reverse("care:mine")).content.decode()

    assert body.count("kind-coupon_expiring") and body.count("kind-card_expiring")
    assert "20元工时券，" in body and "洗车10次卡 还剩 3 次，" in body


def test_the_api_names_every_kind_of_care() -> None:
    assert list(CareKind.values) == CARE_KINDS
