from __future__ import annotations

from typing import Any

from django.utils.functional import SimpleLazyObject

from huitou.tenancy.http import TenantRequest
from huitou.tenancy.middleware import user_shops
from huitou.tenancy.roles import Perm


def tenant(request: TenantRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    perms: set[str] = set()
    if user is not None and user.is_authenticated:
        perms = {p for p in vars(Perm).values() if isinstance(p, str) and user.has_role_perm(p)}
    return {
        "organization": getattr(request, "organization", None),
        "shop": getattr(request, "shop", None),
        "role_perms": perms,
        "user_shops": SimpleLazyObject(lambda: user_shops(request)) if perms else [],
    }
