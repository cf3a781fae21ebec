"""GET /healthz: for load balancers and uptime checks, no sign-in needed."""

from __future__ import annotations

from typing import Any
from unittest import mock

from django.db import OperationalError, connection
from django.test import Client


def test_it_reports_ok_when_the_database_answers(db: object, django_assert_num_queries: Any) -> None:
    # 1 query: SELECT 1
    with django_assert_num_queries(1):
        r = Client().get("/healthz")

    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in r["Cache-Control"] or "max-age=0" in r["Cache-Control"]


def test_it_answers_503_with_the_reason_when_the_database_is_unreachable(db: object) -> None:
    unreachable = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')
    with mock.patch.object(connection, "cursor", side_effect=unreachable):
        r = Client().get("/healthz")

    assert r.status_code == 503
    doc = r.json()
    assert doc["status"] == "error"
    assert doc["database"].startswith("unreachable")
    assert "OperationalError" in doc["database"]
    assert "127.0.0.1" not in doc["database"], "the public answer does not describe the infrastructure"


def test_it_answers_503_when_the_query_itself_fails(db: object) -> None:
    cursor = mock.MagicMock()
    cursor.__enter__.return_value.execute.side_effect = OperationalError("server closed the connection unexpectedly")
    with mock.patch.object(connection, "cursor", return_value=cursor):
        r = Client().get("/healthz")

    assert r.status_code == 503


def test_it_only_answers_get(db: object) -> None:
    assert Client().post("/healthz").status_code == 405


def test_it_needs_no_sign_in_and_sets_no_cookie(db: object) -> None:
    r = Client().get("/healthz")
    assert r.status_code == 200
    assert not r.cookies


def test_it_answers_503_for_a_signed_in_browser_when_the_database_is_down(client_for: Any, owner: Any) -> None:
    """A session cookie must not make the check load the user from the dead database."""
    client = client_for(owner)
    unreachable = OperationalError("connection refused")
    with mock.patch.object(connection, "cursor", side_effect=unreachable):
        r = client.get("/healthz")
    assert r.status_code == 503
