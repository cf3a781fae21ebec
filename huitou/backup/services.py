"""Back up and restore a whole installation: the database and the uploaded files.

An archive is one ``.tar.gz``::

    database.sqlite3 | database.pgdump    the database (SQLite copy, or pg_dump's custom format)
    media/...                             the uploaded files (MEDIA_ROOT)
    manifest.json                         format, engine, versions, checksum, migrations, figures

The database is copied first and measured in its own copy (see ``figures``);
the uploaded files follow, so every file a copied row names was already
written. ``manifest.json`` comes last because it counts them. A restore
reads the archive once into a folder beside the data, checks it (format,
engine, checksum, migrations, and on SQLite the copy's figures) before it
touches anything, then replaces the database and the files and measures the
result against the manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from huitou.backup import errors, figures, postgres
from huitou.backup.errors import BackupError

FORMAT = 1
MANIFEST = "manifest.json"
MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA = "media"
ARCHIVE_NAME = re.compile(r"^huitou-\d{8}T\d{6}Z\.tar\.gz$")
# Tables ``huitou migrate`` fills by itself: rows there do not make a database "not empty".
HOUSEKEEPING = {"django_migrations", "django_content_type", "auth_permission"}


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    comparisons: list[figures.Comparison]
    media_files: int
    pending_migrations: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return all(c.equal for c in self.comparisons)


def engine(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in MEMBERS:
        raise BackupError(errors.ENGINE_UNSUPPORTED, engine=vendor)
    return vendor


def archive_name(now: dt.datetime) -> str:
    return f"huitou-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.tar.gz"


def backup_create(
    *, output: Path | None = None, directory: Path | None = None, now: dt.datetime | None = None
) -> BackupResult:
    """Write a backup to ``output``, or to ``directory`` (default HUITOU_BACKUP_DIR) under a dated name.

    Safe while the server writes: SQLite is copied with its backup API in one
    read transaction, PostgreSQL dumped from one snapshot.
    """
    now = now or timezone.now()
    kind = engine()
    target = Path(output) if output else Path(directory or settings.BACKUP_DIR) / archive_name(now)
    if target.exists():
        raise BackupError(errors.OUTPUT_EXISTS, path=target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".huitou-backup-", dir=target.parent))
    partial = target.with_name(target.name + ".partial")
    try:
        database = work / MEMBERS[kind]
        if kind == "sqlite":
            server_version, migrations, values, wanted = _sqlite_copy(database)
        else:
            server_version, migrations, values, wanted = _pg_dump(database)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "huitou_version": _version(),
            "engine": kind,
            "server_version": server_version,
            "created_at": now.astimezone(dt.UTC).isoformat(),
            "database": {"member": MEMBERS[kind], "sha256": _sha256(database), "bytes": database.stat().st_size},
            "migrations": migrations,
            "figures": figures.to_manifest(wanted, values),
        }
        _write_archive(partial, database=database, manifest=manifest, media_root=Path(settings.MEDIA_ROOT))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(path=target, manifest=manifest)


def backups_prune(*, directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` dated archives in ``directory``; other files are left alone."""
    if keep < 1:
        raise BackupError(errors.KEEP_INVALID, keep=keep)
    if not directory.is_dir():
        return []
    archives = sorted(p for p in directory.iterdir() if ARCHIVE_NAME.match(p.name) and p.is_file())
    doomed = archives[:-keep]
    for path in doomed:
        path.unlink()
    return doomed


