"""Reads of a customer's membership account."""

from __future__ import annotations

from django.db.models import QuerySet

from huitou.customers.models import Customer
from huitou.lib.statements import tenant_rows
from huitou.loyalty.models import LoyaltyAccount


def account_for(customer: Customer) -> LoyaltyAccount | None:
    """The customer's membership account with its tier, if any (1 query, a kept statement:
    ``huitou.lib.statements``)."""

    def build(org: int, pk: int) -> QuerySet[LoyaltyAccount]:
        return LoyaltyAccount.objects.for_org(org).filter(customer_id=pk).select_related("tier").order_by("pk")[:1]

    rows = tenant_rows(("loyalty.account_for",), customer.organization_id, customer.pk, build)
    return rows[0] if rows else None
