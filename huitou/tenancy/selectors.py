from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db.models import QuerySet

from huitou.lib.statements import cached_rows
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role, role_allows


def shops_for_user(user: User) -> QuerySet[Shop]:
    """Shops a staff member works at; an owner works at every active shop."""
    shops = Shop.objects.for_org(user.organization_id or 0).filter(is_active=True).order_by("pk")
    if user.role == Role.OWNER:
        return shops
    return shops.filter(staff=user)


def shop_list_for_user(user: User) -> list[Shop]:
    """``shops_for_user`` as a list, from a statement kept per role (``huitou.lib.statements``; the
    organization and the user are its values): the shop switcher on every page reads it."""
    org_id = user.organization_id or 0
    owner = user.role == Role.OWNER

    def build(values: Sequence[Any]) -> QuerySet[Shop]:
        shops = Shop.objects.for_org(values[0]).filter(is_active=True).order_by("pk")
        return shops if owner else shops.filter(staff__pk=values[1])

    return cached_rows(("tenancy.shops_for_user", owner), [org_id] if owner else [org_id, user.pk], build)


def staff_for_org(organization: Organization | int, *, active_only: bool = True) -> QuerySet[User]:
    staff = User.objects.for_org(organization).order_by("role", "username")
    return staff.filter(is_active=True) if active_only else staff


class StaffName(NamedTuple):
    """A staff member as a choice lists them: no model (a chain has thousands of staff)."""

    pk: int
    name: str
    role: str


def staff_names(organization: Organization | int, *, perm: str | None = None) -> list[StaffName]:
    """The active staff as ``staff_for_org`` orders them, those whose role allows ``perm`` if given.

    One query of three columns: building 2,000 ``User`` models took longer than the rest of a page.
    """
    rows = staff_for_org(organization).values_list("pk", "display_name", "username", "role")
    return [
        StaffName(pk, display_name or username, role)
        for pk, display_name, username, role in rows
        if perm is None or role_allows(role, perm)
    ]
