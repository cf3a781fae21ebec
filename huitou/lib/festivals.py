"""The festivals a shop greets its customers for, and the statutory days off around them.

A festival's day comes from the calendar itself: the traditional ones from the
lunar calendar (``lunar_python``), the others fixed on the solar one. The days
off (放假) come from ``chinese_calendar``, which follows the State Council's
yearly notice; a year it does not know yet has no days off shown, the festival
itself still counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar
from lunar_python import Lunar

SOLAR = "solar"
LUNAR = "lunar"

# code: (calendar, month, day, Chinese name, chinese_calendar's holiday name or "")
FESTIVALS: dict[str, tuple[str, int, int, str, str]] = {
    "new_year": (SOLAR, 1, 1, "元旦", "New Year's Day"),
    "spring": (LUNAR, 1, 1, "春节", "Spring Festival"),
    "lantern": (LUNAR, 1, 15, "元宵节", ""),
    "labour": (SOLAR, 5, 1, "劳动节", "Labour Day"),
    "dragon_boat": (LUNAR, 5, 5, "端午节", "Dragon Boat Festival"),
    "mid_autumn": (LUNAR, 8, 15, "中秋节", "Mid-autumn Festival"),
    "national": (SOLAR, 10, 1, "国庆节", "National Day"),
}


@dataclass(frozen=True)
class Festival:
    code: str
    name: str
    day: dt.date
    # The statutory days off around it, when known.
    off_from: dt.date | None = None
    off_to: dt.date | None = None


def festival_day(code: str, year: int) -> dt.date:
    """The solar date of festival ``code`` in (solar) year ``year``; a lunar festival of the lunar year ``year``."""
    cal, month, day, _name, _holiday = FESTIVALS[code]
    if cal == SOLAR:
        return dt.date(year, month, day)
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


def days_off(code: str, day: dt.date) -> tuple[dt.date, dt.date] | None:
    """The run of statutory days off that holds festival ``code``'s ``day``, or None (unknown year, no holiday)."""
    holiday = FESTIVALS[code][4]
    if not holiday:
        return None

    def off(on: dt.date) -> bool:
        try:
            is_holiday, name = chinese_calendar.get_holiday_detail(on)
        except NotImplementedError:  # a year the package has no notice for yet
            return False
        return bool(is_holiday and name == holiday)

    if not off(day):
        return None
    start = end = day
    while off(start - dt.timedelta(days=1)):
        start -= dt.timedelta(days=1)
    while off(end + dt.timedelta(days=1)):
        end += dt.timedelta(days=1)
    return start, end


def festivals_between(start: dt.date, end: dt.date) -> list[Festival]:
    """The festivals whose day falls in ``start``..``end``, in date order."""
    found: list[Festival] = []
    for code, (_cal, _m, _d, name, _holiday) in FESTIVALS.items():
        for year in range(start.year - 1, end.year + 1):
            day = festival_day(code, year)
            if start <= day <= end:
                period = days_off(code, day)
                found.append(Festival(code, name, day, *(period or (None, None))))
    return sorted(found, key=lambda f: (f.day, f.code))
