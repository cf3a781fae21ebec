"""``huitou backup`` → ``huitou restore`` in child processes, on the run's engine (SQLite or PostgreSQL)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from huitou.backup import errors
from huitou.backup.tests.support import (
    POSTGRES,
    Installation,
    Installations,
    installations,
    media_files,
    numbers,
)
from huitou.backup.tests.writer import NAME_PREFIX

UPLOADS = {
    "photos/2026/粤B12345-前.jpg": bytes(range(256)) * 40,
    "contracts/合同.pdf": b"%PDF-1.4 scanned contract\n",
    "empty.txt": b"",
}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installations]:
    yield from installations(tmp_path_factory.mktemp("installations"))


@pytest.fixture(scope="module")
def shop(made: Installations) -> Installation:
    """A migrated installation with a demo shop's customers, orders and uploaded files; kept idle."""
    shop = made.new()
    shop.run("migrate", "-v0")
    shop.run("demo", "--customers", "6", "-v0")
    for name, content in UPLOADS.items():
        path = shop.media / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return shop


@pytest.fixture(scope="module")
def shop_archive(shop: Installation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("archives") / "shop.tar.gz"
    _backup(shop, archive)
    return archive


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _backup(installation: Installation, archive: Path) -> subprocess.CompletedProcess[str]:
    return installation.run("backup", "--output", str(archive), LANG="en_US.UTF-8")


def test_round_trip_gives_the_same_numbers_and_files(made: Installations, shop: Installation, tmp_path: Path) -> None:
    source = made.new(template=shop)
    before = numbers(source)
    assert before["customers"] >= 6 and before["orders"] > 0 and before["order totals"] > 0

    archive = tmp_path / "shop.tar.gz"
    backed_up = _backup(source, archive)
    assert f"Backup written to {archive}" in backed_up.stdout
    assert f"Customers: {before['customers']}" in backed_up.stdout
    assert f"Order totals: {before['order totals']}" in backed_up.stdout

    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert names[-1] == "manifest.json"
    assert ("database.pgdump" if POSTGRES else "database.sqlite3") in names
    assert sorted(n.removeprefix("media/") for n in names if n.startswith("media/")) == sorted(UPLOADS)
    assert manifest["engine"] == ("postgresql" if POSTGRES else "sqlite")
    assert manifest["format"] == 1 and manifest["created_at"] and manifest["huitou_version"]
    recorded = {e["key"]: e["value"] for e in manifest["figures"]}
    assert recorded["customers"] == before["customers"]
    assert recorded["orders"] == before["orders"]
    assert recorded["order_totals"] == str(before["order totals"])
    assert recorded["order_amount_paid"] == str(before["amounts paid"])
    assert manifest["media"] == {"files": len(UPLOADS), "bytes": sum(len(c) for c in UPLOADS.values())}

    target = made.new()  # an empty data directory (and, on PostgreSQL, an empty database)
    restored = target.run("restore", str(archive), LANG="en_US.UTF-8")
    assert "The restored data matches the backup." in restored.stdout
    assert "Customers" in restored.stdout and "✗" not in restored.stdout
    assert numbers(target) == before
    assert media_files(target.media) == media_files(source.media) == UPLOADS

    # The restored installation works: the staff can still sign in.
    checked = target.run(
        "shell",
        "-c",
        "from huitou.tenancy.models import User; "
        "print(User.objects.get(username='owner').check_password('huitou-demo-2026'))",
    )
    assert checked.stdout.strip().endswith("True")


def test_restore_refuses_a_database_with_data_unless_forced(
    made: Installations, shop: Installation, shop_archive: Path, tmp_path: Path
) -> None:
    archive = shop_archive
    expected = numbers(shop)

    target = made.new()
    target.run("restore", str(archive))
    target.run("demo", "--org", "另一家店", "--user-prefix", "x", "--customers", "2", "-v0")
    with_more = numbers(target)
    assert with_more["organizations"] == expected["organizations"] + 1

    for lang, language in (("en_US.UTF-8", "en"), ("zh_CN.UTF-8", "zh-hans")):
        refused = target.run("restore", str(archive), check=False, LANG=lang)
        assert refused.returncode == 1
        with translation.override(language):
            start = str(errors.TARGET_NOT_EMPTY).split("%(rows)s")[0]
            assert start in refused.stderr, refused.stderr
            assert "--force" in refused.stderr
    assert numbers(target) == with_more  # untouched

    forced = target.run("restore", "--force", str(archive), LANG="en_US.UTF-8")
    assert "The restored data matches the backup." in forced.stdout
    assert numbers(target) == expected


def test_restore_refuses_a_non_empty_uploads_folder_unless_forced(
    made: Installations, shop: Installation, shop_archive: Path, tmp_path: Path
) -> None:
    archive = shop_archive
    target = made.new()
    (target.media / "someone-else.jpg").parent.mkdir(parents=True)
    (target.media / "someone-else.jpg").write_bytes(b"not from the backup")

    refused = target.run("restore", str(archive), check=False, LANG="en_US.UTF-8")
    assert refused.returncode == 1
    with translation.override("en"):
        assert str(errors.MEDIA_NOT_EMPTY) % {"path": target.media} in refused.stderr.replace("\n", " ")
    assert media_files(target.media) == {"someone-else.jpg": b"not from the backup"}

    target.run("restore", "--force", str(archive))
    assert media_files(target.media) == UPLOADS


def test_a_damaged_archive_is_refused_before_anything_changes(
    made: Installations, shop: Installation, shop_archive: Path, tmp_path: Path
) -> None:
    archive = shop_archive
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("database."):
                data = data[:-100] + bytes(100)
            copy.addfile(member, io.BytesIO(data))

    target = made.new()
    refused = target.run("restore", str(damaged), check=False, LANG="en_US.UTF-8")
    assert refused.returncode == 1
    assert "damaged" in refused.stderr
    assert not target.media.exists()


def test_a_backup_taken_while_the_shop_writes_is_one_consistent_moment(
    made: Installations, shop: Installation, tmp_path: Path
) -> None:
    """Another process writes orders (as the server does) while ``huitou backup`` runs.

    Each round of the writer is one transaction (a customer, a car and a paid
    order). The backup holds whole rounds only, rounds written both before and
    after it began, and its manifest's numbers are those of the restored copy.
    """
    source = made.new(template=shop)
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-m", "huitou.backup.tests.writer", str(stop)],
        env=source.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    rounds = [0]

    def follow() -> None:
        assert writer.stdout is not None
        for line in writer.stdout:
            if line.strip().isdigit():
                rounds[0] = int(line)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        deadline = time.monotonic() + 60
        while rounds[0] < 5 and time.monotonic() < deadline and writer.poll() is None:
            time.sleep(0.05)
        assert rounds[0] >= 5, writer.stderr.read() if writer.poll() is not None else "writer too slow"  # type: ignore[union-attr]
        started_after = rounds[0]
        archive = tmp_path / "busy.tar.gz"
        _backup(source, archive)
        finished_before = rounds[0]
        while rounds[0] < finished_before + 3 and time.monotonic() < deadline and writer.poll() is None:
            time.sleep(0.05)
    finally:
        stop.touch()
        writer.wait(timeout=60)
        follower.join(timeout=10)
    assert writer.returncode == 0, writer.stderr.read()  # type: ignore[union-attr]
    assert rounds[0] > finished_before  # the shop went on writing after the backup

    target = made.new()
    restored = target.run("restore", str(archive), LANG="en_US.UTF-8")
    assert "The restored data matches the backup." in restored.stdout

    connection = target.connect()
    try:
        cursor = connection.cursor()
        query = (
            "SELECT c.name, COUNT(o.id), MIN(o.state), MIN(o.total), MIN(o.amount_paid),"  # noqa: S608
            " (SELECT SUM(l.amount) FROM service_orderline l WHERE l.order_id = MIN(o.id))"
            " FROM customers_customer c LEFT JOIN service_serviceorder o ON o.customer_id = c.id"
            f" WHERE c.name LIKE '{NAME_PREFIX}%' GROUP BY c.id, c.name"
        )
        cursor.execute(query)
        written = cursor.fetchall()
    finally:
        connection.close()
    assert started_after <= len(written) < rounds[0]
    assert sorted(int(name.removeprefix(NAME_PREFIX)) for name, *_ in written) == list(range(len(written)))
    for name, orders, state, total, paid, lines in written:
        assert (orders, state) == (1, "paid"), name
        assert _money(total) == _money(paid) == _money(lines) > 0, name
    assert numbers(target)["customers"] == numbers(shop)["customers"] + len(written)


def test_numbers_that_differ_from_the_manifest_fail_the_restore(
    made: Installations, shop: Installation, shop_archive: Path, tmp_path: Path
) -> None:
    """A manifest that promises one customer more than the database holds: the restore says so, exit status 1."""
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(shop_archive) as source, tarfile.open(tampered, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json":
                manifest = json.loads(data)
                for entry in manifest["figures"]:
                    if entry["key"] == "customers":
                        entry["value"] += 1
                data = json.dumps(manifest).encode()
                member.size = len(data)
            copy.addfile(member, io.BytesIO(data))

    target = made.new()
    failed = target.run("restore", str(tampered), check=False, LANG="en_US.UTF-8")
    assert failed.returncode == 1
    with translation.override("en"):
        assert str(errors.FIGURES_DIFFER) % {"keys": "customers"} in failed.stderr.replace("\n", " ")
    if POSTGRES:  # measured after pg_restore: the table shows the difference
        assert "✗" in failed.stdout
    else:  # the SQLite copy is measured before anything is replaced
        assert not target.sqlite_file.exists() or numbers(target)["customers"] == 0
