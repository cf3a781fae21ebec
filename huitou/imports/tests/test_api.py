"""POST /api/v1/imports and GET /api/v1/imports/{id}: the same services as the page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from huitou.customers.models import Customer
from huitou.imports import errors
from huitou.imports.models import ImportJob
from huitou.imports.tests.sheets import HEADER, xlsx_bytes
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db

ROWS = [
    HEADER,
    ["张三", "138 1234 5678", "浙a·12345", "丰田 卡罗拉", "", "", "2023/5/1", "45000", "", ""],
    ["李四", "12", "粤B54321", "", "", "", "", "", "", ""],
]


def _post(client: Client, **data: Any) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data.setdefault("file", SimpleUploadedFile("客户.xlsx", xlsx_bytes(ROWS, title="客户档案")))
    return client.post("/api/v1/imports", data)


def test_a_dry_run_reports_rows_and_errors_and_writes_nothing(
    org: Organization, owner: User, client_for: Callable[[User], Client]
) -> None:
    response = _post(client_for(owner), kind="customers", dry_run="true")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("state", "rows", "created", "updated", "skipped", "failed")} == {
        "state": "checked",
        "rows": 2,
        "created": 1,
        "updated": 0,
        "skipped": 0,
        "failed": 1,
    }
    assert body["errors"] == [{"row": 5, "column": "手机号码", "message": str(errors.PHONE_INVALID)}]
    assert body["header_row"] == 3 and body["mapping"]["plate"] == 2
    assert not Customer.objects.for_org(org).exists()


def test_the_import_runs_and_its_progress_is_read_back(
    org: Organization,
    owner: User,
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    client = client_for(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, kind="customers", dry_run="false", on_duplicate="update")
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    body = client.get(f"/api/v1/imports/{job_id}").json()
    assert (body["state"], body["created"], body["failed"], body["percent"]) == ("done", 1, 1, 100)
    assert Customer.objects.for_org(org).get().vehicles.get().plate == "浙A12345"


def test_a_mapping_by_header_text_or_column_number_replaces_the_guess(
    org: Organization, owner: User, client_for: Callable[[User], Client]
) -> None:
    # The phone column left out: rows are then found by their plate.
    mapping = {"name": "客户姓名", "plate": 2}
    response = _post(client_for(owner), kind="customers", mapping=json.dumps(mapping))
    assert response.status_code == 201, response.content
    assert response.json()["mapping"] == {"name": 0, "plate": 2}
    assert response.json()["failed"] == 0


def test_a_wrong_mapping_or_file_is_refused(owner: User, client_for: Callable[[User], Client]) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(owner)
    response = _post(client, mapping=json.dumps({"name": 99}))
    assert response.status_code == 422
    assert response.json()["errors"]["mapping"] == [str(errors.MAPPING_INVALID)]
    response = _post(client, file=SimpleUploadedFile("客户.pdf", b"%PDF"))
    assert response.status_code == 422
    assert response.json()["errors"]["file"] == [str(errors.FILE_FORMAT)]
    response = _post(client, file=SimpleUploadedFile("客户.xlsx", b"not a zip"))
    assert response.json()["errors"]["file"] == [str(errors.FILE_UNREADABLE)]


def test_only_store_managers_import(advisor: User, client_for: Callable[[User], Client]) -> None:
    assert _post(client_for(advisor)).status_code == 403


def test_another_organizations_import_is_not_found(
    org: Organization, owner: User, outsider: User, client_for: Callable[[User], Client]
) -> None:
    job_id = _post(client_for(owner)).json()["id"]
    assert client_for(outsider).get(f"/api/v1/imports/{job_id}").status_code == 404
    assert client_for(owner).get(f"/api/v1/imports/{job_id}").status_code == 200
    assert ImportJob.objects.for_org(org).count() == 1


def _rows_left(org: Organization) -> dict[str, list[tuple[Any, ...]]]:
    from huitou.customers.models import MileageReading, Vehicle
    from huitou.imports.models import ImportIssue

    return {
        "customers": sorted(
            Customer.objects.for_org(org).values_list("name", "phone", "stage", "birth_month", "birth_day")
        ),
        "vehicles": sorted(Vehicle.objects.for_org(org).values_list("plate", "brand", "model", "mileage_km")),
        "readings": sorted(MileageReading.objects.for_org(org).values_list("km", "read_at", "source")),
        "issues": sorted(ImportIssue.objects.for_org(org).values_list("row", "column", "message")),
    }


def test_the_page_and_the_api_import_the_same_sheet_alike(
    org: Organization,
    owner: User,
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    client = client_for(owner)
    results = []
    for via in ("page", "api"):
        sid = transaction.savepoint()
        sheet = SimpleUploadedFile("客户.xlsx", xlsx_bytes(ROWS, title="客户档案"))
        with django_capture_on_commit_callbacks(execute=True):
            if via == "page":
                response = client.post("/imports/", {"kind": "customers", "file": sheet})
                job = ImportJob.objects.for_org(org).get()
                data = {f"col_{k}": str(v) for k, v in job.mapping.items()} | {"on_duplicate": "skip"}
                client.post(f"/imports/{job.pk}/check", data)
                client.post(f"/imports/{job.pk}/start")
            else:
                response = _post(client, file=sheet, dry_run="false")
                assert response.status_code == 201
        results.append(_rows_left(org))
        transaction.savepoint_rollback(sid)
    assert results[0] == results[1]
    assert len(results[0]["customers"]) == 1 and len(results[0]["issues"]) == 1
