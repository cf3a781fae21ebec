"""The nightly backup, on when HUITOU_BACKUP_NIGHTLY=1."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huitou.backup import errors
from huitou.backup.errors import BackupError
from huitou.backup.services import backup_create, backups_prune

log = logging.getLogger(__name__)


# huey reads crontabs in UTC: 18:30 UTC is 02:30 in China, before the visit check at 03:10.
@db_periodic_task(crontab(hour="18", minute="30"))
def backup_nightly() -> str | None:
    """A backup into HUITOU_BACKUP_DIR, then only the newest HUITOU_BACKUP_KEEP archives stay."""
    if not settings.BACKUP_NIGHTLY:
        return None
    directory, keep = Path(settings.BACKUP_DIR), int(settings.BACKUP_KEEP)
    if keep < 1:
        raise BackupError(errors.KEEP_INVALID, keep=keep)
    result = backup_create(directory=directory)
    removed = backups_prune(directory=directory, keep=keep)
    log.info("backup written to %s; %d older removed", result.path, len(removed))
    return str(result.path)
