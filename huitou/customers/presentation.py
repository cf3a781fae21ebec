"""How customer facts are shown to a given staff member."""

from __future__ import annotations

from huitou.audit.models import ChangeEntry
from huitou.customers.models import Customer
from huitou.lib.phones import mask_phone, national_digits
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm


def visible_phone(customer: Customer, viewer: User) -> str:
    """The phone as this viewer may see it: technicians get 138****1234."""
    return phone_for_viewer(customer.phone, viewer)


def phone_for_viewer(phone: str, viewer: User) -> str:
    """A stored phone as this viewer may see it (``visible_phone`` for rows read without a model)."""
    if not phone:
        return ""
    if viewer.has_role_perm(Perm.VIEW_FULL_PHONE):
        return national_digits(phone)
    return mask_phone(phone)


def history_for_viewer(entries: list[ChangeEntry], viewer: User) -> list[ChangeEntry]:
    """History entries with phone numbers masked for roles that may not see them."""
    if viewer.has_role_perm(Perm.VIEW_FULL_PHONE):
        return entries
    for entry in entries:
        if "phone" in entry.changes:
            entry.changes = {
                **entry.changes,
                "phone": [mask_phone(v) if isinstance(v, str) and v else v for v in entry.changes["phone"]],
            }
    return entries
