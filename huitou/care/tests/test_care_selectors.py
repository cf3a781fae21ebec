"""The care reads: tabs and their counts, closed tasks, who may close a task, a car's outlook."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from huitou.care import errors, selectors
from huitou.care.models import CareKind, CareTask, MaintenanceDue
from huitou.care.tests.test_work_pages import TODAY, task
from huitou.customers.models import MileageReading, Vehicle
from huitou.customers.services import mileage_record
from huitou.service.errors import RoleRefused
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db


def test_the_tabs_split_open_tasks_by_day_and_count_in_one_query(
    org: Organization, advisor: User, make_customer: Any, django_assert_num_queries: Any
) -> None:
    for days in (-30, -1, 0, 0, 1, 7, 8):
        task(make_customer(), advisor, days)
    closed = task(make_customer(), advisor, 0)
    CareTask.objects.for_org(org).filter(pk=closed.pk).update(state=CareTask.State.DONE)

    with django_assert_num_queries(1):
        counts = selectors.work_counts(organization=org, owner_id=advisor.pk, today=TODAY)

    assert counts == {"today": 2, "overdue": 2, "week": 2}
    for due, n in counts.items():
        assert selectors.work_list(organization=org, owner_id=advisor.pk, due=due, today=TODAY).count() == n
    # An unknown tab is today's.
    assert selectors.work_list(organization=org, owner_id=advisor.pk, due="ever", today=TODAY).count() == 2


def test_closed_tasks_come_latest_closed_first(org: Organization, advisor: User, make_customer: Any) -> None:
    first, second = task(make_customer(), advisor, -2), task(make_customer(), advisor, -5)
    now = timezone.now()
    CareTask.objects.for_org(org).filter(pk=first.pk).update(state="done", closed_at=now - dt.timedelta(hours=2))
    CareTask.objects.for_org(org).filter(pk=second.pk).update(state="done", closed_at=now)

    done = selectors.care_tasks(organization=org, state="done")

    assert list(done) == [second, first]
    assert not selectors.care_tasks(organization=org, state="open").exists()


def test_a_task_is_closed_by_its_owner_or_a_store_manager_only(
    org: Organization, other_org: Organization, owner: User, advisor: User, service: User, make_customer: Any
) -> None:
    mine = task(make_customer(), advisor, 0)

    assert selectors.task_for_closing(organization=org, user=advisor, task_id=mine.pk) == mine
    assert selectors.task_for_closing(organization=org, user=owner, task_id=mine.pk) == mine
    with pytest.raises(RoleRefused) as exc:
        selectors.task_for_closing(organization=org, user=service, task_id=mine.pk)
    assert exc.value.message == errors.NOT_YOUR_TASK
    with pytest.raises(Http404):
        selectors.task_for_closing(organization=other_org, user=owner, task_id=mine.pk)


def _due(vehicle: Vehicle, service: Any, order: Any, due_on: dt.date, due_km: int | None, by: str) -> MaintenanceDue:
    return MaintenanceDue.objects.create(
        organization_id=vehicle.organization_id,
        vehicle=vehicle,
        service=service,
        last_order=order,
        last_done_on=TODAY,
        due_on=due_on,
        due_km=due_km,
        due_by=by,
        computed_at=timezone.now(),
    )


def test_a_cars_outlook_is_its_odometer_today_and_its_earliest_maintenance(
    org: Organization,
    advisor: User,
    make_customer: Any,
    make_vehicle: Any,
    make_order: Any,
    make_service_item: Any,
    django_assert_num_queries: Any,
) -> None:
    car = make_vehicle(make_customer())
    other = make_vehicle(make_customer())
    mileage_record(vehicle=car, km=10_000, by=advisor, read_at=timezone.now() - dt.timedelta(days=60))
    mileage_record(vehicle=car, km=12_400, by=advisor, read_at=timezone.now() - dt.timedelta(days=10))
    order = make_order(vehicle=car)
    oil, tyres = make_service_item(name="小保养"), make_service_item(name="轮胎换位")
    _due(car, tyres, order, TODAY + dt.timedelta(days=90), None, "date")
    _due(car, oil, order, TODAY + dt.timedelta(days=30), 15_000, "km")

    readings = MileageReading.objects.order_by("-read_at")
    vehicles = list(
        Vehicle.objects.for_org(org).order_by("pk").prefetch_related(Prefetch("readings", queryset=readings))
    )
    with django_assert_num_queries(1):  # the next maintenance of both cars; the readings are loaded
        outlooks = selectors.vehicle_outlooks(organization=org, vehicles=vehicles)

    seen = outlooks[car.pk]
    assert (seen.km_per_day, seen.basis) == (48.0, "fit")  # 2,400 km in 50 days
    assert seen.estimated_km == 12_400 + 48 * 10
    assert seen.next == selectors.NextMaintenance("小保养", TODAY + dt.timedelta(days=30), 15_000, "km")
    assert outlooks[other.pk] == selectors.Outlook(None, None, None, None)
    annotated = {
        v.pk: selectors.annotated_next(v)
        for v in selectors.with_next_maintenance(Vehicle.objects.for_org(org), organization=org)
    }
    assert annotated == {car.pk: seen.next, other.pk: None}


def test_one_reading_estimates_with_the_typical_daily_distance(
    org: Organization, advisor: User, make_customer: Any, make_vehicle: Any
) -> None:
    car = make_vehicle(make_customer(), mileage_km=None)
    reading = mileage_record(vehicle=car, km=50_000, by=advisor, read_at=timezone.now() - dt.timedelta(days=4))

    seen = selectors.outlook([reading], purchase_date=None, next_maintenance=None, today=TODAY)

    assert (seen.estimated_km, seen.basis) == (50_000 + 35 * 4, "default")


def test_the_rules_list_every_kind_the_product_makes(org: Organization) -> None:
    kinds = [r.kind for r in selectors.rule_settings(organization=org)]
    assert kinds[:4] == [CareKind.CALLBACK, CareKind.MAINTENANCE, CareKind.INSURANCE, CareKind.INSPECTION]
