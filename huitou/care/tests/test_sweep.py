"""The care sweep: maintenance by date or mileage, insurance and inspection; once per key, catching up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from huitou.care.models import CareKind, CareRule, CareTask, MaintenanceDue, OwnerMode
from huitou.care.services.dues import add_months, dues_refresh, next_due
from huitou.care.services.sweep import CATCH_UP_DAYS, care_sweep
from huitou.customers.models import Customer, Vehicle
from huitou.customers.services import mileage_record
from huitou.lib.mileage import Estimate
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def visit(
    make_order: Callable[..., ServiceOrder],
    vehicle: Vehicle,
    by: User,
    item: ServiceItem,
    day: dt.date,
    km: int | None,
) -> ServiceOrder:
    """A paid order for ``item`` on ``day`` with ``km`` read at arrival."""
    when = at(day)
    order = make_order(vehicle=vehicle, by=by, mileage_km=km, now=when)
    order_add_line(order=order, by=by, service=item, now=when)
    order_complete(order=order, by=by, now=when)
    order_pay(order=order, by=by, method="cash", amount=order.total, now=when)
    return order


@pytest.fixture
def oil(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(name="小保养", interval_km=5000, interval_months=6)


@pytest.fixture
def car(make_customer: Callable[..., Customer], make_vehicle: Callable[..., Vehicle], owner: User) -> Vehicle:
    return make_vehicle(make_customer(name="王先生", owner=owner.pk), plate="粤B12345")


def tasks(org: Organization, kind: str = CareKind.MAINTENANCE) -> list[CareTask]:
    return list(CareTask.objects.for_org(org).filter(kind=kind).order_by("pk"))


# --- the next maintenance ----------------------------------------------------------------------


def test_add_months_keeps_the_day_or_takes_the_month_s_last() -> None:
    assert add_months(dt.date(2026, 6, 2), 6) == dt.date(2026, 12, 2)
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 8, 31), 6) == dt.date(2028, 2, 29)


def test_whichever_comes_first_date_or_mileage() -> None:
    last = dt.date(2026, 6, 2)
    slow = Estimate(10.0, last, 41_200, "fit", 3)  # 5,000 km takes 500 days: the 6 months come first
    fast = Estimate(50.0, last, 41_200, "fit", 3)  # 100 days
    by_date = next_due(last_done_on=last, last_km=41_200, interval_km=5000, interval_months=6, odometer=slow)
    by_km = next_due(last_done_on=last, last_km=41_200, interval_km=5000, interval_months=6, odometer=fast)
    assert (by_date.due_on, by_date.due_by, by_date.due_km) == (dt.date(2026, 12, 2), "date", None)
    assert (by_km.due_on, by_km.due_by, by_km.due_km) == (dt.date(2026, 9, 10), "km", 46_200)
    assert next_due(last_done_on=last, last_km=None, interval_km=None, interval_months=None, odometer=fast) is None


def test_without_a_reading_at_the_service_the_estimate_places_it() -> None:
    odometer = Estimate(40.0, dt.date(2026, 7, 2), 42_400, "fit", 3)  # 30 days after the service
    due = next_due(
        last_done_on=dt.date(2026, 6, 2), last_km=None, interval_km=5000, interval_months=None, odometer=odometer
    )
    # back then: 42,400 − 30 × 40 = 41,200, so 46,200 is 3,800 km after the anchor: 95 days.
    assert (due.due_km, due.due_on) == (46_200, dt.date(2026, 7, 2) + dt.timedelta(days=95))


def test_a_paid_order_records_the_vehicle_s_next_maintenance(
    make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, oil: ServiceItem
) -> None:
    mileage_record(vehicle=car, km=33_600, by=advisor, read_at=at(dt.date(2026, 1, 3)))
    order = visit(make_order, car, advisor, oil, dt.date(2026, 6, 2), 41_200)  # 7,600 km in 150 days: 50.67 a day
    (due,) = MaintenanceDue.objects.for_org(car.organization_id).filter(vehicle=car)
    assert (due.service_id, due.last_order_id, due.last_done_on, due.last_km) == (
        oil.pk,
        order.pk,
        dt.date(2026, 6, 2),
        41_200,
    )
    assert due.km_per_day == pytest.approx(7_600 / 150)
    # 5,000 km at 50.67 a day is 98.7 days: 99 days, before the 6 months (2 December).
    assert (due.due_by, due.due_km, due.due_on) == ("km", 46_200, dt.date(2026, 9, 9))


def test_a_new_reading_moves_the_due_date_at_the_next_sweep(
    make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, oil: ServiceItem, org: Organization
) -> None:
    mileage_record(vehicle=car, km=33_600, by=advisor, read_at=at(dt.date(2026, 1, 3)))
    visit(make_order, car, advisor, oil, dt.date(2026, 6, 2), 41_200)
    # The car was hardly driven since: 300 km in 60 days, so the date interval comes first now.
    mileage_record(vehicle=car, km=41_500, by=advisor, read_at=at(dt.date(2026, 8, 1)))
    care_sweep(organization=org, day=dt.date(2026, 8, 2), now=at(dt.date(2026, 8, 2), 3))
    due = MaintenanceDue.objects.for_org(org).get(vehicle=car)
    assert (due.due_by, due.due_on) == ("date", dt.date(2026, 12, 2))


# --- the sweep -----------------------------------------------------------------------------------


def test_the_sweep_makes_a_maintenance_task_with_the_reason_in_words(
    make_order: Callable[..., ServiceOrder],
    car: Vehicle,
    advisor: User,
    owner: User,
    oil: ServiceItem,
    org: Organization,
) -> None:
    mileage_record(vehicle=car, km=33_600, by=advisor, read_at=at(dt.date(2026, 1, 3)))
    visit(make_order, car, advisor, oil, dt.date(2026, 6, 2), 41_200)  # due 2026-09-09 by mileage
    assert care_sweep(organization=org, day=dt.date(2026, 9, 1))[CareKind.MAINTENANCE] == 0  # 8 days ahead: not yet
    assert care_sweep(organization=org, day=dt.date(2026, 9, 2))[CareKind.MAINTENANCE] == 1  # 7 days ahead
    (task,) = tasks(org)
    assert (task.customer_id, task.vehicle_id, task.service_id, task.due_on) == (
        car.customer_id,
        car.pk,
        oil.pk,
        dt.date(2026, 9, 9),
    )
    assert task.owner_id == owner.pk  # the customer's owner
    assert task.reason == "小保养预计 9月9日 到期（约 46,200 km）：上次 2026-06-02 · 41,200 km，日均 51 km"
    assert "王先生" in task.script and "粤B12345" in task.script


def test_running_the_sweep_twice_adds_nothing(
    make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, oil: ServiceItem, org: Organization
) -> None:
    visit(make_order, car, advisor, oil, dt.date(2026, 1, 10), 20_000)
    day = dt.date(2026, 7, 8)
    first = care_sweep(organization=org, day=day)
    second = care_sweep(organization=org, day=day)
    later = care_sweep(organization=org, day=day + dt.timedelta(days=3))
    assert (first[CareKind.MAINTENANCE], second[CareKind.MAINTENANCE], later[CareKind.MAINTENANCE]) == (1, 0, 0)
    assert len(tasks(org)) == 1


def test_a_missed_day_is_caught_up_but_not_a_stale_reminder(
    make_order: Callable[..., ServiceOrder],
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    car: Vehicle,
    advisor: User,
    oil: ServiceItem,
    org: Organization,
) -> None:
    visit(make_order, car, advisor, oil, dt.date(2026, 1, 10), None)  # due 2026-07-10 (date)
    old = make_vehicle(make_customer())
    visit(make_order, old, advisor, oil, dt.date(2025, 1, 10), None)  # due 2025-07-10: long past
    # Nobody ran the sweep for weeks: on 2026-07-20 the overdue reminder is still made.
    added = care_sweep(organization=org, day=dt.date(2026, 7, 20))
    assert added[CareKind.MAINTENANCE] == 1
    assert [(t.vehicle_id, t.due_on) for t in tasks(org)] == [(car.pk, dt.date(2026, 7, 10))]
    assert dt.date(2026, 7, 20) - dt.timedelta(days=CATCH_UP_DAYS) > dt.date(2025, 7, 10)


def test_the_next_service_starts_a_new_period(
    make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, oil: ServiceItem, org: Organization
) -> None:
    visit(make_order, car, advisor, oil, dt.date(2026, 1, 10), None)
    care_sweep(organization=org, day=dt.date(2026, 7, 5))
    visit(make_order, car, advisor, oil, dt.date(2026, 7, 9), None)  # serviced: due again 2027-01-09
    care_sweep(organization=org, day=dt.date(2027, 1, 4))
    assert [t.due_on for t in tasks(org)] == [dt.date(2026, 7, 10), dt.date(2027, 1, 9)]


def test_deleted_files_and_cars_get_no_reminder(
    make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, oil: ServiceItem, org: Organization
) -> None:
    visit(make_order, car, advisor, oil, dt.date(2026, 1, 10), None)
    Vehicle.objects.for_org(org).filter(pk=car.pk).update(deleted_at=at(dt.date(2026, 2, 1)))
    assert care_sweep(organization=org, day=dt.date(2026, 7, 8))[CareKind.MAINTENANCE] == 0


def test_insurance_and_inspection_come_their_lead_days_ahead(car: Vehicle, org: Organization, owner: User) -> None:
    Vehicle.objects.for_org(org).filter(pk=car.pk).update(
        insurance_expiry=dt.date(2026, 12, 31), inspection_due=dt.date(2026, 12, 20)
    )
    added = care_sweep(organization=org, day=dt.date(2026, 11, 20))
    assert {kind: added[kind] for kind in (CareKind.MAINTENANCE, CareKind.INSURANCE, CareKind.INSPECTION)} == {
        CareKind.MAINTENANCE: 0,
        CareKind.INSURANCE: 0,
        CareKind.INSPECTION: 1,  # 30 days ahead
    }
    assert care_sweep(organization=org, day=dt.date(2026, 12, 1))[CareKind.INSURANCE] == 1
    (insurance,) = tasks(org, CareKind.INSURANCE)
    (inspection,) = tasks(org, CareKind.INSPECTION)
    assert insurance.reason == "粤B12345 的保险 12月31日 到期"
    assert inspection.reason == "粤B12345 年检 12月20日 前到期"
    assert (insurance.owner_id, insurance.due_on) == (owner.pk, dt.date(2026, 12, 31))


def test_a_rule_turned_off_or_with_its_own_owner_and_lead(car: Vehicle, org: Organization, service: User) -> None:
    Vehicle.objects.for_org(org).filter(pk=car.pk).update(
        insurance_expiry=dt.date(2026, 12, 31), inspection_due=dt.date(2026, 12, 20)
    )
    CareRule.objects.create(organization=org, kind=CareKind.INSPECTION, is_active=False)
    CareRule.objects.create(
        organization=org, kind=CareKind.INSURANCE, lead_days=45, owner_mode=OwnerMode.FIXED, owner=service
    )
    added = care_sweep(organization=org, day=dt.date(2026, 11, 16))
    assert (added[CareKind.INSURANCE], added[CareKind.INSPECTION]) == (1, 0)
    assert tasks(org, CareKind.INSURANCE)[0].owner_id == service.pk


def test_the_sweep_keeps_to_its_organization(
    make_order: Callable[..., ServiceOrder],
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    car: Vehicle,
    advisor: User,
    outsider: User,
    other_org: Organization,
    org: Organization,
    make_service_item: Callable[..., ServiceItem],
) -> None:
    theirs = make_vehicle(make_customer(organization=other_org, by=outsider), by=outsider)
    their_oil = make_service_item(organization=other_org, name="小保养", interval_months=6)
    visit(make_order, theirs, outsider, their_oil, dt.date(2026, 1, 10), None)
    assert care_sweep(organization=org, day=dt.date(2026, 7, 8))[CareKind.MAINTENANCE] == 0
    assert care_sweep(organization=other_org, day=dt.date(2026, 7, 8))[CareKind.MAINTENANCE] == 1
    assert CareTask.objects.for_org(org).count() == 0


def test_huitou_care_run_by_hand_for_a_date_and_an_organization(
    make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, oil: ServiceItem, org: Organization
) -> None:
    visit(make_order, car, advisor, oil, dt.date(2026, 1, 10), None)
    out = StringIO()
    call_command("care", "run", "--date", "2026-07-08", "--org", org.name, stdout=out)
    assert f"{org.name}: maintenance 1, insurance 0, inspection 0" in out.getvalue()
    call_command("care", "run", "--date", "2026-07-08", stdout=out)
    assert len(tasks(org)) == 1


def test_dues_worked_out_for_data_brought_in_without_the_services(
    make_order: Callable[..., ServiceOrder], car: Vehicle, advisor: User, oil: ServiceItem, org: Organization
) -> None:
    visit(make_order, car, advisor, oil, dt.date(2026, 1, 10), None)
    MaintenanceDue.objects.for_org(org).delete()
    out = StringIO()
    call_command("care", "dues", "--org", org.name, stdout=out)
    assert f"{org.name}: 1 vehicles, 1 maintenance dues" in out.getvalue()
    assert dues_refresh(vehicle=car)[0].due_on == dt.date(2026, 7, 10)


def test_the_nightly_job_sweeps_every_organization_for_today(car: Vehicle, org: Organization) -> None:
    from huitou.care.tasks import sweep_daily

    in_ten_days = timezone.localdate() + dt.timedelta(days=10)
    Vehicle.objects.for_org(org).filter(pk=car.pk).update(insurance_expiry=in_ten_days)
    sweep_daily()  # huey runs each organization's task at once in the tests
    sweep_daily()
    assert [(t.vehicle_id, t.due_on) for t in tasks(org, CareKind.INSURANCE)] == [(car.pk, in_ten_days)]
