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
    VIEW_ORDERS = "orders.view"
    OPEN_ORDERS = "orders.open"  # receive a car: open a service order
    WORK_ON_ORDERS = "orders.work"  # lines, recommendations, start and complete
    SETTLE_ORDERS = "orders.settle"  # payments, voids, adjustments, the customer's decisions
    VIEW_APPOINTMENTS = "appointments.view"
    BOOK_APPOINTMENTS = "appointments.book"  # book, confirm, arrived, no-show, cancel
    VIEW_CATALOG = "catalog.view"  # service items and parts with their prices (costs: MANAGE_SETTINGS)
    MANAGE_CATALOG = "catalog.manage"  # create and change service items and parts
    CAPTURE_PROSPECTS = "prospects.capture"  # quick capture at the counter, on the phone, at events
    FOLLOW_UP = "customers.follow_up"  # record follow-ups, see one's own work list
    CHANGE_STAGE = "customers.stage"  # change a lifecycle stage by hand, with a reason
    MERGE_CUSTOMERS = "customers.merge"  # merge duplicate files
    VIEW_TEAM_FOLLOWUPS = "followups.team"  # everyone's overdue follow-ups
    REASSIGN_CUSTOMERS = "customers.reassign"  # hand customers to other staff, in bulk
    VIEW_FUNNEL = "analytics.funnel"  # the conversion funnel by source and staff
    VIEW_STAFF_PERFORMANCE = "analytics.staff"  # everyone's performance figures (each may see their own)
    VIEW_DASHBOARD = "analytics.dashboard"  # the owner's dashboard: revenue, customers, retention
    MANAGE_GRADES = "analytics.grades"  # RFM segments, the A/B/C grade rules, a grade set by hand
    MANAGE_SEGMENTS = "analytics.segments"  # save, change and delete saved segments (everyone may use them)
    IMPORT_DATA = "data.import"  # bring customers, prospects and service history in from a sheet
    COPY_PERSONAL_DATA = "privacy.copy"  # hand a customer a copy of everything kept about them
    ERASE_CUSTOMERS = "privacy.erase"  # anonymise a customer for good (personal-information law)
    MANAGE_LOYALTY = "loyalty.manage"  # membership settings: tiers, templates, card products, referral policies
    SELL_MEMBERSHIP = "loyalty.sell"  # join members, top up stored value, issue coupons


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
    Perm.VIEW_ORDERS: _ALL,
    Perm.OPEN_ORDERS: {Role.OWNER, Role.ADVISOR},
    Perm.WORK_ON_ORDERS: {Role.OWNER, Role.ADVISOR, Role.TECHNICIAN},
    Perm.SETTLE_ORDERS: {Role.OWNER, Role.ADVISOR},
    Perm.VIEW_APPOINTMENTS: _ALL,
    Perm.BOOK_APPOINTMENTS: _FRONT,
    Perm.VIEW_CATALOG: _ALL,
    Perm.MANAGE_CATALOG: {Role.OWNER},
    Perm.CAPTURE_PROSPECTS: _FRONT,
    Perm.FOLLOW_UP: _FRONT,
    Perm.CHANGE_STAGE: _FRONT,
    Perm.MERGE_CUSTOMERS: {Role.OWNER, Role.ADVISOR},
    Perm.VIEW_TEAM_FOLLOWUPS: {Role.OWNER},
    Perm.REASSIGN_CUSTOMERS: {Role.OWNER},
    Perm.VIEW_FUNNEL: {Role.OWNER},
    Perm.VIEW_STAFF_PERFORMANCE: {Role.OWNER},
    Perm.VIEW_DASHBOARD: {Role.OWNER},
    Perm.MANAGE_GRADES: {Role.OWNER},
    Perm.MANAGE_SEGMENTS: {Role.OWNER},
    Perm.IMPORT_DATA: {Role.OWNER},
    Perm.COPY_PERSONAL_DATA: {Role.OWNER, Role.ADVISOR},
    Perm.ERASE_CUSTOMERS: {Role.OWNER},
    Perm.MANAGE_LOYALTY: {Role.OWNER},
    Perm.SELL_MEMBERSHIP: {Role.OWNER, Role.ADVISOR},
}


def role_allows(role: str, perm: str) -> bool:
    return role in ROLE_PERMISSIONS.get(perm, set())
