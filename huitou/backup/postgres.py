"""PostgreSQL through its own client tools: ``pg_dump`` (custom format) and ``pg_restore``.

The tools must be on the PATH and of the server's major version: a
``pg_dump`` older than the server refuses to dump it, and an archive from a
newer one may hold statements the server does not know. Connection details
go to the tools through the ``PG*`` environment variables (the password
never appears in a process list).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.db import connections

from huitou.backup import errors
from huitou.backup.errors import BackupError

VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")

# Django's OPTIONS that name a libpq setting, and its environment variable.
LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def server_major(alias: str = "default") -> int:
    connection = connections[alias]
    connection.ensure_connection()
    return int(connection.pg_version) // 10000  # type: ignore[attr-defined]


def tool_major(version_text: str) -> int:
    """The major version in ``pg_dump --version``'s answer (``pg_dump (PostgreSQL) 15.20 (Debian ...)``)."""
    found = VERSION.search(version_text)
    if found is None:
        raise ValueError(version_text)
    major = int(found.group(1))
    return major if major >= 10 else major * 10 + int(found.group(2) or 0)  # 9.6 was a major version


def versions_check(*, tool: str, tool_version: int, server_version: int) -> None:
    if tool_version != server_version:
        raise BackupError(
            errors.PG_VERSION_MISMATCH,
            tool=tool,
            tool_version=_shown(tool_version),
            server=_shown(server_version),
        )


def tool_path(tool: str, *, alias: str = "default") -> str:
    """The tool found on the PATH, of the server's major version; else a BackupError saying what to do."""
    server = server_major(alias)
    found = shutil.which(tool)
    if found is None:
        raise BackupError(errors.PG_TOOL_MISSING, tool=tool, server=_shown(server))
    answer = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    try:
        version = tool_major(answer.stdout)
    except ValueError:
        raise BackupError(
            errors.PG_TOOL_FAILED, tool=tool, status=answer.returncode, error=(answer.stderr or answer.stdout).strip()
        ) from None
    versions_check(tool=tool, tool_version=version, server_version=server)
    return found


def _shown(major: int) -> str:
    return str(major) if major >= 10 else f"{major // 10}.{major % 10}"


def tool_environment(alias: str = "default") -> dict[str, str]:
    """The environment for a client tool: the current one plus the connection's ``PG*`` variables."""
    settings_dict = connections[alias].settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    for option, variable in LIBPQ_OPTIONS.items():
        if settings_dict["OPTIONS"].get(option) is not None:
            env[variable] = str(settings_dict["OPTIONS"][option])
    env["PGDATABASE"] = str(settings_dict["NAME"])
    env["PGAPPNAME"] = "huitou-backup"
    return env


def run_tool(command: list[str], *, alias: str = "default") -> None:
    done = subprocess.run(  # noqa: S603 - the tool found on the PATH, our arguments
        command, env=tool_environment(alias), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise BackupError(
            errors.PG_TOOL_FAILED,
            tool=Path(command[0]).name,
            status=done.returncode,
            error=" / ".join(lines[-5:]),
        )


class Snapshot:
    """A read-only REPEATABLE READ transaction whose snapshot ``pg_dump --snapshot`` shares.

    The figures are measured inside it, so they are the numbers of the dump
    exactly, however much the server writes meanwhile.
    """

    def __init__(self, alias: str = "default") -> None:
        connection = connections[alias]
        self.raw: Any = connection.get_new_connection(connection.get_connection_params())
        self.raw.autocommit = True
        self.cursor = self.raw.cursor()
        self.cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        self.cursor.execute("SELECT pg_export_snapshot()")
        self.name = str(self.cursor.fetchone()[0])

    def close(self) -> None:
        try:
            self.cursor.execute("COMMIT")
        finally:
            self.raw.close()


def dump(*, target: Path, snapshot: str, alias: str = "default") -> None:
    pg_dump = tool_path("pg_dump", alias=alias)
    run_tool(
        [pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--file={target}"],
        alias=alias,
    )


def restore(*, source: Path, alias: str = "default") -> None:
    """Load a custom-format dump into the configured database, all or nothing.

    ``--clean --if-exists`` drops what the archive holds first (tables a
    ``huitou migrate`` made, or, with ``--force``, the data being replaced);
    ownership and grants are the connecting user's, as on a new server.
    """
    pg_restore = tool_path("pg_restore", alias=alias)
    connections[alias].close()
    name = str(connections[alias].settings_dict["NAME"])
    run_tool(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={name}",
            str(source),
        ],
        alias=alias,
    )
