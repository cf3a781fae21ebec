from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from huitou.tenancy.http import TenantRequest
from huitou.tenancy.models import User

View = Callable[..., HttpResponse]


def staff_required(perm: str | None = None) -> Callable[[View], View]:
    """Signed-in staff of an organization, holding ``perm`` when one is named."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: TenantRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if getattr(request, "organization", None) is None or not isinstance(user, User):
                raise PermissionDenied
            if perm is not None and not user.has_role_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
