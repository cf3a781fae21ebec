"""Membership at scale: accounts for every customer and their ledgers, written in bulk (PostgreSQL).

On top of an organization built by ``bulk_build`` with paid orders, one
transaction writes, with ``INSERT ... SELECT`` on the server (the rows come
from the orders already there, so nothing crosses the wire):

* the membership starter (tiers, top-up rules, coupon templates, card
  products, referral policies) through the product's ``loyalty_seed`` when it
  is there, else the referral policy through ``referral_policy_save``;
* an account for every customer (a member number, ``member_since`` their
  file's creation, a tier by their spend when tiers exist, the keep-tier
  review spread over the year), and each member's joining as a ``TierChange``
  (reason ``joined``, at ``member_since``), as ``membership_set_tier`` records it;
* points: one EARN entry per paid order line (one point per yuan of the line,
  expiring at the end of the year after), with ``balance_after``;
* stored value for every paying customer: a top-up before the first visit
  covering everything they will spend (bonus by the organization's top-up
  rules), a second top-up of 1,000 half-way, every paid order paid from it
  (principal and bonus in the proportion topped up so far), and the referral
  rewards (3% of a referee's first paid bill, ``referral_rewards_grant``'s
  arithmetic: ``round_fen(total × percent / 100)``) as REWARD entries;
* coupons (the starter's order-paid rule, one per paid order of 100 or more,
  every other one used on the customer's next order, the rest past their
  last day expired by the nightly job at 00:20 the day after) and package
  cards (one wash card for every tenth paying customer, three uses 20 days
  apart up to the load's moment, the uses left of a card past its last day
  expired at 00:40 the day after), when the starter made their templates and
  products; every coupon's and card's state is its ledger's last word;
* the referral rewards themselves, one per converted referee.

Each ledger's running balance is a window sum in the same statement, and the
account's cached balances are the ledgers' last ``*_after``. Loads into empty
tables drop and rebuild their secondary indexes and foreign keys
(``DeferredIndexes``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from bulkload.tables import DeferredIndexes
from huitou.loyalty.models import (
    CardProduct,
    CouponRule,
    LoyaltyAccount,
    LoyaltyProgram,
    ReferralPolicy,
    Tier,
)
from huitou.loyalty.services.referrals import referral_policy_save
from huitou.loyalty.services.tiers import member_number
from huitou.tenancy.models import Organization

LOYALTY_TABLES = (
    "loyalty_loyaltyaccount",
    "loyalty_tierchange",
    "loyalty_pointsentry",
    "loyalty_storedvalueentry",
    "loyalty_coupon",
    "loyalty_couponentry",
    "loyalty_packagecard",
    "loyalty_packagecardentry",
    "loyalty_referralreward",
)
SECOND_TOP_UP = 1000  # yuan, half-way through a customer's visits
CARD_EVERY = 10  # every tenth paying customer buys a wash card
CARD_USES = 3  # of which they use this many
CARD_USE_EVERY = 20  # days apart
# The nightly jobs' moments the day after a coupon's or a card's last day (China time).
COUPONS_EXPIRE_AT, CARDS_EXPIRE_AT = "00:20", "00:40"
# Member numbers in the product's format (``member_number``: the n-th member, zero-padded), by customer id.
NUMBER_WIDTH = len(member_number(0))
assert member_number(42) == str(42).zfill(NUMBER_WIDTH)


@dataclass
class LoyaltyStats:
    accounts: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    rebuild_seconds: float = 0.0

    @property
    def ledger_entries(self) -> int:
        return sum(n for table, n in self.rows.items() if table.endswith("entry") and table != "loyalty_loyaltyaccount")


def _starter(organization: Organization, log: Callable[[str], None]) -> None:
    """The organization's membership starter, as a new organization gets it."""
    if LoyaltyProgram.objects.for_org(organization).exists():
        return
    try:
        from huitou.loyalty.starter import loyalty_seed  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        log("no membership starter in this version: tiers, coupons and cards are left out")
        if not ReferralPolicy.objects.for_org(organization).exists():
            referral_policy_save(
                organization=organization,
                data={"code": "first-bill-3", "name": "首单3%储值奖励", "kind": "first_bill_percent", "percent": "3"},
            )
        return
    loyalty_seed(organization=organization)


