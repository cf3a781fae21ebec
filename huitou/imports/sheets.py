"""Reading a shop's sheet row by row: .xlsx (calamine, or openpyxl), .xls (xlrd), .csv (UTF-8 or GBK/GB18030).

Nothing here needs Django. A sheet is read as ``(row_number, cells)`` pairs,
``row_number`` as Excel numbers it (1 is the first line, title rows
included), so a message can point at the line the user sees, and cells
from column A on. Memory stays bounded: an .xlsx whose sheet is up to
``CALAMINE_MAX_XML`` (uncompressed, some 230,000 rows of a shop's sheet)
is read by calamine (Rust, python-calamine), which holds the sheet's
values in memory (about 1.2 bytes per byte of sheet XML) and reads ten
times faster than openpyxl; a larger one is streamed through openpyxl's
read-only mode. A .csv is read line by line; an .xls (at most 65,536 rows
by its format) is opened whole by xlrd.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMATS = ("xlsx", "xls", "csv")
# The largest sheet (its XML, uncompressed) read whole by calamine: some 160 MB of memory at most.
CALAMINE_MAX_XML = 128 * 1024 * 1024
# Rows looked at for the header: title rows and blank lines come before it.
HEADER_SEARCH_ROWS = 30
_CHUNK = 1 << 16


class SheetError(ValueError):
    """The file cannot be read as a sheet (wrong format, damaged, empty)."""


def sheet_format(filename: str) -> str:
    """``xlsx``, ``xls`` or ``csv`` from the file name, else SheetError."""
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix in FORMATS:
        return suffix
    raise SheetError(suffix)


def csv_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file is UTF-8 (with or without a BOM), else ``gb18030``.

    GB18030 is a superset of GBK and GB2312, what Chinese Excel writes when
    it saves "CSV". The file is decoded in chunks, never held whole.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return "gb18030"
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _sheet_xml_size(path: Path) -> int:
    """The uncompressed size of the workbook's largest worksheet part (the first sheet's, in practice)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return max(
                (i.file_size for i in archive.infolist() if i.filename.startswith("xl/worksheets/")),
                default=0,
            )
    except (zipfile.BadZipFile, OSError) as exc:
        raise SheetError(str(exc)) from exc


def _calamine_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
    except (CalamineError, OSError, ValueError) as exc:
        raise SheetError(str(exc)) from exc
    if sheet.start is None:
        return  # an empty sheet
    # ``iter_rows`` gives the rows from the first (empty ones before the data included) and the
    # columns from the first used; cells are read from column A on, empty ones as None (as openpyxl).
    lead: list[Any] = [None] * sheet.start[1]
    for index, row in enumerate(sheet.iter_rows(), start=1):
        yield index, lead + [None if cell == "" else cell for cell in row]


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    if _sheet_xml_size(path) <= CALAMINE_MAX_XML:
        return _calamine_rows(path)
    return _openpyxl_rows(path)


def _openpyxl_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise SheetError(str(exc)) from exc
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


