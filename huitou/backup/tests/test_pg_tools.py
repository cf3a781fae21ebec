"""PostgreSQL's client tools: missing from the PATH, or of another version than the server, is a clear refusal."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from huitou.backup import errors, postgres
from huitou.backup.errors import BackupError
from huitou.backup.tests.support import POSTGRES, Installation, Installations, installations

postgres_only = pytest.mark.skipif(not POSTGRES, reason="pg_dump and pg_restore serve PostgreSQL installations")


def test_tool_versions_are_read_from_their_answer() -> None:
    assert postgres.tool_major("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)") == 15
    assert postgres.tool_major("pg_restore (PostgreSQL) 17.2") == 17
    assert postgres.tool_major("pg_dump (PostgreSQL) 9.6.24") == 96
    with pytest.raises(ValueError):
        postgres.tool_major("bash: pg_dump: command not found")


def test_a_tool_of_another_major_version_is_refused_in_both_languages() -> None:
    postgres.versions_check(tool="pg_dump", tool_version=15, server_version=15)
    with pytest.raises(BackupError) as refused:
        postgres.versions_check(tool="pg_dump", tool_version=14, server_version=16)
    with translation.override("en"):
        message = str(refused.value)
        assert message.startswith("pg_dump is version 14 but the PostgreSQL server is version 16.")
        assert "/usr/lib/postgresql/16/bin" in message
    with translation.override("zh-hans"):
        assert str(refused.value) == str(errors.PG_VERSION_MISMATCH) % {
            "tool": "pg_dump",
            "tool_version": "14",
            "server": "16",
        }
        assert str(refused.value) != message


@postgres_only
@pytest.mark.django_db
def test_the_tools_on_the_path_are_checked_against_the_real_server() -> None:
    """The tools this machine has are found and match its server (CI installs postgresql-client)."""
    for tool in ("pg_dump", "pg_restore"):
        found = postgres.tool_path(tool)
        answer = subprocess.run([found, "--version"], capture_output=True, text=True, check=True)
        assert postgres.tool_major(answer.stdout) == connection.pg_version // 10000  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installations]:
    yield from installations(tmp_path_factory.mktemp("installations"))


@postgres_only
def test_without_the_tools_on_the_path_backup_and_restore_say_what_to_install(
    made: Installations, tmp_path: Path
) -> None:
    installation: Installation = made.new()
    installation.run("migrate", "-v0")
    bare = tmp_path / "bin"  # a PATH with no PostgreSQL tools at all
    bare.mkdir()
    assert shutil.which("pg_dump", path=str(bare)) is None
    with installation.connect() as probe:
        server = str(probe.info.server_version // 10000)

    for lang, language in (("en_US.UTF-8", "en"), ("zh_CN.UTF-8", "zh-hans")):
        backup = installation.run(
            "backup", "--output", str(tmp_path / "x.tar.gz"), check=False, PATH=str(bare), LANG=lang
        )
        restore = installation.run("restore", str(tmp_path / "x.tar.gz"), check=False, PATH=str(bare), LANG=lang)
        with translation.override(language):
            for done, tool in ((backup, "pg_dump"), (restore, "pg_restore")):
                assert done.returncode == 1
                expected: Any = errors.PG_TOOL_MISSING % {"tool": tool, "server": server}
                assert str(expected) in done.stderr.replace("\n", " "), done.stderr
                assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.tar.gz").exists()
