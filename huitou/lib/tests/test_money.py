"""Money: Decimal yuan with two places, never float; a line rounds half-up to the fen once."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest

from huitou.lib.money import FEN, MoneyError, line_amount, parse_decimal, parse_money, round_fen


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", "12.00"),
        (12, "12.00"),
        ("12.5", "12.50"),
        (Decimal("0.01"), "0.01"),
        (" 1,234.50 ", "1234.50"),
        ("¥88", "88.00"),
        ("￥88.8", "88.80"),
        ("-3.20", "-3.20"),
        ("0", "0.00"),
        ("9999999999.99", "9999999999.99"),
    ],
)
def test_it_parses_yuan_into_a_decimal_with_two_places(raw: object, expected: str) -> None:
    value = parse_money(raw)
    assert isinstance(value, Decimal)
    assert value == Decimal(expected)
    assert value.as_tuple().exponent == -2


@pytest.mark.parametrize("raw", [0.1, 12.0, 1e2, True, False, None])
def test_it_refuses_floats_booleans_and_nothing(raw: object) -> None:
    with pytest.raises(MoneyError):
        parse_money(raw)


@pytest.mark.parametrize("raw", ["33.335", "0.001", Decimal("19.999"), "-0.005", "1E-3"])
def test_it_refuses_more_than_two_decimals(raw: object) -> None:
    with pytest.raises(MoneyError):
        parse_money(raw)


@pytest.mark.parametrize("raw", ["", "  ", "abc", "12元", "1.2.3", "NaN", "Infinity", "-inf", "0x10", "1 000"])
def test_it_refuses_garbage(raw: str) -> None:
    with pytest.raises(MoneyError):
        parse_money(raw)


@pytest.mark.parametrize("raw", ["10000000000", "-10000000000", "1e30", "1e400", "1E+10"])
def test_it_refuses_an_amount_too_large_for_the_column_instead_of_crashing(raw: str) -> None:
    """Money columns hold 12 digits, 2 after the point; 1e400 once raised decimal.InvalidOperation."""
    with pytest.raises(MoneyError):
        parse_money(raw)


def test_a_quantity_is_bounded_by_its_own_column() -> None:
    assert parse_decimal("999999.99", 2, max_digits=8) == Decimal("999999.99")
    with pytest.raises(MoneyError):
        parse_decimal("1000000", 2, max_digits=8)


def test_the_number_of_places_is_a_parameter() -> None:
    assert parse_decimal("1.5", 1) == Decimal("1.5")
    with pytest.raises(MoneyError):
        parse_decimal("1.5", 0)


@pytest.mark.parametrize(
    ("quantity", "unit_price", "discount", "amount"),
    [
        ("1.5", "19.99", "0", "29.99"),  # 29.985 rounds up
        ("0.5", "0.01", "0", "0.01"),  # 0.005 rounds up, not to even (0.00)
        ("0.5", "0.05", "0", "0.03"),  # 0.025: half-up gives 0.03, banker's would give 0.02
        ("2.5", "0.01", "0", "0.03"),
        ("3", "33.33", "0", "99.99"),
        ("2", "10.00", "5.00", "15.00"),
        ("1.5", "19.99", "0.98", "29.01"),  # 29.005: the discount comes off before the one rounding
        ("1", "0", "0", "0.00"),
        ("2", "50", "100", "0.00"),
    ],
)
def test_a_line_is_quantity_times_price_minus_discount_rounded_half_up_to_the_fen(
    quantity: str, unit_price: str, discount: str, amount: str
) -> None:
    result = line_amount(Decimal(quantity), Decimal(unit_price), Decimal(discount))
    assert result == Decimal(amount)
    assert result.as_tuple().exponent == -2


def test_round_fen_rounds_half_up() -> None:
    assert [str(round_fen(Decimal(v))) for v in ("0.125", "0.135", "0.1249", "2.675", "-0.005")] == [
        "0.13",
        "0.14",
        "0.12",
        "2.68",
        "-0.01",
    ]
    assert Decimal("0.01") == FEN


def _reference_amount(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """Half-up to the fen in exact rational arithmetic, independent of the decimal module's rounding."""
    fen = (Fraction(quantity) * Fraction(unit_price) - Fraction(discount)) * 100
    sign = -1 if fen < 0 else 1
    rounded = sign * int(abs(fen) + Fraction(1, 2))
    return Decimal(rounded) / 100


def test_line_amounts_always_match_exact_half_up_rounding() -> None:
    """A property test over 5,000 seeded random lines (reproducible: same seed, same lines)."""
    rng = random.Random(20240601)
    for _ in range(5000):
        quantity = Decimal(rng.randint(1, 100_000)) / 100
        unit_price = Decimal(rng.randint(0, 10_000_000)) / 100
        discount = Decimal(rng.randint(0, int(quantity * unit_price * 100))) / 100
        amount = line_amount(quantity, unit_price, discount)
        assert amount == _reference_amount(quantity, unit_price, discount), (quantity, unit_price, discount)
        assert Decimal(0) <= amount <= round_fen(quantity * unit_price)
        assert amount.as_tuple().exponent == -2
