from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from huitou.tenancy.models import Organization


def require(request: HttpRequest, perm: str) -> Organization:
    """The caller's organization, once their role is known to allow ``perm``."""
    user = request.user
    organization = getattr(request, "organization", None)
    if organization is None or not user.has_role_perm(perm):  # type: ignore[union-attr]
        raise PermissionDenied
    return organization