def backup_restore(*, archive: Path, force: bool = False) -> RestoreResult:
    """Replace the database and the uploaded files with the archive's, then measure them.

    Refused, before anything is changed, when the database already holds data
    or the uploaded files folder is not empty, unless ``force``.
    """
    kind = engine()
    if kind == "postgresql":
        postgres.tool_path("pg_restore")  # refuse before reading the archive
    media_root = Path(settings.MEDIA_ROOT)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    with _unpacked(archive, beside=media_root.parent) as work:
        manifest = _checked_manifest(archive, work, kind)
        database = work / MEMBERS[kind]
        wanted, recorded = figures.from_manifest(manifest["figures"])
        if kind == "sqlite":
            _sqlite_check(archive, database, wanted, recorded)
        if not force:
            rows, table = _target_rows()
            if rows:
                raise BackupError(errors.TARGET_NOT_EMPTY, rows=rows, table=table)
            if media_root.is_dir() and any(media_root.iterdir()):
                raise BackupError(errors.MEDIA_NOT_EMPTY, path=media_root)
        if kind == "sqlite":
            _sqlite_restore(database)
        else:
            postgres.restore(source=database)
        media_files = _media_replace(work / MEDIA, media_root, work)
    connection = connections["default"]
    connection.close()
    with connection.cursor() as cursor:
        found = figures.measure(cursor, wanted)
    return RestoreResult(
        manifest=manifest,
        comparisons=figures.compare(recorded, found),
        media_files=media_files,
        pending_migrations=_pending_migrations(),
    )


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_copy(target: Path) -> tuple[str, list[str], dict[str, int | str], list[figures.Measure]]:
    connection = connections["default"]
    if connection.in_atomic_block:
        # SQLite refuses to copy a database its own connection is writing to (SQLITE_LOCKED),
        # and Python's backup() would wait for it forever.
        raise RuntimeError("backup_create cannot run inside a transaction on SQLite")
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        # One step: the whole copy is read in one read transaction, so it is one moment of the
        # database; in WAL mode the server's writers go on meanwhile.
        connection.connection.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        cursor = copy.cursor()
        tables = {row[0] for row in cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        migrations, values, wanted = _measured(cursor, tables, str(connection.settings_dict["NAME"]))
        cursor.close()
    finally:
        copy.close()
    return sqlite3.sqlite_version, migrations, values, wanted


def _sqlite_check(archive: Path, database: Path, wanted: list[figures.Measure], recorded: dict[str, int | str]) -> None:
    copy = sqlite3.connect(database)
    try:
        problems = [row[0] for row in copy.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise BackupError(errors.ARCHIVE_UNREADABLE, path=archive, reason="; ".join(problems[:5]))
        found = figures.measure(copy.cursor(), wanted)
    finally:
        copy.close()
    differing = [c.key for c in figures.compare(recorded, found) if not c.equal]
    if differing:
        raise BackupError(errors.FIGURES_DIFFER, keys=", ".join(differing))


def _sqlite_restore(database: Path) -> None:
    connection = connections["default"]
    connection.close()
    connection.ensure_connection()
    source = sqlite3.connect(database)
    try:
        # The backup API writes the pages under the destination's own lock, so a server that has
        # the file open sees the old database or the new one, never a mixture.
        source.backup(connection.connection)
    finally:
        source.close()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
    connection.close()


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_dump(target: Path) -> tuple[str, list[str], dict[str, int | str], list[figures.Measure]]:
    postgres.tool_path("pg_dump")  # refuse before opening the snapshot
    snapshot = postgres.Snapshot()
    try:
        cursor = snapshot.cursor
        cursor.execute("SHOW server_version")
        server_version = str(cursor.fetchone()[0])
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        tables = {row[0] for row in cursor.fetchall()}
        name = str(connections["default"].settings_dict["NAME"])
        migrations, values, wanted = _measured(cursor, tables, name)
        postgres.dump(target=target, snapshot=snapshot.name)
    finally:
        snapshot.close()
    return server_version, migrations, values, wanted


# --- shared ----------------------------------------------------------------------------------


def _measured(
    cursor: Any, tables: set[str], name: str
) -> tuple[list[str], dict[str, int | str], list[figures.Measure]]:
    if "django_migrations" not in tables:
        raise BackupError(errors.NOTHING_TO_BACK_UP, name=name)
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    migrations = [f"{app}.{migration}" for app, migration in cursor.fetchall()]
    wanted = [m for m in figures.measures() if m.table in tables]
    return migrations, figures.measure(cursor, wanted), wanted


def _write_archive(path: Path, *, database: Path, manifest: dict[str, Any], media_root: Path) -> None:
    files = size = 0
    # Readable by its owner only: it holds every customer's data and the staff's password hashes.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
        tar.add(database, arcname=database.name)
        if media_root.is_dir():
            for file in sorted(media_root.rglob("*")):
                if not file.is_file() or file.is_symlink():
                    continue
                try:
                    with file.open("rb") as handle:
                        info = tar.gettarinfo(
                            arcname=f"{MEDIA}/{file.relative_to(media_root).as_posix()}", fileobj=handle
                        )
                        tar.addfile(info, handle)
                except FileNotFoundError:
                    continue  # deleted while the backup ran
                files += 1
                size += info.size
        manifest["media"] = {"files": files, "bytes": size}
        data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
        tar.addfile(info, io.BytesIO(data))


@contextmanager
def _unpacked(archive: Path, *, beside: Path) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix=".huitou-restore-", dir=beside))
    try:
        try:
            with tarfile.open(archive, mode="r|gz") as tar:
                tar.extractall(work, filter="data")
        except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
            raise BackupError(errors.ARCHIVE_UNREADABLE, path=archive, reason=str(exc) or type(exc).__name__) from exc
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _checked_manifest(archive: Path, work: Path, kind: str) -> dict[str, Any]:
    try:
        manifest = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
        member = manifest["database"]["member"]
        fmt, archive_engine = int(manifest["format"]), manifest["engine"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(errors.ARCHIVE_UNREADABLE, path=archive, reason=f"{MANIFEST}: {exc}") from exc
    if fmt > FORMAT:
        raise BackupError(errors.ARCHIVE_NEWER, path=archive, format=fmt)
    if archive_engine != kind:
        raise BackupError(errors.ENGINE_DIFFERS, archive=archive_engine, current=kind)
    if member != MEMBERS[kind] or not (work / member).is_file():
        raise BackupError(errors.ARCHIVE_UNREADABLE, path=archive, reason=f"{MEMBERS[kind]} missing")
    if _sha256(work / member) != manifest["database"]["sha256"]:
        raise BackupError(errors.CHECKSUM_DIFFERS, path=archive)
    known = {f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}
    unknown = sorted(set(manifest.get("migrations", [])) - known)
    if unknown:
        raise BackupError(errors.MIGRATIONS_UNKNOWN, names=", ".join(unknown[:5]))
    return manifest


def _target_rows() -> tuple[int, str]:
    """Rows the configured database holds outside the housekeeping tables, and the first such table."""
    connection = connections["default"]
    total, first = 0, ""
    with connection.cursor() as cursor:
        for table in sorted(set(connection.introspection.table_names(cursor)) - HOUSEKEEPING):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows = int(cursor.fetchone()[0])
            if rows and not first:
                first = table
            total += rows
    return total, first


def _media_replace(extracted: Path, media_root: Path, work: Path) -> int:
    if not extracted.is_dir():
        extracted.mkdir()
    if media_root.exists():
        os.replace(media_root, work / "media-replaced")  # removed with the work folder
    os.replace(extracted, media_root)
    return sum(1 for p in media_root.rglob("*") if p.is_file())


def _pending_migrations() -> list[str]:
    connection = connections["default"]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version() -> str:
    try:
        return metadata.version("huitou")
    except metadata.PackageNotFoundError:
        return "unknown"
