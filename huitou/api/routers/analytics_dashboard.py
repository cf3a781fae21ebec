"""/api/v1/analytics/dashboard: the owner's dashboard (``analytics.dashboard``: the store manager).

The same numbers as the page ``/analytics/`` (``huitou.analytics.dashboard``),
for ``from`` to ``to`` (local dates, both included) at one shop or all. Money
travels as decimal strings, rates as fractions from 0 to 1. A malformed
date, an end before the start, a range longer than 1,098 days, an unknown
shop or grain answers 422 on that parameter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django import forms
from django.core.exceptions import ValidationError
from ninja import Query, Router
from pydantic import ConfigDict, Field

from huitou.analytics import errors
from huitou.analytics.dashboard import Dashboard, dashboard
from huitou.analytics.funnel import FIRST_DATE, LAST_DATE, funnel_period
from huitou.api.base import Schema
from huitou.api.permissions import require
from huitou.api.service_schemas import Money, money
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.models import Shop
from huitou.tenancy.roles import Perm

router = Router(tags=["analytics"])

PARAMS = {"date_from": "from", "date_to": "to", "shop_id": "shop"}


class DashboardQuery(Schema):
    model_config = ConfigDict(populate_by_name=True)

    date_from: dt.date | None = Field(
        default=None, alias="from", description="YYYY-MM-DD, first day; default: 89 days before `to`"
    )
    date_to: dt.date | None = Field(default=None, alias="to", description="YYYY-MM-DD, last day; default: today")
    shop_id: int | None = Field(
        default=None, alias="shop", ge=1, le=2**63 - 1, description="A shop's id; default: all shops"
    )
    grain: Literal["", "day", "week", "month"] = Field(
        default="", description="One point of `series` a day, week or month; default: by the range's length"
    )


class ReturnRatesOut(Schema):
    model_config = ConfigDict(populate_by_name=True)

    d7: float = Field(alias="7", description="Came back within 7 days, 0 to 1")
    d30: float = Field(alias="30", description="Came back within 30 days, 0 to 1")
    d90: float = Field(alias="90", description="Came back within 90 days, 0 to 1")


class ItemOut(Schema):
    kind: Literal["service", "part"]
    id: int
    name: str
    quantity: str = Field(description="Decimal string")
    revenue: Money = Field(description="Line amounts, before discount lines")
    orders: int


class PointOut(Schema):
    period: dt.date = Field(description="First day of the day, week or month (clipped to the range)")
    to: dt.date = Field(description="Its last day")
    revenue: Money
    orders: int
    average_ticket: Money
    gross_margin: float | None = Field(description="On parts with a known cost; null: none sold")


class CohortOut(Schema):
    month: str = Field(description="YYYY-MM of the first paid visit")
    size: int
    returned: list[int | None] = Field(
        description="Customers who paid for an order 1..12 months later; null: month not begun"
    )


class DashboardOut(Schema):
    model_config = ConfigDict(populate_by_name=True)

    revenue: Money = Field(description="Payments taken in the range, refunds taken off")
    orders: int = Field(description="Orders whose payment completed in the range")
    average_ticket: Money = Field(description="revenue / orders")
    gross_margin: float | None = Field(description="(sales − cost) / sales of the parts with a known cost")
    new_customers: int = Field(description="Customers whose first paid visit is in the range")
    active_customers: int = Field(description="Customers with a paid order in the range")
    repeat_rate: float = Field(description="Active customers with two or more paid orders / active customers")
    return_rates: ReturnRatesOut
    member_revenue_share: float = Field(description="Revenue paid while a member / revenue")
    referral_share: float = Field(description="Revenue of referred customers / revenue")
    top_services: list[ItemOut] = Field(description="The ten best-selling services, then the ten parts")
    series: list[PointOut]
    cohorts: list[CohortOut]


def dashboard_out(result: Dashboard) -> dict[str, Any]:
    rates = {str(r.days): r.rate for r in result.return_rates}
    return {
        "revenue": money(result.revenue),
        "orders": result.orders,
        "average_ticket": money(result.average_ticket),
        "gross_margin": result.gross_margin,
        "new_customers": result.new_customers,
        "active_customers": result.active_customers,
        "repeat_rate": result.repeat_rate,
        "return_rates": {"d7": rates["7"], "d30": rates["30"], "d90": rates["90"]},
        "member_revenue_share": result.member_revenue_share,
        "referral_share": result.referral_share,
        "top_services": [
            {
                "kind": i.kind,
                "id": i.id,
                "name": i.name,
                "quantity": str(i.quantity),
                "revenue": money(i.revenue),
                "orders": i.orders,
            }
            for i in [*result.top_services, *result.top_parts]
        ],
        "series": [
            {
                "period": p.date_from,
                "to": p.date_to,
                "revenue": money(p.revenue),
                "orders": p.orders,
                "average_ticket": money(p.average_ticket),
                "gross_margin": p.gross_margin,
            }
            for p in result.series
        ],
        "cohorts": [
            {"month": c.month.strftime("%Y-%m"), "size": c.size, "returned": c.returned} for c in result.cohorts
        ],
    }


@router.get("/dashboard", response=DashboardOut, by_alias=True, summary="The owner's dashboard")
def get_dashboard(request: ApiRequest, query: Query[DashboardQuery]) -> dict[str, Any]:
    """Revenue, orders, customers and retention for a range and a shop (or all shops).

    The definitions are those of the dashboard page (``huitou.analytics.dashboard``).

    Queries: the shop (when one is asked for), then the dashboard's nine, however long the range.
    """
    organization = require(request, Perm.VIEW_DASHBOARD)
    if query.shop_id is not None and not Shop.objects.for_org(organization).filter(pk=query.shop_id).exists():
        raise ValidationError({"shop": [errors.SHOP_UNKNOWN]})
    for name, day in (("from", query.date_from), ("to", query.date_to)):
        if day is not None and not FIRST_DATE <= day <= LAST_DATE:  # no arithmetic at the calendar's ends
            raise ValidationError({name: [forms.DateField.default_error_messages["invalid"]]})
    date_from, date_to = funnel_period(date_from=query.date_from, date_to=query.date_to)
    try:
        result = dashboard(
            organization=organization,
            date_from=date_from,
            date_to=date_to,
            shop_id=query.shop_id,
            grain=query.grain,
        )
    except ValidationError as exc:
        raise ValidationError({PARAMS.get(k, k): v for k, v in exc.message_dict.items()}) from exc
    return dashboard_out(result)
