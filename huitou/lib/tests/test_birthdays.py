"""Birthdays, solar or lunar: validation and the next solar date."""

from __future__ import annotations

import datetime as dt

import pytest

from huitou.lib.birthdays import LUNAR, SOLAR, Birthday, BirthdayError, validate


def test_the_next_solar_birthday_is_later_this_year() -> None:
    assert Birthday(6, 1).next_solar_date(dt.date(2025, 3, 1)) == dt.date(2025, 6, 1)


def test_the_next_solar_birthday_is_today_on_the_day() -> None:
    assert Birthday(6, 1).next_solar_date(dt.date(2025, 6, 1)) == dt.date(2025, 6, 1)


def test_the_next_solar_birthday_is_next_year_once_passed() -> None:
    assert Birthday(6, 1).next_solar_date(dt.date(2025, 6, 2)) == dt.date(2026, 6, 1)


def test_a_29_february_birthday_falls_on_28_february_in_a_non_leap_year() -> None:
    assert Birthday(2, 29).next_solar_date(dt.date(2025, 1, 1)) == dt.date(2025, 2, 28)


def test_a_29_february_birthday_falls_on_29_february_in_a_leap_year() -> None:
    assert Birthday(2, 29).next_solar_date(dt.date(2028, 1, 1)) == dt.date(2028, 2, 29)


def test_a_lunar_15th_of_the_8th_month_falls_on_mid_autumn() -> None:
    birthday = Birthday(8, 15, LUNAR)
    # Mid-Autumn Festival: 17 September 2024, 6 October 2025.
    assert birthday.next_solar_date(dt.date(2024, 1, 1)) == dt.date(2024, 9, 17)
    assert birthday.next_solar_date(dt.date(2024, 9, 17)) == dt.date(2024, 9, 17)
    assert birthday.next_solar_date(dt.date(2024, 9, 18)) == dt.date(2025, 10, 6)


def test_a_lunar_new_year_birthday_falls_on_the_spring_festival() -> None:
    # Spring Festival: 10 February 2024, 29 January 2025.
    assert Birthday(1, 1, LUNAR).next_solar_date(dt.date(2024, 1, 1)) == dt.date(2024, 2, 10)
    assert Birthday(1, 1, LUNAR).next_solar_date(dt.date(2024, 3, 1)) == dt.date(2025, 1, 29)


def test_a_lunar_12th_month_birthday_can_fall_in_january_of_the_next_solar_year() -> None:
    # Lunar 2024-12-29 is 28 January 2025 (New Year's Eve).
    assert Birthday(12, 29, LUNAR).next_solar_date(dt.date(2025, 1, 1)) == dt.date(2025, 1, 28)


def test_a_lunar_30th_falls_on_the_29th_in_a_29_day_month() -> None:
    # The 3rd lunar month of 2024 has 29 days: 3/1 is 9 April, 3/29 is 7 May, 4/1 is 8 May.
    assert Birthday(3, 30, LUNAR).next_solar_date(dt.date(2024, 4, 1)) == dt.date(2024, 5, 7)


def test_a_lunar_30th_falls_on_the_30th_in_a_30_day_month() -> None:
    # The 2nd lunar month of 2024 has 30 days: 2/1 is 10 March, so 2/30 is 8 April.
    assert Birthday(2, 30, LUNAR).next_solar_date(dt.date(2024, 3, 1)) == dt.date(2024, 4, 8)


@pytest.mark.parametrize(
    ("month", "day", "cal", "year"),
    [
        (13, 1, SOLAR, None),
        (0, 1, SOLAR, None),
        (4, 31, SOLAR, None),
        (2, 30, SOLAR, None),
        (2, 29, SOLAR, 2023),
        (1, 0, SOLAR, None),
        (13, 1, LUNAR, None),
        (1, 31, LUNAR, None),
        (1, 0, LUNAR, None),
        (1, 1, "gregorian", None),
        (1, 1, SOLAR, 1899),
        (1, 1, SOLAR, 2101),
    ],
)
def test_it_refuses_an_invalid_birthday(month: int, day: int, cal: str, year: int | None) -> None:
    with pytest.raises(BirthdayError):
        validate(month, day, cal, year)
    with pytest.raises(BirthdayError):
        Birthday(month, day, cal, year)


def test_it_accepts_29_february_without_a_year_and_in_a_leap_year() -> None:
    validate(2, 29, SOLAR)
    validate(2, 29, SOLAR, 2000)


def test_it_accepts_a_lunar_30th_in_any_month() -> None:
    validate(12, 30, LUNAR)
