"""API test helpers: a client that speaks as a staff member through a bearer token."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from huitou.api.services import token_create
from huitou.tenancy.models import User


class ApiClient(Client):
    """A test client sending JSON bodies and one ``Authorization`` header."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__(headers={"Authorization": f"Bearer {token}"} if token else None)

    def _json(self, method: str, path: str, data: Any = None) -> Any:
        body = "" if data is None else json.dumps(data)
        return self.generic(method, path, body, content_type="application/json")

    def post_json(self, path: str, data: Any = None) -> Any:
        return self._json("POST", path, data)

    def patch_json(self, path: str, data: Any = None) -> Any:
        return self._json("PATCH", path, data)


@pytest.fixture
def api_for() -> Callable[[User], ApiClient]:
    """``api_for(user)``: a client carrying a fresh bearer token of ``user``."""

    def make(user: User) -> ApiClient:
        _, raw = token_create(user=user, name="tests")
        return ApiClient(raw)

    return make
