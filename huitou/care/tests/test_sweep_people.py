"""The care the sweep owes people: birthdays (solar and lunar), festivals, declined work, win-back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from huitou.care.models import CareKind, CareRule, CareTask, OwnerMode
from huitou.care.services.sweep import care_sweep
from huitou.customers.models import Customer, Stage
from huitou.lib.birthdays import Birthday, falling_between
from huitou.lib.festivals import festivals_between
from huitou.service.models import ServiceOrder
from huitou.service.services.orders import recommendation_add, recommendation_decide
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def tasks(org: Organization, kind: str) -> list[CareTask]:
    return list(CareTask.objects.for_org(org).filter(kind=kind).order_by("due_on", "pk"))


@pytest.fixture
def person(make_customer: Callable[..., Customer], owner: User) -> Callable[..., Customer]:
    def make(stage: str = Stage.CUSTOMER, **data: object) -> Customer:
        return make_customer(owner=owner.pk, stage=stage, **data)

    return make


# --- birthdays -----------------------------------------------------------------------------------


def test_the_window_of_birthdays_is_the_inverse_of_each_birthday_s_date() -> None:
    # Across a year end and the 2025 leap sixth month (闰六月, 25 July to 22 August).
    for start, end in ((dt.date(2026, 12, 28), dt.date(2027, 1, 9)), (dt.date(2025, 6, 20), dt.date(2025, 9, 2))):
        expected = set()
        for cal, days in (("solar", 31), ("lunar", 30)):
            for month in range(1, 13):
                for day in range(1, days + 1):
                    if cal == "solar" and day > (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31):
                        continue
                    for year in range(start.year - 1, end.year + 1):
                        on = Birthday(month, day, cal).solar_date_in(year)
                        if start <= on <= end:
                            expected.add((cal, month, day, on))
        assert set(falling_between(start, end)) == expected


def test_a_solar_birthday_comes_its_days_ahead_once(
    person: Callable[..., Customer], org: Organization, owner: User
) -> None:
    wang = person(name="王先生", birth_month=12, birth_day=9)
    person(name="潜在客户", stage=Stage.PROSPECT, birth_month=12, birth_day=9)
    person(name="流失客户", stage=Stage.LOST, birth_month=12, birth_day=9)
    assert care_sweep(organization=org, day=dt.date(2026, 12, 5))[CareKind.BIRTHDAY] == 0  # 4 days ahead
    assert care_sweep(organization=org, day=dt.date(2026, 12, 6))[CareKind.BIRTHDAY] == 1
    assert care_sweep(organization=org, day=dt.date(2026, 12, 6))[CareKind.BIRTHDAY] == 0
    assert care_sweep(organization=org, day=dt.date(2026, 12, 8))[CareKind.BIRTHDAY] == 0
    (task,) = tasks(org, CareKind.BIRTHDAY)
    assert (task.customer_id, task.owner_id, task.due_on) == (wang.pk, owner.pk, dt.date(2026, 12, 9))
    assert task.reason == "12月9日 生日"
    assert "王先生" in task.script and org.name in task.script
    # Next year's birthday is a task of its own.
    assert care_sweep(organization=org, day=dt.date(2027, 12, 7))[CareKind.BIRTHDAY] == 1


def test_a_lunar_birthday_falls_on_that_year_s_solar_date(person: Callable[..., Customer], org: Organization) -> None:
    # 农历十月廿九: 7 December 2026; 农历冬月廿四: 1 January 2027, across the year end.
    person(name="李女士", birth_month=10, birth_day=29, birthday_calendar="lunar")
    person(name="赵先生", birth_month=11, birth_day=24, birthday_calendar="lunar")
    care_sweep(organization=org, day=dt.date(2026, 12, 4))
    care_sweep(organization=org, day=dt.date(2026, 12, 29))
    first, second = tasks(org, CareKind.BIRTHDAY)
    assert (first.due_on, first.reason) == (dt.date(2026, 12, 7), "12月7日 生日（农历十月廿九）")
    assert (second.due_on, second.reason) == (dt.date(2027, 1, 1), "1月1日 生日（农历冬月廿四）")


def test_a_lunar_30th_the_year_lacks_and_a_leap_month(person: Callable[..., Customer], org: Organization) -> None:
    # The twelfth month of the lunar year 2025 has 29 days: a 腊月三十 birthday falls on its 29th,
    # 16 February 2026, the day before the Spring Festival.
    person(name="除夕生", birth_month=12, birth_day=30, birthday_calendar="lunar")
    # 2025 has a leap sixth month: a 六月初十 birthday is kept in the regular sixth month (4 July),
    # not again on 初十 of the leap month (3 August).
    person(name="六月生", birth_month=6, birth_day=10, birthday_calendar="lunar")
    for day in (dt.date(2026, 2, 14), dt.date(2025, 7, 2), dt.date(2025, 8, 1)):
        care_sweep(organization=org, day=day)
    assert [t.due_on for t in tasks(org, CareKind.BIRTHDAY)] == [dt.date(2025, 7, 4), dt.date(2026, 2, 16)]


def test_a_missed_night_is_caught_up_for_a_few_days_only(person: Callable[..., Customer], org: Organization) -> None:
    person(birth_month=3, birth_day=1)
    person(birth_month=3, birth_day=10)
    # Nobody ran the sweep until 4 March: the 1 March birthday (3 days ago) still gets its greeting.
    assert care_sweep(organization=org, day=dt.date(2026, 3, 4))[CareKind.BIRTHDAY] == 1
    # Run next on 15 March: the 10 March birthday, five days ago, is not greeted late.
    assert care_sweep(organization=org, day=dt.date(2026, 3, 15))[CareKind.BIRTHDAY] == 0


def test_29_february_birthdays_fall_on_28_february_in_a_common_year(
    person: Callable[..., Customer], org: Organization
) -> None:
    person(birth_month=2, birth_day=29)
    care_sweep(organization=org, day=dt.date(2027, 2, 26))
    assert [t.due_on for t in tasks(org, CareKind.BIRTHDAY)] == [dt.date(2027, 2, 28)]


# --- festivals -----------------------------------------------------------------------------------


def test_the_festivals_with_their_statutory_days_off() -> None:
    spring, lantern = festivals_between(dt.date(2026, 2, 10), dt.date(2026, 3, 3))
    assert (spring.name, spring.day, spring.off_from, spring.off_to) == (
        "春节",
        dt.date(2026, 2, 17),
        dt.date(2026, 2, 15),
        dt.date(2026, 2, 23),
    )
    assert (lantern.name, lantern.day, lantern.off_from) == ("元宵节", dt.date(2026, 3, 3), None)
    (mid_autumn,) = festivals_between(dt.date(2027, 9, 10), dt.date(2027, 9, 20))
    assert (mid_autumn.name, mid_autumn.day) == ("中秋节", dt.date(2027, 9, 15))


def test_members_are_greeted_before_a_festival_once(person: Callable[..., Customer], org: Organization) -> None:
    member = person(name="会员甲", stage=Stage.MEMBER)
    person(name="普通客户", stage=Stage.CUSTOMER)
    assert care_sweep(organization=org, day=dt.date(2026, 2, 9))[CareKind.FESTIVAL] == 0
    assert care_sweep(organization=org, day=dt.date(2026, 2, 10))[CareKind.FESTIVAL] == 1
    assert care_sweep(organization=org, day=dt.date(2026, 2, 12))[CareKind.FESTIVAL] == 0
    (task,) = tasks(org, CareKind.FESTIVAL)
    assert (task.customer_id, task.due_on) == (member.pk, dt.date(2026, 2, 17))
    assert task.reason == "春节 2月17日，放假 2月15日 至 2月23日"
    assert "春节" in task.script
    # A year the holiday notice is not out for yet: the festival without the days off.
    care_sweep(organization=org, day=dt.date(2027, 9, 10))
    assert tasks(org, CareKind.FESTIVAL)[-1].reason == "中秋节 9月15日"


# --- declined work and win-back ------------------------------------------------------------------


def test_declined_work_comes_back_to_the_advisor_two_weeks_later(
    make_order: Callable[..., ServiceOrder], advisor: User, owner: User, org: Organization
) -> None:
    order = make_order(mileage_km=40_000, now=at(dt.date(2026, 11, 1)))
    kept = recommendation_add(order=order, by=advisor, description="前刹车片磨损", now=at(dt.date(2026, 11, 1)))
    recommendation_decide(recommendation=kept, by=advisor, accept=False, now=at(dt.date(2026, 11, 1), 11))
    taken = recommendation_add(order=order, by=advisor, description="更换雨刮", now=at(dt.date(2026, 11, 1)))
    assert care_sweep(organization=org, day=dt.date(2026, 11, 14))[CareKind.DECLINED_WORK] == 0
    assert care_sweep(organization=org, day=dt.date(2026, 11, 15))[CareKind.DECLINED_WORK] == 1
    assert care_sweep(organization=org, day=dt.date(2026, 11, 16))[CareKind.DECLINED_WORK] == 0
    (task,) = tasks(org, CareKind.DECLINED_WORK)
    assert (task.owner_id, task.order_id, task.due_on) == (order.advisor_id, order.pk, dt.date(2026, 11, 15))
    assert task.reason == f"{order.vehicle.plate}：前刹车片磨损，11月1日 未做"
    assert taken.pk != kept.pk


def test_a_dormant_customer_gets_one_win_back_per_dormancy(person: Callable[..., Customer], org: Organization) -> None:
    quiet = person(name="老客户", stage=Stage.DORMANT)
    Customer.objects.for_org(org).filter(pk=quiet.pk).update(last_visit_at=at(dt.date(2026, 5, 2)))
    person(stage=Stage.CUSTOMER)
    assert care_sweep(organization=org, day=dt.date(2026, 12, 1))[CareKind.WINBACK] == 1
    assert care_sweep(organization=org, day=dt.date(2026, 12, 2))[CareKind.WINBACK] == 0
    (task,) = tasks(org, CareKind.WINBACK)
    assert (task.customer_id, task.due_on) == (quiet.pk, dt.date(2026, 12, 1))
    assert task.reason == "5月2日 之后没有再来（213 天）"
    # They came back once and went quiet again: a new win-back.
    Customer.objects.for_org(org).filter(pk=quiet.pk).update(last_visit_at=at(dt.date(2027, 1, 5)))
    assert care_sweep(organization=org, day=dt.date(2027, 8, 1))[CareKind.WINBACK] == 1


def test_each_kind_can_be_turned_off_or_given_to_one_person(
    person: Callable[..., Customer], org: Organization, service: User
) -> None:
    person(stage=Stage.MEMBER, birth_month=2, birth_day=14)
    CareRule.objects.create(organization=org, kind=CareKind.FESTIVAL, is_active=False)
    CareRule.objects.create(organization=org, kind=CareKind.BIRTHDAY, owner_mode=OwnerMode.FIXED, owner=service)
    added = care_sweep(organization=org, day=dt.date(2026, 2, 12))
    assert (added[CareKind.BIRTHDAY], added[CareKind.FESTIVAL]) == (1, 0)
    assert tasks(org, CareKind.BIRTHDAY)[0].owner_id == service.pk


def test_people_care_keeps_to_its_organization(
    make_customer: Callable[..., Customer], org: Organization, other_org: Organization, outsider: User
) -> None:
    make_customer(organization=other_org, by=outsider, stage=Stage.MEMBER, birth_month=2, birth_day=14)
    added = care_sweep(organization=org, day=dt.date(2026, 2, 12))
    assert (added[CareKind.BIRTHDAY], added[CareKind.FESTIVAL]) == (0, 0)
    assert care_sweep(organization=other_org, day=dt.date(2026, 2, 12))[CareKind.BIRTHDAY] == 1
