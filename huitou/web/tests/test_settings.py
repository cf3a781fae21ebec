"""Settings come from the environment; the defaults are safe to serve a shop with.

Each case imports the settings in a fresh interpreter with a clean
environment, as ``huitou serve`` would on a shop's machine.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from huitou.settings import DEV_SECRET_KEY

GOOD_SECRET = "k3J9-production-secret-with-enough-entropy-2026-Qx7v"

REPORT = """
import json
from huitou import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "DEBUG": s.DEBUG,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "SECRET_KEY": s.SECRET_KEY,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SECURE_PROXY_SSL_HEADER": getattr(s, "SECURE_PROXY_SSL_HEADER", None),
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "ENGINE": db["ENGINE"],
    "NAME": str(db["NAME"]),
    "HOST": db.get("HOST", ""),
    "OPTIONS": db.get("OPTIONS", {}),
    "HUEY": s.HUEY,
    "CACHE": s.CACHES["default"]["BACKEND"],
    "DATA_DIR": str(s.DATA_DIR),
}))
"""


def load(tmp_path: Path, code: str = REPORT, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "HUITOU_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
        **env,
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=clean, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


def settings_in(tmp_path: Path, **env: str) -> dict[str, Any]:
    done = load(tmp_path, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "env",
    [
        {"SECRET_KEY": DEV_SECRET_KEY},
        {"SECRET_KEY": DEV_SECRET_KEY, "DEBUG": "1"},
        {"SECRET_KEY": "too-short"},
        {"SECRET_KEY": "a" * 60},
    ],
    ids=["development-secret", "development-secret-in-debug", "short-secret", "one-letter-secret"],
)
def test_it_refuses_to_start_with_a_public_or_weak_secret(tmp_path: Path, env: dict[str, str]) -> None:
    done = load(tmp_path, **env)

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "SECRET_KEY" in done.stderr


def test_the_default_is_production_mode_with_a_key_generated_in_the_data_directory(tmp_path: Path) -> None:
    s = settings_in(tmp_path)
    key_file = tmp_path / "data" / "secret_key"

    assert s["DEBUG"] is False
    assert s["SECRET_KEY"] == key_file.read_text().strip()
    assert len(s["SECRET_KEY"]) >= 50
    assert s["SECRET_KEY"] != DEV_SECRET_KEY
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert settings_in(tmp_path)["SECRET_KEY"] == s["SECRET_KEY"]


def test_each_data_directory_gets_its_own_key(tmp_path: Path) -> None:
    first = settings_in(tmp_path, HUITOU_DATA_DIR=str(tmp_path / "one"))
    second = settings_in(tmp_path, HUITOU_DATA_DIR=str(tmp_path / "two"))

    assert first["SECRET_KEY"] != second["SECRET_KEY"]


def test_secret_key_from_the_environment_wins_and_no_key_file_is_written(tmp_path: Path) -> None:
    s = settings_in(tmp_path, SECRET_KEY=GOOD_SECRET)

    assert s["SECRET_KEY"] == GOOD_SECRET
    assert not (tmp_path / "data" / "secret_key").exists()


def test_it_says_so_when_the_key_cannot_be_kept_in_the_data_directory(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    done = load(tmp_path, HUITOU_DATA_DIR=str(tmp_path / "a-file" / "data"))

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "set SECRET_KEY" in done.stderr


def test_debug_is_on_only_when_asked_for(tmp_path: Path) -> None:
    assert settings_in(tmp_path, DEBUG="1")["DEBUG"] is True
    assert settings_in(tmp_path, DEBUG="0")["DEBUG"] is False


def test_cookies_work_over_plain_http_by_default(tmp_path: Path) -> None:
    s = settings_in(tmp_path)

    assert s["SESSION_COOKIE_SECURE"] is False
    assert s["CSRF_COOKIE_SECURE"] is False
    assert s["SECURE_SSL_REDIRECT"] is False
    assert s["SECURE_HSTS_SECONDS"] == 0


@pytest.mark.parametrize("env", [{"HUITOU_HTTPS": "1"}, {"BEHIND_HTTPS_PROXY": "1"}], ids=["https", "proxy"])
def test_declared_https_redirects_sends_hsts_and_keeps_cookies_off_plain_http(
    tmp_path: Path, env: dict[str, str]
) -> None:
    s = settings_in(tmp_path, **env)

    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] == 60 * 60 * 24 * 365
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["CSRF_COOKIE_SECURE"] is True
    assert (s["SECURE_PROXY_SSL_HEADER"] is not None) is ("BEHIND_HTTPS_PROXY" in env)


def test_allowed_hosts_are_the_loopback_names_plus_the_environment(tmp_path: Path) -> None:
    assert settings_in(tmp_path)["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost", "[::1]"]
    s = settings_in(tmp_path, ALLOWED_HOSTS="crm.example.com, 10.0.0.5")
    assert s["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost", "[::1]", "crm.example.com", "10.0.0.5"]


def test_allowed_hosts_follow_the_address_serve_binds(tmp_path: Path) -> None:
    one_address = settings_in(tmp_path, HUITOU_BIND_HOST="192.168.1.20")["ALLOWED_HOSTS"]
    everywhere = settings_in(tmp_path, HUITOU_BIND_HOST="0.0.0.0")["ALLOWED_HOSTS"]  # noqa: S104

    assert one_address == ["127.0.0.1", "localhost", "[::1]", "192.168.1.20"]
    assert socket.gethostname().lower() in [h.lower() for h in everywhere]
    assert "0.0.0.0" not in everywhere  # noqa: S104


def test_a_boolean_that_is_not_one_fails_loudly(tmp_path: Path) -> None:
    done = load(tmp_path, DEBUG="perhaps")

    assert done.returncode != 0
    assert "DEBUG must be a boolean" in done.stderr


def test_the_default_is_sqlite_in_wal_mode_under_the_data_directory(tmp_path: Path) -> None:
    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'huitou.settings'; django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])\n"
    )
    s = settings_in(tmp_path)
    done = load(tmp_path, code=code)

    assert s["ENGINE"] == "django.db.backends.sqlite3"
    assert s["NAME"] == str(tmp_path / "data" / "huitou.sqlite3")
    assert "journal_mode=WAL" in s["OPTIONS"]["init_command"]
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "wal"
    assert (tmp_path / "data" / "huitou.sqlite3").exists()


def test_the_default_queue_is_sqlite_huey_and_the_cache_is_local(tmp_path: Path) -> None:
    s = settings_in(tmp_path)

    assert s["HUEY"]["huey_class"] == "huey.SqliteHuey"
    assert s["HUEY"]["filename"] == str(tmp_path / "data" / "huey.sqlite3")
    assert s["CACHE"] == "django.core.cache.backends.locmem.LocMemCache"


def test_database_url_selects_postgresql(tmp_path: Path) -> None:
    s = settings_in(tmp_path, DATABASE_URL="postgres://huitou:secret@db.internal:5432/huitou")

    # Django's PostgreSQL backend, its health check and timestamps made quicker (huitou/lib/postgresql).
    assert s["ENGINE"] == "huitou.lib.postgresql"
    assert (s["NAME"], s["HOST"]) == ("huitou", "db.internal")


def test_redis_url_selects_redis_huey_and_the_redis_cache(tmp_path: Path) -> None:
    s = settings_in(tmp_path, REDIS_URL="redis://cache.internal:6379/0")

    assert s["HUEY"]["huey_class"] == "huey.RedisHuey"
    assert s["HUEY"]["url"] == "redis://cache.internal:6379/0"
    assert s["CACHE"] == "django.core.cache.backends.redis.RedisCache"


def test_the_data_directory_comes_from_the_environment(tmp_path: Path) -> None:
    s = settings_in(tmp_path, HUITOU_DATA_DIR=str(tmp_path / "elsewhere"))
    assert s["DATA_DIR"] == str(tmp_path / "elsewhere")
