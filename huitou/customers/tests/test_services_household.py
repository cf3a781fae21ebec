"""Households: family members who are all customers of the shop."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from huitou.audit.models import ChangeEntry
from huitou.customers import errors
from huitou.customers.models import Customer, Household
from huitou.customers.services import household_link, household_unlink
from huitou.tenancy.models import Organization, User

MakeCustomer = Callable[..., Customer]


def _household_of(customer: Customer) -> int | None:
    return Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).household_id


def test_linking_two_customers_puts_them_in_one_household(make_customer: MakeCustomer, advisor: User) -> None:
    husband, wife = make_customer(name="张三"), make_customer(name="李梅")
    household = household_link(customer=husband, other=wife, by=advisor)
    assert _household_of(husband) == _household_of(wife) == household.pk
    assert household.organization_id == husband.organization_id


def test_linking_is_recorded_on_both_files(make_customer: MakeCustomer, advisor: User) -> None:
    husband, wife = make_customer(name="张三"), make_customer(name="李梅")
    household_link(customer=husband, other=wife, by=advisor)
    entries = ChangeEntry.objects.for_org(advisor.organization_id).filter(action=ChangeEntry.Action.LINKED)
    assert {(e.customer_id, e.changes["household"][1], e.actor_id) for e in entries} == {
        (husband.pk, "李梅", advisor.pk),
        (wife.pk, "张三", advisor.pk),
    }


def test_a_customer_cannot_be_linked_to_themselves(make_customer: MakeCustomer, advisor: User) -> None:
    customer = make_customer()
    with pytest.raises(ValidationError) as exc:
        household_link(
            customer=customer, other=Customer.objects.for_org(customer.organization_id).get(pk=customer.pk), by=advisor
        )
    assert exc.value.message_dict == {"other": [errors.HOUSEHOLD_SELF]}
    assert not Household.objects.for_org(advisor.organization_id).exists()


def test_customers_of_two_organizations_cannot_be_linked(
    make_customer: MakeCustomer, other_org: Organization, advisor: User, outsider: User
) -> None:
    mine = make_customer()
    theirs = make_customer(organization=other_org, by=outsider)
    with pytest.raises(ValidationError) as exc:
        household_link(customer=mine, other=theirs, by=advisor)
    assert "other" in exc.value.message_dict
    assert _household_of(mine) is None and _household_of(theirs) is None


def test_a_third_member_joins_the_existing_household(make_customer: MakeCustomer, advisor: User) -> None:
    a, b, c = make_customer(), make_customer(), make_customer()
    household = household_link(customer=a, other=b, by=advisor)
    household_link(customer=c, other=b, by=advisor)
    assert {_household_of(x) for x in (a, b, c)} == {household.pk}


def test_linking_two_customers_who_each_have_a_household_merges_them(
    make_customer: MakeCustomer, advisor: User
) -> None:
    a, b, c, d = (make_customer() for _ in range(4))
    household_link(customer=a, other=b, by=advisor)
    household_link(customer=c, other=d, by=advisor)
    b, c = (
        Customer.objects.for_org(b.organization_id).get(pk=b.pk),
        Customer.objects.for_org(c.organization_id).get(pk=c.pk),
    )
    merged = household_link(customer=b, other=c, by=advisor)
    assert {_household_of(x) for x in (a, b, c, d)} == {merged.pk}
    assert list(Household.objects.for_org(advisor.organization_id).values_list("pk", flat=True)) == [merged.pk]


def test_a_deleted_customer_cannot_join_a_household(make_customer: MakeCustomer, advisor: User) -> None:
    from huitou.customers.services import customer_delete

    mine, gone = make_customer(), make_customer()
    customer_delete(customer=gone, by=advisor)
    with pytest.raises(ValidationError) as exc:
        household_link(customer=mine, other=gone, by=advisor)
    assert exc.value.message_dict["other"] == [str(errors.CUSTOMER_NOT_FOUND)]
    assert _household_of(mine) is None


def test_unlinking_leaves_the_rest_of_the_household(make_customer: MakeCustomer, advisor: User) -> None:
    a, b, c = make_customer(), make_customer(), make_customer()
    household = household_link(customer=a, other=b, by=advisor)
    household_link(customer=c, other=a, by=advisor)
    household_unlink(customer=Customer.objects.for_org(c.organization_id).get(pk=c.pk), by=advisor)
    assert (_household_of(a), _household_of(b), _household_of(c)) == (household.pk, household.pk, None)
    assert (
        ChangeEntry.objects.for_org(advisor.organization_id)
        .filter(action=ChangeEntry.Action.UNLINKED, customer_id=c.pk)
        .exists()
    )


def test_unlinking_one_of_two_dissolves_the_household(make_customer: MakeCustomer, advisor: User) -> None:
    a, b = make_customer(), make_customer()
    household = household_link(customer=a, other=b, by=advisor)
    household_unlink(customer=Customer.objects.for_org(a.organization_id).get(pk=a.pk), by=advisor)
    assert (_household_of(a), _household_of(b)) == (None, None)
    assert not Household.objects.for_org(household.organization_id).filter(pk=household.pk).exists()


def test_unlinking_a_customer_without_household_does_nothing(make_customer: MakeCustomer, advisor: User) -> None:
    customer = make_customer()
    before = ChangeEntry.objects.for_org(advisor.organization_id).count()
    household_unlink(customer=customer, by=advisor)
    assert ChangeEntry.objects.for_org(advisor.organization_id).count() == before
