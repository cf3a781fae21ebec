"""Roles and signing in: only store managers manage staff; sign-in is Chinese and throttled."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client

from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Perm, Role, role_allows
from huitou.tenancy.services import LAST_OWNER
from huitou.testing.fixtures import PASSWORD

ClientFor = Callable[[User], Client]


# --- staff management -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["advisor", "service", "tech"])
def test_only_store_managers_reach_the_staff_pages(
    role: str, request: pytest.FixtureRequest, owner: User, client_for: ClientFor
) -> None:
    client = client_for(request.getfixturevalue(role))

    for url in ("/staff/", "/staff/new/", f"/staff/{owner.pk}/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/staff/new/", {"username": "x", "role": Role.OWNER}).status_code == 403
    assert client.post(f"/staff/{owner.pk}/", {"display_name": "x", "role": Role.TECHNICIAN}).status_code == 403
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    assert not User.objects.filter(username="x").exists()


def test_signed_out_visitors_are_sent_to_sign_in(org: Organization) -> None:
    r = Client().get("/staff/")
    assert r.status_code == 302
    assert r["Location"].startswith("/login/")


def test_the_store_manager_sees_the_staff_of_the_organization_only(
    owner: User, advisor: User, outsider: User, client_for: ClientFor
) -> None:
    r = client_for(owner).get("/staff/")

    assert r.status_code == 200
    page = r.content.decode()
    assert advisor.display_name in page and "advisor" in page
    assert outsider.display_name not in page


def test_the_store_manager_adds_a_staff_member(org: Organization, owner: User, client_for: ClientFor) -> None:
    shop = Shop.objects.for_org(org).order_by("pk").last()
    assert shop is not None

    r = client_for(owner).post(
        "/staff/new/",
        {
            "username": "xiaozhou",
            "display_name": "周技师",
            "role": Role.TECHNICIAN,
            "shops": [shop.pk],
            "password": "a-long-enough-pass-2026",
        },
    )

    assert r.status_code == 302
    member = User.objects.get(username="xiaozhou")
    assert (member.organization, member.role, member.display_name) == (org, Role.TECHNICIAN, "周技师")
    assert list(member.shops.all()) == [shop]
    assert member.check_password("a-long-enough-pass-2026")


def test_adding_staff_refuses_a_taken_username_and_a_weak_password(owner: User, client_for: ClientFor) -> None:
    r = client_for(owner).post(
        "/staff/new/", {"username": "owner", "display_name": "重名", "role": Role.ADVISOR, "password": "12345678"}
    )

    assert r.status_code == 200
    form = r.context["form"]
    assert set(form.errors) >= {"username"}
    assert User.objects.filter(username="owner").count() == 1


def test_shops_of_another_organization_cannot_be_given(
    owner: User, other_org: Organization, client_for: ClientFor
) -> None:
    foreign = Shop.objects.for_org(other_org).get()

    r = client_for(owner).post(
        "/staff/new/",
        {
            "username": "xiaozhou",
            "display_name": "周",
            "role": Role.ADVISOR,
            "shops": [foreign.pk],
            "password": "a-long-enough-pass-2026",
        },
    )

    assert r.status_code == 200
    assert "shops" in r.context["form"].errors
    assert not User.objects.filter(username="xiaozhou").exists()


def test_the_store_manager_changes_a_role(owner: User, advisor: User, client_for: ClientFor) -> None:
    r = client_for(owner).post(f"/staff/{advisor.pk}/", {"display_name": "李顾问", "role": Role.SERVICE})

    assert r.status_code == 302
    advisor.refresh_from_db()
    assert advisor.role == Role.SERVICE
    assert advisor.check_password(PASSWORD), "an empty new password keeps the old one"


def test_the_last_store_manager_cannot_be_demoted(owner: User, client_for: ClientFor) -> None:
    r = client_for(owner).post(f"/staff/{owner.pk}/", {"display_name": "王店长", "role": Role.ADVISOR})

    assert r.status_code == 200
    assert r.context["form"].errors["role"] == [str(LAST_OWNER)]
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_a_store_manager_can_step_down_when_another_remains(owner: User, advisor: User, client_for: ClientFor) -> None:
    client = client_for(owner)
    client.post(f"/staff/{advisor.pk}/", {"display_name": "李顾问", "role": Role.OWNER})

    r = client.post(f"/staff/{owner.pk}/", {"display_name": "王店长", "role": Role.ADVISOR})

    assert r.status_code == 302
    owner.refresh_from_db()
    assert owner.role == Role.ADVISOR
    assert client.get("/staff/").status_code == 403, "the new role applies at once"


def test_only_store_managers_hold_staff_and_settings_permissions() -> None:
    for perm in (Perm.MANAGE_STAFF, Perm.MANAGE_SETTINGS):
        assert [r for r in Role.values if role_allows(r, perm)] == [Role.OWNER]
    assert not role_allows(Role.TECHNICIAN, Perm.VIEW_FULL_PHONE)
    assert not role_allows(Role.TECHNICIAN, Perm.EDIT_CUSTOMERS)
    assert role_allows(Role.TECHNICIAN, Perm.RECORD_MILEAGE)


# --- signing in and out ---------------------------------------------------------------------


def sign_in(client: Client, username: str, password: str) -> object:
    return client.post("/login/", {"username": username, "password": password})


def test_the_sign_in_page_is_in_chinese(db: object) -> None:
    r = Client().get("/login/")

    assert r.status_code == 200
    page = r.content.decode()
    assert "登录" in page
    assert '<html lang="zh' in page


def test_staff_sign_in_and_out(advisor: User) -> None:
    client = Client()

    r = sign_in(client, "advisor", PASSWORD)

    assert r.status_code == 302  # type: ignore[attr-defined]
    assert client.get("/").status_code == 200
    assert client.post("/logout/").status_code == 302
    home = client.get("/")
    assert home.status_code == 302 and home["Location"].startswith("/login/")


def test_a_wrong_password_is_refused_with_a_chinese_message(advisor: User) -> None:
    r = sign_in(Client(), "advisor", "wrong-password")

    assert r.status_code == 200  # type: ignore[attr-defined]
    (message,) = r.context["form"].non_field_errors()  # type: ignore[attr-defined]
    assert re.search(r"[\u4e00-\u9fff]", message), message
    assert message in r.content.decode()  # type: ignore[attr-defined]


def test_five_failures_lock_the_account_and_then_the_right_password_is_refused_too(advisor: User) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "advisor", "wrong-password")

    r = sign_in(client, "advisor", PASSWORD)

    assert settings.AXES_FAILURE_LIMIT == 5
    assert r.status_code in (403, 429)  # type: ignore[attr-defined]
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_the_lock_holds_for_that_username_only(advisor: User, service: User) -> None:
    client = Client()
    for _ in range(5):
        sign_in(client, "advisor", "wrong-password")

    assert sign_in(client, "service", PASSWORD).status_code == 302  # type: ignore[attr-defined]


def test_a_successful_sign_in_clears_earlier_failures(advisor: User) -> None:
    client = Client()
    for _ in range(4):
        sign_in(client, "advisor", "wrong-password")
    assert sign_in(client, "advisor", PASSWORD).status_code == 302  # type: ignore[attr-defined]
    client.post("/logout/")

    for _ in range(4):
        sign_in(client, "advisor", "wrong-password")

    assert sign_in(client, "advisor", PASSWORD).status_code == 302  # type: ignore[attr-defined]


def test_a_deactivated_staff_member_cannot_sign_in(advisor: User) -> None:
    advisor.is_active = False
    advisor.save()

    r = sign_in(Client(), "advisor", PASSWORD)

    assert r.status_code == 200  # type: ignore[attr-defined]
    assert "_auth_user_id" not in r.wsgi_request.session  # type: ignore[attr-defined]
