"""Reading what people type into sheets: dates, birthdays, mileages, amounts, phones, headers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from huitou.imports.sheets import field_for_header, is_total
from huitou.imports.values import ValueProblem, parse_amount, parse_birthday, parse_date, parse_km, phone_text
from huitou.lib.phones import normalize_phone

MAY_DAY = dt.date(2023, 5, 1)


@pytest.mark.parametrize(
    "cell",
    [45047, 45047.0, "45047", "2023/5/1", "2023-05-01", "2023.5.1", "2023年5月1日", "20230501", 20230501,
     dt.datetime(2023, 5, 1, 0, 0), MAY_DAY, "２０２３年５月１日", "2023-05-01 14:30"],
)  # fmt: skip
def test_every_way_of_writing_a_date(cell: object) -> None:
    assert parse_date(cell) == MAY_DAY


@pytest.mark.parametrize("cell", ["2023-13-01", "2023/2/30", "昨天", "12", 99999999])
def test_what_is_not_a_date(cell: object) -> None:
    with pytest.raises(ValueProblem):
        parse_date(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1985-03-08", (1985, 3, 8, "solar")),
        ("1985-03-08 00:00:00", (1985, 3, 8, "solar")),
        ("3月8日", (None, 3, 8, "solar")),
        ("农历八月十五", (None, 8, 15, "lunar")),
        ("农历1975年八月十五", (1975, 8, 15, "lunar")),
        ("农历 3月8日", (None, 3, 8, "lunar")),
        ("阴历腊月三十", (None, 12, 30, "lunar")),
        ("正月初一", (None, 1, 1, "lunar")),
        ("公历1990年12月1日", (1990, 12, 1, "solar")),
        (dt.datetime(1985, 3, 8), (1985, 3, 8, "solar")),
        ("", None),
    ],
)
def test_birthdays_solar_and_lunar(cell: object, expected: object) -> None:
    assert parse_birthday(cell) == expected


@pytest.mark.parametrize(("cell", "km"), [(45000, 45000), ("45,000", 45000), ("3.2万", 32000), ("8000km", 8000)])
def test_mileages(cell: object, km: int) -> None:
    assert parse_km(cell) == km


def test_amounts() -> None:
    assert parse_amount("¥1,280.00") == Decimal("1280.00")
    assert parse_amount(298.5) == Decimal("298.50")
    with pytest.raises(ValueProblem):
        parse_amount("1.234")


@pytest.mark.parametrize(
    "cell",
    [
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "0086 13812345678",
        "１３８１２３４５６７８",
        13812345678.0,
    ],
)
def test_phones_as_typed_are_read_by_the_products_rule(cell: object) -> None:
    assert normalize_phone(phone_text(cell)) == "+8613812345678"


def test_headers_and_total_rows() -> None:
    assert field_for_header(" 手机号码* ") == "phone"
    assert field_for_header("行驶里程(km)") == "mileage"
    assert field_for_header("VIN") == "vin"
    assert field_for_header("顺达汽修客户档案") is None
    assert is_total(["合计", None, 3])
    assert is_total([None, "总计："])
    assert not is_total(["张三", "合计"])
