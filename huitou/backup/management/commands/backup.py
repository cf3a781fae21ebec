"""``huitou backup [--output FILE]``: the database and the uploaded files in one archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from huitou.backup.errors import BackupError
from huitou.backup.presentation import command_language, figure_label
from huitou.backup.services import backup_create


class Command(BaseCommand):
    # A backup must run even when an unrelated part of the installation fails its checks.
    requires_system_checks: list[str] = []
    help = (
        "Back up the database and the uploaded files into one .tar.gz, safely while the server runs "
        "(SQLite: its backup API; PostgreSQL: pg_dump of the server's version, which must be on the PATH). "
        "The archive's manifest.json records the counts and totals a restore must give back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="the archive to write (default: HUITOU_BACKUP_DIR/huitou-<UTC time>.tar.gz)",
        )

    def handle(self, *args: Any, output: Path | None, **options: Any) -> None:
        with translation.override(command_language()):
            try:
                result = backup_create(output=output, directory=Path(settings.BACKUP_DIR))
            except BackupError as exc:
                raise CommandError(str(exc)) from exc
            manifest = result.manifest
            self.stdout.write(self.style.SUCCESS(_("Backup written to %(path)s") % {"path": result.path}))
            for entry in manifest["figures"]:
                if not entry["key"].startswith(("rows:", "sum:")):
                    self.stdout.write(f"  {figure_label(entry['key'])}: {entry['value']}")
            self.stdout.write(
                "  "
                + _("Uploaded files: %(files)s (%(bytes)s bytes)")
                % {"files": manifest["media"]["files"], "bytes": manifest["media"]["bytes"]}
            )
