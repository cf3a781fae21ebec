"""Households: customers of one organization living together."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record
from huitou.customers import errors
from huitou.customers.models import (
    Customer,
    Household,
)
from huitou.tenancy.models import User


def household_link(
    *, customer: Customer, other: Customer, by: User | None, now: dt.datetime | None = None
) -> Household:
    """Put two customers of one organization in the same household."""
    if customer.pk == other.pk:
        raise ValidationError({"other": [errors.HOUSEHOLD_SELF]})
    if customer.organization_id != other.organization_id or other.deleted_at or customer.deleted_at:
        raise ValidationError({"other": [errors.CUSTOMER_NOT_FOUND]})
    org_id = customer.organization_id
    with transaction.atomic():
        household = customer.household or other.household
        if household is None:
            household = Household.objects.create(organization_id=org_id)
        for member in (customer, other):
            if member.household_id and member.household_id != household.pk:
                merged = member.household_id
                Customer.objects.for_org(org_id).filter(household_id=merged).update(household=household)
                Household.objects.for_org(org_id).filter(pk=merged).delete()
            member.household = household
        Customer.objects.for_org(org_id).filter(pk__in=[customer.pk, other.pk]).update(household=household)
        for a, b in ((customer, other), (other, customer)):
            change_record(
                organization_id=org_id,
                subject=a,
                action=ChangeEntry.Action.LINKED,
                actor=by,
                customer_id=a.pk,
                changes={"household": [None, b.name]},
                at=now,
            )
    return household


def household_unlink(*, customer: Customer, by: User | None) -> None:
    if customer.household_id is None:
        return
    with transaction.atomic():
        household_id = customer.household_id
        customer.household = None
        Customer.objects.for_org(customer.organization_id).filter(pk=customer.pk).update(household=None)
        change_record(
            organization_id=customer.organization_id,
            subject=customer,
            action=ChangeEntry.Action.UNLINKED,
            actor=by,
            customer_id=customer.pk,
        )
        remaining = Customer.objects.for_org(customer.organization_id).filter(household_id=household_id)
        if remaining.count() < 2:
            remaining.update(household=None)
            Household.objects.for_org(customer.organization_id).filter(pk=household_id).delete()
