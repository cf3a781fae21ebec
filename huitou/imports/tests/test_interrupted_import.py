"""A worker killed in the middle of a 100,000-row import loses nothing and duplicates nothing when run again.

The import runs in a real second process (``huitou import --resume``) that
is killed with SIGKILL while it is writing batches; the test then runs the
import again and counts every row. The second process needs the test's
database, so this runs on PostgreSQL (an in-memory SQLite test database
cannot be shared with another process).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from huitou.audit.models import ChangeEntry
from huitou.customers.models import Customer, MileageReading, Vehicle
from huitou.imports.models import ImportedCustomer, ImportIssue, ImportJob, ImportState
from huitou.imports.services import import_check, import_run, import_start, import_upload
from huitou.imports.tests.sheets import csv_upload
from huitou.lifecycle.models import StageChange
from huitou.tenancy.models import Organization, User

# The issue's size: a shop's whole sheet, in batches as the worker runs them.
ROWS = 100_000
BATCH = 2000


def _sheet() -> list[list[Any]]:
    rows: list[list[Any]] = [["店名：顺达汽修"], [], ["姓名", "手机", "车牌", "里程", "上次保养日期"]]
    for n in range(ROWS):
        # Every third customer has two cars: rows of the same phone, sometimes in different batches.
        person = n - (n % 3 == 2)
        rows.append([f"客户{person}", f"139{person:08d}", f"粤B{n:05d}", 1000 + n, "2024-05-01"])
        if n % 25_000 == 24_999:
            rows.append([])
    rows.append(["合计", "", "", "", ""])
    return rows


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second process needs a shared test database")
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_halfway_and_run_again_gives_exact_counts(
    org: Organization, owner: User, media_root: Path
) -> None:
    job = import_upload(organization=org, by=owner, upload=csv_upload(_sheet(), "gb18030"), kind="customers")
    import_check(job=job, by=owner)
    assert (job.rows, job.created, job.failed) == (ROWS, ROWS, 0)
    import_start(job=job, by=owner, enqueue=False)

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "huitou.settings_test",
        "DATABASE_URL": _database_url(),
        "HUITOU_DATA_DIR": str(media_root.parent),
        "HUITOU_MEDIA_ROOT": str(media_root),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "django", "import", "--resume", str(job.pk), "--batch-rows", str(BATCH)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 600
    try:
        while True:
            job.refresh_from_db()
            if job.batches_done >= ROWS // BATCH // 2:  # halfway
                break
            assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else "worker ended"
            assert time.monotonic() < deadline, "the worker did not get halfway in ten minutes"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    job.refresh_from_db()
    assert job.state == ImportState.RUNNING
    assert 0 < job.created < ROWS, "the worker was killed in the middle"
    # What was committed is whole batches with their progress: one car per created row, nothing more.
    assert Vehicle.objects.for_org(org).count() == job.created

    job = import_run(organization_id=org.pk, job_id=job.pk, batch_rows=BATCH)

    assert job.state == ImportState.DONE
    assert (job.rows, job.created, job.updated, job.skipped, job.failed) == (ROWS, ROWS, 0, 0, 0)
    people = len({n - (n % 3 == 2) for n in range(ROWS)})
    assert Customer.objects.for_org(org).count() == people
    assert ImportedCustomer.objects.for_org(org).filter(job=job).count() == people
    assert StageChange.objects.for_org(org).count() == people
    created = ChangeEntry.objects.for_org(org).filter(subject_type="customer", action="created")
    assert created.count() == created.values("subject_id").distinct().count() == people
    assert Vehicle.objects.for_org(org).count() == ROWS
    assert Vehicle.objects.for_org(org).values("plate").distinct().count() == ROWS
    assert MileageReading.objects.for_org(org).count() == ROWS
    assert not ImportIssue.objects.for_org(org).filter(job=job).exists()
    two_cars = Customer.objects.for_org(org).get(phone="+8613900000001")
    assert sorted(two_cars.vehicles.values_list("plate", flat=True)) == ["粤B00001", "粤B00002"]
    assert ImportJob.objects.for_org(org).get(pk=job.pk).next_row > ROWS
