""".xlsx read by calamine, or streamed by openpyxl past a size: the same rows, numbered as Excel numbers them."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from huitou.imports import errors, sheets
from huitou.imports.models import ImportIssue
from huitou.imports.services import import_check, import_start, import_upload
from huitou.imports.tests.sheets import upload
from huitou.tenancy.models import Organization, User


def _workbook() -> bytes:
    """Data that does not start at A1: a merged title at C3, blank rows, values of every kind."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["C3"] = "顺达汽修 客户档案"
    sheet.merge_cells("C3:F3")
    sheet.append([])
    sheet.append([None, None, "姓名", "手机", "车牌", "上次保养日期", "里程"])
    sheet.append([None, None, "张三", 13812345678, "粤B12345", dt.datetime(2024, 3, 1), 45000])
    sheet.append([None, None, "李四", "139 0000 1111", "粤b·54321", "2024/3/2", 12.5])
    sheet.append([])
    sheet.append([None, None, "王五", True, None, dt.date(2024, 3, 3), "3.2万"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_calamine_and_openpyxl_read_the_same_rows(tmp_path: Path) -> None:
    path = tmp_path / "客户.xlsx"
    path.write_bytes(_workbook())

    def as_text(rows: Any) -> list[tuple[int, list[str]]]:
        return [(number, [sheets.cell_text(c) for c in cells]) for number, cells in rows]

    read = as_text(sheets._calamine_rows(path))
    assert read == as_text(sheets._openpyxl_rows(path))
    assert read[2] == (3, ["", "", "顺达汽修 客户档案", "", "", "", ""])
    assert read[5] == (6, ["", "", "张三", "13812345678", "粤B12345", "2024-03-01", "45000"])
    assert read[6] == (7, ["", "", "李四", "139 0000 1111", "粤b·54321", "2024/3/2", "12.5"])
    assert sheets.find_header(sheets.read_rows(path, "xlsx")).row == 5


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [sheets.CALAMINE_MAX_XML, 0])
def test_a_sheet_past_calamines_size_is_streamed_by_openpyxl_alike(
    org: Organization,
    owner: User,
    limit: int,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    monkeypatch.setattr(sheets, "CALAMINE_MAX_XML", limit)
    job = import_upload(organization=org, by=owner, upload=upload("客户.xlsx", _workbook()), kind="customers")
    assert (job.header_row, job.mapping) == (
        5,
        {"name": 2, "phone": 3, "plate": 4, "last_service_date": 5, "mileage": 6},
    )
    import_check(job=job, by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        import_start(job=job, by=owner)
    job.refresh_from_db()
    assert (job.state, job.rows, job.created, job.failed) == ("done", 3, 2, 1)
    # 王五's row (Excel's 9th): TRUE is not a phone.
    assert list(ImportIssue.objects.for_org(org).values_list("row", "column", "message")) == [
        (9, "手机", str(errors.PHONE_INVALID))
    ]


@pytest.mark.django_db
def test_an_empty_or_broken_workbook_is_refused(org: Organization, owner: User) -> None:
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    for content in (buffer.getvalue(), buffer.getvalue()[:-200], b"PK\x03\x04 not really"):
        with pytest.raises(ValidationError) as refused:
            import_upload(organization=org, by=owner, upload=upload("客户.xlsx", content), kind="customers")
        assert refused.value.message_dict["file"] == [str(errors.FILE_UNREADABLE)]
