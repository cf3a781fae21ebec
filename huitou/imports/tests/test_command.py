"""``huitou import FILE --org NAME [--dry-run]``: the page's steps from the command line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from huitou.customers.models import Customer, Vehicle
from huitou.imports import errors
from huitou.imports.models import ImportJob, ImportState
from huitou.imports.tests.sheets import HEADER, xlsx_bytes
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db

ROWS = [
    HEADER,
    ["张三", "138 1234 5678", "浙a·12345", "丰田 卡罗拉", "", "", "2023/5/1", "45,000", "", ""],
    ["张三", "138-1234-5678", "浙A54321", "", "", "", "", "", "", ""],
    ["坏电话", "12345", "粤B12347", "", "", "", "", "", "", ""],
]


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    path = tmp_path / "客户.xlsx"
    path.write_bytes(xlsx_bytes(ROWS, title="顺达汽修客户档案"))
    return path


def run(*args: str, **options: object) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out, **options)
    return out.getvalue()


def test_the_dry_run_reports_the_columns_and_the_bad_rows_and_writes_nothing(
    org: Organization, owner: User, sheet: Path
) -> None:
    text = run(str(sheet), org=org.name, dry_run=True)

    assert "Header on row 3:" in text
    assert "'手机号码' -> phone" in text
    job = ImportJob.objects.for_org(org).get()
    assert job.state == ImportState.CHECKED
    assert f"dry run: import {job.pk} checked; rows 3, created 2, updated 0, skipped 0, errors 1" in text
    assert f"row 6 手机号码: {errors.PHONE_INVALID}" in text
    assert not Customer.objects.for_org(org).exists()
    assert not Vehicle.objects.for_org(org).exists()


def test_without_dry_run_the_import_runs_to_the_end(org: Organization, owner: User, sheet: Path) -> None:
    text = run(str(sheet), org=org.name)

    job = ImportJob.objects.for_org(org).get()
    assert job.state == ImportState.DONE
    assert f"import: import {job.pk} done; rows 3, created 2, updated 0, skipped 0, errors 1" in text
    customer = Customer.objects.for_org(org).get()
    assert customer.phone == "+8613812345678"
    assert sorted(customer.vehicles.values_list("plate", flat=True)) == ["浙A12345", "浙A54321"]


def test_an_unknown_organization_or_file_is_refused(org: Organization, owner: User, sheet: Path) -> None:
    with pytest.raises(CommandError, match="No organization named '无此店'"):
        run(str(sheet), org="无此店")
    with pytest.raises(CommandError, match="No such file"):
        run(str(sheet.with_name("missing.xlsx")), org=org.name)
    with pytest.raises(CommandError, match="--org NAME"):
        run(str(sheet))
    assert not ImportJob.objects.for_org(org).exists()
