"""Staff roles and what each may do. The one place permissions are decided."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Store manager")
    ADVISOR = "advisor", _("Service advisor")
    SERVICE = "service", _("Customer service")
    TECHNICIAN = "technician", _("Technician")


class Perm:
    MANAGE_STAFF = "staff.manage"
    MANAGE_SETTINGS = "settings.manage"
    VIEW_CUSTOMERS = "customers.view"
    EDIT_CUSTOMERS = "customers.edit"
    DELETE_CUSTOMERS = "customers.delete"
    VIEW_FULL_PHONE = "customers.view_phone"
    EDIT_VEHICLES = "vehicles.edit"
    RECORD_MILEAGE = "vehicles.mileage"


_ALL: set[str] = {Role.OWNER, Role.ADVISOR, Role.SERVICE, Role.TECHNICIAN}
_FRONT: set[str] = {Role.OWNER, Role.ADVISOR, Role.SERVICE}

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Perm.MANAGE_STAFF: {Role.OWNER},
    Perm.MANAGE_SETTINGS: {Role.OWNER},
    Perm.VIEW_CUSTOMERS: _ALL,
    Perm.EDIT_CUSTOMERS: _FRONT,
    Perm.DELETE_CUSTOMERS: {Role.OWNER, Role.ADVISOR},
    Perm.VIEW_FULL_PHONE: _FRONT,
    Perm.EDIT_VEHICLES: _FRONT,
    Perm.RECORD_MILEAGE: _ALL,
}


def role_allows(role: str, perm: str) -> bool:
    return role in ROLE_PERMISSIONS.get(perm, set())
