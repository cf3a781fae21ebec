"""Every vehicle's next maintenance at once (``dues_rebuild``, ``huitou care dues``): the same rows as one by one."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from huitou.care.models import MaintenanceDue
from huitou.care.services.dues import Progress, dues_rebuild, dues_refresh
from huitou.customers.models import Customer, Vehicle
from huitou.customers.services import mileage_record
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay, order_void
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 12, 6, 3, 0))
FIELDS = (
    "vehicle_id",
    "service_id",
    "last_order_id",
    "last_done_on",
    "last_km",
    "km_per_day",
    "due_km",
    "due_on",
    "due_by",
    "computed_at",
)


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10)))


def dues(organization: Organization) -> list[tuple[Any, ...]]:
    return list(MaintenanceDue.objects.for_org(organization).order_by("vehicle_id", "service_id").values_list(*FIELDS))


@dataclass
class Fleet:
    """``org``'s cars (by what their history tests) and one car of ``other_org`` among them by id."""

    cars: dict[str, Vehicle]
    services: dict[str, ServiceItem]
    theirs: Vehicle


@pytest.fixture
def fleet(
    org: Organization,
    other_org: Organization,
    advisor: User,
    outsider: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., ServiceItem],
) -> Fleet:
    services = {
        "oil": make_service_item(name="小保养", interval_km=5000, interval_months=6),
        "filter": make_service_item(name="空调滤芯", interval_km=20_000),  # by mileage only
        "brake": make_service_item(name="刹车油", interval_months=24),  # by date only
        "wash": make_service_item(name="洗车"),  # no interval: no row
    }

    def visit(
        vehicle: Vehicle, day: dt.date, km: int | None, *items: str, by: User = advisor, pay: bool = True
    ) -> ServiceOrder:
        order = make_order(vehicle=vehicle, by=by, mileage_km=km, now=at(day))
        for item in items:
            order_add_line(order=order, by=by, service=services[item], now=at(day))
        if pay:
            order_complete(order=order, by=by, now=at(day))
            order_pay(order=order, by=by, method="cash", amount=order.total, now=at(day))
        else:
            order_void(order=order, by=by, reason="客户取消", now=at(day))
        return order

    def car(**data: Any) -> Vehicle:
        return make_vehicle(make_customer(), **data)

    cars: dict[str, Vehicle] = {}
    # One reading, the one taken at the visit: the default daily distance.
    cars["one_reading"] = car()
    visit(cars["one_reading"], dt.date(2026, 3, 2), 30_000, "oil", "wash")
    # Several readings; the oil twice (the later counts); the filter without a reading that day;
    # a voided order after the last paid one changes nothing.
    cars["readings"] = car()
    mileage_record(vehicle=cars["readings"], km=10_000, by=advisor, read_at=at(dt.date(2025, 11, 1)))
    visit(cars["readings"], dt.date(2026, 1, 5), 12_100, "oil")
    visit(cars["readings"], dt.date(2026, 4, 1), None, "filter")
    visit(cars["readings"], dt.date(2026, 6, 20), 17_800, "oil", "brake")
    visit(cars["readings"], dt.date(2026, 9, 1), 21_000, "oil", pay=False)
    # Another organization's car between ours by id: a chunk's id range spans it.
    their_oil = make_service_item(organization=other_org, name="小保养", interval_months=6)
    theirs = make_vehicle(make_customer(organization=other_org, by=outsider), by=outsider)
    visit_theirs = make_order(vehicle=theirs, by=outsider, mileage_km=50_000, now=at(dt.date(2026, 5, 5)))
    order_add_line(order=visit_theirs, by=outsider, service=their_oil, now=at(dt.date(2026, 5, 5)))
    order_complete(order=visit_theirs, by=outsider, now=at(dt.date(2026, 5, 5)))
    order_pay(order=visit_theirs, by=outsider, method="cash", amount=visit_theirs.total, now=at(dt.date(2026, 5, 5)))
    # No reading at all: the oil falls due by date, the brake fluid too.
    cars["no_reading"] = car()
    visit(cars["no_reading"], dt.date(2026, 2, 14), None, "oil", "brake", "filter")
    # The odometer replaced: only the readings since count.
    cars["replaced"] = car()
    mileage_record(vehicle=cars["replaced"], km=150_000, by=advisor, read_at=at(dt.date(2025, 12, 1)))
    mileage_record(
        vehicle=cars["replaced"], km=300, by=advisor, read_at=at(dt.date(2026, 2, 1)), odometer_replaced=True
    )
    visit(cars["replaced"], dt.date(2026, 5, 1), 6_300, "oil", "filter")
    # One reading and a purchase date: the daily distance since the purchase.
    cars["purchased"] = car(purchase_date=dt.date(2024, 6, 1))
    visit(cars["purchased"], dt.date(2026, 6, 1), 14_600, "oil")
    # Only a voided order, and a wash: no row.
    cars["void_only"] = car()
    visit(cars["void_only"], dt.date(2026, 7, 7), 8_000, "oil", pay=False)
    visit(cars["void_only"], dt.date(2026, 7, 8), 8_010, "wash")
    return Fleet(cars, services, theirs)


