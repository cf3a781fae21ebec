"""The membership account row: found or made, and locked before any ledger moves.

Every ledger write (points, stored value) locks the customer's account with
``account_locked`` inside the caller's transaction, writes the entry and the
new cached balance, and nothing else changes a balance. Lock order across the
product: the order row (the service-order services lock it first), then the
account row, then a card or coupon row.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from huitou.customers.models import Customer
from huitou.loyalty.models import LoyaltyAccount


def account_for(customer: Customer) -> LoyaltyAccount | None:
    """The customer's account, or None if they have no membership data (no lock)."""
    return LoyaltyAccount.objects.for_org(customer.organization_id).filter(customer_id=customer.pk).first()


def account_locked(customer: Customer | int, *, organization_id: int | None = None) -> LoyaltyAccount:
    """The customer's account under ``select_for_update``, made first if missing.

    Call inside a transaction. Two first writes racing to make the row: one
    creates it, the other meets the unique constraint and locks the winner's.
    """
    if isinstance(customer, Customer):
        customer_id, organization_id = customer.pk, customer.organization_id
    else:
        customer_id = customer
    assert organization_id is not None
    assert transaction.get_connection().in_atomic_block, "lock the account inside the caller's transaction"
    rows = LoyaltyAccount.objects.for_org(organization_id).select_for_update()
    account = rows.filter(customer_id=customer_id).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            LoyaltyAccount.objects.create(organization_id=organization_id, customer_id=customer_id)
    except IntegrityError:
        pass  # made by a concurrent first write: lock that one
    return rows.get(customer_id=customer_id)
