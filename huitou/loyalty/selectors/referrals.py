"""Reads of referrals: a customer's referral graph (for the file and the API) and the leaderboard."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from huitou.customers.models import Customer
from huitou.lib.money import round_fen
from huitou.lib.statements import tenant_rows
from huitou.loyalty.models import LoyaltyAccount, ReferralPolicy, ReferralReward, ReferrerType
from huitou.loyalty.selectors.accounts import account_for
from huitou.tenancy.models import Organization

ZERO = Decimal("0.00")
LEADERBOARD_SIZE = 50
REFEREE_FIELDS = ("pk", "name", "stage", "created_at", "converted_at", "visit_count", "lifetime_spend")


def referrals_for_customer(customer: Customer, *, account: LoyaltyAccount | None = None) -> dict[str, Any]:
    """Whom ``customer`` brought, how many converted, their revenue, and the rewards earned.

    ``{"items": [...], "count", "converted", "revenue", "rewards", "reward_coupons",
    "referrer_type", "referrer_type_label"}``; each item: ``id``, ``name``, ``stage``,
    ``referred_at`` (the file's creation), ``converted`` (a paid order),
    ``first_paid_at``, ``revenue`` (their lifetime spend), ``rewards`` (stored-value
    bonus earned through them, not reversed) and ``reward_states``. ``rewards`` is
    the bonus total; ``reward_coupons`` the coupons the referrer received at milestones.

    Queries: 1 the referees (active files), 1 the rewards with their policy, and
    1 the account for the referrer type unless ``account`` is given (the member
    panel passes the one it read).
    """
    org_id = customer.organization_id

    def referee_rows(org: int, pk: int) -> QuerySet[Customer]:
        rows = Customer.objects.for_org(org).active().filter(referrer_id=pk).order_by("-created_at", "-pk")
        return rows.only(*REFEREE_FIELDS)

    def reward_rows(org: int, pk: int) -> QuerySet[ReferralReward]:
        rows = ReferralReward.objects.for_org(org).filter(referrer_id=pk).select_related("policy")
        return rows.order_by("granted_at", "pk")

    # Statements kept once compiled (huitou.lib.statements): the customer's file reads both.
    referees = [
        {f: getattr(c, f) for f in REFEREE_FIELDS}
        for c in tenant_rows(("loyalty.referees",), org_id, customer.pk, referee_rows)
    ]
    rewards = tenant_rows(("loyalty.referral_rewards",), org_id, customer.pk, reward_rows)
    if account is None:
        account = account_for(customer)
    by_referee: dict[int, list[ReferralReward]] = {}
    for reward in rewards:
        by_referee.setdefault(reward.referee_id, []).append(reward)
    stage_labels = dict(Customer._meta.get_field("stage").flatchoices)
    items = []
    for row in referees:
        theirs = by_referee.get(row["pk"], [])
        items.append(
            {
                "id": row["pk"],
                "name": row["name"],
                "stage": row["stage"],
                "stage_label": stage_labels.get(row["stage"], row["stage"]),
                "referred_at": row["created_at"],
                "converted": row["visit_count"] > 0,
                "first_paid_at": row["converted_at"],
                "revenue": row["lifetime_spend"],
                "rewards": sum((r.amount for r in theirs if r.state == ReferralReward.State.GRANTED), start=ZERO),
                "reward_states": [r.state for r in theirs],
            }
        )
    granted = [r for r in rewards if r.state == ReferralReward.State.GRANTED]
    referrer_type = account.referrer_type if account is not None else ""
    return {
        "items": items,
        "count": len(items),
        "converted": sum(1 for i in items if i["converted"]),
        "revenue": sum((i["revenue"] for i in items), start=ZERO),
        "rewards": sum((r.amount for r in granted), start=ZERO),
        "reward_coupons": sum(
            1 for r in granted if r.policy.kind == ReferralPolicy.Kind.MILESTONE_COUPON and r.referrer_coupon_id
        ),
        "referrer_type": referrer_type,
        "referrer_type_label": ReferrerType(referrer_type).label if referrer_type else "",
        "referrer_types": ReferrerType.choices,
    }


def referral_leaderboard(
    *, organization: Organization | int, since: dt.datetime | None = None, limit: int = LEADERBOARD_SIZE
) -> list[dict[str, Any]]:
    """The referrers who brought the most converted customers (files created since ``since``), best first.

    Each row: ``id``, ``name``, ``brought``, ``converted``, ``revenue``, ``rewards``.
    Queries: 1 the counts by referrer, 1 their names, 1 their rewards.
    """
    referred = Customer.objects.for_org(organization).active().filter(referrer__isnull=False)
    if since is not None:
        referred = referred.filter(created_at__gte=since)
    rows = list(
        referred.values("referrer_id")
        .annotate(
            brought=Count("pk"),
            converted=Count("pk", filter=Q(visit_count__gt=0)),
            revenue=Sum("lifetime_spend"),
        )
        .order_by("-converted", "-revenue", "referrer_id")[:limit]
    )
    ids = [r["referrer_id"] for r in rows]
    names = dict(Customer.objects.for_org(organization).filter(pk__in=ids).values_list("pk", "name"))
    rewards = dict(
        ReferralReward.objects.for_org(organization)
        .filter(referrer_id__in=ids, state=ReferralReward.State.GRANTED)
        .values("referrer_id")
        .annotate(total=Sum("amount"))
        .values_list("referrer_id", "total")
    )
    return [
        {
            "rank": n,
            "id": r["referrer_id"],
            "name": names.get(r["referrer_id"], ""),
            "brought": r["brought"],
            "converted": r["converted"],
            # Sums come back as floats' decimals on SQLite: in fen, as money.
            "revenue": round_fen(Decimal(r["revenue"] or 0)),
            "rewards": round_fen(Decimal(rewards.get(r["referrer_id"]) or 0)),
        }
        for n, r in enumerate(rows, start=1)
    ]


def referral_policies(*, organization: Organization | int) -> list[ReferralPolicy]:
    """The organization's policies, active first, by code (1 query, with the coupon template)."""
    return list(ReferralPolicy.objects.for_org(organization).select_related("template").order_by("-is_active", "code"))
