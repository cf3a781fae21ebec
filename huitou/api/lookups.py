"""Ids sent in a body or a filter, resolved within the caller's organization.

An id of another organization is as unknown as a missing one: the request is
refused with a message on the field that carried it (422), and the object is
never used.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models

from huitou.service import errors
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.selectors import shops_for_user

M = TypeVar("M", bound=models.Model)


def in_org(queryset: models.QuerySet[M], organization: Organization, pk: int, field: str, message: Any) -> M:
    """The row ``pk`` of ``queryset`` if it belongs to ``organization``; else a 422 on ``field``."""
    found = queryset.filter(organization_id=organization.pk, pk=pk).first()
    if found is None:
        raise ValidationError({field: [message]})
    return found


def staff_member(organization: Organization, pk: int, field: str) -> User:
    """An active staff member of the organization (one query)."""
    found = User.objects.for_org(organization).filter(pk=pk, is_active=True).first()
    if found is None:
        raise ValidationError({field: [errors.TECHNICIAN_INVALID]})
    return found


def own_shop(request: ApiRequest, shop_id: int | None, field: str = "shop_id") -> Shop:
    """A shop the caller works at: ``shop_id``, or their first shop when None (one query)."""
    shops = shops_for_user(request.user)
    shop = shops.first() if shop_id is None else shops.filter(pk=shop_id).first()
    if shop is None:
        raise ValidationError({field: [errors.SHOP_UNKNOWN]})
    return shop


def org_shop(request: ApiRequest, shop_id: int | None, field: str = "shop_id") -> Shop:
    """An active shop of the caller's organization (e.g. customer service booking for a branch
    by phone): ``shop_id``, or the caller's first shop when None (one query)."""
    if shop_id is None:
        return own_shop(request, None, field)
    organization = request.organization
    return in_org(Shop.objects.filter(is_active=True), organization, shop_id, field, errors.SHOP_UNKNOWN)