def one_by_one(organization: Organization, fleet: Fleet) -> list[tuple[Any, ...]]:
    for vehicle in fleet.cars.values():
        dues_refresh(vehicle=vehicle, now=NOW)
    return dues(organization)


def test_the_rebuild_gives_the_rows_of_the_vehicle_by_vehicle_refresh(
    org: Organization, other_org: Organization, fleet: Fleet
) -> None:
    expected = one_by_one(org, fleet)
    MaintenanceDue.objects.for_org(org).delete()
    theirs = list(MaintenanceDue.objects.for_org(other_org).values_list("pk", *FIELDS))

    walked = dues_rebuild(organization=org, now=NOW, chunk=2)  # chunks end inside the set

    assert walked == len(fleet.cars)
    assert dues(org) == expected
    cars, services = fleet.cars, fleet.services
    by_car = {(row[0], row[1]): row for row in expected}
    # Known answers, so that the comparison is not between two empty lists.
    assert len(expected) == 9
    assert {v for v, _s in by_car} == {cars[n].pk for n in ("one_reading", "readings", "no_reading", "replaced")} | {
        cars["purchased"].pk
    }
    # One reading: 35 km a day from 30,000 on 2 March; 5,000 km in 143 days (23 July) before 6 months.
    one = by_car[(cars["one_reading"].pk, services["oil"].pk)]
    assert one[3:] == (dt.date(2026, 3, 2), 30_000, 35.0, 35_000, dt.date(2026, 7, 23), "km", NOW)
    # The later oil change counts, not the voided order after it.
    oil = by_car[(cars["readings"].pk, services["oil"].pk)]
    assert (oil[3], oil[4], oil[8]) == (dt.date(2026, 6, 20), 17_800, "km")
    assert by_car[(cars["no_reading"].pk, services["oil"].pk)][7:9] == (dt.date(2026, 8, 14), "date")
    assert (cars["no_reading"].pk, services["filter"].pk) not in by_car  # by mileage, and no reading to go by
    # Since the replacement: 6,000 km in 89 days, from 6,300 on 1 May; not the 150,000 before it.
    replaced = by_car[(cars["replaced"].pk, services["filter"].pk)]
    assert replaced[5] == pytest.approx(6_000 / 89)
    assert replaced[6] == 26_300
    assert by_car[(cars["purchased"].pk, services["oil"].pk)][5] == pytest.approx(14_600 / 730)
    # The other organization's rows are untouched, though its car lies inside a chunk's id range.
    assert list(MaintenanceDue.objects.for_org(other_org).values_list("pk", *FIELDS)) == theirs


