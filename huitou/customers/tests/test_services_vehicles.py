"""Vehicles: plates and VINs normalised and validated, unique per organization, transfers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from huitou.audit.models import ChangeEntry
from huitou.customers import errors
from huitou.customers.models import Customer, MileageReading, Vehicle, VehicleOwnership
from huitou.customers.selectors import customer_history, vehicle_ownerships
from huitou.customers.services import (
    customer_delete,
    mileage_record,
    vehicle_create,
    vehicle_delete,
    vehicle_transfer,
    vehicle_update,
)
from huitou.tenancy.models import Organization, User

MakeCustomer = Callable[..., Customer]
GOOD_VIN = "1M8GDM9AXKP042788"  # check digit X
OTHER_GOOD_VIN = "LSVNV2187E2100001"  # check digit 7
BAD_CHECK_VIN = "1M8GDM9A1KP042788"  # check digit should be X


def refused(exc: pytest.ExceptionInfo[ValidationError], field: str) -> list[str]:
    return exc.value.message_dict.get(field, [])


@pytest.fixture
def customer(make_customer: MakeCustomer) -> Customer:
    return make_customer(name="张三")


def create(customer: Customer, by: User, vin_confirmed: bool = False, **data: Any) -> Vehicle:
    data.setdefault("plate", "粤B12345")
    return vehicle_create(customer=customer, by=by, data=data, vin_confirmed=vin_confirmed)


# --- plates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "plate"), [("粤b 12345", "粤B12345"), ("粤Ｂ·１２３４５", "粤B12345"), ("京ad12345", "京AD12345")]
)
def test_the_plate_is_normalised(customer: Customer, advisor: User, raw: str, plate: str) -> None:
    vehicle = create(customer, advisor, plate=raw)
    vehicle.refresh_from_db()
    assert vehicle.plate == plate


@pytest.mark.parametrize("plate", ["粤BO1234", "哈B12345", "粤B1234", "B12345", "粤B12345学"])
def test_it_refuses_a_malformed_plate(customer: Customer, advisor: User, plate: str) -> None:
    with pytest.raises(ValidationError) as exc:
        create(customer, advisor, plate=plate)
    assert refused(exc, "plate") == [errors.PLATE_INVALID]
    assert not Vehicle.objects.for_org(customer.organization_id).exists()


@pytest.mark.parametrize("plate", ["", "  ", None])
def test_it_refuses_a_vehicle_without_a_plate(customer: Customer, advisor: User, plate: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        create(customer, advisor, plate=plate)
    assert refused(exc, "plate") == [errors.PLATE_REQUIRED]


def test_it_refuses_a_plate_already_used_in_the_organization(
    customer: Customer, advisor: User, make_customer: MakeCustomer
) -> None:
    create(customer, advisor, plate="粤B12345")
    with pytest.raises(ValidationError) as exc:
        create(make_customer(name="李四"), advisor, plate="粤b·12345")
    assert refused(exc, "plate") == [errors.PLATE_TAKEN]
    assert Vehicle.objects.for_org(customer.organization_id).count() == 1


def test_another_organization_may_have_the_same_plate(
    customer: Customer, advisor: User, make_customer: MakeCustomer, other_org: Organization, outsider: User
) -> None:
    create(customer, advisor, plate="粤B12345", vin=GOOD_VIN)
    theirs = create(make_customer(organization=other_org, by=outsider), outsider, plate="粤B12345", vin=GOOD_VIN)
    assert (theirs.plate, theirs.organization_id) == ("粤B12345", other_org.pk)


def test_the_plate_is_free_again_once_the_vehicle_is_deleted(customer: Customer, advisor: User) -> None:
    first = create(customer, advisor, plate="粤B12345", vin=GOOD_VIN)
    vehicle_delete(vehicle=first, by=advisor)
    second = create(customer, advisor, plate="粤B12345", vin=GOOD_VIN)
    assert second.pk != first.pk


def test_the_plate_is_free_again_once_the_customer_is_deleted(
    customer: Customer, advisor: User, make_customer: MakeCustomer
) -> None:
    create(customer, advisor, plate="粤B12345")
    customer_delete(customer=customer, by=advisor)
    assert create(make_customer(name="李四"), advisor, plate="粤B12345").plate == "粤B12345"


def test_update_refuses_a_plate_of_another_vehicle(customer: Customer, advisor: User) -> None:
    create(customer, advisor, plate="粤B12345")
    other = create(customer, advisor, plate="粤B54321")
    with pytest.raises(ValidationError) as exc:
        vehicle_update(vehicle=other, by=advisor, data={"plate": "粤B12345"})
    assert refused(exc, "plate") == [errors.PLATE_TAKEN]
    assert Vehicle.objects.for_org(other.organization_id).get(pk=other.pk).plate == "粤B54321"


def test_update_keeps_the_vehicles_own_plate(customer: Customer, advisor: User) -> None:
    vehicle = create(customer, advisor, plate="粤B12345")
    vehicle_update(vehicle=vehicle, by=advisor, data={"plate": "粤b12345", "colour": "白"})
    assert Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk).colour == "白"


# --- VINs ----------------------------------------------------------------------------------


def test_a_vin_with_a_good_check_digit_is_stored_upper_case(customer: Customer, advisor: User) -> None:
    vehicle = create(customer, advisor, vin=" 1m8gdm9axkp042788 ")
    vehicle.refresh_from_db()
    assert (vehicle.vin, vehicle.vin_check_failed) == (GOOD_VIN, False)


def test_it_refuses_a_vin_whose_check_digit_fails(customer: Customer, advisor: User) -> None:
    with pytest.raises(ValidationError) as exc:
        create(customer, advisor, vin=BAD_CHECK_VIN)
    assert refused(exc, "vin") == [errors.VIN_CHECK_FAILED]
    assert not Vehicle.objects.for_org(customer.organization_id).exists()


def test_a_confirmed_vin_whose_check_digit_fails_is_stored_and_flagged(customer: Customer, advisor: User) -> None:
    vehicle = create(customer, advisor, vin=BAD_CHECK_VIN, vin_confirmed=True)
    vehicle.refresh_from_db()
    assert (vehicle.vin, vehicle.vin_check_failed) == (BAD_CHECK_VIN, True)


def test_correcting_a_flagged_vin_clears_the_flag(customer: Customer, advisor: User) -> None:
    vehicle = create(customer, advisor, vin=BAD_CHECK_VIN, vin_confirmed=True)
    vehicle_update(vehicle=vehicle, by=advisor, data={"vin": GOOD_VIN})
    vehicle.refresh_from_db()
    assert (vehicle.vin, vehicle.vin_check_failed) == (GOOD_VIN, False)


def test_update_to_a_vin_whose_check_digit_fails_needs_confirmation(customer: Customer, advisor: User) -> None:
    vehicle = create(customer, advisor, vin=GOOD_VIN)
    with pytest.raises(ValidationError) as exc:
        vehicle_update(vehicle=vehicle, by=advisor, data={"vin": BAD_CHECK_VIN})
    assert refused(exc, "vin") == [errors.VIN_CHECK_FAILED]
    vehicle_update(vehicle=vehicle, by=advisor, data={"vin": BAD_CHECK_VIN}, vin_confirmed=True)
    assert Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk).vin_check_failed is True


@pytest.mark.parametrize(
    "vin",
    [
        "1M8GDM9AXKP04278",  # 16 characters
        "1M8GDM9AXKP0427888",  # 18 characters
        "1M8GDM9AXKP04278O",  # letter O
        "1M8GDM9AXKP04278I",  # letter I
        "1M8GDM9AXKP04278Q",  # letter Q
        "1M8GDM9AXKP04278-",
        "粤M8GDM9AXKP042788",
    ],
)
@pytest.mark.parametrize("vin_confirmed", [False, True])
def test_it_refuses_a_vin_of_the_wrong_length_or_alphabet(
    customer: Customer, advisor: User, vin: str, vin_confirmed: bool
) -> None:
    with pytest.raises(ValidationError) as exc:
        create(customer, advisor, vin=vin, vin_confirmed=vin_confirmed)
    assert refused(exc, "vin") == [errors.VIN_INVALID]


def test_a_vehicle_may_have_no_vin(customer: Customer, advisor: User) -> None:
    create(customer, advisor, plate="粤B12345", vin="")
    create(customer, advisor, plate="粤B54321")
    assert Vehicle.objects.for_org(customer.organization_id).filter(vin="").count() == 2


def test_it_refuses_a_vin_already_used_in_the_organization(customer: Customer, advisor: User) -> None:
    create(customer, advisor, plate="粤B12345", vin=GOOD_VIN)
    with pytest.raises(ValidationError) as exc:
        create(customer, advisor, plate="粤B54321", vin=GOOD_VIN.lower())
    assert refused(exc, "vin") == [errors.VIN_TAKEN]


def test_it_reports_plate_and_vin_errors_together(customer: Customer, advisor: User) -> None:
    with pytest.raises(ValidationError) as exc:
        create(customer, advisor, plate="粤BO1234", vin="short", year=1800)
    assert exc.value.message_dict == {
        "plate": [errors.PLATE_INVALID],
        "vin": [errors.VIN_INVALID],
        "year": [errors.YEAR_INVALID],
    }


@pytest.mark.parametrize("year", [1900, 2999, "abc"])
def test_it_refuses_an_impossible_model_year(customer: Customer, advisor: User, year: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        create(customer, advisor, year=year)
    assert refused(exc, "year") == [errors.YEAR_INVALID]


def test_a_deleted_customer_gets_no_new_vehicle(customer: Customer, advisor: User) -> None:
    customer_delete(customer=customer, by=advisor)
    with pytest.raises(ValidationError) as exc:
        create(customer, advisor)
    assert exc.value.messages == [errors.CUSTOMER_DELETED]


# --- history of a vehicle ------------------------------------------------------------------


def test_creating_a_vehicle_opens_an_ownership_and_is_recorded(customer: Customer, advisor: User) -> None:
    vehicle = create(customer, advisor, plate="粤B12345", vin=GOOD_VIN, brand="比亚迪")
    ownership = VehicleOwnership.objects.get(vehicle=vehicle)
    assert (ownership.customer_id, ownership.until) == (customer.pk, None)
    entry = ChangeEntry.objects.for_org(customer.organization_id).get(subject_type="vehicle", subject_id=vehicle.pk)
    assert (entry.action, entry.customer_id, entry.actor) == (ChangeEntry.Action.CREATED, customer.pk, advisor)
    assert entry.changes["plate"] == [None, "粤B12345"]
    assert entry.changes["brand"] == [None, "比亚迪"]


def test_updating_a_vehicle_records_old_and_new_values(customer: Customer, advisor: User, owner: User) -> None:
    vehicle = create(customer, advisor, plate="粤B12345", colour="白")
    vehicle_update(
        vehicle=vehicle, by=owner, data={"plate": "粤B54321", "colour": "黑", "inspection_due": "2026-05-01"}
    )
    entry = ChangeEntry.objects.for_org(customer.organization_id).get(
        subject_type="vehicle", action=ChangeEntry.Action.UPDATED
    )
    assert entry.actor == owner and entry.customer_id == customer.pk
    assert entry.changes == {
        "plate": ["粤B12345", "粤B54321"],
        "colour": ["白", "黑"],
        "inspection_due": [None, "2026-05-01"],
    }


# --- transfer ------------------------------------------------------------------------------


@pytest.fixture
def transferred(customer: Customer, advisor: User, make_customer: MakeCustomer) -> tuple[Vehicle, Customer]:
    vehicle = vehicle_create(customer=customer, by=advisor, data={"plate": "粤B12345"}, mileage_km=30_000)
    buyer = make_customer(name="李四")
    vehicle_transfer(vehicle=vehicle, to_customer=buyer, by=advisor)
    return vehicle, buyer


def test_a_transferred_vehicle_belongs_to_the_new_customer(
    transferred: tuple[Vehicle, Customer], customer: Customer
) -> None:
    vehicle, buyer = transferred
    stored = Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk)
    assert stored.customer == buyer
    assert not Vehicle.objects.filter(customer=customer).exists()


def test_a_transfer_keeps_the_readings(transferred: tuple[Vehicle, Customer], advisor: User) -> None:
    vehicle, _buyer = transferred
    assert list(MileageReading.objects.filter(vehicle=vehicle).values_list("km", flat=True)) == [30_000]
    with pytest.raises(ValidationError):
        mileage_record(
            vehicle=Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk), km=29_000, by=advisor
        )


def test_a_transfer_closes_the_old_ownership_and_opens_a_new_one(
    transferred: tuple[Vehicle, Customer], customer: Customer
) -> None:
    vehicle, buyer = transferred
    ownerships = list(vehicle_ownerships(vehicle=vehicle))
    assert [(o.customer_id, o.until is None) for o in ownerships] == [(buyer.pk, True), (customer.pk, False)]
    assert ownerships[1].until == ownerships[0].since


def test_a_transfer_appears_in_both_customers_history(
    transferred: tuple[Vehicle, Customer], customer: Customer, advisor: User
) -> None:
    vehicle, buyer = transferred
    for someone in (customer, buyer):
        entries = [e for e in customer_history(customer=someone) if e.action == ChangeEntry.Action.OWNER_CHANGED]
        assert len(entries) == 1, someone
        assert (entries[0].subject_type, entries[0].subject_id, entries[0].actor) == ("vehicle", vehicle.pk, advisor)
        assert entries[0].changes["customer"] == ["张三", "李四"]


def test_a_transfer_moves_the_vehicle_part_of_completeness(
    transferred: tuple[Vehicle, Customer], org: Organization
) -> None:
    vehicle, buyer = transferred
    seller = Customer.objects.for_org(org).get(
        pk=Vehicle.objects.for_org(vehicle.organization_id)
        .get(pk=vehicle.pk)
        .ownerships.order_by("since")[0]
        .customer_id
    )
    assert (
        Customer.objects.for_org(buyer.organization_id).get(pk=buyer.pk).completeness
        > Customer.objects.for_org(seller.organization_id).get(pk=seller.pk).completeness
    )


def test_a_vehicle_cannot_be_transferred_to_its_own_customer(customer: Customer, advisor: User) -> None:
    vehicle = create(customer, advisor)
    with pytest.raises(ValidationError) as exc:
        vehicle_transfer(vehicle=vehicle, to_customer=customer, by=advisor)
    assert refused(exc, "customer") == [errors.TRANSFER_SAME_OWNER]


def test_a_vehicle_cannot_be_transferred_to_another_organization(
    customer: Customer, advisor: User, make_customer: MakeCustomer, other_org: Organization, outsider: User
) -> None:
    vehicle = create(customer, advisor)
    stranger = make_customer(organization=other_org, by=outsider)
    with pytest.raises(ValidationError) as exc:
        vehicle_transfer(vehicle=vehicle, to_customer=stranger, by=advisor)
    assert refused(exc, "customer") == [errors.CUSTOMER_NOT_FOUND]
    assert Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk).customer_id == customer.pk
    assert VehicleOwnership.objects.filter(vehicle=vehicle).count() == 1


def test_a_vehicle_cannot_be_transferred_to_a_deleted_customer(
    customer: Customer, advisor: User, make_customer: MakeCustomer
) -> None:
    vehicle = create(customer, advisor)
    gone = make_customer(name="李四")
    customer_delete(customer=gone, by=advisor)
    with pytest.raises(ValidationError) as exc:
        vehicle_transfer(vehicle=vehicle, to_customer=gone, by=advisor)
    assert refused(exc, "customer") == [errors.CUSTOMER_NOT_FOUND]


def test_a_removed_vehicle_cannot_be_transferred(
    customer: Customer, advisor: User, make_customer: MakeCustomer
) -> None:
    vehicle = create(customer, advisor)
    buyer = make_customer(name="买家")
    vehicle_delete(vehicle=vehicle, by=advisor)
    with pytest.raises(ValidationError) as exc:
        vehicle_transfer(vehicle=vehicle, to_customer=buyer, by=advisor)
    assert exc.value.messages == [str(errors.VEHICLE_DELETED)]
    assert Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk).customer_id == customer.pk


def test_a_unique_race_on_the_vin_is_reported_on_the_vin(customer: Customer, advisor: User) -> None:
    """Two saves racing past the check: the database's refusal names the right field."""
    from huitou.customers.services import _save_unique

    create(customer, advisor, vin=GOOD_VIN)
    twin = Vehicle(organization_id=customer.organization_id, customer=customer, plate="粤B99999", vin=GOOD_VIN)
    with pytest.raises(ValidationError) as exc:
        _save_unique(twin)
    assert exc.value.message_dict == {"vin": [str(errors.VIN_TAKEN)]}
