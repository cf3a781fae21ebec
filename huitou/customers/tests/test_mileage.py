"""Mileage readings: never lower than the one before unless the odometer was replaced."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.customers import errors
from huitou.customers.models import Customer, MileageReading, Vehicle
from huitou.customers.selectors import vehicle_readings
from huitou.customers.services import mileage_record, vehicle_create
from huitou.tenancy.models import User


def refused(exc: pytest.ExceptionInfo[ValidationError], field: str) -> list[str]:
    return exc.value.message_dict.get(field, [])


def lower(km: int, previous: int) -> str:
    return str(errors.MILEAGE_LOWER % {"km": km, "previous": previous})


def days_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


@pytest.fixture
def vehicle(make_customer: Callable[..., Customer], make_vehicle: Callable[..., Vehicle]) -> Vehicle:
    return make_vehicle(make_customer(name="张三"))


def cached(vehicle: Vehicle) -> int | None:
    return Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk).mileage_km


def test_a_reading_is_stored_and_cached_on_the_vehicle(vehicle: Vehicle, tech: User) -> None:
    reading = mileage_record(vehicle=vehicle, km="12345", by=tech)
    reading.refresh_from_db()
    assert (reading.km, reading.recorded_by, reading.odometer_replaced, reading.source) == (
        12345,
        tech,
        False,
        "manual",
    )
    assert reading.organization_id == vehicle.organization_id
    stored = Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk)
    assert (stored.mileage_km, stored.mileage_at) == (12345, reading.read_at)


def test_a_vehicle_registered_with_mileage_gets_its_first_reading(
    make_customer: Callable[..., Customer], advisor: User
) -> None:
    vehicle = vehicle_create(customer=make_customer(), by=advisor, data={"plate": "粤B12345"}, mileage_km=8000)
    assert list(MileageReading.objects.filter(vehicle=vehicle).values_list("km", flat=True)) == [8000]
    assert cached(vehicle) == 8000


def test_it_refuses_a_reading_lower_than_the_previous_one(vehicle: Vehicle, tech: User) -> None:
    mileage_record(vehicle=vehicle, km=20_000, by=tech, read_at=days_ago(30))
    with pytest.raises(ValidationError) as exc:
        mileage_record(vehicle=vehicle, km=19_999, by=tech)
    assert refused(exc, "km") == [lower(19_999, 20_000)]
    assert MileageReading.objects.for_org(vehicle.organization_id).count() == 1
    assert cached(vehicle) == 20_000


def test_a_reading_equal_to_the_previous_one_is_accepted(vehicle: Vehicle, tech: User) -> None:
    mileage_record(vehicle=vehicle, km=20_000, by=tech, read_at=days_ago(1))
    mileage_record(vehicle=vehicle, km=20_000, by=tech)
    assert MileageReading.objects.for_org(vehicle.organization_id).count() == 2


def test_a_lower_reading_marked_as_odometer_replacement_is_accepted(vehicle: Vehicle, tech: User) -> None:
    mileage_record(vehicle=vehicle, km=180_000, by=tech, read_at=days_ago(30))
    reading = mileage_record(vehicle=vehicle, km=50, by=tech, odometer_replaced=True)
    assert reading.odometer_replaced is True
    assert cached(vehicle) == 50


def test_after_a_replacement_readings_are_compared_with_the_new_odometer(vehicle: Vehicle, tech: User) -> None:
    mileage_record(vehicle=vehicle, km=180_000, by=tech, read_at=days_ago(30))
    mileage_record(vehicle=vehicle, km=50, by=tech, odometer_replaced=True, read_at=days_ago(20))
    mileage_record(vehicle=vehicle, km=1_500, by=tech, read_at=days_ago(10))
    with pytest.raises(ValidationError) as exc:
        mileage_record(vehicle=vehicle, km=1_000, by=tech)
    assert refused(exc, "km") == [lower(1_000, 1_500)]
    assert cached(vehicle) == 1_500


def test_a_back_dated_reading_must_not_exceed_the_following_one(vehicle: Vehicle, tech: User) -> None:
    mileage_record(vehicle=vehicle, km=10_000, by=tech, read_at=days_ago(60))
    mileage_record(vehicle=vehicle, km=20_000, by=tech, read_at=days_ago(10))
    with pytest.raises(ValidationError) as exc:
        mileage_record(vehicle=vehicle, km=25_000, by=tech, read_at=days_ago(30))
    assert refused(exc, "km") == [str(errors.MILEAGE_HIGHER_THAN_LATER % {"km": 25_000, "later": 20_000})]
    assert MileageReading.objects.for_org(vehicle.organization_id).count() == 2


def test_a_back_dated_reading_must_not_be_lower_than_the_one_before_it(vehicle: Vehicle, tech: User) -> None:
    mileage_record(vehicle=vehicle, km=10_000, by=tech, read_at=days_ago(60))
    mileage_record(vehicle=vehicle, km=20_000, by=tech, read_at=days_ago(10))
    with pytest.raises(ValidationError) as exc:
        mileage_record(vehicle=vehicle, km=9_000, by=tech, read_at=days_ago(30))
    assert refused(exc, "km") == [lower(9_000, 10_000)]


def test_a_back_dated_reading_in_between_is_accepted_and_the_latest_stays_cached(vehicle: Vehicle, tech: User) -> None:
    mileage_record(vehicle=vehicle, km=10_000, by=tech, read_at=days_ago(60))
    latest = mileage_record(vehicle=vehicle, km=20_000, by=tech, read_at=days_ago(10))
    mileage_record(vehicle=vehicle, km=15_000, by=tech, read_at=days_ago(30))
    stored = Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk)
    assert (stored.mileage_km, stored.mileage_at) == (20_000, latest.read_at)
    assert [r.km for r in vehicle_readings(vehicle=vehicle)] == [20_000, 15_000, 10_000]


def test_a_back_dated_reading_before_an_odometer_replacement_may_be_higher(vehicle: Vehicle, tech: User) -> None:
    mileage_record(vehicle=vehicle, km=100_000, by=tech, read_at=days_ago(60))
    mileage_record(vehicle=vehicle, km=100, by=tech, read_at=days_ago(10), odometer_replaced=True)
    mileage_record(vehicle=vehicle, km=120_000, by=tech, read_at=days_ago(30))
    assert cached(vehicle) == 100


def test_the_cached_mileage_is_the_latest_reading_not_the_highest(vehicle: Vehicle, tech: User) -> None:
    mileage_record(vehicle=vehicle, km=90_000, by=tech, read_at=days_ago(5))
    mileage_record(vehicle=vehicle, km=10, by=tech, odometer_replaced=True)
    assert cached(vehicle) == 10


def test_it_refuses_a_reading_in_the_future(vehicle: Vehicle, tech: User) -> None:
    with pytest.raises(ValidationError) as exc:
        mileage_record(vehicle=vehicle, km=1000, by=tech, read_at=timezone.now() + dt.timedelta(days=1))
    assert refused(exc, "read_at") == [errors.MILEAGE_FUTURE]
    assert not MileageReading.objects.for_org(vehicle.organization_id).exists()


@pytest.mark.parametrize("km", ["abc", "12.5", -5, 5_000_001, None, ""])
def test_it_refuses_a_mileage_that_is_not_a_whole_number_of_kilometres(vehicle: Vehicle, tech: User, km: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        mileage_record(vehicle=vehicle, km=km, by=tech)
    assert refused(exc, "km") == [errors.MILEAGE_INVALID]


def test_a_reading_is_recorded_in_the_customers_history(vehicle: Vehicle, tech: User) -> None:
    mileage_record(vehicle=vehicle, km=10_000, by=tech, read_at=days_ago(10))
    mileage_record(vehicle=vehicle, km=50, by=tech, odometer_replaced=True)
    entries = (
        ChangeEntry.objects.for_org(vehicle.organization_id).filter(action=ChangeEntry.Action.MILEAGE).order_by("pk")
    )
    assert [(e.changes["km"], e.note, e.customer_id, e.actor) for e in entries] == [
        ([None, 10_000], "", vehicle.customer_id, tech),
        ([10_000, 50], "odometer replaced", vehicle.customer_id, tech),
    ]
