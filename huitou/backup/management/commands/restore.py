"""``huitou restore FILE [--force]``: bring back a backup and check it gives the same numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from huitou.backup import errors
from huitou.backup.errors import BackupError
from huitou.backup.presentation import command_language, comparison_lines
from huitou.backup.services import backup_restore


class Command(BaseCommand):
    # A backup must run even when an unrelated part of the installation fails its checks.
    requires_system_checks: list[str] = []
    help = (
        "Restore a backup made by `huitou backup` into this installation's database and uploaded files "
        "folder, then compare the restored counts and totals with the ones the backup recorded. "
        "Refuses a database that already holds data unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="the .tar.gz written by `huitou backup`")
        parser.add_argument(
            "--force", action="store_true", help="replace a database that holds data, and the uploaded files"
        )

    def handle(self, *args: Any, archive: Path, force: bool, **options: Any) -> None:
        with translation.override(command_language()):
            try:
                result = backup_restore(archive=archive, force=force)
            except BackupError as exc:
                raise CommandError(str(exc)) from exc
            manifest = result.manifest
            self.stdout.write(
                _("Restored the backup of %(created)s (Huitou %(version)s, %(engine)s).")
                % {
                    "created": manifest["created_at"],
                    "version": manifest["huitou_version"],
                    "engine": manifest["engine"],
                }
            )
            for line in comparison_lines(result.comparisons):
                self.stdout.write(f"  {line}")
            self.stdout.write(
                "  "
                + _("Uploaded files: %(files)s restored, %(recorded)s in the backup")
                % {"files": result.media_files, "recorded": manifest["media"]["files"]}
            )
            differing = [c.key for c in result.comparisons if not c.equal]
            if result.media_files != manifest["media"]["files"]:
                differing.append("media")
            if differing:
                raise CommandError(str(errors.FIGURES_DIFFER % {"keys": ", ".join(differing)}))
            self.stdout.write(self.style.SUCCESS(_("The restored data matches the backup.")))
            if result.pending_migrations:
                self.stdout.write(
                    _("The backup is from an older Huitou: run `huitou migrate` to bring it up to date (%(n)s steps).")
                    % {"n": len(result.pending_migrations)}
                )
