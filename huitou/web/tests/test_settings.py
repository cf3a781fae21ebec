"""Settings come from the environment; production mode refuses unsafe ones.

Each case imports the settings in a fresh interpreter with a clean
environment, as ``huitou serve`` would on a shop's machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from huitou.settings import DEV_SECRET_KEY

GOOD_SECRET = "k3J9-production-secret-with-enough-entropy-2026"

REPORT = """
import json
from huitou import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "DEBUG": s.DEBUG,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
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
        {"DEBUG": "0"},
        {"DEBUG": "0", "SECRET_KEY": DEV_SECRET_KEY, "ALLOWED_HOSTS": "crm.example.com"},
        {"DEBUG": "0", "SECRET_KEY": "too-short", "ALLOWED_HOSTS": "crm.example.com"},
        {"DEBUG": "false", "ALLOWED_HOSTS": "crm.example.com"},
    ],
    ids=["no-secret", "development-secret", "short-secret", "no-secret-with-hosts"],
)
def test_production_refuses_to_start_without_a_real_secret(tmp_path: Path, env: dict[str, str]) -> None:
    done = load(tmp_path, **env)

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "SECRET_KEY" in done.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path: Path) -> None:
    done = load(tmp_path, DEBUG="0", SECRET_KEY=GOOD_SECRET)

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "ALLOWED_HOSTS" in done.stderr


def test_production_starts_with_a_good_secret_and_hosts_and_secure_cookies(tmp_path: Path) -> None:
    s = settings_in(tmp_path, DEBUG="0", SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="crm.example.com, 10.0.0.5")

    assert s["DEBUG"] is False
    assert s["ALLOWED_HOSTS"] == ["crm.example.com", "10.0.0.5"]
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["CSRF_COOKIE_SECURE"] is True


def test_development_cookies_work_over_plain_http(tmp_path: Path) -> None:
    s = settings_in(tmp_path)

    assert s["DEBUG"] is True
    assert s["SESSION_COOKIE_SECURE"] is False
    assert "127.0.0.1" in s["ALLOWED_HOSTS"]


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

    assert s["ENGINE"] == "django.db.backends.postgresql"
    assert (s["NAME"], s["HOST"]) == ("huitou", "db.internal")


def test_redis_url_selects_redis_huey_and_the_redis_cache(tmp_path: Path) -> None:
    s = settings_in(tmp_path, REDIS_URL="redis://cache.internal:6379/0")

    assert s["HUEY"]["huey_class"] == "huey.RedisHuey"
    assert s["HUEY"]["url"] == "redis://cache.internal:6379/0"
    assert s["CACHE"] == "django.core.cache.backends.redis.RedisCache"


def test_the_data_directory_comes_from_the_environment(tmp_path: Path) -> None:
    s = settings_in(tmp_path, HUITOU_DATA_DIR=str(tmp_path / "elsewhere"))
    assert s["DATA_DIR"] == str(tmp_path / "elsewhere")