def _xls_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except (xlrd.XLRDError, OSError, ValueError, AssertionError) as exc:
        raise SheetError(str(exc)) from exc
    try:
        sheet = book.sheet_by_index(0)
        for index in range(sheet.nrows):
            cells: list[Any] = []
            for cell in sheet.row(index):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    cells.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    cells.append(None)
                else:
                    cells.append(cell.value)
            yield index + 1, cells
    finally:
        book.release_resources()


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    encoding = csv_encoding(path)
    with path.open("r", encoding=encoding, newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(fh, dialect)
        try:
            # Excel numbers lines, not records: a quoted cell may hold a line break.
            for row in reader:
                yield reader.line_num, list(row)
        except csv.Error as exc:
            raise SheetError(str(exc)) from exc


def read_rows(path: Path, fmt: str) -> Iterator[tuple[int, list[Any]]]:
    """Every row of the first sheet as ``(Excel row number, cells)``."""
    if fmt == "xlsx":
        return _xlsx_rows(path)
    if fmt == "xls":
        return _xls_rows(path)
    if fmt == "csv":
        return _csv_rows(path)
    raise SheetError(fmt)


# --- the header ------------------------------------------------------------------------------

# What a column is called in the sheets shops keep, by the field it holds. The
# first field whose names contain the header wins; names are compared after
# ``header_key`` (no spaces, half-width, no units in brackets, no asterisk).
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "客户姓名", "客户名称", "客户", "车主", "车主姓名", "联系人", "名字", "name"),
    "phone": (
        "手机",
        "手机号",
        "手机号码",
        "联系电话",
        "电话",
        "电话号码",
        "联系方式",
        "车主电话",
        "客户电话",
        "mobile",
        "phone",
    ),
    "wechat": ("微信", "微信号", "wechat"),
    "gender": ("性别", "gender"),
    "birthday": ("生日", "出生日期", "出生年月", "生日日期", "birthday"),
    "address": ("地址", "住址", "联系地址", "address"),
    "source": ("来源", "客户来源", "渠道", "source"),
    "need": ("需求", "意向", "意向项目", "客户需求", "need"),
    "notes": ("备注", "说明", "备注信息", "notes", "remark"),
    "plate": ("车牌", "车牌号", "车牌号码", "号牌", "号牌号码", "plate"),
    "brand": ("品牌", "车辆品牌", "brand"),
    "model": ("车型", "车系", "型号", "model"),
    "brand_model": ("品牌车型", "品牌型号", "车辆型号", "车辆", "车型品牌"),
    "vin": ("车架号", "vin", "vin码", "车辆识别代号", "车辆识别码", "底盘号"),
    "colour": ("颜色", "车身颜色", "colour", "color"),
    "last_service_date": (
        "上次保养日期",
        "上次保养",
        "最近保养日期",
        "保养日期",
        "上次到店",
        "最近到店",
        "上次服务日期",
        "最后到店日期",
    ),
    "mileage": ("里程", "行驶里程", "公里数", "表显里程", "上次保养里程", "保养里程", "进厂里程", "mileage"),
    "service_item": ("上次保养项目", "保养项目", "服务项目", "项目", "维修项目", "施工项目"),
    "date": ("日期", "服务日期", "工单日期", "结算日期", "进厂日期", "消费日期", "date"),
    "amount": ("金额", "实收金额", "应收金额", "消费金额", "结算金额", "合计金额", "amount"),
}

_BRACKETS = re.compile(r"[(\[【（].*?[)\]】）]")
_NOISE = re.compile(r"[\s*:：_\-—]+")


def header_key(text: Any) -> str:
    """A header cell as compared: half-width, lower case, without units in brackets or noise."""
    if text is None:
        return ""
    value = unicodedata.normalize("NFKC", str(text)).strip().lower()
    value = _BRACKETS.sub("", value)
    return _NOISE.sub("", value)


_LOOKUP: dict[str, str] = {}
for _field, _names in HEADER_NAMES.items():
    for _name in _names:
        _LOOKUP.setdefault(header_key(_name), _field)


def field_for_header(text: Any) -> str | None:
    """The field a header names, or None."""
    return _LOOKUP.get(header_key(text))


@dataclass
class Header:
    row: int  # its Excel row number
    columns: list[str]  # the header texts, "" for an empty cell

    def guess_mapping(self, fields: Sequence[str]) -> dict[str, int]:
        """Field → column index, for the fields of the kind the header names (the first column wins)."""
        mapping: dict[str, int] = {}
        for index, text in enumerate(self.columns):
            field = field_for_header(text)
            if field is not None and field in fields and field not in mapping:
                mapping[field] = index
        return mapping


def find_header(rows: Iterator[tuple[int, list[Any]]]) -> Header:
    """The first row among the first ``HEADER_SEARCH_ROWS`` naming two known fields or more.

    Title rows (a merged cell holding the shop's name), blank lines and
    notes above the table are passed over. Without such a row, the first
    row with two or more filled cells is taken as the header.
    """
    fallback: Header | None = None
    for number, cells in rows:
        texts = [cell_text(c) for c in cells]
        filled = [t for t in texts if t]
        known = {field_for_header(t) for t in filled} - {None}
        if len(known) >= 2:
            return Header(number, _trim(texts))
        if fallback is None and len(filled) >= 2:
            fallback = Header(number, _trim(texts))
        if number >= HEADER_SEARCH_ROWS:
            break
    if fallback is None:
        raise SheetError("no header")
    return fallback


def _trim(texts: list[str]) -> list[str]:
    while texts and not texts[-1]:
        texts.pop()
    return texts


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a trailing ``.0``, dates as ISO, stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


_TOTAL_WORDS = ("合计", "总计", "小计", "共计", "total")


def is_blank(cells: Sequence[Any]) -> bool:
    return not any(cell_text(c) for c in cells)


def is_total(cells: Sequence[Any]) -> bool:
    """A totals line under the table: its first filled cell says 合计 (or 总计, 小计, 共计)."""
    for cell in cells:
        text = cell_text(cell)
        if text:
            key = header_key(text)
            return any(key.startswith(word) for word in _TOTAL_WORDS)
    return False


def write_csv_bytes(rows: Sequence[Sequence[Any]], encoding: str = "utf-8-sig") -> bytes:
    """Rows as CSV bytes (tests and the bench write their sheets with it)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)
