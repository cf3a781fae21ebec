"""A batch of rows written at once: statements per batch, search keys, history, cars of earlier batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.customers.models import Customer, MileageReading, Vehicle
from huitou.imports.models import ImportJob
from huitou.imports.services import import_check, import_run, import_start, import_upload
from huitou.imports.services.engine import RunState, process_batch
from huitou.imports.services.rows import clean_row
from huitou.imports.tests.sheets import csv_upload, xlsx_upload
from huitou.lib.phones import last4
from huitou.lib.pinyin import pinyin_keys
from huitou.service.models import ServiceOrder
from huitou.tenancy.models import Organization, User
from huitou.testing.sqlite import analysed_tables, forget_statistics

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 6, 1, 10, 0))
HEADER = ["姓名", "手机", "车牌", "上次保养日期", "里程", "保养项目"]
MAPPING = {"name": 0, "phone": 1, "plate": 2, "last_service_date": 3, "mileage": 4, "service_item": 5}


def _rows(count: int, start: int = 0) -> list[list[Any]]:
    """Customers with a car, a reading and a last service of the catalog; every third has a second car."""
    rows: list[list[Any]] = []
    for n in range(start, start + count):
        person = n - (n % 3 == 2)
        rows.append([f"客户{person}", f"139{person:08d}", f"粤B{n:05d}", "2024-03-01", 1000 + n, "小保养"])
    return rows


def _job(org: Organization, owner: User, rows: list[list[Any]]) -> ImportJob:
    job = import_upload(organization=org, by=owner, upload=xlsx_upload([HEADER, *rows]), kind="customers", now=NOW)
    job.mapping = MAPPING
    return job


@pytest.mark.parametrize("count", [10, 40])
def test_a_batchs_statements_do_not_grow_with_its_rows(
    org: Organization,
    owner: User,
    count: int,
    make_service_item: Callable[..., Any],
    django_assert_num_queries: Any,
) -> None:
    make_service_item(name="小保养")
    job = _job(org, owner, _rows(count))
    rows = [clean_row("customers", 2 + n, cells, MAPPING, NOW.date()) for n, cells in enumerate(_rows(count))]
    # The 1st: the organization's files with the batch's phones; the 2nd: cars with its plates (no VINs,
    # and no file known, so no read of the files this import made); the 3rd: the catalog (once a run).
    # Then two statements per table written: new ids, then the rows (COPY on PostgreSQL): customers,
    # links to the import, stage changes, cars, ownerships, readings, with the importer's files marked
    # for the staff ranking after the customers (one); the orders of the last services
    # read the files' first visits (the dashboard's days to count again), take the organization's
    # lock, read the last numbers of their days (the first time a run meets a day), check that no one
    # took the numbers meanwhile, read the shop, then write orders and lines (no payment: they are
    # priced 0), read the days of those files' payments and paid orders (two) and mark them and
    # the first visits' days for the dashboard's daily facts; last, the history entries.
    with django_assert_num_queries(3 + 2 * 6 + 1 + 1 + 4 + 2 * 2 + 2 + 1 + 2):
        result = process_batch(job=job, rows=rows, state=RunState(), by=owner, write=True, now=NOW)
    assert (result.created, result.failed) == (count, 0)
    assert Vehicle.objects.for_org(org).count() == count


def test_search_keys_and_the_history_of_new_files(
    org: Organization, owner: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    rows = [["姓名", "电话", "车牌", "车型"], ["曾小贤", "138 0013 8000", "粤B12345", "卡罗拉"]]
    rows += [["单田芳", "010-8888 6666", "粤B54321", ""], ["曾小贤", "13800138000", "粤B22222", "雅阁"]]
    job = import_upload(organization=org, by=owner, upload=xlsx_upload(rows), kind="customers", now=NOW)
    import_check(job=job, by=owner, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        import_start(job=job, by=owner, now=NOW)
    for customer in Customer.objects.for_org(org):
        assert customer.phone_last4 == last4(customer.phone)
        assert (customer.name_pinyin, customer.name_initials) == pinyin_keys(customer.name)
        assert customer.completeness > 0 and customer.created_by == owner and customer.owner == owner
    assert Customer.objects.for_org(org).get(name="单田芳").phone_last4 == "6666"
    zeng = Customer.objects.for_org(org).get(name="曾小贤")
    assert zeng.name_initials == "zxx"
    entry = ChangeEntry.objects.for_org(org).get(subject_type="customer", subject_id=zeng.pk)
    assert (entry.action, entry.customer_id, entry.actor) == ("created", zeng.pk, owner)
    assert entry.changes["name"] == [None, "曾小贤"] and entry.changes["phone"] == [None, "+8613800138000"]
    assert entry.changes["vehicles"] == [None, ["粤B12345", "粤B22222"]]
    assert entry.note == f"import #{job.pk} row 2"


def test_a_car_of_a_file_an_earlier_batch_made_is_added_to_it_with_its_history(
    org: Organization,
    owner: User,
    make_service_item: Callable[..., Any],
) -> None:
    make_service_item(name="小保养")
    rows = [
        ["周杰", "13811112222", "粤B11111", "", "", ""],
        ["吴莫愁", "13811113333", "粤B11112", "", "", ""],
        ["周杰", "138-1111-2222", "粤B22222", "2024-05-02", 42000, "小保养"],
    ]
    job = _job(org, owner, rows)
    import_check(job=job, by=owner, now=NOW)
    import_start(job=job, by=owner, enqueue=False, now=NOW)
    forget_statistics()
    job = import_run(organization_id=org.pk, job_id=job.pk, batch_rows=2, now=NOW)
    assert (job.state, job.rows, job.created, job.batches_done) == ("done", 3, 3, 2)
    if connection.vendor == "sqlite":  # the embedded database's planner learns of the new rows
        assert {"customers_customer", "customers_vehicle", "service_serviceorder"} <= analysed_tables()
    zhou = Customer.objects.for_org(org).get(name="周杰")
    assert sorted(zhou.vehicles.values_list("plate", flat=True)) == ["粤B11111", "粤B22222"]
    # The file counts the visit its later car brought, and is converted by it, as a new file would be.
    noon = timezone.make_aware(dt.datetime(2024, 5, 2, 12))
    assert (zhou.visit_count, zhou.last_visit_at, zhou.converted_at, zhou.intent_at) == (1, noon, noon, noon)
    order = ServiceOrder.objects.for_org(org).get()
    assert (order.customer, order.mileage_km, order.mileage.km) == (zhou, 42000, 42000)
    car = ChangeEntry.objects.for_org(org).get(subject_type="vehicle")
    assert (car.customer_id, car.changes, car.note) == (
        zhou.pk,
        {"plate": [None, "粤B22222"]},
        f"import #{job.pk} row 4",
    )


def test_order_numbers_go_on_after_the_days_numbers(
    org: Organization,
    owner: User,
    make_service_item: Callable[..., Any],
) -> None:
    make_service_item(name="小保养")
    for rows in (_rows(2), _rows(1, start=10)):
        job = _job(org, owner, rows)
        import_check(job=job, by=owner, now=NOW)
        import_start(job=job, by=owner, enqueue=False, now=NOW)
        import_run(organization_id=org.pk, job_id=job.pk, now=NOW)
    numbers = sorted(ServiceOrder.objects.for_org(org).values_list("number", flat=True))
    assert numbers == ["20240301-0001", "20240301-0002", "20240301-0003"]
    assert MileageReading.objects.for_org(org).count() == 3


def test_numbers_another_writer_took_meanwhile_are_not_taken_again(
    org: Organization, owner: User, make_service_item: Callable[..., Any]
) -> None:
    from huitou.imports.services.orders import OrderNumbers

    make_service_item(name="小保养")
    job = _job(org, owner, _rows(2))
    import_check(job=job, by=owner, now=NOW)
    import_start(job=job, by=owner, enqueue=False, now=NOW)
    import_run(organization_id=org.pk, job_id=job.pk, now=NOW)
    day, other = dt.date(2024, 3, 1), dt.date(2024, 3, 2)
    # A run that read the day before those two orders were numbered would go on from 0001.
    known = {day: 1}
    numbers = OrderNumbers(org.pk, {day, other}, known).take_all([day, other, day])
    assert numbers == ["20240301-0003", "20240302-0001", "20240301-0004"]
    assert known == {day: 5, other: 2}


def test_a_large_sheets_dry_run_runs_in_the_background(
    org: Organization,
    owner: User,
    client_for: Callable[[User], Any],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from huitou.imports.services import jobs
    from huitou.imports.tests.sheets import xlsx_bytes

    monkeypatch.setattr(jobs, "CHECK_INLINE_BYTES", 100)
    client = client_for(owner)
    sheet = SimpleUploadedFile("客户.xlsx", xlsx_bytes([HEADER[:3], *[r[:3] for r in _rows(5)]]))
    with django_capture_on_commit_callbacks() as callbacks:
        body = client.post("/api/v1/imports", {"file": sheet, "kind": "customers"}).json()
    # The request answers at once: the dry run waits for the worker.
    assert (body["state"], body["dry_run"], body["rows"]) == ("queued", True, 0)
    assert len(callbacks) == 1
    page = client.get(f"/imports/{body['id']}/progress").content.decode()
    assert 'hx-trigger="every 1s"' in page
    callbacks[0]()  # the worker (huey runs tasks at once in the tests)
    body = client.get(f"/api/v1/imports/{body['id']}").json()
    assert (body["state"], body["dry_run"], body["rows"], body["created"]) == ("checked", True, 5, 5)
    assert not Customer.objects.for_org(org).exists()

    # Asked with dry_run=false, the import follows the dry run.
    sheet = SimpleUploadedFile("客户.xlsx", xlsx_bytes([HEADER[:3], *[r[:3] for r in _rows(5)]]))
    with django_capture_on_commit_callbacks(execute=True):
        body = client.post("/api/v1/imports", {"file": sheet, "dry_run": "false"}).json()
    body = client.get(f"/api/v1/imports/{body['id']}").json()
    assert (body["state"], body["dry_run"], body["created"]) == ("done", False, 5)
    assert Customer.objects.for_org(org).count() == 4


def test_a_killed_dry_run_is_made_again(
    org: Organization, owner: User, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from huitou.imports.models import ImportState
    from huitou.imports.services import import_check_request, import_is_stale, import_resume, jobs

    monkeypatch.setattr(jobs, "CHECK_INLINE_BYTES", 100)
    job = import_upload(organization=org, by=owner, upload=csv_upload([HEADER, *_rows(4)], "gbk"), kind="customers")
    with django_capture_on_commit_callbacks():  # the worker never runs it: killed
        job = import_check_request(job=job, by=owner, now=NOW)
    assert (job.state, job.dry_run) == (ImportState.QUEUED, True)
    assert import_is_stale(job, NOW + dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        import_resume(job=job, now=NOW + dt.timedelta(minutes=5))
    job.refresh_from_db()
    assert (job.state, job.dry_run, job.rows, job.created) == (ImportState.CHECKED, True, 4, 4)
