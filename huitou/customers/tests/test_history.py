"""The change history of a customer file: who changed what, when, inside one organization."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from huitou.audit.models import ChangeEntry
from huitou.audit.selectors import history_for_customer, history_for_subject
from huitou.customers.models import Customer, Vehicle
from huitou.customers.selectors import customer_history
from huitou.customers.services import (
    consent_set,
    customer_delete,
    customer_restore,
    customer_update,
    mileage_record,
    vehicle_update,
)
from huitou.tenancy.models import Organization, User

MakeCustomer = Callable[..., Customer]


@pytest.fixture
def timeline(
    make_customer: MakeCustomer, make_vehicle: Callable[..., Vehicle], advisor: User, service: User, tech: User
) -> Customer:
    """A customer whose file was created, edited, given a vehicle, a reading and consent."""
    customer = make_customer(name="张三", by=advisor)
    customer_update(customer=customer, by=service, data={"occupation": "教师"})
    vehicle = make_vehicle(customer, by=advisor, plate="粤B12345")
    mileage_record(vehicle=vehicle, km=12_000, by=tech)
    consent_set(customer=customer, channel="sms", granted=True, method="verbal", purpose="保养提醒", by=service)
    return customer


def test_every_change_to_the_file_is_in_its_history_newest_first(timeline: Customer) -> None:
    entries = customer_history(customer=timeline)
    assert [(e.subject_type, e.action) for e in entries] == [
        ("customer", ChangeEntry.Action.CONSENT),
        ("vehicle", ChangeEntry.Action.MILEAGE),
        ("vehicle", ChangeEntry.Action.CREATED),
        ("customer", ChangeEntry.Action.UPDATED),
        ("customer", ChangeEntry.Action.CREATED),
    ]


def test_entries_carry_organization_actor_and_customer(
    timeline: Customer, org: Organization, advisor: User, service: User, tech: User
) -> None:
    entries = customer_history(customer=timeline)
    assert {e.organization_id for e in entries} == {org.pk}
    assert {e.customer_id for e in entries} == {timeline.pk}
    assert [e.actor for e in entries] == [service, tech, advisor, service, advisor]
    assert all(e.at is not None for e in entries)


def test_the_history_keeps_old_and_new_values(timeline: Customer) -> None:
    updated = next(e for e in customer_history(customer=timeline) if e.action == ChangeEntry.Action.UPDATED)
    assert updated.changes == {"occupation": ["", "教师"]}


def test_the_history_is_limited(timeline: Customer) -> None:
    assert len(customer_history(customer=timeline, limit=2)) == 2


def test_a_customers_history_holds_nothing_of_other_customers(
    timeline: Customer, make_customer: MakeCustomer, advisor: User
) -> None:
    other = make_customer(name="李四")
    customer_update(customer=other, by=advisor, data={"hobbies": "钓鱼"})
    assert {e.customer_id for e in customer_history(customer=timeline)} == {timeline.pk}
    assert {e.customer_id for e in customer_history(customer=other)} == {other.pk}


def test_another_organization_never_sees_the_history(timeline: Customer, other_org: Organization) -> None:
    assert list(history_for_customer(organization_id=other_org.pk, customer_id=timeline.pk)) == []
    vehicle = Vehicle.objects.get(customer=timeline)
    assert list(history_for_subject(organization_id=other_org.pk, subject_type="vehicle", subject_id=vehicle.pk)) == []


def test_another_organizations_entries_never_reach_this_history(
    timeline: Customer, other_org: Organization, outsider: User
) -> None:
    # An entry of another organization that (wrongly or by id collision) names this customer id.
    ChangeEntry.objects.create(
        organization=other_org,
        subject_type="customer",
        subject_id=timeline.pk,
        customer_id=timeline.pk,
        action=ChangeEntry.Action.UPDATED,
        actor=outsider,
    )
    assert outsider not in {e.actor for e in customer_history(customer=timeline)}
    assert len(history_for_customer(organization_id=other_org.pk, customer_id=timeline.pk)) == 1


def test_the_vehicle_history_can_be_read_by_subject(timeline: Customer, org: Organization, owner: User) -> None:
    vehicle = Vehicle.objects.get(customer=timeline)
    vehicle_update(vehicle=vehicle, by=owner, data={"colour": "白"})
    entries = list(history_for_subject(organization_id=org.pk, subject_type="vehicle", subject_id=vehicle.pk))
    assert [e.action for e in entries] == [
        ChangeEntry.Action.UPDATED,
        ChangeEntry.Action.MILEAGE,
        ChangeEntry.Action.CREATED,
    ]


def test_deleting_and_restoring_stay_in_the_history(timeline: Customer, owner: User) -> None:
    customer_delete(customer=timeline, by=owner)
    customer_restore(customer=Customer.objects.for_org(timeline.organization_id).get(pk=timeline.pk), by=owner)
    actions = [e.action for e in customer_history(customer=timeline)][:2]
    assert actions == [ChangeEntry.Action.RESTORED, ChangeEntry.Action.DELETED]
    assert ChangeEntry.objects.for_org(owner.organization_id).filter(customer_id=timeline.pk).count() == 7


def test_reading_the_history_takes_one_query(
    timeline: Customer, django_assert_num_queries: Callable[..., object]
) -> None:
    with django_assert_num_queries(1):  # the entries, with their actors joined
        names = [str(e.actor) for e in customer_history(customer=timeline)]
    assert len(names) == 5
