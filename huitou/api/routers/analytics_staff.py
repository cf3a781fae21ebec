"""/api/v1/analytics/staff: staff performance (员工考核; ``analytics.staff``: the store manager).

The same figures as the page ``/analytics/staff/``: both call
``huitou.analytics.staff.staff_performance``, whose docstring says what each
figure counts. A malformed date, an end before the start, a range longer than
1,098 days or a shop of another organization answers 422 on that parameter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Query, Router
from pydantic import BaseModel, ConfigDict, Field

from huitou.analytics.staff import StaffRow, staff_check, staff_performance, staff_period
from huitou.api.base import Schema
from huitou.api.permissions import require
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm

router = Router(tags=["analytics"])

PARAMS = {"date_from": "from", "date_to": "to"}


class StaffQuery(Schema):
    model_config = ConfigDict(populate_by_name=True)

    date_from: dt.date | None = Field(
        default=None, alias="from", description="YYYY-MM-DD, first day; default: 89 days before `to`"
    )
    date_to: dt.date | None = Field(default=None, alias="to", description="YYYY-MM-DD, last day; default: today")
    shop: int | None = Field(default=None, description="A shop's id: only the staff who work there; default: all")


class StaffUserOut(BaseModel):
    id: int
    username: str
    name: str = Field(description="The display name (or the username)")
    is_active: bool = Field(description="False: has left, listed for work done in the period")


class StaffItemOut(BaseModel):
    user: StaffUserOut
    followups_done: int = Field(description="Follow-up tasks assigned to them and done in the period")
    followups_late: int = Field(description="Of those, done after the (local) day they were due")
    care_done: int = Field(description="Care tasks of theirs done in the period, every kind (skipped ones not)")
    callbacks_done: int = Field(description="Of those, the callbacks after a visit")
    old_customer_contacts: int = Field(
        description="Follow-ups recorded and care tasks done in the period with customers who had a paid order before"
    )
    conversions: int = Field(description="Files they own whose first paid order fell in the period (the funnel's)")
    satisfaction: float | None = Field(description="Average score (1-5) of those callbacks; null when none was scored")
    complaints: int = Field(description="Complaints opened in the period against customers they own")
    file_completeness: float | None = Field(
        description="Average completeness of the files they own now, as a fraction 0..1; null when they own none"
    )


class StaffOut(BaseModel):
    """Plain pydantic models: the items are dicts already, and ninja's Schema reads each field
    of each item through its Django-aware getter (two thirds of the answer's time at 2,000 staff)."""

    items: list[StaffItemOut]


def item_out(row: StaffRow) -> dict[str, Any]:
    user = row.user
    return {
        "user": {"id": user.pk, "username": user.username, "name": str(user), "is_active": user.is_active},
        "followups_done": row.followups_done,
        "followups_late": row.followups_late,
        "care_done": row.care_done,
        "callbacks_done": row.callbacks_done,
        "old_customer_contacts": row.old_customer_contacts,
        "conversions": row.conversions,
        "satisfaction": row.satisfaction,
        "complaints": row.complaints,
        "file_completeness": row.file_completeness,
    }


@router.get("/staff", response=StaffOut, summary="Staff performance for a period")
def get_staff(request: ApiRequest, query: Query[StaffQuery]) -> dict[str, Any]:
    """One item per staff member, most conversions first (ties by name).

    Listed: the active store managers, service advisors and customer service,
    and anyone else with work in the period. Queries: the shop (with ``shop``),
    then the staff performance's six, however many staff.
    """
    organization = require(request, Perm.VIEW_STAFF_PERFORMANCE)
    try:
        date_from, date_to = staff_period(date_from=query.date_from, date_to=query.date_to)
        shop = staff_check(organization=organization, date_from=date_from, date_to=date_to, shop_id=query.shop)
    except ValidationError as exc:
        raise ValidationError({PARAMS.get(k, k): v for k, v in exc.message_dict.items()}) from exc
    result = staff_performance(organization=organization, date_from=date_from, date_to=date_to, shop=shop)
    return {"items": [item_out(r) for r in result.rows]}
