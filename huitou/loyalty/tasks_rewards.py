"""Background jobs of points and coupons: bulk issuing, nightly expiry, the birthday month.

Imported by ``huitou.loyalty.receivers.coupons`` so the consumer knows them.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from huitou.loyalty.models import CouponTemplate
from huitou.loyalty.services.coupons import coupons_birthday, coupons_expire, coupons_issue_batch
from huitou.loyalty.services.points import points_expire
from huitou.tenancy.models import Organization, User


@db_task(retries=2, retry_delay=30)
def issue_bulk(organization_id: int, template_id: int, customer_ids: list[int], batch: str, by_id: int | None) -> int:
    """Issue a bulk batch; safe to run twice (customers this batch served are skipped)."""
    template = CouponTemplate.objects.for_org(organization_id).get(pk=template_id)
    by = User.objects.for_org(organization_id).filter(pk=by_id).first() if by_id else None
    return coupons_issue_batch(template=template, customer_ids=customer_ids, batch=batch, by=by)


@db_task()
def expire_rewards_for(organization_id: int) -> dict[str, int]:
    """One organization's points and coupons past their date; safe to run twice."""
    organization = Organization.objects.get(pk=organization_id)
    return {"points": points_expire(organization=organization), "coupons": coupons_expire(organization=organization)}


# huey reads crontabs in UTC: 16:20 UTC is 00:20 in China, the first minutes of the new day.
@db_periodic_task(crontab(hour="16", minute="20"))
def expire_rewards_daily() -> None:
    """Every night: points of lots that ended yesterday and coupons past their last day expire."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        expire_rewards_for(organization_id)


@db_task()
def birthday_coupons_for(organization_id: int) -> int:
    return coupons_birthday(organization=Organization.objects.get(pk=organization_id))


# 01:30 UTC on the 1st is 09:30 China time: the month's birthday coupons go out in the morning.
@db_periodic_task(crontab(day="1", hour="1", minute="30"))
def birthday_coupons_monthly() -> None:
    """On the first of each month: the birthday-month rules' coupons (once per customer and year)."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        birthday_coupons_for(organization_id)
