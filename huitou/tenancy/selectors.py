from __future__ import annotations

from django.db.models import QuerySet

from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role


def shops_for_user(user: User) -> QuerySet[Shop]:
    """Shops a staff member works at; an owner works at every active shop."""
    shops = Shop.objects.for_org(user.organization_id or 0).filter(is_active=True).order_by("pk")
    if user.role == Role.OWNER:
        return shops
    return shops.filter(staff=user)


def staff_for_org(organization: Organization | int, *, active_only: bool = True) -> QuerySet[User]:
    staff = User.objects.for_org(organization).order_by("role", "username")
    return staff.filter(is_active=True) if active_only else staff
