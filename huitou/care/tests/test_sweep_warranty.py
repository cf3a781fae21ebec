"""The warranty reminder: whichever comes first of the months and the kilometres, 14 days ahead, once per line.

Known answers: the brake pads (3 months or 3,000 km) are paid on 2 June 2026 at 41,200 km, so
the date leg ends on 2 September 2026 and the distance leg at 44,200 km.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from huitou.care.models import CareKind, CareRule, CareTask, MaintenanceDue, OwnerMode
from huitou.care.services.rules import rules_for
from huitou.care.services.sweep import care_sweep
from huitou.care.services.sweep_warranty import warranties
from huitou.customers.models import Customer, Vehicle
from huitou.customers.services import customer_delete, mileage_record, vehicle_delete
from huitou.service.models import OrderLine, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay, order_void
from huitou.service.services.warranty import order_line_warranty_set
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db

PAID = dt.date(2026, 6, 2)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def brakes(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(name="刹车片更换", category="repair", warranty_months=3, warranty_km=3000)


@pytest.fixture
def car(make_customer: Callable[..., Customer], make_vehicle: Callable[..., Vehicle], service: User) -> Vehicle:
    return make_vehicle(make_customer(name="王先生", owner=service.pk), plate="粤B12345")


def visit(
    make_order: Callable[..., ServiceOrder],
    vehicle: Vehicle,
    by: User,
    item: ServiceItem,
    *,
    day: dt.date = PAID,
    km: int | None = 41_200,
    pay: bool = True,
    **promise: Any,
) -> OrderLine:
    """A line of ``item`` on an order of ``day`` (read at ``km`` on arrival), paid unless told."""
    when = at(day)
    order = make_order(vehicle=vehicle, by=by, mileage_km=km, now=when)
    line = order_add_line(order=order, by=by, service=item, now=when, **promise)
    if pay:
        order_complete(order=order, by=by, now=when)
        order_pay(order=order, by=by, method="cash", amount=order.total, now=when)
    return line


def drives(car: Vehicle, by: User, km_before: int, days_before: int) -> None:
    """A reading ``days_before`` the visit: the daily distance is (41,200 − km_before) / days_before."""
    mileage_record(vehicle=car, km=km_before, by=by, read_at=at(PAID - dt.timedelta(days=days_before)))


def sweep(org: Organization, day: dt.date, hour: int = 3) -> int:
    """The reminders a run for ``day`` adds (counted by the run's moment: a second run is an hour later)."""
    return care_sweep(organization=org, day=day, now=at(day, hour))[CareKind.WARRANTY]


def reminders(org: Organization) -> list[CareTask]:
    return list(CareTask.objects.for_org(org).filter(kind=CareKind.WARRANTY).order_by("pk"))


# --- whichever comes first -------------------------------------------------------------------------


def test_a_slow_driver_is_reminded_14_days_before_the_date(
    org: Organization, make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, brakes: ServiceItem
) -> None:
    drives(car, advisor, 40_000, 90)  # 13.3 km a day: 3,000 km take 225 days, the 3 months come first
    line = visit(make_order, car, advisor, brakes)
    assert sweep(org, dt.date(2026, 8, 18)) == 0  # 15 days before 2 September
    assert sweep(org, dt.date(2026, 8, 19)) == 1
    (task,) = reminders(org)
    assert (task.key, task.due_on, task.order_id, task.vehicle_id, task.service_id) == (
        f"warranty:{line.pk}",
        dt.date(2026, 8, 19),
        line.order_id,
        car.pk,
        brakes.pk,
    )
    assert task.customer_id == car.customer_id
    assert task.reason == "刹车片更换 质保 2026年9月2日 或 44,200 km 到期（先到为准）"
    assert task.script.startswith("王先生您好，粤B12345的刹车片更换质保将于9月2日前后到期")


def test_a_fast_driver_is_reminded_before_the_kilometres_run_out(
    org: Organization, make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, brakes: ServiceItem
) -> None:
    drives(car, advisor, 33_600, 150)  # 50.67 km a day: 3,000 km in 59.2 days, so on 1 August
    visit(make_order, car, advisor, brakes)
    assert sweep(org, dt.date(2026, 7, 17)) == 0
    assert sweep(org, dt.date(2026, 7, 18)) == 1
    (task,) = reminders(org)
    assert task.due_on == dt.date(2026, 7, 18)
    assert task.reason == "刹车片更换 质保 2026年9月2日 或 44,200 km 到期（先到为准）"


def test_the_daily_distance_of_the_maintenance_dues_counts_first(
    org: Organization,
    make_order: Callable[..., ServiceOrder],
    car: Vehicle,
    advisor: User,
    brakes: ServiceItem,
    make_service_item: Callable[..., ServiceItem],
) -> None:
    drives(car, advisor, 40_000, 90)  # the readings alone say 13.3 km a day
    visit(make_order, car, advisor, make_service_item(name="小保养", interval_km=5000, interval_months=6))
    visit(make_order, car, advisor, brakes, km=None)  # 3,000 km at 100 a day: 2 July
    MaintenanceDue.objects.for_org(org).filter(vehicle=car).update(km_per_day=100.0)
    rule = rules_for(org)[CareKind.WARRANTY]
    (row,) = warranties(org, dt.date(2026, 6, 18), rule)
    assert row["due_on"] == dt.date(2026, 6, 18)
    assert row["reason"] == "刹车片更换 质保 2026年9月2日 或 再行驶 3,000 km 到期（先到为准）"


def test_without_any_reading_the_default_daily_distance_counts(
    org: Organization, make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, brakes: ServiceItem
) -> None:
    visit(make_order, car, advisor, brakes, km=None)  # 35 km a day: 3,000 km in 86 days, 27 August
    assert sweep(org, dt.date(2026, 8, 12)) == 0
    assert sweep(org, dt.date(2026, 8, 13)) == 1


def test_a_distance_only_promise_names_the_odometer_and_is_never_due_before_the_visit(
    org: Organization, make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, brakes: ServiceItem
) -> None:
    drives(car, advisor, 33_600, 150)  # 500 km at 50.67 a day: 10 days, 12 June
    visit(make_order, car, advisor, brakes, warranty_months=None, warranty_km=500)
    assert sweep(org, PAID) == 1
    (task,) = reminders(org)
    assert task.due_on == PAID  # 14 days before 12 June would be before the visit
    assert task.reason == "刹车片更换 质保 41,700 km 到期（预计 2026年6月12日）"


def test_a_promise_ending_this_month_still_counts_an_older_one_does_not(
    org: Organization, make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, brakes: ServiceItem
) -> None:
    drives(car, advisor, 40_000, 200)
    visit(make_order, car, advisor, brakes, day=dt.date(2026, 1, 10), km=None, warranty_km=None)  # ended 10 April
    visit(make_order, car, advisor, brakes, day=dt.date(2026, 3, 15), km=None, warranty_km=None)  # ends 15 June
    assert sweep(org, dt.date(2026, 6, 10)) == 1
    (task,) = reminders(org)
    assert (task.due_on, task.reason) == (dt.date(2026, 6, 1), "刹车片更换 质保 2026年6月15日 到期")


# --- the promise as it stands, and what gets none ------------------------------------------------


def test_a_changed_promise_is_reminded_as_changed(
    org: Organization, make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, brakes: ServiceItem
) -> None:
    drives(car, advisor, 40_000, 90)
    line = visit(make_order, car, advisor, brakes)
    order_line_warranty_set(line=line, by=advisor, months=6, km=None, reason="延期服务：6个月")
    assert sweep(org, dt.date(2026, 8, 19)) == 0  # the item's 3 months would have been due
    assert sweep(org, dt.date(2026, 11, 17)) == 0
    assert sweep(org, dt.date(2026, 11, 18)) == 1  # 14 days before 2 December
    assert reminders(org)[0].reason == "刹车片更换 质保 2026年12月2日 到期"


def test_no_reminder_for_a_line_without_a_promise_a_void_order_an_unpaid_one_or_a_deleted_car_or_file(
    org: Organization,
    make_order: Callable[..., ServiceOrder],
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    car: Vehicle,
    advisor: User,
    brakes: ServiceItem,
) -> None:
    visit(make_order, car, advisor, brakes, warranty_months=None, warranty_km=None)
    void = visit(make_order, car, advisor, brakes, pay=False)
    order_void(order=void.order, by=advisor, reason="客户取消", now=at(PAID))
    visit(make_order, car, advisor, brakes, pay=False)  # open
    sold = make_vehicle(car.customer, plate="粤B22222")
    visit(make_order, sold, advisor, brakes, km=None)
    vehicle_delete(vehicle=sold, by=advisor)
    gone = make_customer(name="李女士")
    visit(make_order, make_vehicle(gone, plate="粤B33333"), advisor, brakes, km=None)
    customer_delete(customer=gone, by=advisor)
    assert sweep(org, dt.date(2026, 8, 25)) == 0


# --- once, catching up ---------------------------------------------------------------------------


def test_a_second_run_adds_nothing_and_a_missed_night_is_caught_up_while_the_promise_runs(
    org: Organization, make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, brakes: ServiceItem
) -> None:
    drives(car, advisor, 40_000, 90)
    visit(make_order, car, advisor, brakes)
    assert sweep(org, dt.date(2026, 8, 25)) == 1  # the nights from 19 August were missed
    assert sweep(org, dt.date(2026, 8, 25), hour=4) == 0
    assert sweep(org, dt.date(2026, 8, 26)) == 0
    (task,) = reminders(org)
    assert task.due_on == dt.date(2026, 8, 19)  # overdue on the list, as it should have come


def test_a_promise_that_has_ended_gets_no_reminder(
    org: Organization, make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, brakes: ServiceItem
) -> None:
    drives(car, advisor, 40_000, 90)
    visit(make_order, car, advisor, brakes)
    assert sweep(org, dt.date(2026, 9, 3)) == 0
    assert sweep(org, dt.date(2026, 9, 2)) == 1  # its last day still counts


# --- the rule ------------------------------------------------------------------------------------


def test_the_rule_sets_the_days_ahead_the_owner_and_can_be_off(
    org: Organization,
    make_order: Callable[..., ServiceOrder],
    car: Vehicle,
    advisor: User,
    service: User,
    brakes: ServiceItem,
) -> None:
    drives(car, advisor, 40_000, 90)
    visit(make_order, car, advisor, brakes)
    rule = CareRule.objects.create(organization=org, kind=CareKind.WARRANTY, is_active=False, lead_days=30)
    assert sweep(org, dt.date(2026, 8, 25)) == 0
    CareRule.objects.for_org(org).filter(pk=rule.pk).update(is_active=True, owner_mode=OwnerMode.ADVISOR)
    assert sweep(org, dt.date(2026, 8, 3)) == 1  # 30 days before 2 September
    (task,) = reminders(org)
    assert (task.due_on, task.owner_id) == (dt.date(2026, 8, 3), advisor.pk)  # the order's advisor
    CareTask.objects.for_org(org).all().delete()
    CareRule.objects.for_org(org).filter(pk=rule.pk).update(owner_mode=OwnerMode.CUSTOMER_OWNER)
    assert sweep(org, dt.date(2026, 8, 3)) == 1
    assert reminders(org)[0].owner_id == service.pk  # the customer's owner


def test_the_rows_are_read_in_one_query_and_the_readings_in_one_more(
    org: Organization,
    make_order: Callable[..., ServiceOrder],
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    advisor: User,
    brakes: ServiceItem,
    django_assert_num_queries: Any,
) -> None:
    for n in range(3):
        visit(make_order, make_vehicle(make_customer(), plate=f"粤B4000{n}"), advisor, brakes)
    rule = rules_for(org)[CareKind.WARRANTY]
    # 1 the promised lines without a reminder (with their car, file and the dues' daily distance),
    # 2 the readings of the cars without one.
    with django_assert_num_queries(2):
        rows = list(warranties(org, dt.date(2026, 8, 19), rule))
    assert len(rows) == 3
