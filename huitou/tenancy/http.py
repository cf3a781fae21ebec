"""The types of the requests our views and API operations receive.

Django's ``HttpRequest`` knows nothing of what our middleware and
authentication add to it. These subclasses are never instantiated: they only
tell mypy what a view can rely on (django-htmx documents the same pattern,
``class HtmxHttpRequest(HttpRequest): htmx: HtmxDetails``).

- ``TenantRequest``: any request once ``TenantMiddleware`` and django-htmx's
  middleware have run; the tenant is known only for signed-in staff.
- ``StaffRequest``: what a view behind ``staff_required`` receives: a staff
  member with an organization.
- ``ApiRequest``: what an API operation receives once ``BearerToken`` or
  ``StaffSession`` (huitou.api.auth) has accepted the caller: the same
  staff member and organization; ``request.auth`` is that user too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from huitou.tenancy.models import Organization, Shop, User


class TenantRequest(HttpRequest):
    organization: Organization | None
    shop: Shop | None
    htmx: HtmxDetails
    _huitou_shops: list[Shop]  # the user's shops, once loaded (tenancy.middleware.user_shops)


class StaffRequest(TenantRequest):
    user: User
    organization: Organization


class ApiRequest(HttpRequest):
    user: User
    organization: Organization
    auth: User
