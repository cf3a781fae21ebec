"""Money in yuan as Decimal with two places (fen). Never float.

Rounding rule: a line's amount is quantity × unit price − discount, rounded
half-up to the fen once, at the end; an order's total is the plain sum of
its line amounts and adjustments (sums of fen need no rounding).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")

# An amount or quantity as a service receives it: a Decimal (the forms'), a whole
# number, or decimal text (the API's, "123.45"), which ``parse_decimal`` checks.
# Never a float.
DecimalIn = Decimal | int | str


class MoneyError(ValueError):
    pass


def parse_decimal(value: object, places: int = 2, max_digits: int = 12) -> Decimal:
    """A Decimal from user input with at most ``places`` decimals; floats are refused.

    At most ``max_digits`` digits in all (the size of the column it goes to):
    a larger number is refused rather than overflowing the database.
    """
    if isinstance(value, float | bool) or value is None:
        raise MoneyError(value)
    try:
        number = Decimal(str(value).strip().replace(",", "").replace("¥", "").replace("￥", ""))
    except InvalidOperation as exc:
        raise MoneyError(value) from exc
    if not number.is_finite():
        raise MoneyError(value)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        raise MoneyError(value)
    if number and number.adjusted() >= max_digits - places:
        raise MoneyError(value)
    return number.quantize(Decimal(1).scaleb(-places))


def parse_money(value: object) -> Decimal:
    return parse_decimal(value, 2)


def round_fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def line_amount(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    return round_fen(quantity * unit_price - discount)
