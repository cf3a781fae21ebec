"""Who the API lets in: bearer tokens and the console's session."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from huitou.api.models import ApiToken
from huitou.api.services import token_create, token_revoke
from huitou.api.tests.conftest import ApiClient
from huitou.customers.models import Customer
from huitou.tenancy.models import User


def test_a_valid_token_acts_as_its_user(advisor: User, make_customer: Callable[..., Customer]) -> None:
    make_customer(name="张三")
    token, raw = token_create(user=advisor)

    r = ApiClient(raw).get("/api/v1/customers")

    assert r.status_code == 200
    assert [c["name"] for c in r.json()["items"]] == ["张三"]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_request_without_credentials_is_refused(org: object) -> None:
    r = Client().get("/api/v1/customers")
    assert r.status_code == 401
    assert set(r.json()) == {"detail"}


def test_a_wrong_token_is_refused(advisor: User) -> None:
    token_create(user=advisor)
    for header in ("Bearer ht_not-a-real-token", "Bearer ", "Token abc", "Basic YWR2aXNvcjp4"):
        r = Client(headers={"Authorization": header}).get("/api/v1/customers")
        assert r.status_code == 401, header
        assert "detail" in r.json()


def test_a_revoked_token_is_refused(advisor: User) -> None:
    token, raw = token_create(user=advisor)
    token_revoke(token=token)

    assert ApiClient(raw).get("/api/v1/customers").status_code == 401


def test_a_deactivated_users_token_is_refused(advisor: User) -> None:
    _, raw = token_create(user=advisor)
    advisor.is_active = False
    advisor.save()

    assert ApiClient(raw).get("/api/v1/customers").status_code == 401


def test_a_token_of_a_user_without_organization_is_refused(db: object) -> None:
    root = User.objects.create_user("root", password="x")
    _, raw = token_create(user=root)

    assert ApiClient(raw).get("/api/v1/customers").status_code == 401


def test_tokens_are_stored_hashed(advisor: User) -> None:
    token, raw = token_create(user=advisor)
    stored = ApiToken.objects.values_list("key_hash", "hint").get(pk=token.pk)
    assert raw not in stored
    assert raw.startswith(stored[1])


def test_a_signed_in_staff_session_works(
    advisor: User, client_for: Callable[[User], Client], make_customer: Callable[..., Customer]
) -> None:
    make_customer(name="张三")

    r = client_for(advisor).get("/api/v1/customers")

    assert r.status_code == 200
    assert r.json()["count"] == 1


def test_a_session_needs_the_csrf_token_for_writes(advisor: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(advisor)

    r = client.post("/api/v1/customers", {"name": "张三"}, content_type="application/json")

    assert r.status_code in (401, 403)


def test_a_session_of_a_user_without_organization_is_refused(db: object) -> None:
    root = User.objects.create_user("root", password="x", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(root)

    assert client.get("/api/v1/customers").status_code == 401


def test_each_token_acts_as_its_own_user_and_a_revoked_one_stops_at_once(
    advisor: User, outsider: User, make_customer: Callable[..., Customer]
) -> None:
    # The token's statement is compiled once and run again with each token's hash.
    make_customer(name="张三")
    mine, raw_mine = token_create(user=advisor)
    _, raw_theirs = token_create(user=outsider)
    for _round in range(2):
        assert [c["name"] for c in ApiClient(raw_mine).get("/api/v1/customers").json()["items"]] == ["张三"]
        assert ApiClient(raw_theirs).get("/api/v1/customers").json()["items"] == []
    token_revoke(token=mine)
    assert ApiClient(raw_mine).get("/api/v1/customers").status_code == 401
    assert ApiClient(raw_theirs).get("/api/v1/customers").status_code == 200
