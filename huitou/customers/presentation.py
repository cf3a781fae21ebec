"""How customer facts are shown to a given staff member."""

from __future__ import annotations

from huitou.customers.models import Customer
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm


def visible_phone(customer: Customer, viewer: User) -> str:
    """The phone as this viewer may see it: technicians get 138****1234."""
    if not customer.phone:
        return ""
    if viewer.has_role_perm(Perm.VIEW_FULL_PHONE):
        return customer.phone_display
    return customer.phone_masked
