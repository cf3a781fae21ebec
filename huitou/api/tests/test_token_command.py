"""``huitou token create|list|revoke``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import Client

from huitou.api.models import ApiToken, hash_token
from huitou.tenancy.models import User


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_a_token_that_opens_the_api_as_that_user(advisor: User) -> None:
    out, err = run("create", "advisor", "--name", "小程序")
    raw = out.strip()
    assert raw.startswith("ht_") and len(raw) > 40
    assert "not shown again" in err

    token = ApiToken.objects.get(user=advisor)
    assert token.name == "小程序"
    assert token.key_hash == hash_token(raw)
    assert raw not in (token.key_hash, token.hint), "only the hash and a short hint are stored"

    r = Client().get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200


def test_create_refuses_an_unknown_username(db: object) -> None:
    with pytest.raises(CommandError, match="nobody"):
        run("create", "nobody")


def test_create_refuses_a_deactivated_user(advisor: User) -> None:
    advisor.is_active = False
    advisor.save()
    with pytest.raises(CommandError, match="not an active staff member"):
        run("create", "advisor")
    assert not ApiToken.objects.exists()


def test_create_refuses_a_user_without_organization(db: object) -> None:
    User.objects.create_user("root", password="x")
    with pytest.raises(CommandError):
        run("create", "root")


def test_list_shows_hints_and_state_but_never_the_token(advisor: User) -> None:
    raw_kept = run("create", "advisor", "--name", "收银系统")[0].strip()
    raw_revoked = run("create", "advisor")[0].strip()
    run("revoke", raw_revoked[:8])

    out, _ = run("list", "advisor")

    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert raw_kept[:8] in out and raw_revoked[:8] in out
    assert raw_kept not in out and raw_revoked not in out
    kept_line = next(line for line in lines if raw_kept[:8] in line)
    assert "active" in kept_line and "收银系统" in kept_line and "never" in kept_line
    assert "revoked" in next(line for line in lines if raw_revoked[:8] in line)


def test_list_says_when_there_are_none(advisor: User) -> None:
    assert "no tokens" in run("list", "advisor")[0]


def test_revoke_by_hint_closes_the_api(advisor: User) -> None:
    raw = run("create", "advisor")[0].strip()

    out, _ = run("revoke", raw[:8])

    assert "Revoked" in out and "advisor" in out
    assert ApiToken.objects.get().revoked_at is not None
    assert Client().get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_revoke_accepts_the_whole_token_and_the_hint_as_listed(advisor: User) -> None:
    first = run("create", "advisor")[0].strip()
    second = run("create", "advisor")[0].strip()

    run("revoke", first)
    run("revoke", second[:8] + "…")

    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 0


def test_revoke_refuses_an_unknown_or_already_revoked_hint(advisor: User) -> None:
    raw = run("create", "advisor")[0].strip()
    run("revoke", raw[:8])
    with pytest.raises(CommandError, match="No active token"):
        run("revoke", raw[:8])
    with pytest.raises(CommandError, match="No active token"):
        run("revoke", "ht_zzzzz")


def test_revoke_refuses_an_ambiguous_hint(advisor: User) -> None:
    run("create", "advisor")
    run("create", "advisor")
    ApiToken.objects.update(hint="ht_same1")
    with pytest.raises(CommandError, match="2 active tokens"):
        run("revoke", "ht_same1")
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 2


def test_the_huitou_console_script_knows_the_command(
    advisor: User, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from huitou.cli import main

    # A command run from the command line closes the connections when done, which would end
    # the test's transaction on PostgreSQL.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    main(["token", "create", "advisor"])

    raw = capsys.readouterr().out.strip()
    assert ApiToken.objects.get(user=advisor).key_hash == hash_token(raw)
