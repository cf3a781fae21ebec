from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from huitou.api.services import token_authenticate
from huitou.tenancy.http import ApiRequest


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``: acts as the token's user."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is None or user.organization is None:  # token_authenticate refuses users without one
            return None
        # From here on the operations see an ApiRequest: the user and their organization.
        api_request = cast(ApiRequest, request)
        api_request.user = user
        api_request.organization = user.organization
        return user


class StaffSession(SessionAuth):
    """The signed-in console session (CSRF-checked), for the pages' own calls."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None or getattr(request, "organization", None) is None:
            return None
        return user
