"""The API's JSON: what ninja's own renderer would write, by orjson."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.http import HttpRequest
from django.utils import timezone
from ninja.renderers import JSONRenderer as NinjaRenderer

from huitou.api.api import JSONRenderer, api
from huitou.api.tests.conftest import ApiClient
from huitou.customers.models import Channel, Customer
from huitou.tenancy.models import User

VALUES: list[Any] = [
    timezone.now(),
    dt.datetime(2026, 12, 7, 8, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    dt.date(2026, 2, 28),
    dt.time(9, 5, 7, 250000),
    dt.timedelta(days=2, hours=3),
    Decimal("1234.50"),
    Decimal("-0.01"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Channel.WECHAT,
    "张三 · 粤B12345",
    '\u2028 and "quotes" and \\ back',
    1.5,
    10**15,
    None,
    True,
    {"nested": [1, {"x": "y"}], 3: "int key"},
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_each_value_is_written_as_ninjas_renderer_writes_it(value: Any) -> None:
    ours = JSONRenderer().render(None, {"value": value}, response_status=200)
    theirs = NinjaRenderer().render(HttpRequest(), {"value": value}, response_status=200)
    assert json.loads(ours) == json.loads(theirs)


def test_the_api_uses_it() -> None:
    assert isinstance(api.renderer, JSONRenderer)


@pytest.mark.django_db
def test_chinese_text_travels_as_utf8(
    advisor: User, api_for: Callable[[User], ApiClient], make_customer: Callable[..., Customer]
) -> None:
    customer = make_customer(name="欧阳娜娜")
    response = api_for(advisor).get(f"/api/v1/customers/{customer.pk}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert customer.name.encode() in response.content
    assert response.json()["name"] == customer.name
