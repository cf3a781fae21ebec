"""Where a car's odometer stands today, estimated from its readings.

Reminders by mileage need the mileage on a day nobody read it. The estimate
is a line through the readings since the odometer was last replaced:

- the daily distance is the Theil–Sen slope (the median of the slopes
  between every two readings), which a reading far off the line (a typing
  error, a reading of another car) cannot drag; readings whose distance
  from the line is far beyond the others' are then left out of the anchor;
- the line is anchored at the latest reading that lies on it, so the
  estimate starts from what was last seen rather than from an average;
- with one usable reading the daily distance comes from the purchase date
  when it gives a plausible figure, else the default (a private car in
  China drives about 35 km a day, 12,000–13,000 km a year);
- nothing goes backwards: a slope below zero (readings out of order) counts
  as zero, and the distance is capped at what a car can plausibly drive.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import median

DEFAULT_KM_PER_DAY = 35.0
MAX_KM_PER_DAY = 600.0  # a taxi on double shifts; more is a wrong reading
MIN_DAYS_FOR_RATE = 7  # readings closer than a week say little about the daily distance


@dataclass(frozen=True)
class Reading:
    on: dt.date
    km: int
    odometer_replaced: bool = False


@dataclass(frozen=True)
class Estimate:
    km_per_day: float
    anchor_on: dt.date
    anchor_km: int
    basis: str  # "fit" (two readings or more), "purchase" (one reading and the purchase date), "default"
    readings_used: int

    def km_on(self, day: dt.date) -> int:
        """The estimated odometer on ``day`` (never below the anchor reading)."""
        days = max(0, (day - self.anchor_on).days)
        return self.anchor_km + round(self.km_per_day * days)

    def day_reaching(self, km: int) -> dt.date:
        """The first day the odometer is estimated to show ``km`` (the anchor day if it already does)."""
        if km <= self.anchor_km:
            return self.anchor_on
        if self.km_per_day <= 0:
            return dt.date.max
        days = math.ceil((km - self.anchor_km) / self.km_per_day)
        try:
            return self.anchor_on + dt.timedelta(days=days)
        except OverflowError:
            return dt.date.max


def _current_series(readings: Iterable[Reading]) -> list[Reading]:
    """Readings since the last odometer replacement, oldest first (the replacement's own reading starts it)."""
    ordered = sorted(readings, key=lambda r: (r.on, r.km))
    start = 0
    for i, reading in enumerate(ordered):
        if reading.odometer_replaced:
            start = i
    return ordered[start:]


def _theil_sen(points: list[Reading]) -> float | None:
    slopes = [
        (b.km - a.km) / (b.on - a.on).days
        for i, a in enumerate(points)
        for b in points[i + 1 :]
        if (b.on - a.on).days >= MIN_DAYS_FOR_RATE
    ]
    return median(slopes) if slopes else None


def _on_line(points: list[Reading], slope: float) -> list[Reading]:
    """The readings not far off the line: residuals within 3 × their median absolute deviation (at least 1,500 km)."""
    origin = points[0].on
    intercepts = [p.km - slope * (p.on - origin).days for p in points]
    centre = median(intercepts)
    residuals = [abs(c - centre) for c in intercepts]
    spread = max(1500.0, 3 * 1.4826 * median(residuals))
    return [p for p, r in zip(points, residuals, strict=True) if r <= spread]


def estimate(
    readings: Iterable[Reading],
    *,
    purchase_date: dt.date | None = None,
    default_km_per_day: float = DEFAULT_KM_PER_DAY,
) -> Estimate | None:
    """The daily distance and the anchor reading, or None without any reading."""
    series = _current_series(readings)
    if not series:
        return None
    slope = _theil_sen(series) if len(series) >= 2 else None
    if slope is not None:
        kept = _on_line(series, slope)
        refit = _theil_sen(kept) if len(kept) >= 2 else None
        rate = min(max(refit if refit is not None else slope, 0.0), MAX_KM_PER_DAY)
        # The latest reading on the line, but never behind a later, higher one kept on it.
        anchor = max(kept, key=lambda r: (r.on, r.km))
        return Estimate(rate, anchor.on, anchor.km, "fit", len(kept))
    latest = series[-1]
    replaced_since_purchase = any(r.odometer_replaced for r in series)
    if purchase_date is not None and not replaced_since_purchase:
        days = (latest.on - purchase_date).days
        if days >= 30:
            rate = latest.km / days
            if 1 <= rate <= MAX_KM_PER_DAY:
                return Estimate(rate, latest.on, latest.km, "purchase", 1)
    return Estimate(default_km_per_day, latest.on, latest.km, "default", 1)
