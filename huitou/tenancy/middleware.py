from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from huitou.tenancy.http import TenantRequest
from huitou.tenancy.models import Shop, User

SHOP_SESSION_KEY = "huitou_shop_id"


class TenantMiddleware:
    """Sets ``request.organization`` and ``request.shop`` for signed-in staff.

    Modelled on django.contrib.sites' CurrentSiteMiddleware: views read the
    tenant from the request, never from a URL parameter. The organization
    comes with the user row (one query, see ``StaffBackend``); the shop is
    loaded only when a view asks for it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: TenantRequest) -> HttpResponse:
        request.organization = None
        request.shop = None
        if request.path_info == "/healthz":
            # The health check must answer even when the database cannot load a user.
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.organization_id:
            request.organization = user.organization
            # Stands in for the Shop (or None: test ``request.shop`` for truth, not ``is None``).
            request.shop = cast(Shop, SimpleLazyObject(lambda: current_shop(request)))
        return self.get_response(request)


def user_shops(request: TenantRequest) -> list[Shop]:
    """The signed-in user's shops, loaded once per request."""
    from huitou.tenancy.selectors import shop_list_for_user

    if not isinstance(request.user, User):
        return []
    if not hasattr(request, "_huitou_shops"):
        request._huitou_shops = shop_list_for_user(request.user)
    return request._huitou_shops


def current_shop(request: TenantRequest) -> Shop | None:
    shops = user_shops(request)
    wanted = request.session.get(SHOP_SESSION_KEY)
    for shop in shops:
        if shop.pk == wanted:
            return shop
    return shops[0] if shops else None
