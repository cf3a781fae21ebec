"""Reads of the care owed to people: whose birthday falls in a month."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.db.models import Case, DateField, Q, Value, When

from huitou.customers.models import Customer
from huitou.lib.birthdays import falling_between
from huitou.tenancy.models import Organization


def birthdays_in_month(
    *, organization: Organization, year: int, month: int, offset: int = 0, limit: int = 20
) -> tuple[int, list[dict[str, Any]]]:
    """The active files whose birthday falls in ``year``-``month``, by the solar ``date`` it falls on.

    Lunar birthdays fall on that year's solar date (``lib.birthdays``), so a
    lunar birthday can fall in a month other than its own number. Queries: 1
    count, 1 page.
    """
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    match = Q()
    dates: list[When] = []
    for cal, birth_month, birth_day, on in falling_between(first, last):
        pair = Q(birthday_calendar=cal, birth_month=birth_month, birth_day=birth_day)
        match |= pair
        dates.append(When(pair, then=Value(on)))
    people = Customer.objects.for_org(organization).filter(match, deleted_at__isnull=True)
    page = (
        people.annotate(date=Case(*dates, output_field=DateField()))
        .order_by("date", "id")
        .values("id", "name", "stage", "birthday_calendar", "birth_month", "birth_day", "birth_year", "date")
    )
    return people.count(), [dict(row) for row in page[offset : offset + limit]]
