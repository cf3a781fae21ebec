from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from huitou.tenancy.models import Shop

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

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.organization = None  # type: ignore[attr-defined]
        request.shop = None  # type: ignore[attr-defined]
        if request.path_info == "/healthz":
            # The health check must answer even when the database cannot load a user.
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.organization_id:
            request.organization = user.organization  # type: ignore[attr-defined]
            request.shop = SimpleLazyObject(lambda: current_shop(request))  # type: ignore[attr-defined]
        return self.get_response(request)


def user_shops(request: HttpRequest) -> list[Shop]:
    """The signed-in user's shops, loaded once per request."""
    from huitou.tenancy.selectors import shops_for_user

    if not hasattr(request, "_huitou_shops"):
        request._huitou_shops = list(shops_for_user(request.user))  # type: ignore[arg-type,attr-defined]
    return request._huitou_shops  # type: ignore[attr-defined]


def current_shop(request: HttpRequest) -> Shop | None:
    shops = user_shops(request)
    wanted = request.session.get(SHOP_SESSION_KEY)
    for shop in shops:
        if shop.pk == wanted:
            return shop
    return shops[0] if shops else None
