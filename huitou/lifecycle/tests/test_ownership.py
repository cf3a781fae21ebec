"""Ownership: prospects in turn, handing customers over, and staff who leave leaving no customer behind."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from huitou.audit.models import ChangeEntry
from huitou.customers.models import Customer
from huitou.customers.services import customer_delete
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUpTask, ProspectRotation
from huitou.lifecycle.selectors import rotation_members
from huitou.lifecycle.services.followups import followup_record
from huitou.lifecycle.services.ownership import (
    customers_reassign,
    owner_next_in_turn,
    rotation_set,
    staff_deactivate,
)
from huitou.lifecycle.services.prospects import ROUND_ROBIN, prospect_capture
from huitou.service.tests.test_concurrency import postgres_only, race, split
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Role
from huitou.tenancy.services import staff_create

pytestmark = pytest.mark.django_db


def capture(org: Organization, by: User, phone: str) -> Callable[[], Customer]:
    return lambda: prospect_capture(
        organization=org,
        by=by,
        data={"name": f"潜客{phone[-4:]}", "phone": phone, "source": "flyer", "owner": ROUND_ROBIN},
    )


def open_tasks(customer: Customer) -> list[FollowUpTask]:
    return list(FollowUpTask.objects.for_org(customer.organization_id).filter(customer=customer, closed_at=None))


def owners(customers: list[Customer]) -> list[int]:
    by_pk = dict(
        Customer.objects.for_org(customers[0].organization_id)
        .filter(pk__in=[c.pk for c in customers])
        .values_list("pk", "owner_id")
    )
    return [by_pk[c.pk] for c in customers]


@pytest.fixture
def colleague(org: Organization) -> User:
    """A second advisor, to share customers with."""
    return staff_create(
        organization=org, username="advisor2", password="x", role=Role.ADVISOR, display_name="周顾问", validate=False
    )


# --- round robin --------------------------------------------------------------------------------


def test_new_prospects_go_to_the_rotation_members_in_turn(org, owner, advisor, service):
    rotation_set(organization=org, member_ids=[service.pk, advisor.pk])

    taken = [capture(org, owner, f"1390000100{i}")() for i in range(5)]

    first, second = sorted([advisor.pk, service.pk])
    assert owners(taken) == [first, second, first, second, first]
    assert [u.pk for u in rotation_members(organization=org)] == [first, second]


def test_the_rotation_skips_members_who_are_no_longer_active(org, owner, advisor, service, colleague):
    rotation_set(organization=org, member_ids=[advisor.pk, service.pk, colleague.pk])
    User.objects.filter(pk=service.pk).update(is_active=False)

    picked = [owner_next_in_turn(organization=org).pk for _ in range(4)]

    assert picked == [advisor.pk, colleague.pk, advisor.pk, colleague.pk]
    assert service not in rotation_members(organization=org)


def test_the_rotation_refuses_without_members_and_staff_of_another_organization(org, owner, outsider):
    with pytest.raises(ValidationError) as exc:
        owner_next_in_turn(organization=org)
    assert exc.value.message_dict["owner"] == [errors.ROTATION_EMPTY]
    with pytest.raises(ValidationError) as exc:
        rotation_set(organization=org, member_ids=[owner.pk, outsider.pk])
    assert exc.value.message_dict["members"] == [errors.REASSIGN_TARGET_REQUIRED]
    assert not ProspectRotation.objects.filter(organization=org).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_prospects_captured_at_the_same_moment_go_to_two_different_people(org, owner, advisor, service):
    rotation_set(organization=org, member_ids=[advisor.pk, service.pk])

    taken, failed = split(race(capture(org, owner, "13900001001"), capture(org, owner, "13900001002")))

    assert not failed, failed
    assert sorted(owners(taken)) == sorted([advisor.pk, service.pk])


def test_prospects_captured_one_after_the_other_go_to_two_different_people(org, owner, advisor, service):
    """The sequential twin of the race above, for every database."""
    rotation_set(organization=org, member_ids=[advisor.pk, service.pk])
    taken = [capture(org, owner, "13900001001")(), capture(org, owner, "13900001002")()]
    assert sorted(owners(taken)) == sorted([advisor.pk, service.pk])


# --- reassignment -------------------------------------------------------------------------------


def test_reassignment_shares_the_customers_out_evenly_in_turn(org, owner, advisor, service, colleague, make_customer):
    theirs = [make_customer(by=advisor) for _ in range(7)]

    moved = customers_reassign(organization=org, from_user=advisor, to_user_ids=[service.pk, colleague.pk], by=owner)

    assert moved == 7
    counts = [owners(theirs).count(service.pk), owners(theirs).count(colleague.pk)]
    assert sorted(counts) == [3, 4]
    assert not Customer.objects.for_org(org).filter(owner=advisor).exists()


def test_reassignment_moves_the_open_follow_ups_but_not_the_closed_ones(org, owner, advisor, service, make_customer):
    customer = make_customer(by=advisor)
    planned = open_tasks(customer)
    assert len(planned) == 3 and {t.assignee_id for t in planned} == {advisor.pk}
    followup_record(customer=customer, by=advisor, channel="phone", content="第一次电话")  # closes today's task
    done = FollowUpTask.objects.for_org(org).get(customer=customer, closed_as=FollowUpTask.Closed.DONE)

    customers_reassign(organization=org, from_user=advisor, to_user_ids=[service.pk], by=owner)

    assert {t.assignee_id for t in open_tasks(customer)} == {service.pk}
    assert len(open_tasks(customer)) == 2
    done.refresh_from_db()
    assert done.assignee_id == advisor.pk  # who did it stays who did it


def test_each_reassigned_customer_records_the_owner_change_in_its_history(org, owner, advisor, service, make_customer):
    theirs = [make_customer(by=advisor) for _ in range(3)]

    customers_reassign(organization=org, from_user=advisor, to_user_ids=[service.pk], by=owner)

    entries = ChangeEntry.objects.for_org(org).filter(action=ChangeEntry.Action.OWNER_CHANGED)
    assert sorted(entries.values_list("customer_id", flat=True)) == sorted(c.pk for c in theirs)
    entry = entries.first()
    assert entry.changes == {"owner": ["李顾问", "赵客服"]}
    assert entry.actor == owner


def test_reassignment_can_hand_over_only_some_customers(org, owner, advisor, service, make_customer):
    keep, hand = make_customer(by=advisor), make_customer(by=advisor)
    assert (
        customers_reassign(
            organization=org, from_user=advisor, to_user_ids=[service.pk], by=owner, customer_ids=[hand.pk]
        )
        == 1
    )
    assert owners([keep, hand]) == [advisor.pk, service.pk]


def test_reassignment_refuses_no_target_the_leaver_and_staff_of_another_organization(
    org, owner, advisor, outsider, make_customer
):
    make_customer(by=advisor)
    for targets, message in (
        ([], errors.REASSIGN_TARGET_REQUIRED),
        ([outsider.pk], errors.REASSIGN_TARGET_REQUIRED),
        # One good colleague does not make a foreign or unknown id acceptable.
        ([owner.pk, outsider.pk], errors.REASSIGN_TARGET_REQUIRED),
        ([owner.pk, 987654], errors.REASSIGN_TARGET_REQUIRED),
        ([owner.pk, advisor.pk], errors.REASSIGN_TO_SELF),
    ):
        with pytest.raises(ValidationError) as exc:
            customers_reassign(organization=org, from_user=advisor, to_user_ids=targets, by=owner)
        assert exc.value.message_dict["to"] == [message]
    assert Customer.objects.for_org(org).filter(owner=advisor).count() == 1


def test_reassignment_to_an_inactive_staff_member_is_refused(org, owner, advisor, service, make_customer):
    make_customer(by=advisor)
    User.objects.filter(pk=service.pk).update(is_active=False)
    with pytest.raises(ValidationError) as exc:
        customers_reassign(organization=org, from_user=advisor, to_user_ids=[service.pk], by=owner)
    assert exc.value.message_dict["to"] == [errors.REASSIGN_TARGET_REQUIRED]


# --- staff who leave ----------------------------------------------------------------------------


def test_a_deactivated_staff_member_leaves_no_customer_with_an_inactive_owner(
    org, owner, advisor, service, colleague, make_customer
):
    theirs = [make_customer(by=advisor) for _ in range(5)]
    deleted = make_customer(by=advisor)
    customer_delete(customer=deleted, by=owner)  # a deleted file moves too: restoring it must not bring back an orphan
    make_customer(by=service)
    rotation_set(organization=org, member_ids=[advisor.pk, service.pk])

    moved = staff_deactivate(user=advisor, to_user_ids=[service.pk, colleague.pk], by=owner)

    assert moved == 6
    advisor.refresh_from_db()
    assert advisor.is_active is False
    orphans = Customer.objects.for_org(org).filter(owner__is_active=False)
    assert not orphans.exists()
    assert not FollowUpTask.objects.for_org(org).filter(closed_at=None, assignee__is_active=False).exists()
    assert set(owners(theirs)) == {service.pk, colleague.pk}
    assert [u.pk for u in rotation_members(organization=org)] == [service.pk]
    assert not ProspectRotation.objects.get(organization=org).members.filter(pk=advisor.pk).exists()


def test_follow_ups_a_leaver_had_on_colleagues_customers_go_to_those_customers_owners(
    org, owner, advisor, service, make_customer
):
    customer = make_customer(by=service)
    followup_record(customer=customer, by=service, channel="phone", content="约好了", next_due=None)
    stray = FollowUpTask.objects.create(
        organization=org, customer=customer, assignee=advisor, due_on=customer.created_at.date(), action="帮忙回访"
    )

    assert staff_deactivate(user=advisor, to_user_ids=[], by=owner) == 0  # owns nobody: no target needed

    stray.refresh_from_db()
    assert stray.assignee_id == service.pk


def test_deactivation_is_refused_without_a_target_when_they_own_customers(org, owner, advisor, make_customer):
    make_customer(by=advisor)
    with pytest.raises(ValidationError) as exc:
        staff_deactivate(user=advisor, to_user_ids=[], by=owner)
    assert exc.value.message_dict["to"] == [errors.REASSIGN_TARGET_REQUIRED]
    advisor.refresh_from_db()
    assert advisor.is_active is True
    assert Customer.objects.for_org(org).filter(owner=advisor).count() == 1


def test_nobody_deactivates_themselves_or_the_last_store_manager(org, owner, advisor):
    with pytest.raises(ValidationError) as exc:
        staff_deactivate(user=owner, to_user_ids=[advisor.pk], by=owner)
    assert exc.value.message_dict["user"] == [errors.DEACTIVATE_SELF]
    with pytest.raises(ValidationError) as exc:
        staff_deactivate(user=owner, to_user_ids=[advisor.pk], by=advisor)
    assert exc.value.message_dict["user"] == [errors.DEACTIVATE_LAST_OWNER]
    owner.refresh_from_db()
    assert owner.is_active is True


def test_a_store_manager_can_leave_when_another_one_stays(org, owner, advisor, make_customer):
    second = staff_create(
        organization=org, username="owner2", password="x", role=Role.OWNER, display_name="钱店长", validate=False
    )
    make_customer(by=owner)
    assert staff_deactivate(user=owner, to_user_ids=[second.pk], by=second) == 1
    assert not Customer.objects.for_org(org).filter(owner__is_active=False).exists()
