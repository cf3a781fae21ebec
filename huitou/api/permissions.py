from __future__ import annotations

from django.core.exceptions import PermissionDenied

from huitou.tenancy.http import ApiRequest
from huitou.tenancy.models import Organization


def require(request: ApiRequest, perm: str) -> Organization:
    """The caller's organization, once their role is known to allow ``perm``."""
    user = request.user
    organization = getattr(request, "organization", None)
    if organization is None or not user.has_role_perm(perm):
        raise PermissionDenied
    return organization
