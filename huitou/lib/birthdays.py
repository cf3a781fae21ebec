"""Birthdays kept as the customer states them: solar (公历) or lunar (农历).

A birthday is (month, day, optional year, calendar). The next occurrence is
always a solar date, which is what reminders and the birthday calendar use.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from dataclasses import dataclass

from lunar_python import Lunar, LunarMonth, Solar

SOLAR = "solar"
LUNAR = "lunar"


class BirthdayError(ValueError):
    pass


@dataclass(frozen=True)
class Birthday:
    month: int
    day: int
    calendar: str = SOLAR
    year: int | None = None

    def __post_init__(self) -> None:
        validate(self.month, self.day, self.calendar, self.year)

    def next_solar_date(self, today: dt.date) -> dt.date:
        """The next solar date (today included) on which the birthday falls."""
        for year in (today.year - 1, today.year, today.year + 1):
            candidate = self.solar_date_in(year)
            if candidate >= today:
                return candidate
        return self.solar_date_in(today.year + 2)

    def solar_date_in(self, year: int) -> dt.date:
        """Solar date of this birthday in the (lunar or solar) year ``year``."""
        if self.calendar == SOLAR:
            if self.month == 2 and self.day == 29 and not calendar.isleap(year):
                return dt.date(year, 2, 28)
            return dt.date(year, self.month, self.day)
        days_in_month = LunarMonth.fromYm(year, self.month).getDayCount()
        lunar_day = min(self.day, days_in_month)
        solar: Solar = Lunar.fromYmd(year, self.month, lunar_day).getSolar()
        return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


def validate(month: int, day: int, cal: str, year: int | None = None) -> None:
    if cal not in (SOLAR, LUNAR):
        raise BirthdayError("calendar")
    if not 1 <= month <= 12:
        raise BirthdayError("month")
    if cal == LUNAR:
        if not 1 <= day <= 30:
            raise BirthdayError("day")
    else:
        # 2000 is a leap year, so 29 February is accepted without a year.
        max_day = calendar.monthrange(year if year else 2000, month)[1]
        if not 1 <= day <= max_day:
            raise BirthdayError("day")
    if year is not None and not 1900 <= year <= 2100:
        raise BirthdayError("year")


@functools.lru_cache(maxsize=64)
def falling_between(start: dt.date, end: dt.date) -> tuple[tuple[str, int, int, dt.date], ...]:
    """Every birthday (calendar, month, day) whose solar date falls in ``start``..``end``, with that date.

    The inverse of ``solar_date_in``, day by day through the window, for finding
    whose birthday comes up with an indexed query: 29 February falls on 28
    February in common years; a lunar 30th that the month lacks falls on its
    29th; a lunar birthday is kept in the regular month, never in a leap month
    (闰月) of the same number.
    """
    found: list[tuple[str, int, int, dt.date]] = []
    on = start
    while on <= end:
        found.append((SOLAR, on.month, on.day, on))
        if on.month == 2 and on.day == 28 and not calendar.isleap(on.year):
            found.append((SOLAR, 2, 29, on))
        lunar: Lunar = Solar.fromYmd(on.year, on.month, on.day).getLunar()
        month, day = lunar.getMonth(), lunar.getDay()
        if month > 0:
            found.append((LUNAR, month, day, on))
            if day == 29 and LunarMonth.fromYm(lunar.getYear(), month).getDayCount() == 29:
                found.append((LUNAR, month, 30, on))
        on += dt.timedelta(days=1)
    return tuple(found)
