from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from huitou.api.services import token_create
from huitou.tenancy.models import User


@pytest.fixture(autouse=True)
def exports_dir(settings: Any, tmp_path: Path) -> Path:
    settings.EXPORTS_DIR = tmp_path / "exports"
    return settings.EXPORTS_DIR


@pytest.fixture
def bearer() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        _, raw = token_create(user=user, name="tests")
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make
