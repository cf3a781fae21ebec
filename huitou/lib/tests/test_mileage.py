"""Estimating today's odometer from a car's readings: known answers worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from huitou.lib.mileage import DEFAULT_KM_PER_DAY, MAX_KM_PER_DAY, Estimate, Reading, estimate

D = dt.date


def steady(start: dt.date, km: int, per_day: int, every_days: int, count: int) -> list[Reading]:
    return [Reading(start + dt.timedelta(days=i * every_days), km + per_day * i * every_days) for i in range(count)]


def test_no_reading_no_estimate() -> None:
    assert estimate([]) is None


def test_a_steady_driver_gives_their_daily_distance_from_the_last_reading() -> None:
    readings = steady(D(2026, 1, 1), 20_000, 40, 90, 4)  # 20,000 then 3,600 km every 90 days
    result = estimate(readings)
    assert result == Estimate(40.0, D(2026, 9, 28), 30_800, "fit", 4)
    assert result.km_on(D(2026, 12, 7)) == 30_800 + 40 * 70
    # 35,000 km is 4,200 km after the anchor: 105 days at 40 a day.
    assert result.day_reaching(35_000) == D(2026, 9, 28) + dt.timedelta(days=105)
    assert result.day_reaching(30_000) == D(2026, 9, 28)  # already past it


def test_the_order_the_readings_come_in_does_not_matter() -> None:
    readings = steady(D(2026, 1, 1), 20_000, 40, 90, 4)
    assert estimate(list(reversed(readings))) == estimate(readings)


def test_one_reading_uses_the_default_daily_distance() -> None:
    result = estimate([Reading(D(2026, 6, 2), 41_200)])
    assert result == Estimate(DEFAULT_KM_PER_DAY, D(2026, 6, 2), 41_200, "default", 1)
    assert result.km_on(D(2026, 6, 12)) == 41_200 + 350


def test_one_reading_with_the_purchase_date_uses_the_car_s_own_average() -> None:
    # 36,500 km in 730 days since it was bought: 50 a day.
    result = estimate([Reading(D(2026, 1, 1), 36_500)], purchase_date=D(2024, 1, 2))
    assert result is not None
    assert (result.km_per_day, result.basis) == (50.0, "purchase")


def test_an_implausible_purchase_average_falls_back_to_the_default() -> None:
    # Bought last week with 80,000 km on it (second hand): no average from that.
    second_hand = estimate([Reading(D(2026, 1, 10), 80_000)], purchase_date=D(2026, 1, 3))
    assert second_hand is not None and second_hand.basis == "default"
    # 3,000 km a day is no private car.
    taxi = estimate([Reading(D(2026, 3, 1), 180_000)], purchase_date=D(2025, 12, 31))
    assert taxi is not None and taxi.basis == "default"


def test_a_reading_far_off_the_line_is_left_out() -> None:
    readings = steady(D(2026, 1, 1), 20_000, 40, 60, 5)  # 20,000 .. 29,600 on 2026-08-29
    typo = Reading(D(2026, 10, 20), 312_000)  # meant 31,200: the latest reading, and wrong
    result = estimate([*readings, typo])
    assert result is not None
    assert result.km_per_day == 40.0
    assert (result.anchor_on, result.anchor_km) == (D(2026, 8, 29), 29_600)  # not the typo
    assert result.readings_used == 5


def test_a_low_outlier_does_not_pull_the_rate_down() -> None:
    readings = steady(D(2026, 1, 1), 20_000, 30, 60, 6)
    readings[2] = Reading(readings[2].on, 2_400)  # a digit dropped
    result = estimate(readings)
    assert result is not None and result.km_per_day == 30.0
    assert result.anchor_km == 20_000 + 30 * 300


def test_an_odometer_replacement_starts_a_new_series() -> None:
    before = steady(D(2025, 1, 1), 150_000, 80, 60, 4)  # the old odometer
    after = [
        Reading(D(2026, 1, 1), 0, odometer_replaced=True),
        Reading(D(2026, 3, 2), 1_800),  # 30 a day on the new one
        Reading(D(2026, 5, 1), 3_600),
    ]
    result = estimate([*before, *after])
    assert result == Estimate(30.0, D(2026, 5, 1), 3_600, "fit", 3)


def test_a_replacement_as_the_last_reading_uses_the_default_not_the_purchase_date() -> None:
    readings = [Reading(D(2025, 1, 1), 90_000), Reading(D(2026, 1, 1), 5, odometer_replaced=True)]
    result = estimate(readings, purchase_date=D(2020, 1, 1))
    assert result == Estimate(DEFAULT_KM_PER_DAY, D(2026, 1, 1), 5, "default", 1)


def test_readings_going_backwards_never_give_a_negative_rate() -> None:
    readings = [Reading(D(2026, 1, 1), 30_000), Reading(D(2026, 3, 1), 29_000), Reading(D(2026, 5, 1), 28_500)]
    result = estimate(readings)
    assert result is not None and result.km_per_day == 0.0
    assert result.day_reaching(40_000) == dt.date.max


def test_the_rate_is_capped() -> None:
    result = estimate([Reading(D(2026, 1, 1), 0), Reading(D(2026, 1, 31), 60_000)])  # 2,000 a day
    assert result is not None and result.km_per_day == MAX_KM_PER_DAY


@pytest.mark.parametrize("days", [0, 3, 6])
def test_readings_too_close_together_say_nothing_of_the_rate(days: int) -> None:
    readings = [Reading(D(2026, 1, 1), 10_000), Reading(D(2026, 1, 1) + dt.timedelta(days=days), 10_900)]
    result = estimate(readings)
    assert result is not None
    assert (result.basis, result.anchor_km) == ("default", 10_900)