def _execute(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def bulk_loyalty(
    *,
    organization: Organization,
    now: dt.datetime | None = None,
    log: Callable[[str], None] | None = None,
) -> LoyaltyStats:
    """Accounts and ledgers for every customer of ``organization`` (call inside a transaction)."""
    assert connection.vendor == "postgresql", "the membership bulk load is written for PostgreSQL"
    log = log or (lambda _line: None)
    started = time.monotonic()
    now = now or timezone.now()
    org = organization.pk
    stats = LoyaltyStats()
    _starter(organization, log)
    if LoyaltyAccount.objects.for_org(org).exists():
        raise RuntimeError(f"{organization.name} already has membership accounts")
    deferred = DeferredIndexes(LOYALTY_TABLES)
    deferred.drop()

    # The orders' shop and the org's staff: the top-ups are taken at the first shop, by the store manager.
    tiers = list(Tier.objects.for_org(org).filter(is_active=True).order_by("rank"))
    percent_policy = (
        ReferralPolicy.objects.for_org(org)
        .filter(is_active=True, kind=ReferralPolicy.Kind.FIRST_BILL_PERCENT)
        .order_by("pk")
        .first()
    )

    # Tier by spend: the highest spend tier whose threshold half the two-year spend reaches (a year's worth).
    if tiers:
        spend_tiers = [t for t in tiers if t.entry_rule == "spend"][::-1]
        cases = " ".join(f"WHEN c.lifetime_spend / 2 >= {t.entry_threshold} THEN {t.pk}" for t in spend_tiers)
        tier_sql = f"CASE {cases} ELSE {tiers[0].pk} END" if cases else str(tiers[0].pk)
    else:
        tier_sql = "NULL"
    stats.accounts = _execute(
        "INSERT INTO loyalty_loyaltyaccount (organization_id, customer_id, number, tier_id, member_since, "  # noqa: S608
        "tier_since, tier_review_on, points, stored_principal, stored_bonus, referrer_type) "
        f"SELECT c.organization_id, c.id, lpad((row_number() OVER (ORDER BY c.id))::text, {NUMBER_WIDTH}, '0'), "
        f"{tier_sql}, c.created_at, c.created_at, "
        "(%s::date + (c.id %% 365)::int), 0, 0, 0, "
        "CASE WHEN c.id %% 7 = 0 THEN (ARRAY['honour','benefit','favour','friendship'])[1 + c.id %% 4] ELSE '' END "
        "FROM customers_customer c WHERE c.organization_id = %s AND c.deleted_at IS NULL",
        [now.date(), org],
    )
    stats.rows["loyalty_loyaltyaccount"] = stats.accounts
    # Each member's joining, as membership_set_tier records it.
    stats.rows["loyalty_tierchange"] = _execute(
        "INSERT INTO loyalty_tierchange (organization_id, customer_id, from_tier_id, to_tier_id, reason, note, "
        "by_id, at) SELECT organization_id, customer_id, NULL, tier_id, 'joined', '', NULL, member_since "
        "FROM loyalty_loyaltyaccount WHERE organization_id = %s AND tier_id IS NOT NULL",
        [org],
    )
    log(f"  {stats.accounts:,} accounts  {time.monotonic() - started:.0f} s")

    # Points: one EARN entry per paid line with an amount, a point per whole yuan, balance as a window sum.
    stats.rows["loyalty_pointsentry"] = _execute(
        "INSERT INTO loyalty_pointsentry (organization_id, customer_id, kind, amount, balance_after, expires_on, "
        "order_id, line_id, reason, at) "
        "SELECT organization_id, customer_id, 'earn', pts, "
        "SUM(pts) OVER (PARTITION BY customer_id ORDER BY at, line_id), "
        "make_date(extract(year FROM at AT TIME ZONE 'Asia/Shanghai')::int + 1, 12, 31), order_id, line_id, number, at "
        "FROM (SELECT o.organization_id, o.customer_id, o.id AS order_id, l.id AS line_id, o.number, o.paid_at AS at, "
        "floor(l.amount)::int AS pts FROM service_serviceorder o JOIN service_orderline l ON l.order_id = o.id "
        "WHERE o.organization_id = %s AND o.state = 'paid' AND l.amount >= 1) AS earned "
        "ORDER BY customer_id, at, line_id",
        [org],
    )
    log(f"  {stats.rows['loyalty_pointsentry']:,} points entries  {time.monotonic() - started:.0f} s")

    # Stored value. The bonus a top-up of :amount earns: the largest rule it meets (the rules are data).
    bonus_of = (
        "COALESCE((SELECT r.bonus FROM loyalty_topuprule r WHERE r.organization_id = %s AND r.is_active "
        "AND r.minimum <= {amount} ORDER BY r.minimum DESC LIMIT 1), 0)"
    )
    first_amount = "GREATEST(1000, ceil(c.lifetime_spend / 1000) * 1000)"
    reward_sql = ""
    params: list[Any] = [org] * 5
    if percent_policy is not None:
        # The referral reward: a share of the referee's first paid bill, to the referrer, at that payment.
        reward_sql = (
            "UNION ALL SELECT c.referrer_id, 'reward', 0, round(o.total * %s / 100, 2), o.paid_at, o.id, 3, "
            "'转介绍奖励 · ' || c.name || ' ' || o.number FROM customers_customer c "
            "JOIN LATERAL (SELECT id, total, paid_at, number FROM service_serviceorder so "
            "WHERE so.organization_id = c.organization_id AND so.customer_id = c.id AND so.state = 'paid' "
            "ORDER BY so.paid_at, so.id LIMIT 1) o ON true "
            "JOIN customers_customer r ON r.id = c.referrer_id AND r.deleted_at IS NULL "
            "WHERE c.organization_id = %s AND c.referrer_id IS NOT NULL AND c.deleted_at IS NULL "
            "AND round(o.total * %s / 100, 2) > 0 "
        )
        params += [percent_policy.percent, org, percent_policy.percent]
    moves = (
        # First top-up just before the first visit, covering all the customer will spend.
        f"SELECT c.id AS customer_id, 'top_up' AS kind, {first_amount} AS principal, "
        f"{bonus_of.format(amount=first_amount)} AS bonus, "
        "c.first_visit_at - interval '1 hour' AS at, NULL::bigint AS order_id, 0 AS seq, '' AS reason "
        "FROM customers_customer c WHERE c.organization_id = %s AND c.visit_count > 0 AND c.deleted_at IS NULL "
        # A second, smaller top-up half-way between the first and last visit.
        f"UNION ALL SELECT c.id, 'top_up', {SECOND_TOP_UP}, {bonus_of.format(amount=SECOND_TOP_UP)}, "
        "c.first_visit_at + (c.last_visit_at - c.first_visit_at) / 2, NULL, 1, '' "
        "FROM customers_customer c WHERE c.organization_id = %s AND c.visit_count > 1 AND c.deleted_at IS NULL "
        # Every paid order paid from the card (split below).
        "UNION ALL SELECT o.customer_id, 'spend', -o.total, 0, o.paid_at, o.id, 2, o.number "
        "FROM service_serviceorder o WHERE o.organization_id = %s AND o.state = 'paid' AND o.total > 0 "
        f"{reward_sql}"
    )
    shop_id = connection.ops.quote_name("shop_id")
    stats.rows["loyalty_storedvalueentry"] = _execute(
        "WITH moves AS (" + moves + "), "
        # Money in so far (principal, bonus) for each move, to split a spend in that proportion.
        "paced AS (SELECT m.*, "
        "SUM(CASE WHEN kind <> 'spend' THEN principal ELSE 0 END) OVER w AS p_in, "
        "SUM(CASE WHEN kind <> 'spend' THEN bonus ELSE 0 END) OVER w AS b_in "
        "FROM moves m WINDOW w AS (PARTITION BY customer_id ORDER BY at, seq, order_id "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)), "
        "split AS (SELECT customer_id, kind, at, order_id, seq, reason, "
        "CASE WHEN kind = 'spend' THEN round(principal * p_in / NULLIF(p_in + b_in, 0), 2) ELSE principal END AS p, "
        "CASE WHEN kind = 'spend' THEN principal - round(principal * p_in / NULLIF(p_in + b_in, 0), 2) "
        "ELSE bonus END AS b FROM paced) "
        f"INSERT INTO loyalty_storedvalueentry (organization_id, customer_id, kind, principal, bonus, "  # noqa: S608
        f"principal_after, bonus_after, method, {shop_id}, order_id, reason, at) "
        "SELECT %s, customer_id, kind, p, b, "
        "SUM(p) OVER (PARTITION BY customer_id ORDER BY at, seq, order_id ROWS UNBOUNDED PRECEDING), "
        "SUM(b) OVER (PARTITION BY customer_id ORDER BY at, seq, order_id ROWS UNBOUNDED PRECEDING), "
        "CASE WHEN kind = 'top_up' THEN 'wechat' ELSE '' END, "
        "CASE WHEN kind = 'top_up' THEN (SELECT MIN(id) FROM tenancy_shop WHERE organization_id = %s) END, "
        "order_id, reason, at FROM split ORDER BY customer_id, at, seq, order_id",
        [*params, org, org],
    )
    log(f"  {stats.rows['loyalty_storedvalueentry']:,} stored-value entries  {time.monotonic() - started:.0f} s")

    if percent_policy is not None:
        stats.rows["loyalty_referralreward"] = _execute(
            "INSERT INTO loyalty_referralreward (organization_id, policy_id, referrer_id, referee_id, order_id, "
            "amount, stored_value_entry_id, state, granted_at) "
            "SELECT e.organization_id, %s, e.customer_id, o.customer_id, e.order_id, e.bonus, e.id, 'granted', e.at "
            "FROM loyalty_storedvalueentry e JOIN service_serviceorder o ON o.id = e.order_id "
            "WHERE e.organization_id = %s AND e.kind = 'reward'",
            [percent_policy.pk, org],
        )

    rule = (
        CouponRule.objects.for_org(org)
        .filter(is_active=True, trigger="order_paid")
        .select_related("template")
        .order_by("pk")
        .first()
    )
    if rule is not None:
        template = rule.template
        stats.rows["loyalty_coupon"] = _execute(
            "INSERT INTO loyalty_coupon (organization_id, customer_id, template_id, name, code, state, source, "
            "issued_at, expires_on, origin_order_id, used_order_id) "
            "SELECT o.organization_id, o.customer_id, %s, %s, 'B' || o.id, "
            "CASE WHEN nxt.id IS NOT NULL AND o.id %% 2 = 0 THEN 'used' "
            "WHEN ((o.paid_at AT TIME ZONE 'Asia/Shanghai')::date + %s + 1 + %s::time) AT TIME ZONE 'Asia/Shanghai' "
            "<= %s THEN 'expired' ELSE 'issued' END, "
            "'order_paid', o.paid_at, (o.paid_at AT TIME ZONE 'Asia/Shanghai')::date + %s, o.id, "
            "CASE WHEN o.id %% 2 = 0 THEN nxt.id END "
            "FROM service_serviceorder o LEFT JOIN LATERAL (SELECT n.id FROM service_serviceorder n "
            "WHERE n.organization_id = o.organization_id AND n.customer_id = o.customer_id AND n.state = 'paid' "
            "AND n.paid_at > o.paid_at AND n.paid_at < o.paid_at + %s * interval '1 day' "
            "ORDER BY n.paid_at LIMIT 1) nxt ON true "
            "WHERE o.organization_id = %s AND o.state = 'paid' AND o.total >= %s",
            [
                template.pk,
                template.name,
                template.days_valid,
                COUPONS_EXPIRE_AT,
                now,
                template.days_valid,
                template.days_valid,
                org,
                rule.min_order_total,
            ],
        )
        # As the services write them: issued (the trigger as the reason), used (the money off), and
        # expired by the nightly job the night after the last day (the last day as the reason).
        stats.rows["loyalty_couponentry"] = _execute(
            "INSERT INTO loyalty_couponentry (organization_id, coupon_id, customer_id, kind, state_after, amount, "
            "order_id, reason, at) "
            "SELECT c.organization_id, c.id, c.customer_id, 'issue', 'issued', NULL, c.origin_order_id, "
            "'order_paid', c.issued_at FROM loyalty_coupon c WHERE c.organization_id = %s "
            "UNION ALL SELECT c.organization_id, c.id, c.customer_id, 'use', 'used', %s, c.used_order_id, '', "
            "o.paid_at FROM loyalty_coupon c JOIN service_serviceorder o ON o.id = c.used_order_id "
            "WHERE c.organization_id = %s AND c.state = 'used' "
            "UNION ALL SELECT c.organization_id, c.id, c.customer_id, 'expire', 'expired', NULL, NULL, "
            "c.expires_on::text, ((c.expires_on + 1) + %s::time) AT TIME ZONE 'Asia/Shanghai' "
            "FROM loyalty_coupon c WHERE c.organization_id = %s AND c.state = 'expired'",
            [org, template.value, org, COUPONS_EXPIRE_AT, org],
        )
    product = CardProduct.objects.for_org(org).filter(is_active=True).order_by("pk").first()
    if product is not None:
        stats.rows["loyalty_packagecard"] = _execute(
            "INSERT INTO loyalty_packagecard (organization_id, customer_id, vehicle_id, product_id, name, "
            "uses_total, uses_left, state, sold_at, expires_on) "
            "SELECT c.organization_id, c.id, (SELECT MIN(v.id) FROM customers_vehicle v "
            "WHERE v.organization_id = c.organization_id AND v.customer_id = c.id), %s, %s, %s, 0, "
            "CASE WHEN ((c.first_visit_at AT TIME ZONE 'Asia/Shanghai')::date + %s + 1 + %s::time) "
            "AT TIME ZONE 'Asia/Shanghai' <= %s THEN 'expired' ELSE 'active' END, "
            "c.first_visit_at, (c.first_visit_at AT TIME ZONE 'Asia/Shanghai')::date + %s "
            "FROM customers_customer c WHERE c.organization_id = %s AND c.visit_count > 0 "
            "AND c.deleted_at IS NULL AND c.id %% %s = 0",
            [
                product.pk,
                product.name,
                product.uses,
                product.validity_days,
                CARDS_EXPIRE_AT,
                now,
                product.validity_days,
                org,
                CARD_EVERY,
            ],
        )
        # Sold, used every CARD_USE_EVERY days up to the load's moment and the card's last day, and the
        # uses left of a card past its last day expired the night after; uses_after as a window sum.
        stats.rows["loyalty_packagecardentry"] = _execute(
            "INSERT INTO loyalty_packagecardentry (organization_id, card_id, customer_id, kind, amount, uses_after, "
            "reason, at) "
            "SELECT organization_id, card_id, customer_id, kind, amount, "
            "SUM(amount) OVER (PARTITION BY card_id ORDER BY at, seq ROWS UNBOUNDED PRECEDING), reason, at "
            "FROM (SELECT k.organization_id, k.id AS card_id, k.customer_id, 'sale' AS kind, k.uses_total AS amount, "
            "k.name AS reason, k.sold_at AS at, 0 AS seq FROM loyalty_packagecard k WHERE k.organization_id = %s "
            "UNION ALL SELECT k.organization_id, k.id, k.customer_id, 'use', -1, k.name, "
            "k.sold_at + n * %s * interval '1 day', n FROM loyalty_packagecard k, generate_series(1, %s) AS n "
            "WHERE k.organization_id = %s AND k.sold_at + n * %s * interval '1 day' < LEAST(%s, "
            "(k.expires_on + 1)::timestamp AT TIME ZONE 'Asia/Shanghai') "
            "UNION ALL SELECT k.organization_id, k.id, k.customer_id, 'expire', -(k.uses_total - (SELECT COUNT(*) "
            "FROM generate_series(1, %s) AS n WHERE k.sold_at + n * %s * interval '1 day' "
            "< (k.expires_on + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')), k.expires_on::text, "
            "((k.expires_on + 1) + %s::time) AT TIME ZONE 'Asia/Shanghai', %s + 1 "
            "FROM loyalty_packagecard k WHERE k.organization_id = %s AND k.state = 'expired') AS moves",
            [
                org,
                CARD_USE_EVERY,
                CARD_USES,
                org,
                CARD_USE_EVERY,
                now,
                CARD_USES,
                CARD_USE_EVERY,
                CARDS_EXPIRE_AT,
                CARD_USES,
                org,
            ],
        )
        # Each card's uses left: its ledger's sum (0 once expired).
        _execute(
            "UPDATE loyalty_packagecard k SET uses_left = e.uses FROM (SELECT card_id, SUM(amount) AS uses "
            "FROM loyalty_packagecardentry WHERE organization_id = %s GROUP BY card_id) e "
            "WHERE k.organization_id = %s AND k.id = e.card_id",
            [org, org],
        )

    # The accounts' cached balances: each ledger's last balance.
    _execute(
        "UPDATE loyalty_loyaltyaccount a SET points = p.balance_after FROM (SELECT DISTINCT ON (customer_id) "
        "customer_id, balance_after FROM loyalty_pointsentry WHERE organization_id = %s "
        "ORDER BY customer_id, at DESC, line_id DESC) p WHERE a.organization_id = %s AND a.customer_id = p.customer_id",
        [org, org],
    )
    _execute(
        "UPDATE loyalty_loyaltyaccount a SET stored_principal = s.principal_after, stored_bonus = s.bonus_after "
        "FROM (SELECT DISTINCT ON (customer_id) customer_id, principal_after, bonus_after "
        "FROM loyalty_storedvalueentry WHERE organization_id = %s ORDER BY customer_id, at DESC, id DESC) s "
        "WHERE a.organization_id = %s AND a.customer_id = s.customer_id",
        [org, org],
    )
    log(f"  balances cached  {time.monotonic() - started:.0f} s; rebuilding indexes and foreign keys")
    rebuild = time.monotonic()
    deferred.rebuild()
    stats.rebuild_seconds = time.monotonic() - rebuild
    stats.seconds = time.monotonic() - started
    return stats
