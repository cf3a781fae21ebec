"""Pages of long lists whose exact length costs more than the page itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

# A list counts its rows up to this many; above it, the count shows as "more than".
COUNT_CAP = 10_000
# Staff per page of a manager's team view: a chain's 2,000 advisors are forty pages, the longest waits first.
TEAM_PAGE = 50


def count_capped(rows: QuerySet[Any], cap: int | None = None) -> int:
    """How many rows, counting no further than ``cap + 1``: exact up to ``cap``, ``cap + 1`` meaning more.

    The database stops after ``cap + 1`` index entries instead of counting
    hundreds of thousands of them. ``cap`` defaults to ``COUNT_CAP``.
    """
    cap = COUNT_CAP if cap is None else cap
    return rows.order_by().values("pk")[: cap + 1].count()


class CappedPaginator(Paginator):
    """A paginator whose count stops past ``cap`` (``capped`` then tells the page to say "more than")."""

    def __init__(self, object_list: QuerySet[Any], per_page: int, cap: int | None = None, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count  # a search result counts itself, capped its own way
        return count_capped(self.object_list, self.cap)

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    def page(self, number: Any) -> Any:
        """A whole page, even where the capped count would end it early."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        # Django's hook for the page class; django-stubs does not declare it.
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)  # type: ignore[attr-defined]


class CountedPaginator(Paginator):
    """A paginator told its count: a figure the page reads anyway (a tab's count), so no COUNT of its own."""

    def __init__(self, object_list: QuerySet[Any], per_page: int, *, count: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def team_page(request: HttpRequest, people: Sequence[Any], today: dt.date) -> tuple[Page, list[tuple[Any, int | None]]]:
    """A manager's team view: the page of ``TEAM_PAGE`` people asked for (``?page=``), each with the days
    their oldest overdue item has waited (``oldest_due``; None when nothing is overdue)."""
    page = Paginator(people, TEAM_PAGE).get_page(request.GET.get("page"))
    return page, [(p, (today - p.oldest_due).days if p.oldest_due else None) for p in page.object_list]
