"""Whom a care rule reaches: grades (a manual grade first) and tags, in the service, the sweep and the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from huitou.analytics.grades import grade_override_set
from huitou.analytics.models import CustomerScore, Grade
from huitou.care import errors
from huitou.care.models import CareKind, CareRule, CareRuleTag, CareTask
from huitou.care.services.rule_settings import MAX_TAGS, care_rule_save
from huitou.care.services.rules import rules_for
from huitou.care.services.sweep import care_sweep
from huitou.care.services.sweep_people import birthdays, festivals
from huitou.customers.models import Customer, Stage, Tag, Vehicle
from huitou.customers.services import vehicle_update
from huitou.customers.services.tags import customer_tags_set
from huitou.loyalty.models import CardBinding, CardProduct, Coupon, CouponKind, CouponTemplate, PackageCard
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import (
    order_add_line,
    order_complete,
    order_pay,
    recommendation_add,
    recommendation_decide,
)
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

RULES = reverse("care:rules")
# 12 February 2026: the Spring Festival (17 February) is within the festival rule's 7 days ahead.
EVE = dt.date(2026, 2, 12)


def refused(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages] for field, messages in exc.value.message_dict.items()}


def reached(org: Organization, kind: str) -> set[int]:
    return set(CareTask.objects.for_org(org).filter(kind=kind).values_list("customer_id", flat=True))


@pytest.fixture
def member(make_customer: Callable[..., Customer], owner: User) -> Callable[..., Customer]:
    """A member with a birthday on 14 February, graded ``grade`` by the rules (None: never graded)."""

    def make(name: str, grade: str | None = None, tags: tuple[str, ...] = ()) -> Customer:
        customer = make_customer(name=name, owner=owner.pk, stage=Stage.MEMBER, birth_month=2, birth_day=14)
        if grade is not None:
            CustomerScore.objects.create(
                organization_id=customer.organization_id, customer=customer, computed_at=timezone.now(), grade=grade
            )
        if tags:
            customer_tags_set(customer=customer, names=tags)
        return customer

    return make


def tag(org: Organization, name: str) -> Tag:
    return Tag.objects.for_org(org).get_or_create(organization=org, name=name)[0]


# --- the service -----------------------------------------------------------------------------


def test_grades_and_tags_are_saved_in_order_and_read_with_the_rules_in_one_query(
    org: Organization, owner: User, member: Callable[..., Customer], django_assert_num_queries: Any
) -> None:
    member("老客户", tags=("老客户", "车队"))
    fleet, old = tag(org, "车队"), tag(org, "老客户")
    care_rule_save(
        organization=org,
        kind=CareKind.FESTIVAL,
        data={"grades": ["B", "A", "A"], "tags": [str(old.pk), fleet]},
        by=owner,
    )
    care_rule_save(organization=org, kind=CareKind.BIRTHDAY, data={"grades": ["C"]}, by=owner)

    # 1 the rules with their tags (joined).
    with django_assert_num_queries(1):
        rules = rules_for(org)
    festival = rules[CareKind.FESTIVAL]
    assert (festival.grades, festival.tag_ids) == (("A", "B"), tuple(sorted((old.pk, fleet.pk))))
    assert (rules[CareKind.BIRTHDAY].grades, rules[CareKind.BIRTHDAY].tag_ids) == (("C",), ())
    assert rules[CareKind.MAINTENANCE].for_everyone and not festival.for_everyone

    # Empty lists: everyone again; a field left out keeps its value.
    care_rule_save(organization=org, kind=CareKind.FESTIVAL, data={"tags": []}, by=owner)
    assert rules_for(org)[CareKind.FESTIVAL].grades == ("A", "B")
    care_rule_save(organization=org, kind=CareKind.FESTIVAL, data={"grades": []}, by=owner)
    assert rules_for(org)[CareKind.FESTIVAL].for_everyone
    assert not CareRuleTag.objects.for_org(org).exists()


@pytest.mark.parametrize("grades", [["D"], "AB", ["A", "a"], None, [1], {"A": 1}])
def test_grades_are_a_list_of_a_b_c(org: Organization, owner: User, grades: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        care_rule_save(organization=org, kind=CareKind.BIRTHDAY, data={"grades": grades}, by=owner)
    assert refused(exc) == {"grades": [str(errors.RULE_GRADE_UNKNOWN)]}
    assert not CareRule.objects.for_org(org).exists()


def test_a_tag_of_another_organization_cannot_be_chosen(
    org: Organization, other_org: Organization, owner: User, member: Callable[..., Customer]
) -> None:
    member("王先生", tags=("车队",))
    theirs = Tag.objects.create(organization=other_org, name="车队")
    ours = tag(org, "车队")
    for wanted in ([theirs.pk], [ours.pk, theirs.pk], [theirs], ["abc"], [True], [1.0], "车队", [999_999]):
        with pytest.raises(ValidationError) as exc:
            care_rule_save(organization=org, kind=CareKind.BIRTHDAY, data={"tags": wanted}, by=owner)
        assert refused(exc) == {"tags": [str(errors.RULE_TAG_UNKNOWN)]}
    assert not CareRule.objects.for_org(org).exists() and not CareRuleTag.objects.for_org(org).exists()


def test_at_most_twenty_tags(org: Organization, owner: User) -> None:
    many = [Tag.objects.create(organization=org, name=f"标签{n}").pk for n in range(MAX_TAGS + 1)]
    with pytest.raises(ValidationError) as exc:
        care_rule_save(organization=org, kind=CareKind.BIRTHDAY, data={"tags": many}, by=owner)
    assert refused(exc) == {"tags": [str(errors.RULE_TOO_MANY_TAGS % {"max": MAX_TAGS})]}
    care_rule_save(organization=org, kind=CareKind.BIRTHDAY, data={"tags": many[:MAX_TAGS]}, by=owner)
    assert len(rules_for(org)[CareKind.BIRTHDAY].tag_ids) == MAX_TAGS


def test_a_callback_reaches_every_customer(org: Organization, owner: User) -> None:
    vip = Tag.objects.create(organization=org, name="VIP")
    for data, field in (({"grades": ["A"]}, "grades"), ({"tags": [vip.pk]}, "tags")):
        with pytest.raises(ValidationError) as exc:
            care_rule_save(organization=org, kind=CareKind.CALLBACK, data=data, by=owner)
        assert refused(exc) == {field: [str(errors.RULE_AUDIENCE_CALLBACK)]}
    care_rule_save(organization=org, kind=CareKind.CALLBACK, data={"grades": [], "tags": []}, by=owner)
    assert rules_for(org)[CareKind.CALLBACK].for_everyone


def test_a_tag_a_rule_names_cannot_be_deleted_under_it(org: Organization, owner: User) -> None:
    # Deleting it would widen the rule to everyone without a word: the tag stays until the rule lets it go.
    from django.db.models import RestrictedError

    vip = Tag.objects.create(organization=org, name="VIP")
    care_rule_save(organization=org, kind=CareKind.BIRTHDAY, data={"tags": [vip.pk]}, by=owner)
    with pytest.raises(RestrictedError):
        vip.delete()
    care_rule_save(organization=org, kind=CareKind.BIRTHDAY, data={"tags": []}, by=owner)
    vip.delete()


# --- the sweep -------------------------------------------------------------------------------


def test_festivals_and_birthdays_limited_to_grade_a_reach_the_a_customers_override_included(
    org: Organization, owner: User, member: Callable[..., Customer]
) -> None:
    graded_a = member("甲", Grade.A)
    raised = member("乙", Grade.C)
    lowered = member("丙", Grade.A)
    plain_b = member("丁", Grade.B)
    never = member("戊")  # never graded: in no grade
    grade_override_set(customer=raised, grade=Grade.A, reason="常介绍朋友来", by=owner)
    grade_override_set(customer=lowered, grade=Grade.B, reason="只来过一次大修", by=owner)
    for kind in (CareKind.FESTIVAL, CareKind.BIRTHDAY):
        care_rule_save(organization=org, kind=kind, data={"grades": ["A"]}, by=owner)

    care_sweep(organization=org, day=EVE)

    assert reached(org, CareKind.FESTIVAL) == {graded_a.pk, raised.pk}
    assert reached(org, CareKind.BIRTHDAY) == {graded_a.pk, raised.pk}
    # B and C together: everyone graded but the A's.
    CareTask.objects.for_org(org).delete()
    care_rule_save(organization=org, kind=CareKind.FESTIVAL, data={"grades": ["B", "C"]}, by=owner)
    care_sweep(organization=org, day=EVE)
    assert reached(org, CareKind.FESTIVAL) == {lowered.pk, plain_b.pk}
    assert never.pk not in reached(org, CareKind.BIRTHDAY)


def test_a_rule_limited_to_a_tag_reaches_the_tagged_only_and_with_a_grade_needs_both(
    org: Organization, owner: User, member: Callable[..., Customer]
) -> None:
    fleet_a = member("车队甲", Grade.A, tags=("车队",))
    fleet_c = member("车队丙", Grade.C, tags=("车队", "老客户"))
    old = member("老客户", Grade.A, tags=("老客户",))
    member("无标签", Grade.A)
    fleet, old_tag = tag(org, "车队"), tag(org, "老客户")
    care_rule_save(organization=org, kind=CareKind.BIRTHDAY, data={"tags": [fleet.pk]}, by=owner)
    care_rule_save(organization=org, kind=CareKind.FESTIVAL, data={"tags": [fleet.pk], "grades": ["A"]}, by=owner)

    care_sweep(organization=org, day=EVE)

    assert reached(org, CareKind.BIRTHDAY) == {fleet_a.pk, fleet_c.pk}
    assert reached(org, CareKind.FESTIVAL) == {fleet_a.pk}
    # Two tags: a customer with either.
    CareTask.objects.for_org(org).delete()
    care_rule_save(organization=org, kind=CareKind.BIRTHDAY, data={"tags": [fleet.pk, old_tag.pk]}, by=owner)
    care_sweep(organization=org, day=EVE)
    assert reached(org, CareKind.BIRTHDAY) == {fleet_a.pk, fleet_c.pk, old.pk}


def test_an_empty_audience_reaches_everyone_as_before(
    org: Organization, owner: User, member: Callable[..., Customer]
) -> None:
    everyone = {member("甲", Grade.A).pk, member("乙", Grade.C, tags=("车队",)).pk, member("丙").pk}
    care_rule_save(organization=org, kind=CareKind.FESTIVAL, data={"grades": [], "tags": []}, by=owner)

    care_sweep(organization=org, day=EVE)

    assert reached(org, CareKind.FESTIVAL) == everyone and reached(org, CareKind.BIRTHDAY) == everyone


def test_a_grade_changed_between_two_sweeps_counts_from_the_next_one(
    org: Organization, owner: User, member: Callable[..., Customer]
) -> None:
    wang = member("王先生", Grade.B)
    li = member("李女士", Grade.A)
    care_rule_save(organization=org, kind=CareKind.FESTIVAL, data={"grades": ["A"]}, by=owner)

    assert care_sweep(organization=org, day=EVE)[CareKind.FESTIVAL] == 1
    grade_override_set(customer=wang, grade=Grade.A, reason="介绍了三位朋友", by=owner)
    grade_override_set(customer=li, grade=Grade.C, reason="搬去外地", by=owner)
    assert care_sweep(organization=org, day=EVE + dt.timedelta(days=1))[CareKind.FESTIVAL] == 1

    # Wang's greeting comes on the second night; Li's, made before the change, stays.
    assert reached(org, CareKind.FESTIVAL) == {wang.pk, li.pk}
    assert care_sweep(organization=org, day=EVE + dt.timedelta(days=2))[CareKind.FESTIVAL] == 0


def test_the_per_vehicle_and_other_kinds_keep_to_the_audience(
    org: Organization,
    owner: User,
    advisor: User,
    member: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> None:
    today = dt.date(2026, 12, 5)
    fleet = member("车队", Grade.B, tags=("车队",))
    other = member("散客", Grade.B)
    for customer in (fleet, other):
        car = make_vehicle(customer)
        vehicle_update(
            vehicle=car,
            by=advisor,
            data={"insurance_expiry": today + dt.timedelta(days=10), "inspection_due": today + dt.timedelta(days=10)},
        )
    Customer.objects.for_org(org).update(stage=Stage.DORMANT, last_visit_at=timezone.now() - dt.timedelta(days=200))
    fleet_tag = tag(org, "车队")
    for kind in (CareKind.INSURANCE, CareKind.WINBACK):
        care_rule_save(organization=org, kind=kind, data={"tags": [fleet_tag.pk]}, by=owner)
    care_rule_save(organization=org, kind=CareKind.INSPECTION, data={"grades": ["A"]}, by=owner)

    care_sweep(organization=org, day=today)

    assert reached(org, CareKind.INSURANCE) == {fleet.pk} and reached(org, CareKind.WINBACK) == {fleet.pk}
    assert reached(org, CareKind.INSPECTION) == set()


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def test_maintenance_warranty_declined_work_coupons_and_cards_keep_to_the_audience(
    org: Organization,
    owner: User,
    advisor: User,
    member: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., ServiceItem],
) -> None:
    # Paid on 2 June: the six-month service and its six-month promise fall due on 2 December; work declined
    # on 14 November is due 14 days later; a coupon and a card end on 1 December. Swept on 28 November.
    day = dt.date(2026, 11, 28)
    oil = make_service_item(name="小保养", interval_months=6)
    fleet = member("车队", Grade.B, tags=("车队",))
    other = member("散客", Grade.B)
    template = CouponTemplate.objects.create(
        organization=org, code="t1", name="20元工时券", kind=CouponKind.AMOUNT, value=20
    )
    product = CardProduct.objects.create(
        organization=org, code="p1", name="洗车10次卡", price=Decimal("299.00"), uses=10, binding=CardBinding.CUSTOMER
    )
    for n, customer in enumerate((fleet, other)):
        car = make_vehicle(customer)
        order = make_order(vehicle=car, mileage_km=40_000, now=at(dt.date(2026, 6, 2)))
        order_add_line(
            order=order, by=advisor, service=oil, warranty_months=6, warranty_km=None, now=at(dt.date(2026, 6, 2))
        )
        order_complete(order=order, by=advisor, now=at(dt.date(2026, 6, 2)))
        order_pay(order=order, by=advisor, method="cash", amount=order.total, now=at(dt.date(2026, 6, 2)))
        later = make_order(vehicle=car, mileage_km=45_000, now=at(dt.date(2026, 11, 14)))
        declined = recommendation_add(
            order=later, by=advisor, description="前刹车片磨损", now=at(dt.date(2026, 11, 14))
        )
        recommendation_decide(recommendation=declined, by=advisor, accept=False, now=at(dt.date(2026, 11, 14), 11))
        Coupon.objects.create(
            organization=org,
            customer=customer,
            template=template,
            name="20元工时券",
            code=f"C{n}",
            state=Coupon.State.ISSUED,
            source="manual",
            issued_at=at(dt.date(2026, 10, 1)),
            expires_on=dt.date(2026, 12, 1),
        )
        PackageCard.objects.create(
            organization=org,
            customer=customer,
            product=product,
            name="洗车10次卡",
            uses_total=10,
            uses_left=3,
            state=PackageCard.State.ACTIVE,
            sold_at=at(dt.date(2026, 10, 1)),
            expires_on=dt.date(2026, 12, 1),
        )
    kinds = (
        CareKind.MAINTENANCE,
        CareKind.WARRANTY,
        CareKind.DECLINED_WORK,
        CareKind.COUPON_EXPIRING,
        CareKind.CARD_EXPIRING,
    )
    # Everyone first (on a copy of the day's data: nothing is written), then the tag only.
    with transaction.atomic():
        care_sweep(organization=org, day=day)
        assert {kind: reached(org, kind) for kind in kinds} == dict.fromkeys(kinds, {fleet.pk, other.pk})
        transaction.set_rollback(True)
    fleet_tag = tag(org, "车队")
    for kind in kinds:
        care_rule_save(organization=org, kind=kind, data={"tags": [fleet_tag.pk]}, by=owner)

    care_sweep(organization=org, day=day)

    assert {kind: reached(org, kind) for kind in kinds} == dict.fromkeys(kinds, {fleet.pk})


def test_the_audience_is_part_of_the_sweep_s_own_query(
    org: Organization, owner: User, member: Callable[..., Customer], django_assert_num_queries: Any
) -> None:
    member("甲", Grade.A, tags=("车队",))
    member("乙", Grade.A)
    fleet = tag(org, "车队")
    care_rule_save(organization=org, kind=CareKind.BIRTHDAY, data={"grades": ["A"], "tags": [fleet.pk]}, by=owner)
    care_rule_save(organization=org, kind=CareKind.FESTIVAL, data={"grades": ["A"], "tags": [fleet.pk]}, by=owner)
    rules = rules_for(org)

    # 1 the birthday tasks already made in the window, 2 the customers whose birthday falls in it
    # (the grades and tags as IN subqueries of the same select).
    with django_assert_num_queries(2), CaptureQueriesContext(connection) as seen:
        assert len(list(birthdays(org, EVE, rules[CareKind.BIRTHDAY]))) == 1
    people = seen.captured_queries[1]["sql"].lower()
    assert "analytics_customerscore" in people and "customers_customertag" in people
    # 1 the members without a greeting for the Spring Festival (its tasks and the audience as subqueries).
    with django_assert_num_queries(1):
        assert len(list(festivals(org, EVE, rules[CareKind.FESTIVAL]))) == 1


# --- the page --------------------------------------------------------------------------------


def test_the_page_shows_and_saves_the_audience_like_the_service(
    client_for: Callable[[User], Client],
    org: Organization,
    owner: User,
    member: Callable[..., Customer],
    django_assert_num_queries: Any,
) -> None:
    member("甲", Grade.A, tags=("车队", "老客户"))
    fleet, old = tag(org, "车队"), tag(org, "老客户")
    client = client_for(owner)
    # 1 session, 2 user + organization, 3 the staff, 4 the tags, 5 the rules (with their tags),
    # 6 the user's shops (switcher).
    with django_assert_num_queries(6):
        page = client.get(RULES)
    body = page.content.decode()
    assert 'name="festival-grades"' in body and f'name="festival-tags" value="{fleet.pk}"' in body
    assert 'name="callback-grades"' not in body and 'name="callback-tags"' not in body

    response = client.post(
        RULES,
        {
            "kind": "festival",
            "festival-is_active": "on",
            "festival-lead_days": "7",
            "festival-owner_mode": "customer_owner",
            "festival-grades": ["A", "B"],
            "festival-tags": [str(old.pk)],
        },
    )

    assert response.status_code == 302
    page_rule = rules_for(org)[CareKind.FESTIVAL]
    care_rule_save(organization=org, kind=CareKind.BIRTHDAY, data={"grades": ["B", "A"], "tags": [old]}, by=owner)
    service_rule = rules_for(org)[CareKind.BIRTHDAY]
    assert (
        (page_rule.grades, page_rule.tag_ids) == (service_rule.grades, service_rule.tag_ids) == (("A", "B"), (old.pk,))
    )
    body = client.get(RULES).content.decode()
    assert zh("Grade %(grades)s", grades="A、B") in body and "老客户" in body


def test_the_page_refuses_a_tag_of_another_organization_on_the_field(
    client_for: Callable[[User], Client], org: Organization, other_org: Organization, owner: User
) -> None:
    theirs = Tag.objects.create(organization=other_org, name="VIP")
    fields = {"kind": "birthday", "birthday-lead_days": "3", "birthday-owner_mode": "customer_owner"}

    foreign = client_for(owner).post(RULES, {**fields, "birthday-tags": [str(theirs.pk)]})
    bad_grade = client_for(owner).post(RULES, {**fields, "birthday-grades": ["D"]})

    assert foreign.status_code == 200 and escape(zh(errors.RULE_TAG_UNKNOWN)) in foreign.content.decode()
    assert bad_grade.status_code == 200 and escape(zh(errors.RULE_GRADE_UNKNOWN)) in bad_grade.content.decode()
    assert not CareRule.objects.for_org(org).exists()
