"""A database still locked after the busy timeout answers 503 with a message, not a server error.

``huitou/loyalty/tests/test_serve_concurrency.py`` holds the lock of a served
SQLite file for real; these check the answers themselves, on every database.
"""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from huitou.web.middleware import RETRY_AFTER_SECONDS

BUSY = "数据库正忙（另一项修改尚未完成），请稍后重试。"


def locked(request: HttpRequest) -> HttpResponse:
    raise OperationalError("database is locked")


def other_failure(request: HttpRequest) -> HttpResponse:
    raise OperationalError("no such table: secret_table")


urlpatterns = [
    path("api/v1/locked", locked),
    path("loyalty/locked", locked),
    path("loyalty/broken", other_failure),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@override_settings(DEBUG=False)
def test_the_api_answers_503_in_its_error_shape_with_when_to_retry() -> None:
    response = Client(raise_request_exception=False).post("/api/v1/locked", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert json.loads(response.content) == {"detail": BUSY}


@override_settings(DEBUG=False)
def test_a_page_answers_503_with_the_message_and_that_nothing_was_saved() -> None:
    response = Client(raise_request_exception=False).post("/loyalty/locked", HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.content.decode()

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert BUSY in body and "这次什么也没有保存" in body
    assert "OperationalError" not in body and "locked" not in body


@override_settings(DEBUG=False)
def test_any_other_database_failure_stays_a_plain_server_error() -> None:
    response = Client(raise_request_exception=False).get("/loyalty/broken")

    assert response.status_code == 500
    assert "secret_table" not in response.content.decode()
