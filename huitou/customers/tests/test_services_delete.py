"""Soft delete and restore: a deleted file is hidden, nothing is lost."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from huitou.audit.models import ChangeEntry
from huitou.customers import errors
from huitou.customers.models import (
    ConsentRecord,
    Customer,
    CustomerTag,
    MileageReading,
    Vehicle,
    VehicleOwnership,
)
from huitou.customers.selectors import customer_for_file, customer_list
from huitou.customers.services import (
    consent_set,
    customer_delete,
    customer_restore,
    vehicle_create,
    vehicle_delete,
)
from huitou.tenancy.models import Organization, User
from huitou.tenancy.scope import unscoped

TABLES = (Customer, Vehicle, MileageReading, VehicleOwnership, ConsentRecord, CustomerTag)


def _row_counts() -> dict[str, int]:
    with unscoped():  # every organization's rows: nothing is lost anywhere
        return {model.__name__: model.objects.count() for model in TABLES}


@pytest.fixture
def customer(make_customer: Callable[..., Customer], make_vehicle: Callable[..., Vehicle], service: User) -> Customer:
    customer = make_customer(name="张三", phone="13812345678", tags=["A类"])
    make_vehicle(customer, plate="粤B12345", mileage_km=10_000)
    make_vehicle(customer, plate="粤B54321", mileage_km=20_000)
    consent_set(customer=customer, channel="sms", granted=True, method="verbal", purpose="保养提醒", by=service)
    return customer


def test_deleting_hides_the_customer_from_the_list_and_the_search(
    org: Organization, customer: Customer, owner: User
) -> None:
    customer_delete(customer=customer, by=owner)
    assert not customer_list(organization=org).filter(pk=customer.pk).exists()
    for q in ("张三", "zhangsan", "zs", "13812345678", "5678", "B12345"):
        assert customer.pk not in set(customer_list(organization=org, q=q).values_list("pk", flat=True)), q
    with pytest.raises(Customer.DoesNotExist):
        customer_for_file(organization=org, customer_id=customer.pk)


def test_deleting_removes_no_row(customer: Customer, owner: User) -> None:
    before = _row_counts()
    customer_delete(customer=customer, by=owner)
    assert _row_counts() == before
    stored = Customer.objects.for_org(customer.organization_id).get(pk=customer.pk)
    assert stored.deleted_at is not None
    assert stored.deleted_by == owner
    assert stored.name == "张三" and stored.phone == "+8613812345678"


def test_deleting_soft_deletes_the_vehicles_too(customer: Customer, owner: User) -> None:
    customer_delete(customer=customer, by=owner)
    vehicles = Vehicle.objects.filter(customer=customer)
    assert vehicles.count() == 2
    assert all(v.deleted_at is not None and v.deleted_by == owner for v in vehicles)
    assert not Vehicle.objects.for_org(customer.organization_id).active().filter(customer=customer).exists()


def test_deleting_is_recorded_with_the_vehicles_it_hid(customer: Customer, owner: User) -> None:
    customer_delete(customer=customer, by=owner)
    entry = ChangeEntry.objects.for_org(customer.organization_id).get(
        action=ChangeEntry.Action.DELETED, subject_type="customer"
    )
    assert (entry.actor, entry.customer_id) == (owner, customer.pk)
    assert sorted(entry.changes["vehicles"][0]) == ["粤B12345", "粤B54321"]


def test_deleting_twice_changes_nothing(customer: Customer, owner: User, advisor: User) -> None:
    customer_delete(customer=customer, by=owner)
    entries = ChangeEntry.objects.for_org(customer.organization_id).count()
    customer_delete(customer=customer, by=advisor)
    assert ChangeEntry.objects.for_org(customer.organization_id).count() == entries
    assert Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).deleted_by == owner


def test_restoring_brings_back_the_customer_and_its_vehicles(
    org: Organization, customer: Customer, owner: User
) -> None:
    customer_delete(customer=customer, by=owner)
    customer_restore(customer=Customer.objects.for_org(customer.organization_id).get(pk=customer.pk), by=owner)
    assert customer_list(organization=org).filter(pk=customer.pk).exists()
    assert Vehicle.objects.for_org(org).active().filter(customer=customer).count() == 2
    assert customer.pk in set(customer_list(organization=org, q="粤B54321").values_list("pk", flat=True))
    stored = Customer.objects.for_org(customer.organization_id).get(pk=customer.pk)
    assert (stored.deleted_at, stored.deleted_by) == (None, None)
    assert ChangeEntry.objects.for_org(org).filter(action=ChangeEntry.Action.RESTORED, customer_id=customer.pk).exists()


def test_restoring_leaves_a_vehicle_deleted_before_the_customer_deleted(customer: Customer, owner: User) -> None:
    gone = Vehicle.objects.for_org(customer.organization_id).get(plate="粤B54321")
    vehicle_delete(vehicle=gone, by=owner)
    customer_delete(customer=customer, by=owner)
    customer_restore(customer=Customer.objects.for_org(customer.organization_id).get(pk=customer.pk), by=owner)
    assert list(
        Vehicle.objects.for_org(customer.organization_id)
        .active()
        .filter(customer=customer)
        .values_list("plate", flat=True)
    ) == ["粤B12345"]


def test_restoring_is_refused_when_a_plate_was_taken_meanwhile(
    customer: Customer, owner: User, make_customer: Callable[..., Customer]
) -> None:
    customer_delete(customer=customer, by=owner)
    vehicle_create(customer=make_customer(name="李四"), by=owner, data={"plate": "粤B12345"})
    with pytest.raises(ValidationError) as exc:
        customer_restore(customer=Customer.objects.for_org(customer.organization_id).get(pk=customer.pk), by=owner)
    assert exc.value.message_dict == {"plate": [errors.PLATE_TAKEN]}
    assert Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).deleted_at is not None
    assert not Vehicle.objects.for_org(customer.organization_id).active().filter(customer=customer).exists()


def test_deleting_a_vehicle_keeps_its_row_and_readings(customer: Customer, owner: User) -> None:
    vehicle = Vehicle.objects.for_org(customer.organization_id).get(plate="粤B12345")
    vehicle_delete(vehicle=vehicle, by=owner)
    stored = Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk)
    assert stored.deleted_at is not None and stored.deleted_by == owner
    assert MileageReading.objects.filter(vehicle=vehicle).count() == 1
    entry = ChangeEntry.objects.for_org(customer.organization_id).get(
        action=ChangeEntry.Action.DELETED, subject_type="vehicle"
    )
    assert (entry.customer_id, entry.changes) == (customer.pk, {"plate": ["粤B12345", None]})
