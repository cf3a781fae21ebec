"""Sheets the tests write: real .xlsx files through openpyxl, .xls files through xlwt, CSV in UTF-8 or GBK."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile

from huitou.imports.sheets import write_csv_bytes

HEADER = [
    "客户姓名",
    "手机号码",
    "车牌号码",
    "品牌车型",
    "车架号",
    "出生日期",
    "上次保养日期",
    "行驶里程",
    "保养项目",
    "备注",
]


def xlsx_bytes(rows: Sequence[Sequence[Any]], title: str | None = None, merge_title: bool = True) -> bytes:
    """An .xlsx whose first sheet holds ``rows``, under a merged title row when ``title`` is given."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title is not None:
        sheet.append([title])
        if merge_title:
            width = max(len(r) for r in rows)
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        sheet.append([])
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xls_bytes(rows: Sequence[Sequence[Any]], title: str | None = None) -> bytes:
    """An Excel 97-2003 .xls whose first sheet holds ``rows`` (dates as Excel dates), under a merged
    title row when ``title`` is given."""
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("客户")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    top = 0
    if title is not None:
        width = max(len(r) for r in rows)
        sheet.write_merge(0, 0, 0, width - 1, title)
        top = 2
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write(top + r, c, value, date_style)
            elif value is not None and value != "":
                sheet.write(top + r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def xlsx_upload(rows: Sequence[Sequence[Any]], name: str = "客户.xlsx", **kwargs: Any) -> SimpleUploadedFile:
    return upload(name, xlsx_bytes(rows, **kwargs))


def csv_upload(rows: Sequence[Sequence[Any]], encoding: str, name: str = "客户.csv") -> SimpleUploadedFile:
    return upload(name, write_csv_bytes(rows, encoding))


def read_xlsx(content: bytes) -> list[list[Any]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]


def save(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path
