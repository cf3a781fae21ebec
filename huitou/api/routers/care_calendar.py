"""/api/v1: care — the birthday calendar. The sweep's birthday tasks come from the same rule."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Query, Router
from pydantic import Field

from huitou.api.base import Schema
from huitou.api.lifecycle_schemas import PageFilters
from huitou.api.permissions import require
from huitou.care.selectors_people import birthdays_in_month
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm

router = Router(tags=["care"])

Month = Annotated[
    str,
    Field(
        description="The month, YYYY-MM (years 1901 to 2099)",
        pattern=r"^(19(0[1-9]|[1-9]\d)|20\d\d)-(0[1-9]|1[0-2])$",
    ),
]


class BirthdayFilters(PageFilters):
    month: Month


class BirthdayOut(Schema):
    id: int
    name: str
    stage: str
    date: dt.date = Field(description="The solar date the birthday falls on in that month")
    calendar: Literal["solar", "lunar"] = Field(description="How the customer keeps the birthday")
    birth_month: int = Field(ge=1, le=12, description="The birthday's month in its calendar")
    birth_day: int = Field(ge=1, le=31, description="The birthday's day in its calendar")
    birth_year: int | None


class BirthdayPage(Schema):
    items: list[BirthdayOut]
    count: int
    page: int
    page_size: int


@router.get("/care/birthdays", response=BirthdayPage, summary="Whose birthday falls in a month")
def birthdays(request: ApiRequest, filters: Query[BirthdayFilters]) -> dict[str, Any]:
    """Active files whose birthday, solar or lunar, falls in ``month``, by date. Queries: 1 count, 1 page."""
    organization = require(request, Perm.VIEW_CUSTOMERS)
    year, month = (int(part) for part in filters.month.split("-"))
    count, rows = birthdays_in_month(
        organization=organization,
        year=year,
        month=month,
        offset=(filters.page - 1) * filters.page_size,
        limit=filters.page_size,
    )
    items = [{**row, "calendar": row["birthday_calendar"]} for row in rows]
    return {"items": items, "count": count, "page": filters.page, "page_size": filters.page_size}
