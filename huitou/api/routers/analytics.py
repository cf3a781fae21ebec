"""/api/v1/analytics: the conversion funnel (``analytics.funnel``: the store manager).

The same numbers as the page ``/analytics/funnel/`` (``huitou.analytics.funnel``):
the customer files created from ``from`` to ``to`` (local dates, both included),
how many have reached intent and paid for a first order, by source or by staff.
A malformed date, an end before the start, a range longer than the funnel
allows or an unknown ``by`` answers 422 on that parameter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from ninja import Query, Router
from pydantic import ConfigDict, Field

from huitou.analytics.funnel import FunnelRow, funnel, funnel_period
from huitou.api.base import Schema
from huitou.api.permissions import require
from huitou.api.service_schemas import Money, money
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm

router = Router(tags=["analytics"])

# The funnel's argument names as the API's parameters call them.
PARAMS = {"date_from": "from", "date_to": "to"}


class FunnelQuery(Schema):
    model_config = ConfigDict(populate_by_name=True)

    date_from: dt.date | None = Field(
        default=None, alias="from", description="YYYY-MM-DD, first day of creation; default: 89 days before `to`"
    )
    date_to: dt.date | None = Field(default=None, alias="to", description="YYYY-MM-DD, last day; default: today")
    by: Literal["source", "staff"] = Field(default="source", description="One row per source or per staff member")


class FunnelRowOut(Schema):
    key: str = Field(description="The source's code or the staff member's username; empty for no source (and total)")
    label: str = Field(description="The source's label or the staff member's name")
    prospects: int = Field(description="Files created in the range")
    intent: int = Field(description="Of them, those who have reached intent")
    converted: int = Field(description="Of them, those who have paid for a first order")
    intent_rate: float = Field(description="intent / prospects, 0 to 1")
    conversion_rate: float = Field(description="converted / prospects, 0 to 1")
    median_days_to_convert: float | None = Field(description="From the file's creation to the first paid order")
    revenue: Money = Field(description="What the converted have spent so far")


class FunnelOut(Schema):
    date_from: dt.date = Field(serialization_alias="from")
    date_to: dt.date = Field(serialization_alias="to")
    by: str
    rows: list[FunnelRowOut]
    total: FunnelRowOut


def row_out(row: FunnelRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "label": row.label,
        "prospects": row.prospects,
        "intent": row.intent,
        "converted": row.converted,
        "intent_rate": row.intent_rate,
        "conversion_rate": row.conversion_rate,
        "median_days_to_convert": row.median_days_to_convert,
        "revenue": money(row.revenue),
    }


@router.get("/funnel", response=FunnelOut, by_alias=True, summary="The conversion funnel by source or staff")
def get_funnel(request: ApiRequest, query: Query[FunnelQuery]) -> dict[str, Any]:
    """One row per source (or staff member) with files created in the range, most prospects first, and the total.

    Deleted and merged-away files do not count. A range spans at most 1,098 days (``funnel.MAX_DAYS``).

    Queries: the funnel's three (counts per group, conversion times, labels), however many rows.
    """
    organization = require(request, Perm.VIEW_FUNNEL)
    date_from, date_to = funnel_period(date_from=query.date_from, date_to=query.date_to)
    try:
        result = funnel(organization=organization, date_from=date_from, date_to=date_to, by=query.by)
    except ValidationError as exc:
        raise ValidationError({PARAMS.get(k, k): v for k, v in exc.message_dict.items()}) from exc
    return {
        "date_from": result.date_from,
        "date_to": result.date_to,
        "by": result.by,
        "rows": [row_out(r) for r in result.rows],
        "total": row_out(result.total),
    }
