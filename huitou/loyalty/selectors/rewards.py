"""Reads of points and coupons: a customer's coupons, coupons about to expire, templates, the year-end list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.lib.statements import tenant_rows
from huitou.loyalty.models import Coupon, CouponRule, CouponTemplate, LoyaltyAccount
from huitou.loyalty.services.points import points_expiring_by
from huitou.service.models import ServiceItem
from huitou.tenancy.models import Organization


def coupons_for_customer(customer: Customer, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """The customer's coupons that can still be used, soonest to expire first (one query).

    Plain dicts: ``id``, ``name``, ``code``, ``state``, ``expires_on``, ``kind``.
    """
    today = today or timezone.localdate()

    def build(org: int, pk: int) -> QuerySet[Coupon]:
        rows = Coupon.objects.for_org(org).filter(customer_id=pk, state=Coupon.State.ISSUED)
        rows = rows.filter(expires_on__gte=today).order_by("expires_on", "pk")
        return rows.annotate(template_kind=F("template__kind")).only("id", "name", "code", "state", "expires_on")

    # A kept statement (huitou.lib.statements): the day is part of the shape.
    coupons = tenant_rows(("loyalty.coupons_for_customer", today), customer.organization_id, customer.pk, build)
    return [
        {"id": c.pk, "name": c.name, "code": c.code, "state": c.state, "expires_on": c.expires_on}
        | {"kind": c.template_kind}  # type: ignore[attr-defined]
        for c in coupons
    ]


def coupons_expiring(
    *, organization: Organization | int, within_days: int, today: dt.date | None = None
) -> QuerySet[Coupon]:
    """Issued coupons whose last day is within ``within_days`` days from today (the care engine's hook).

    Each row has its ``customer`` and ``template`` selected; ordered by last day,
    then customer. Read through the (organization, state, expires_on) index.
    """
    today = today or timezone.localdate()
    return (
        Coupon.objects.for_org(organization)
        .filter(
            state=Coupon.State.ISSUED,
            expires_on__gte=today,
            expires_on__lte=today + dt.timedelta(days=within_days),
            customer__deleted_at__isnull=True,
        )
        .select_related("customer", "template")
        .order_by("expires_on", "customer_id", "pk")
    )


def coupon_templates(*, organization: Organization) -> list[CouponTemplate]:
    """Active first, by code, each with its services and rules (three queries)."""
    return list(
        CouponTemplate.objects.for_org(organization)
        .select_related("free_service")
        .prefetch_related(
            Prefetch("services", queryset=ServiceItem.objects.for_org(organization).order_by("code")),
            Prefetch("rules", queryset=CouponRule.objects.for_org(organization).order_by("pk")),
        )
        .order_by("-is_active", "code")
    )


def points_year_end(
    *, organization: Organization, year: int, offset: int = 0, limit: int = 50
) -> tuple[int, list[dict[str, Any]]]:
    """Customers whose points will expire at the end of ``year`` unless redeemed, most first.

    Returns (count, rows of ``customer``, ``points`` the balance, ``expiring``).
    Queries: the count, the page of sums, the page's customers with their accounts.
    """
    due = points_expiring_by(organization=organization, day=dt.date(year, 12, 31))
    count = due.count()
    page = list(due.order_by("-due", "customer_id")[offset : offset + limit])
    ids = [row["customer_id"] for row in page]
    accounts = LoyaltyAccount.objects.filter(organization_id=OuterRef("organization_id"), customer_id=OuterRef("pk"))
    customers = {
        c.pk: c
        for c in Customer.objects.for_org(organization)
        .filter(pk__in=ids)
        .annotate(
            balance=Subquery(accounts.values("points")[:1]),
            tier_name=Subquery(accounts.values("tier__name")[:1]),
        )
    }
    rows = []
    for row in page:
        customer = customers[row["customer_id"]]
        rows.append(
            {
                "customer": customer,
                "points": customer.balance or 0,
                "tier": customer.tier_name or "",
                "expiring": row["due"],
            }
        )
    return count, rows
