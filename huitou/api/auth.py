from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from huitou.api.services import token_authenticate


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``: acts as the token's user."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is None:
            return None
        request.user = user
        request.organization = user.organization  # type: ignore[attr-defined]
        return user


class StaffSession(SessionAuth):
    """The signed-in console session (CSRF-checked), for the pages' own calls."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None or getattr(request, "organization", None) is None:
            return None
        return user
