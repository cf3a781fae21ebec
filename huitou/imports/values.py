"""Cleaning the values shops type into their sheets. Nothing here needs Django.

Phones and plates go through the product's own rules (``huitou.lib.phones``,
``huitou.lib.plates``, ``huitou.lib.vin``, ``huitou.lib.birthdays``); what is
added here is reading what people type around them: full-width digits,
``+86``, dashes and spaces, a plate's dot, dates as Excel serial numbers or
in the Chinese ways of writing them, and birthdays marked 农历.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from huitou.lib.birthdays import LUNAR, SOLAR, BirthdayError, validate

# Excel's day 0 (with its 1900 leap-year bug, day 60 is the false 29 February 1900).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serial numbers of 1950-01-01 … 2100-12-31: an integer outside is not a date.
_SERIAL_RANGE = (18264, 73415)


class ValueProblem(ValueError):
    """The cell cannot be read as the field's value."""


def half_width(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def phone_text(value: Any) -> str:
    """A phone cell as text ``normalize_phone`` reads: half-width, without a float's ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = half_width(str(value))
    # 138 1234 5678, 138-1234-5678, (0755)8888-1234, +86 138…, 0086 138…
    text = re.sub(r"[\s\-—–.·()（）]+", "", text)
    if text.startswith("0086"):
        text = "+86" + text[4:]
    return text


def excel_serial_date(number: float) -> dt.date:
    if not _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]:
        raise ValueProblem(str(number))
    return _EXCEL_EPOCH + dt.timedelta(days=int(number))


_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(value: Any) -> dt.date | None:
    """A date cell: a real date, an Excel serial number, 2023/5/1, 2023-05-01, 2023.5.1,
    2023年5月1日 or 20230501. Empty: None. Anything else: ValueProblem."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 19000101 <= value <= 21001231:
            return parse_date(str(int(value)))
        return excel_serial_date(float(value))
    text = half_width(str(value))
    if not text:
        return None
    match = _YMD.match(text) or _COMPACT.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError as exc:
            raise ValueProblem(text) from exc
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return excel_serial_date(float(text))
    raise ValueProblem(text)


_LUNAR_MARKS = ("农历", "阴历", "农", "阴")
_SOLAR_MARKS = ("公历", "阳历", "新历", "公", "阳")
_CN_MONTHS = {"正": 1, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CN_MONTHS.update({"冬": 11, "十一": 11, "腊": 12, "十二": 12})
_CN_DAY_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_day(text: str) -> int:
    """初一 … 初十, 十一 … 十九, 二十, 廿一 … 廿九, 三十."""
    if text.startswith("初"):
        rest = text[1:]
        return 10 if rest == "十" else _CN_DAY_DIGITS[rest]
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_DAY_DIGITS[text[1:]]
    if text in ("二十", "廿"):
        return 20
    if text.startswith(("廿", "二十")):
        return 20 + _CN_DAY_DIGITS[text[1:] if text.startswith("廿") else text[2:]]
    if text == "三十":
        return 30
    raise KeyError(text)


_TIME = re.compile(r"\s+\d{1,2}:\d{2}(?::\d{2})?$")
_MONTH_DAY = re.compile(r"^(?:(\d{4})\s*[-/.年])?\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
_CN_MONTH_DAY = re.compile(r"^(?:(\d{4})年)?(闰)?(正|冬|腊|十一|十二|十|[一二三四五六七八九])月(.+)$")


def parse_birthday(value: Any) -> tuple[int | None, int, int, str] | None:
    """A birthday cell as (year or None, month, day, calendar).

    A date (any of ``parse_date``'s forms) is a solar birthday with its year;
    ``5月1日`` or ``05-01`` one without. 农历 or 阴历 before it (``农历1975年八月十五``,
    ``农历八月十五``, ``农历 3月8日``) makes it lunar. Empty: None.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    calendar = SOLAR
    if isinstance(value, str):
        # A date with a time (1985-03-08 00:00:00, as systems export a date): the time is not the birthday's.
        text = re.sub(r"\s+", "", _TIME.sub("", half_width(value)))
        for mark in _LUNAR_MARKS:
            if text.startswith(mark) or text.endswith(f"({mark})"):
                calendar = LUNAR
                text = text.removeprefix(mark).removesuffix(f"({mark})")
                break
        else:
            for mark in _SOLAR_MARKS:
                if text.startswith(mark):
                    text = text.removeprefix(mark)
                    break
        text = text.lstrip(":：")
        year: int | None
        match = _MONTH_DAY.match(text)
        if match:
            year = int(match.group(1)) if match.group(1) else None
            month, day = int(match.group(2)), int(match.group(3))
        elif (cn := _CN_MONTH_DAY.match(text)) is not None:
            calendar = LUNAR  # 八月十五 is how lunar dates are written
            year = int(cn.group(1)) if cn.group(1) else None
            try:
                month, day = _CN_MONTHS[cn.group(3)], _cn_day(cn.group(4).rstrip("日"))
            except KeyError as exc:
                raise ValueProblem(value) from exc
        else:
            date = parse_date(text)
            if date is None:
                return None
            year, month, day = date.year, date.month, date.day
    else:
        date = parse_date(value)
        if date is None:
            return None
        year, month, day = date.year, date.month, date.day
    try:
        validate(month, day, calendar, year)
    except BirthdayError as exc:
        raise ValueProblem(str(value)) from exc
    return year, month, day, calendar


def parse_km(value: Any) -> int | None:
    """A mileage cell: 45000, 45,000, 45000km, 4.5万 (公里). Empty: None."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0 or not float(value).is_integer() and value > 1000:
            raise ValueProblem(str(value))
        return int(round(value))
    text = half_width(str(value)).lower().replace(",", "").replace(" ", "")
    if not text:
        return None
    text = re.sub(r"(km|公里|千米)$", "", text)
    factor = 1
    if text.endswith("万"):
        factor, text = 10_000, text[:-1]
    try:
        number = Decimal(text) * factor
    except InvalidOperation as exc:
        raise ValueProblem(str(value)) from exc
    if number < 0 or number != number.to_integral_value():
        raise ValueProblem(str(value))
    return int(number)


def parse_amount(value: Any) -> Decimal | None:
    """Yuan: 298, 298.5, ¥1,280.00, 1280元. Empty: None."""
    if value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    text = half_width(str(value)).replace(",", "").replace("¥", "").replace("￥", "").removesuffix("元").strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueProblem(str(value)) from exc
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueProblem(str(value))
    return amount.quantize(Decimal("0.01"))


_GENDERS = {"男": "male", "男士": "male", "先生": "male", "m": "male", "male": "male"}
_GENDERS.update({"女": "female", "女士": "female", "f": "female", "female": "female"})


def parse_gender(value: Any) -> str:
    text = half_width(str(value or "")).lower()
    if not text:
        return ""
    try:
        return _GENDERS[text]
    except KeyError as exc:
        raise ValueProblem(text) from exc


def split_brand_model(text: str) -> tuple[str, str]:
    """品牌车型 in one cell: ``丰田 卡罗拉`` → (丰田, 卡罗拉); one word stays the model."""
    parts = half_width(text).split(None, 1)
    if len(parts) == 2:
        return parts[0], parts[1]
    return "", parts[0] if parts else ""
