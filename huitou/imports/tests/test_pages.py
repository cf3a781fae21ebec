"""The import page: upload, fix the columns, dry run, import, errors to download; store managers only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from huitou.customers.models import Customer
from huitou.imports import errors
from huitou.imports.models import ImportJob, ImportState
from huitou.imports.services import import_check, import_upload
from huitou.imports.tests.sheets import read_xlsx, xlsx_bytes, xlsx_upload
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db

# A header the recognition gets wrong on purpose: 联系 is not a phone header.
ROWS = [
    ["车主", "联系", "车牌号码", "生日"],
    ["黄蓉", "13811110000", "浙A·12345", "农历三月初八"],
    ["郭靖", "1381111", "浙A54321", "1980/2/30"],
]


def _upload(client: Client) -> ImportJob:
    from django.core.files.uploadedfile import SimpleUploadedFile

    sheet = SimpleUploadedFile("旧系统导出.xlsx", xlsx_bytes(ROWS, title="旧系统"))
    response = client.post("/imports/", {"kind": "customers", "file": sheet})
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportJob.objects.get(pk=int(response["Location"].split("/")[2]))


def _mapping(job: ImportJob, **overrides: Any) -> dict[str, str]:
    data = {f"col_{name}": str(index) for name, index in job.mapping.items()}
    data.update({f"col_{k}": v for k, v in overrides.items()})
    data["on_duplicate"] = "skip"
    return data


def test_upload_fix_the_mapping_dry_run_import_and_download_the_errors(
    org: Organization,
    owner: User,
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    client = client_for(owner)
    assert "导入" in client.get("/").content.decode()
    from huitou.tenancy.scope import unscoped

    with unscoped():
        job = _upload(client)
    assert job.mapping == {"name": 0, "plate": 2, "birthday": 3}
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "检查列" in page or "1." in page

    response = client.post(f"/imports/{job.pk}/check", _mapping(job, phone="1"))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.state, job.rows, job.created, job.failed) == (ImportState.CHECKED, 2, 1, 1)
    report = client.get(f"/imports/{job.pk}/").content.decode()
    assert str(errors.PHONE_INVALID) in report
    assert not Customer.objects.for_org(org).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/{job.pk}/start").status_code == 302
    job.refresh_from_db()
    assert (job.state, job.created, job.failed) == (ImportState.DONE, 1, 1)
    huang = Customer.objects.for_org(org).get()
    assert (huang.name, huang.phone, huang.birthday_calendar) == ("黄蓉", "+8613811110000", "lunar")

    progress = client.get(f"/imports/{job.pk}/progress", headers={"HX-Request": "true"})
    assert progress["HX-Refresh"] == "true"

    sheet = client.get(f"/imports/{job.pk}/errors.xlsx")
    assert sheet["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = read_xlsx(sheet.content)
    assert rows[0][:4] == ["车主", "联系", "车牌号码", "生日"]
    assert rows[1][:3] == ["郭靖", "1381111", "浙A54321"] and rows[1][4] == 5
    assert str(errors.PHONE_INVALID) in rows[1][5] and str(errors.BIRTHDAY_INVALID) in rows[1][5]


def test_the_error_rows_fixed_import_again(
    org: Organization, owner: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from huitou.imports.services import error_workbook, import_configure, import_start
    from huitou.imports.tests.sheets import upload

    job = import_upload(organization=org, by=owner, upload=xlsx_upload(ROWS), kind="customers")
    import_configure(job=job, mapping={"name": 0, "phone": 1, "plate": 2, "birthday": 3})
    import_check(job=job, by=owner)
    rows = read_xlsx(error_workbook(job=job))
    assert len(rows) == 2
    fixed = [rows[0], [*rows[1][:1], "13811112222", rows[1][2], "1980/2/28", *rows[1][4:]]]
    again = import_upload(organization=org, by=owner, upload=upload("改好的.xlsx", xlsx_bytes(fixed)), kind="customers")
    assert again.mapping == {"name": 0, "plate": 2, "birthday": 3}
    import_configure(job=again, mapping={"name": 0, "phone": 1, "plate": 2, "birthday": 3})
    import_check(job=again, by=owner)
    assert (again.rows, again.created, again.failed) == (1, 1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        import_start(job=again, by=owner)
    guo = Customer.objects.for_org(org).get(name="郭靖")
    assert (guo.phone, guo.birth_month, guo.birth_day) == ("+8613811112222", 2, 28)


def test_a_mapping_without_a_required_column_is_refused_on_the_form(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    from huitou.tenancy.scope import unscoped

    client = client_for(owner)
    with unscoped():
        job = _upload(client)
    response = client.post(f"/imports/{job.pk}/check", _mapping(job, name="", phone="1"))
    assert response.status_code == 422
    job.refresh_from_db()
    assert job.state == ImportState.UPLOADED


@pytest.mark.parametrize("role", ["advisor", "service", "tech"])
def test_only_store_managers_import(role: str, request: Any, client_for: Callable[[User], Client]) -> None:
    user = request.getfixturevalue(role)
    client = client_for(user)
    assert client.get("/imports/").status_code == 403
    assert "/imports/" not in client.get("/").content.decode()


def test_another_organizations_import_is_not_found(
    org: Organization, owner: User, outsider: User, client_for: Callable[[User], Client]
) -> None:
    job = import_upload(organization=org, by=owner, upload=xlsx_upload(ROWS), kind="customers")
    client = client_for(outsider)
    for path in ("", "progress", "errors.xlsx"):
        assert client.get(f"/imports/{job.pk}/{path}").status_code == 404
    for path in ("check", "start", "resume"):
        assert client.post(f"/imports/{job.pk}/{path}").status_code == 404
