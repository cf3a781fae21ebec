"""The nightly backup: off unless asked for, keeps the newest N, and its settings come from the environment."""

from __future__ import annotations

import datetime as dt
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from huitou.backup import errors
from huitou.backup.errors import BackupError
from huitou.backup.services import archive_name, backup_create, backups_prune
from huitou.backup.tasks import backup_nightly
from huitou.backup.tests.support import Installation

BASE = dt.datetime(2026, 3, 1, 18, 30, tzinfo=dt.UTC)


@pytest.fixture
def backups(settings: Any, tmp_path: Path, transactional_db: Any) -> Path:
    """Backups read the database as another session would: the test's rows are committed."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BACKUP_DIR = tmp_path / "backups"
    return Path(settings.BACKUP_DIR)


def _made(directory: Path, days: int) -> list[Path]:
    return [backup_create(directory=directory, now=BASE + dt.timedelta(days=n)).path for n in range(days)]


def test_pruning_keeps_the_newest_archives_and_nothing_else_is_touched(backups: Path, make_customer: Any) -> None:
    make_customer()
    made = _made(backups, 5)
    assert [p.name for p in made] == [archive_name(BASE + dt.timedelta(days=n)) for n in range(5)]
    others = [backups / "notes.txt", backups / "huitou-before-upgrade.tar.gz", backups / "huitou-20260101T000000Z.zip"]
    for path in others:
        path.write_text("kept by hand")

    removed = backups_prune(directory=backups, keep=3)

    assert removed == made[:2]
    assert sorted(backups.iterdir()) == sorted([*made[2:], *others])
    with tarfile.open(made[-1]) as tar:  # a real backup, with this test's customer in it
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert {e["key"]: e["value"] for e in manifest["figures"]}["customers"] == 1
    assert backups_prune(directory=backups, keep=3) == []
    with pytest.raises(BackupError) as refused:
        backups_prune(directory=backups, keep=0)
    assert refused.value.message == errors.KEEP_INVALID


def test_the_nightly_backup_is_off_unless_switched_on(backups: Path, settings: Any) -> None:
    settings.BACKUP_NIGHTLY = False
    assert backup_nightly.call_local() is None
    assert not backups.exists()


def test_the_nightly_backup_writes_one_and_keeps_the_last_n(backups: Path, settings: Any) -> None:
    settings.BACKUP_NIGHTLY = True
    settings.BACKUP_KEEP = 2
    older = _made(backups, 3)

    written = Path(backup_nightly.call_local())

    assert written.parent == backups and written not in older
    assert sorted(backups.iterdir()) == sorted([older[-1], written])


def test_the_nightly_backup_runs_at_half_past_two_in_china() -> None:
    task = backup_nightly.task_class()
    assert task.validate_datetime(dt.datetime(2026, 3, 1, 18, 30))  # huey reads its crontabs in UTC
    assert not task.validate_datetime(dt.datetime(2026, 3, 1, 2, 30))


def test_the_settings_come_from_the_environment(tmp_path: Path) -> None:
    installation = Installation(data_dir=tmp_path)
    code = "from django.conf import settings as s; print(s.BACKUP_NIGHTLY, s.BACKUP_KEEP, s.BACKUP_DIR)"
    default = installation.run("shell", "-c", code).stdout.split()
    assert default[-3:] == ["False", "7", str(tmp_path / "backups")]
    switched = installation.run(
        "shell", "-c", code, HUITOU_BACKUP_NIGHTLY="1", HUITOU_BACKUP_KEEP="14", HUITOU_BACKUP_DIR=str(tmp_path / "b")
    ).stdout.split()
    assert switched[-3:] == ["True", "14", str(tmp_path / "b")]