def test_the_rebuild_corrects_and_deletes_rows_and_a_second_run_changes_nothing(
    org: Organization, fleet: Fleet
) -> None:
    expected = one_by_one(org, fleet)
    cars, services = fleet.cars, fleet.services
    MaintenanceDue.objects.for_org(org).filter(vehicle=cars["readings"]).update(due_on=dt.date(2030, 1, 1))
    MaintenanceDue.objects.for_org(org).filter(vehicle=cars["no_reading"]).delete()
    wrong = MaintenanceDue.objects.for_org(org).get(vehicle=cars["one_reading"], service=services["oil"])
    # Rows no longer due: a service the car never had paid, and a car with no paid work at all.
    for vehicle in (cars["one_reading"], cars["void_only"]):
        wrong.pk, wrong.vehicle, wrong.service = None, vehicle, services["brake"]
        wrong.save()

    dues_rebuild(organization=org, now=NOW, chunk=3)
    assert dues(org) == expected
    ids = list(MaintenanceDue.objects.for_org(org).order_by("pk").values_list("pk", flat=True))

    dues_rebuild(organization=org, now=NOW, chunk=2)
    assert dues(org) == expected
    assert list(MaintenanceDue.objects.for_org(org).order_by("pk").values_list("pk", flat=True)) == ids  # updated


def test_a_stopped_run_goes_on_after_the_last_vehicle_it_reported(org: Organization, fleet: Fleet) -> None:
    expected = one_by_one(org, fleet)
    MaintenanceDue.objects.for_org(org).delete()
    reported: list[Progress] = []

    class Stopped(Exception):
        pass

    def stop_after_two_chunks(done: Progress) -> None:
        reported.append(done)
        if len(reported) == 2:
            raise Stopped

    with pytest.raises(Stopped):
        dues_rebuild(organization=org, now=NOW, chunk=2, progress=stop_after_two_chunks)
    ordered = sorted(v.pk for v in fleet.cars.values())
    assert [(p.vehicles, p.last_vehicle_id) for p in reported] == [(2, ordered[1]), (4, ordered[3])]
    # Whole chunks were written: the first four cars' rows, none of the others'.
    assert {row[0] for row in dues(org)} == {row[0] for row in expected if row[0] <= ordered[3]}

    assert dues_rebuild(organization=org, now=NOW, chunk=2, after=reported[-1].last_vehicle_id) == 2
    assert dues(org) == expected


def test_a_list_of_vehicles_is_rebuilt_and_nothing_else(
    org: Organization, other_org: Organization, fleet: Fleet
) -> None:
    expected = one_by_one(org, fleet)
    cars = fleet.cars
    MaintenanceDue.objects.for_org(org).update(due_on=dt.date(2030, 1, 1))
    theirs = list(MaintenanceDue.objects.for_org(other_org).values_list("pk", *FIELDS))
    chosen = {cars["readings"].pk, cars["replaced"].pk}

    # The other organization's car in the list is not found in this one.
    assert dues_rebuild(organization=org, now=NOW, chunk=1, vehicle_ids=[*chosen, fleet.theirs.pk]) == 2

    rebuilt = {row for row in dues(org) if row[0] in chosen}
    assert rebuilt == {row for row in expected if row[0] in chosen}
    assert {row[7] for row in dues(org) if row[0] not in chosen} == {dt.date(2030, 1, 1)}
    assert list(MaintenanceDue.objects.for_org(other_org).values_list("pk", *FIELDS)) == theirs


