"""/api/v1/customers/{id}/vehicles and /api/v1/vehicles: plates, VINs, mileage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from huitou.api.tests.conftest import ApiClient
from huitou.audit.models import ChangeEntry
from huitou.customers import errors
from huitou.customers.models import Customer, MileageReading, Vehicle, VehicleOwnership
from huitou.tenancy.models import Organization, User

Make = Callable[..., Any]

VALID_VIN = "LSVAM4187C2184847"  # Shanghai Volkswagen, check digit 7
NO_CHECK_DIGIT_VIN = "WVWZZZ1JZ3W386752"  # a German-market Golf: position 9 is no check digit


@pytest.fixture
def api(advisor: User, api_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_for(advisor)


@pytest.fixture
def customer(make_customer: Make) -> Customer:
    return make_customer(name="张三")


def test_it_registers_a_vehicle_with_its_first_reading(api: ApiClient, customer: Customer) -> None:
    r = api.post_json(
        f"/api/v1/customers/{customer.pk}/vehicles",
        {
            "plate": "粤b·12345",
            "vin": VALID_VIN.lower(),
            "brand": "大众",
            "model": "朗逸",
            "year": 2019,
            "mileage": 52000,
        },
    )

    assert r.status_code == 201
    doc = r.json()
    assert (doc["plate"], doc["vin"], doc["customer_id"]) == ("粤B12345", VALID_VIN, customer.pk)
    assert (doc["brand"], doc["model"], doc["year"], doc["mileage_km"]) == ("大众", "朗逸", 2019, 52000)
    assert doc["vin_check_failed"] is False
    vehicle = Vehicle.objects.for_org(customer.organization_id).get(pk=doc["id"])
    assert list(vehicle.readings.values_list("km", flat=True)) == [52000]
    assert VehicleOwnership.objects.get(vehicle=vehicle).customer == customer


def test_it_registers_an_8_character_new_energy_plate(api: ApiClient, customer: Customer) -> None:
    r = api.post_json(f"/api/v1/customers/{customer.pk}/vehicles", {"plate": "沪AD12345"})
    assert r.status_code == 201
    assert r.json()["plate"] == "沪AD12345"
    assert r.json()["mileage_km"] is None


def test_it_lists_a_customers_active_vehicles(
    api: ApiClient, customer: Customer, make_customer: Make, make_vehicle: Make
) -> None:
    first = make_vehicle(customer, plate="粤B11111")
    second = make_vehicle(customer, plate="粤B22222")
    gone = make_vehicle(customer, plate="粤B33333")
    make_vehicle(make_customer(), plate="粤B44444")
    api.delete(f"/api/v1/vehicles/{gone.pk}")

    r = api.get(f"/api/v1/customers/{customer.pk}/vehicles")

    assert r.status_code == 200
    assert [(v["id"], v["plate"]) for v in r.json()] == [(first.pk, "粤B11111"), (second.pk, "粤B22222")]


@pytest.mark.parametrize("plate", ["粤B1234", "B12345", "粤BI2345", "粤B123456", "AB12345", "粤B12345X"])
def test_it_refuses_a_malformed_plate_with_a_message_on_plate(api: ApiClient, customer: Customer, plate: str) -> None:
    r = api.post_json(f"/api/v1/customers/{customer.pk}/vehicles", {"plate": plate})

    assert r.status_code == 422
    assert r.json()["errors"] == {"plate": [str(errors.PLATE_INVALID)]}
    assert not Vehicle.objects.for_org(customer.organization_id).exists()


def test_it_refuses_a_plate_already_on_file(api: ApiClient, customer: Customer, make_vehicle: Make) -> None:
    make_vehicle(customer, plate="粤B12345")

    r = api.post_json(f"/api/v1/customers/{customer.pk}/vehicles", {"plate": "粤 B 12345"})

    assert r.status_code == 422
    assert r.json()["errors"] == {"plate": [str(errors.PLATE_TAKEN)]}


def test_it_refuses_a_vin_of_the_wrong_shape(api: ApiClient, customer: Customer) -> None:
    r = api.post_json(f"/api/v1/customers/{customer.pk}/vehicles", {"plate": "粤B12345", "vin": "LSVAM4187C218484O"})
    assert r.status_code == 422
    assert r.json()["errors"] == {"vin": [str(errors.VIN_INVALID)]}


def test_a_vin_failing_its_check_digit_needs_confirming(api: ApiClient, customer: Customer) -> None:
    url = f"/api/v1/customers/{customer.pk}/vehicles"

    refused = api.post_json(url, {"plate": "粤B12345", "vin": NO_CHECK_DIGIT_VIN})
    confirmed = api.post_json(url, {"plate": "粤B12345", "vin": NO_CHECK_DIGIT_VIN, "vin_confirmed": True})

    assert refused.status_code == 422
    assert refused.json()["errors"] == {"vin": [str(errors.VIN_CHECK_FAILED)]}
    assert confirmed.status_code == 201
    assert confirmed.json()["vin"] == NO_CHECK_DIGIT_VIN
    assert confirmed.json()["vin_check_failed"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "plate"),
        ({"plate": "粤B12345", "mileage": "lots"}, "mileage"),
        ({"plate": "粤B12345", "year": "new"}, "year"),
        ({"plate": "粤B12345", "purchase_date": "yesterday"}, "purchase_date"),
        ({"plate": "粤B12345", "vin_confirmed": "perhaps"}, "vin_confirmed"),
    ],
)
def test_it_refuses_wrong_types_with_per_field_messages(
    api: ApiClient, customer: Customer, payload: dict[str, Any], field: str
) -> None:
    r = api.post_json(f"/api/v1/customers/{customer.pk}/vehicles", payload)

    assert r.status_code == 422
    assert list(r.json()["errors"]) == [field]
    assert r.json()["detail"]


def test_a_vehicle_cannot_be_added_to_an_unknown_customer(api: ApiClient, org: Organization) -> None:
    assert api.post_json("/api/v1/customers/999999/vehicles", {"plate": "粤B12345"}).status_code == 404
    assert not Vehicle.objects.for_org(org).exists()


# --- read -----------------------------------------------------------------------------------


def test_it_reads_a_vehicle_with_its_readings_newest_first(
    api: ApiClient, customer: Customer, make_vehicle: Make
) -> None:
    vehicle = make_vehicle(customer, plate="粤B12345", mileage_km=10000)
    api.post_json(f"/api/v1/vehicles/{vehicle.pk}/mileage", {"km": 15000})

    r = api.get(f"/api/v1/vehicles/{vehicle.pk}")

    assert r.status_code == 200
    doc = r.json()
    assert (doc["plate"], doc["customer_id"], doc["mileage_km"]) == ("粤B12345", customer.pk, 15000)
    assert [reading["km"] for reading in doc["readings"]] == [15000, 10000]
    assert doc["readings"][0]["odometer_replaced"] is False


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_vehicle_ids_are_404(api: ApiClient, method: str) -> None:
    r = api.generic(method.upper(), "/api/v1/vehicles/999999", "{}", content_type="application/json")
    assert r.status_code == 404
    assert api.post_json("/api/v1/vehicles/999999/mileage", {"km": 1}).status_code == 404


def test_the_detail_runs_the_same_queries_whatever_the_readings(
    api: ApiClient, customer: Customer, make_vehicle: Make, django_assert_num_queries: Any
) -> None:
    one = make_vehicle(customer, mileage_km=1000)
    many = make_vehicle(customer, mileage_km=1000)
    for km in range(2000, 20000, 1000):
        api.post_json(f"/api/v1/vehicles/{many.pk}/mileage", {"km": km})

    for vehicle in (one, many):
        # 1 token with its user and organization, 2 vehicle, 3 its readings
        with django_assert_num_queries(3):
            r = api.get(f"/api/v1/vehicles/{vehicle.pk}")
        assert r.status_code == 200
    assert len(r.json()["readings"]) == 19


def test_the_vehicle_list_runs_the_same_queries_whatever_the_vehicles(
    api: ApiClient, customer: Customer, make_vehicle: Make, django_assert_num_queries: Any
) -> None:
    api.get("/api/v1/customers")  # the token's first use also stamps last_used_at
    for n in (1, 10):
        for _ in range(n):
            make_vehicle(customer, mileage_km=100)
        # 1 token with its user and organization, 2 the customer, 3 its vehicles
        with django_assert_num_queries(3):
            r = api.get(f"/api/v1/customers/{customer.pk}/vehicles")
    assert len(r.json()) == 11


# --- change, delete, transfer ---------------------------------------------------------------


def test_patch_changes_only_the_given_fields_and_records_them(
    api: ApiClient, customer: Customer, make_vehicle: Make
) -> None:
    vehicle = make_vehicle(customer, plate="粤B12345", brand="丰田", model="卡罗拉", colour="白")

    r = api.patch_json(f"/api/v1/vehicles/{vehicle.pk}", {"colour": "黑", "insurance_expiry": "2027-03-01"})

    assert r.status_code == 200
    doc = r.json()
    assert (doc["plate"], doc["brand"], doc["model"]) == ("粤B12345", "丰田", "卡罗拉")
    assert (doc["colour"], doc["insurance_expiry"]) == ("黑", "2027-03-01")
    entry = ChangeEntry.objects.for_org(customer.organization_id).get(
        subject_type="vehicle", subject_id=vehicle.pk, action="updated"
    )
    assert entry.changes == {"colour": ["白", "黑"], "insurance_expiry": [None, "2027-03-01"]}
    assert entry.customer_id == customer.pk


def test_patch_refuses_a_bad_plate_or_vin_and_changes_nothing(
    api: ApiClient, customer: Customer, make_vehicle: Make
) -> None:
    vehicle = make_vehicle(customer, plate="粤B12345")

    bad_plate = api.patch_json(f"/api/v1/vehicles/{vehicle.pk}", {"plate": "粤B1", "colour": "红"})
    bad_vin = api.patch_json(f"/api/v1/vehicles/{vehicle.pk}", {"vin": NO_CHECK_DIGIT_VIN})
    confirmed = api.patch_json(f"/api/v1/vehicles/{vehicle.pk}", {"vin": NO_CHECK_DIGIT_VIN, "vin_confirmed": True})

    assert bad_plate.status_code == 422
    assert bad_plate.json()["errors"] == {"plate": [str(errors.PLATE_INVALID)]}
    assert bad_vin.status_code == 422
    assert list(bad_vin.json()["errors"]) == ["vin"]
    assert confirmed.status_code == 200
    vehicle.refresh_from_db()
    assert (vehicle.plate, vehicle.colour, vehicle.vin) == ("粤B12345", "", NO_CHECK_DIGIT_VIN)


def test_delete_is_soft(api: ApiClient, advisor: User, customer: Customer, make_vehicle: Make) -> None:
    vehicle = make_vehicle(customer, plate="粤B12345", mileage_km=1000)

    r = api.delete(f"/api/v1/vehicles/{vehicle.pk}")

    assert r.status_code == 204
    vehicle.refresh_from_db()
    assert vehicle.deleted_at is not None and vehicle.deleted_by == advisor
    assert vehicle.readings.count() == 1
    assert api.get(f"/api/v1/vehicles/{vehicle.pk}").status_code == 404
    assert api.get(f"/api/v1/customers/{customer.pk}/vehicles").json() == []
    # the plate is free again for a new registration
    assert api.post_json(f"/api/v1/customers/{customer.pk}/vehicles", {"plate": "粤B12345"}).status_code == 201


def test_a_vehicle_changes_owner_and_keeps_its_readings(
    api: ApiClient, customer: Customer, make_customer: Make, make_vehicle: Make
) -> None:
    buyer = make_customer(name="李四")
    vehicle = make_vehicle(customer, mileage_km=30000)

    r = api.post_json(f"/api/v1/vehicles/{vehicle.pk}/transfer", {"customer_id": buyer.pk})

    assert r.status_code == 200
    assert r.json()["customer_id"] == buyer.pk
    assert [v["id"] for v in api.get(f"/api/v1/customers/{buyer.pk}/vehicles").json()] == [vehicle.pk]
    assert api.get(f"/api/v1/customers/{customer.pk}/vehicles").json() == []
    assert [x["km"] for x in api.get(f"/api/v1/vehicles/{vehicle.pk}").json()["readings"]] == [30000]
    assert VehicleOwnership.objects.filter(vehicle=vehicle).count() == 2
    assert api.post_json(f"/api/v1/vehicles/{vehicle.pk}/transfer", {"customer_id": buyer.pk}).status_code == 422
    assert api.post_json(f"/api/v1/vehicles/{vehicle.pk}/transfer", {"customer_id": 999999}).status_code == 404


# --- mileage --------------------------------------------------------------------------------


def test_it_records_a_higher_reading(api: ApiClient, customer: Customer, make_vehicle: Make) -> None:
    vehicle = make_vehicle(customer, mileage_km=10000)

    r = api.post_json(f"/api/v1/vehicles/{vehicle.pk}/mileage", {"km": 12500})

    assert r.status_code == 201
    assert (r.json()["km"], r.json()["odometer_replaced"], r.json()["source"]) == (12500, False, "manual")
    vehicle.refresh_from_db()
    assert vehicle.mileage_km == 12500


def test_a_lower_reading_is_refused_with_a_message_on_km(
    api: ApiClient, customer: Customer, make_vehicle: Make
) -> None:
    vehicle = make_vehicle(customer, mileage_km=10000)

    r = api.post_json(f"/api/v1/vehicles/{vehicle.pk}/mileage", {"km": 9000})

    assert r.status_code == 422
    assert r.json()["errors"] == {"km": [str(errors.MILEAGE_LOWER % {"km": 9000, "previous": 10000})]}
    assert MileageReading.objects.filter(vehicle=vehicle).count() == 1


def test_a_lower_reading_is_accepted_as_an_odometer_replacement(
    api: ApiClient, customer: Customer, make_vehicle: Make
) -> None:
    vehicle = make_vehicle(customer, mileage_km=180000)

    r = api.post_json(f"/api/v1/vehicles/{vehicle.pk}/mileage", {"km": 20, "odometer_replaced": True})

    assert r.status_code == 201
    assert r.json()["odometer_replaced"] is True
    assert api.get(f"/api/v1/vehicles/{vehicle.pk}").json()["mileage_km"] == 20
    assert api.post_json(f"/api/v1/vehicles/{vehicle.pk}/mileage", {"km": 500}).status_code == 201


def test_a_back_dated_reading_must_fit_between_its_neighbours(
    api: ApiClient, customer: Customer, make_vehicle: Make
) -> None:
    vehicle = make_vehicle(customer)
    url = f"/api/v1/vehicles/{vehicle.pk}/mileage"
    now = timezone.now()
    api.post_json(url, {"km": 10000, "read_at": (now - dt.timedelta(days=60)).isoformat()})
    api.post_json(url, {"km": 20000, "read_at": now.isoformat()})

    too_high = api.post_json(url, {"km": 25000, "read_at": (now - dt.timedelta(days=30)).isoformat()})
    between = api.post_json(url, {"km": 15000, "read_at": (now - dt.timedelta(days=30)).isoformat()})

    assert too_high.status_code == 422 and "km" in too_high.json()["errors"]
    assert between.status_code == 201
    assert api.get(f"/api/v1/vehicles/{vehicle.pk}").json()["mileage_km"] == 20000


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"km": "abc"}, "km"), ({}, "km"), ({"km": 1.5}, "km"), ({"km": 100, "read_at": "last week"}, "read_at")],
)
def test_mileage_type_errors_are_per_field(
    api: ApiClient, customer: Customer, make_vehicle: Make, payload: dict[str, Any], field: str
) -> None:
    vehicle = make_vehicle(customer)

    r = api.post_json(f"/api/v1/vehicles/{vehicle.pk}/mileage", payload)

    assert r.status_code == 422
    assert list(r.json()["errors"]) == [field]


def test_mileage_refuses_negative_and_future_readings(api: ApiClient, customer: Customer, make_vehicle: Make) -> None:
    vehicle = make_vehicle(customer)
    url = f"/api/v1/vehicles/{vehicle.pk}/mileage"
    tomorrow = (timezone.now() + dt.timedelta(days=1)).isoformat()

    assert api.post_json(url, {"km": -5}).json()["errors"] == {"km": [str(errors.MILEAGE_INVALID)]}
    assert api.post_json(url, {"km": 5, "read_at": tomorrow}).json()["errors"] == {
        "read_at": [str(errors.MILEAGE_FUTURE)]
    }


# --- roles ----------------------------------------------------------------------------------


def test_a_technician_records_mileage_but_cannot_change_vehicles(
    tech: User, api_for: Callable[[User], ApiClient], customer: Customer, make_vehicle: Make
) -> None:
    vehicle = make_vehicle(customer, plate="粤B12345", mileage_km=1000)
    api = api_for(tech)

    assert api.get(f"/api/v1/vehicles/{vehicle.pk}").status_code == 200
    assert api.get(f"/api/v1/customers/{customer.pk}/vehicles").status_code == 200
    mileage = api.post_json(f"/api/v1/vehicles/{vehicle.pk}/mileage", {"km": 1500})
    assert mileage.status_code == 201
    assert MileageReading.objects.for_org(customer.organization_id).get(pk=mileage.json()["id"]).recorded_by == tech

    refused = [
        api.post_json(f"/api/v1/customers/{customer.pk}/vehicles", {"plate": "粤B54321"}),
        api.patch_json(f"/api/v1/vehicles/{vehicle.pk}", {"colour": "红"}),
        api.delete(f"/api/v1/vehicles/{vehicle.pk}"),
        api.post_json(f"/api/v1/vehicles/{vehicle.pk}/transfer", {"customer_id": customer.pk}),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    vehicle.refresh_from_db()
    assert (vehicle.colour, vehicle.deleted_at, Vehicle.objects.for_org(customer.organization_id).count()) == (
        "",
        None,
        1,
    )
