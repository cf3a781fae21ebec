"""Warranty terms (质保): "3 months or 3,000 km", whichever comes first.

A service item carries its usual terms; an order line carries the promise made
on that visit (copied from the item, or set at the counter). Either leg may be
missing: "12 months" alone, or "3,000 km" alone. This module reads terms from
input and puts them into words; it needs no database.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from huitou.service import errors

MAX_MONTHS = 120  # ten years: the longest extended warranty sold in a shop
MAX_KM = 500_000


class _FromItem:
    """A line's warranty leg not given: the item's terms apply."""

    def __repr__(self) -> str:
        return "FROM_ITEM"


FROM_ITEM: Any = _FromItem()


def _term(value: Any, ceiling: int, message: Any, field: str, problems: dict[str, list[Any]]) -> int | None:
    """An empty value is no term; otherwise a whole number from 1 to ``ceiling``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        problems[field] = [message]
        return None
    text = str(value).strip().replace(",", "")
    if not text.isdigit() or not 1 <= int(text) <= ceiling:
        problems[field] = [message]
        return None
    return int(text)


def warranty_terms(months: Any, km: Any) -> tuple[int | None, int | None]:
    """``(months, km)`` read from input, each None or within its range; ``ValidationError`` per field otherwise."""
    problems: dict[str, list[Any]] = {}
    parsed = (
        _term(months, MAX_MONTHS, errors.WARRANTY_MONTHS_INVALID, "warranty_months", problems),
        _term(km, MAX_KM, errors.WARRANTY_KM_INVALID, "warranty_km", problems),
    )
    if problems:
        raise ValidationError(problems)
    return parsed


def months_words(months: int) -> str:
    return ngettext("%(n)s month", "%(n)s months", months) % {"n": months}


def km_words(km: int) -> str:
    return _("%(km)s km") % {"km": f"{km:,}"}


def warranty_words(months: int | None, km: int | None) -> str:
    """ "Warranty 3 months or 3,000 km" (质保 3个月或3,000公里); empty without a promise."""
    if months and km:
        return _("Warranty %(months)s or %(km)s") % {"months": months_words(months), "km": km_words(km)}
    if months or km:
        return _("Warranty %(term)s") % {"term": months_words(months) if months else km_words(km or 0)}
    return ""