def test_each_chunk_takes_a_fixed_number_of_queries(
    org: Organization,
    advisor: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., ServiceItem],
    django_assert_num_queries: Any,
) -> None:
    oil = make_service_item(name="小保养", interval_km=5000, interval_months=6)
    brake = make_service_item(name="刹车油", interval_months=24)
    for n in range(3):
        vehicle = make_vehicle(make_customer())
        for day, km in ((dt.date(2026, 1, 5), 10_000 + n), (dt.date(2026, 6, 5), 16_000 + n)):
            order = make_order(vehicle=vehicle, mileage_km=km, now=at(day))
            order_add_line(order=order, by=advisor, service=oil, now=at(day))
            order_add_line(order=order, by=advisor, service=brake, now=at(day))
            order_complete(order=order, by=advisor, now=at(day))
            order_pay(order=order, by=advisor, method="cash", amount=order.total, now=at(day))
    # Two rows are no longer due (a service their car never had paid): deleted in the first chunk.
    stray = MaintenanceDue.objects.for_org(org).order_by("pk")[:2]
    for row in stray:
        row.pk, row.service = None, make_service_item(name=f"空调滤芯{row.vehicle_id}", interval_km=20_000)
        row.save()
    assert MaintenanceDue.objects.for_org(org).count() == 8

    # First chunk, two cars: 1 the cars' ids and purchase dates, 2 their latest paid line of each service
    # with an interval, 3 their readings, 4 their current rows, 5 the rows no longer due deleted,
    # 6 the rest upserted (one INSERT … ON CONFLICT; the transaction is the test's);
    # second chunk, the third car: 7 the car, 8 its lines, 9 its readings, 10 its rows, 11 upserted.
    # A chunk smaller than asked for is the last: no query for an empty one.
    with django_assert_num_queries(11):
        assert dues_rebuild(organization=org, now=NOW, chunk=2) == 3
    assert MaintenanceDue.objects.for_org(org).count() == 6

    # A full chunk may not be the last: 1–4 as above and 5 the three cars' rows upserted, 6 the next
    # page of cars, empty.
    with django_assert_num_queries(6):
        dues_rebuild(organization=org, now=NOW, chunk=3)


def test_huitou_care_dues_prints_each_chunk_and_the_total(org: Organization, fleet: Fleet) -> None:
    expected = one_by_one(org, fleet)
    MaintenanceDue.objects.for_org(org).delete()
    out = StringIO()
    call_command("care", "dues", "--org", org.name, "--chunk", "4", stdout=out)
    ordered = sorted(v.pk for v in fleet.cars.values())
    lines = out.getvalue().splitlines()
    assert [re.sub(r", \d+ s$", ", _ s", line) for line in lines] == [
        f"  4 / 6 vehicles, 8 dues, up to vehicle {ordered[3]}, _ s",
        f"  6 / 6 vehicles, 9 dues, up to vehicle {ordered[5]}, _ s",
        f"{org.name}: 6 vehicles, 9 maintenance dues",
    ]
    assert [(row[0], row[1], row[7]) for row in dues(org)] == [(row[0], row[1], row[7]) for row in expected]

    out = StringIO()
    call_command("care", "dues", "--org", org.name, "--after", str(ordered[4]), stdout=out)
    assert out.getvalue().splitlines()[-1] == f"{org.name}: 1 vehicles, 9 maintenance dues"
    with pytest.raises(CommandError, match="--chunk"):
        call_command("care", "dues", "--chunk", "0")


def test_the_sweep_rewrites_the_cars_read_since_their_rows_in_one_chunk(
    org: Organization, advisor: User, fleet: Fleet, django_assert_num_queries: Any
) -> None:
    from huitou.care.services.sweep import refresh_stale_dues

    one_by_one(org, fleet)
    cars = fleet.cars
    later = NOW + dt.timedelta(days=30)
    for name in ("one_reading", "readings", "replaced"):
        mileage_record(vehicle=cars[name], km=40_000, by=advisor, read_at=later, now=later)
    # 1 the cars read since their rows were computed; then one chunk of them: 2 their ids and purchase
    # dates, 3 their latest paid lines, 4 their readings, 5 their current rows, 6 their rows upserted.
    with django_assert_num_queries(6):
        assert refresh_stale_dues(org, later) == 3
    moved = MaintenanceDue.objects.for_org(org).get(vehicle=cars["one_reading"], service=fleet.services["oil"])
    # 10,000 km from 2 March to 5 January: the daily distance comes from the two readings now.
    assert (moved.computed_at, moved.km_per_day) == (later, pytest.approx(10_000 / 309))
    assert MaintenanceDue.objects.for_org(org).filter(computed_at=later).count() == 6
