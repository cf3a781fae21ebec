"""The demo's membership and callbacks: members in several tiers, balances that are their ledgers'
sums, cards sold and used, coupons issued by the rule and used or expired, points, referrals;
past callbacks done or skipped at their time, only the last days' open. All through the services."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from huitou.care.models import CareKind, CareTask
from huitou.customers.models import Customer
from huitou.demo.care import OPEN_DAYS
from huitou.demo.orders import HistoryStats
from huitou.demo.services import DEFAULT_CUSTOMERS, DEFAULT_SEED, demo_build, organization_purge
from huitou.loyalty.models import (
    Coupon,
    CouponEntry,
    CouponTrigger,
    LoyaltyAccount,
    PackageCard,
    PackageCardEntry,
    PointsEntry,
    ReferralReward,
    StoredValueEntry,
    TierChange,
)
from huitou.loyalty.selectors.wallet import statement
from huitou.service.models import OrderLine, OrderState, ServiceOrder
from huitou.tenancy.models import Organization

ZERO = Decimal("0.00")


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The default demo (what ``huitou demo`` and the quick start build), shared by the read-only tests."""
    with django_db_blocker.unblock():
        result = demo_build(customers=DEFAULT_CUSTOMERS, seed=DEFAULT_SEED, user_prefix="loy_", org_name="会员演示")
        result.built_at = timezone.now()
        yield result
        organization_purge(organization=result.organization)


def members(org: Organization) -> Any:
    return LoyaltyAccount.objects.for_org(org).filter(tier__isnull=False)


def test_a_share_of_the_buyers_are_members_in_several_tiers_each_with_a_joining(demo: Any, db: Any) -> None:
    org = demo.organization
    buyers = Customer.objects.for_org(org).filter(visit_count__gt=0).count()
    joined = list(members(org).select_related("tier"))
    assert 0.15 * buyers <= len(joined) <= 0.6 * buyers
    tiers = Counter(account.tier.code for account in joined if account.tier is not None)
    assert len(tiers) >= 3, tiers
    assert tiers["regular"] > 0 and tiers["silver"] > 0
    assert len({a.number for a in joined}) == len(joined) and all(len(a.number) == 8 for a in joined)
    changes = TierChange.objects.for_org(org)
    for account in joined:
        first = changes.filter(customer_id=account.customer_id).order_by("at", "pk").first()
        assert first is not None and first.reason == TierChange.Reason.JOINED and first.from_tier is None
        assert first.at == account.member_since
    assert changes.filter(reason=TierChange.Reason.UPGRADE).exists()
    # Members' files are members' (or went quiet since).
    stages = set(
        Customer.objects.for_org(org).filter(pk__in=[a.customer_id for a in joined]).values_list("stage", flat=True)
    )
    assert stages <= {"member", "dormant", "lost"}
    stats = demo.orders
    assert isinstance(stats, HistoryStats) and stats.loyalty.members == len(joined)


def test_balances_are_their_ledgers_sums_and_every_balance_after_the_running_sum(demo: Any, db: Any) -> None:
    org = demo.organization
    points: dict[int, list[PointsEntry]] = defaultdict(list)
    for entry in PointsEntry.objects.for_org(org).order_by("at", "pk"):
        points[entry.customer_id].append(entry)
    stored: dict[int, list[StoredValueEntry]] = defaultdict(list)
    for move in StoredValueEntry.objects.for_org(org).order_by("at", "pk"):
        stored[move.customer_id].append(move)
    accounts = list(LoyaltyAccount.objects.for_org(org))
    assert sum(1 for a in accounts if a.stored_principal > 0) >= 3
    for account in accounts:
        running = 0
        for entry in points[account.customer_id]:
            running += entry.amount
            assert entry.balance_after == running >= 0
        assert account.points == running
        principal = bonus = ZERO
        for move in stored[account.customer_id]:
            principal, bonus = principal + move.principal, bonus + move.bonus
            assert (move.principal_after, move.bonus_after) == (principal, bonus)
            assert principal >= 0 and bonus >= 0
        assert (account.stored_principal, account.stored_bonus) == (principal, bonus)
    for card in PackageCard.objects.for_org(org):
        uses = PackageCardEntry.objects.for_org(org).filter(card=card).aggregate(s=Sum("amount"))["s"]
        assert card.uses_left == uses
    for coupon in Coupon.objects.for_org(org):
        last = CouponEntry.objects.for_org(org).filter(coupon=coupon).order_by("at", "pk").last()
        assert last is not None and last.state_after == coupon.state


def test_a_members_statement_adds_up_to_the_balance(demo: Any, db: Any) -> None:
    org = demo.organization
    savers = members(org).filter(stored_principal__gt=0).order_by("customer_id")[:3]
    assert savers
    for account in savers:
        customer = Customer.objects.for_org(org).get(pk=account.customer_id)
        items = statement(customer=customer, ledger="stored_value", page_size=1000).items
        kinds = {item.kind for item in items}
        assert {"top_up", "spend"} <= kinds
        running = ZERO
        for item in reversed(items):  # oldest first
            running += Decimal(item.amount)
            assert Decimal(item.balance_after) == running
        assert running == account.stored_balance


def test_top_ups_earn_the_starter_bonus_and_members_pay_from_their_balance(demo: Any, db: Any) -> None:
    org = demo.organization
    top_ups = StoredValueEntry.objects.for_org(org).filter(kind=StoredValueEntry.Kind.TOP_UP)
    bonus = {Decimal("500.00"): ZERO, Decimal("1000.00"): Decimal("100.00"), Decimal("3000.00"): Decimal("400.00")}
    assert top_ups.count() >= 5
    for entry in top_ups:
        if entry.principal in bonus:
            assert entry.bonus == bonus[entry.principal]
        assert entry.method in {"wechat", "alipay", "card", "cash"} and entry.shop_id is not None
    spends = StoredValueEntry.objects.for_org(org).filter(kind=StoredValueEntry.Kind.SPEND).select_related("payment")
    assert spends.count() >= 5
    assert all(s.payment is not None and s.payment.method == "stored_value" for s in spends)


def test_package_cards_are_sold_on_orders_and_used_on_later_visits_with_uses_left(demo: Any, db: Any) -> None:
    org = demo.organization
    cards = list(PackageCard.objects.for_org(org).select_related("product", "sold_order"))
    assert len(cards) >= 3
    for card in cards:
        assert card.sold_order is not None and card.sold_order.state == OrderState.PAID
        assert card.sold_at == card.sold_order.paid_at
        sold = OrderLine.objects.for_org(org).get(pk=card.sold_line_id)
        assert sold.service_id == card.product.sale_item_id
        assert card.expires_on >= timezone.localdate()  # none ran out before the demo was built
    uses = PackageCardEntry.objects.for_org(org).filter(kind=PackageCardEntry.Kind.USE).select_related("card")
    assert uses.exists()
    for use in uses:
        assert use.at > use.card.sold_at
        line = OrderLine.objects.for_org(org).get(pk=use.line_id)
        assert line.amount == ZERO and line.note.startswith("套餐卡抵扣")
    assert any(0 < card.uses_left < card.uses_total for card in cards) or any(
        card.uses_left == card.uses_total for card in cards
    )


def test_coupons_come_from_the_rule_and_are_used_expired_or_held_some_expiring_soon(demo: Any, db: Any) -> None:
    org = demo.organization
    coupons = Coupon.objects.for_org(org)
    states = Counter(coupons.values_list("state", flat=True))
    assert states["used"] > 0 and states["expired"] > 0 and states["issued"] > 0
    by_rule = coupons.filter(source=CouponTrigger.ORDER_PAID).select_related("origin_order")
    assert all(c.origin_order is not None and c.origin_order.total >= 100 for c in by_rule)
    for coupon in coupons.filter(state=Coupon.State.USED).select_related("used_order"):
        assert coupon.used_order is not None and coupon.used_order.state == OrderState.PAID
        use = CouponEntry.objects.for_org(org).get(coupon=coupon, kind=CouponEntry.Kind.USE)
        assert OrderLine.objects.for_org(org).get(pk=use.line_id).kind == OrderLine.Kind.DISCOUNT
        assert use.at > coupon.issued_at
    for entry in CouponEntry.objects.for_org(org).filter(kind=CouponEntry.Kind.EXPIRE).select_related("coupon"):
        # The night job, the night after the coupon's last day.
        at = timezone.localtime(entry.at)
        assert at.time() == dt.time(0, 20) and at.date() == entry.coupon.expires_on + dt.timedelta(days=1)
    soon = timezone.localdate() + dt.timedelta(days=30)
    assert coupons.filter(state=Coupon.State.ISSUED, expires_on__lte=soon).exists()


def test_points_are_earned_on_paid_orders_and_some_redeemed(demo: Any, db: Any) -> None:
    org = demo.organization
    entries = PointsEntry.objects.for_org(org)
    assert entries.filter(kind=PointsEntry.Kind.EARN).count() >= 0.9 * demo.orders.paid
    redeemed = entries.filter(kind=PointsEntry.Kind.REDEEM)
    assert redeemed.exists()
    for entry in redeemed:
        line = OrderLine.objects.for_org(org).get(pk=entry.line_id)
        assert line.kind == OrderLine.Kind.DISCOUNT and line.amount == Decimal(entry.amount) / 100


def test_referrals_are_rewarded_and_their_referrers_typed(demo: Any, db: Any) -> None:
    org = demo.organization
    rewards = list(ReferralReward.objects.for_org(org).select_related("referee", "stored_value_entry"))
    assert rewards
    for reward in rewards:
        assert reward.referee.referrer_id == reward.referrer_id
        assert reward.stored_value_entry is not None and reward.stored_value_entry.bonus == reward.amount
    typed = LoyaltyAccount.objects.for_org(org).exclude(referrer_type="")
    assert {r.referrer_id for r in rewards} <= set(typed.values_list("customer_id", flat=True))


def test_nothing_of_the_membership_happens_after_the_demo_is_built(demo: Any, db: Any) -> None:
    org, built = demo.organization, demo.built_at
    for model in (PointsEntry, StoredValueEntry, CouponEntry, PackageCardEntry, TierChange):
        assert not model.objects.for_org(org).filter(at__gt=built).exists(), model
    assert not Coupon.objects.for_org(org).filter(issued_at__gt=built).exists()
    assert not CareTask.objects.for_org(org).filter(closed_at__gt=built).exists()
    # ...and it happened in the story, not when the demo was built.
    hour_ago = built - dt.timedelta(hours=1)
    assert not StoredValueEntry.objects.for_org(org).filter(at__gt=hour_ago).count() > 3
    assert not CouponEntry.objects.for_org(org).filter(kind=CouponEntry.Kind.EXPIRE, at__gt=hour_ago).exists()


# --- callbacks -----------------------------------------------------------------------------------


def test_past_callbacks_are_done_or_skipped_at_their_time_and_only_the_last_days_stay_open(demo: Any, db: Any) -> None:
    org = demo.organization
    open_from = timezone.make_aware(dt.datetime.combine(timezone.localdate() - OPEN_DAYS, dt.time()))
    callbacks = list(CareTask.objects.for_org(org).filter(kind=CareKind.CALLBACK).select_related("order"))
    assert len(callbacks) == demo.orders.paid
    past = [task for task in callbacks if task.order.paid_at < open_from]
    assert len(past) > 100
    assert all(task.state in (CareTask.State.DONE, CareTask.State.SKIPPED) for task in past)
    assert all(task.state == CareTask.State.OPEN for task in callbacks if task.order.paid_at >= open_from)
    for task in past:
        assert task.order.paid_at < task.closed_at <= task.due_at  # within the 48 hours
        assert task.closed_by_id == task.owner_id and task.result
    done = [task for task in past if task.state == CareTask.State.DONE]
    scores = Counter(task.score for task in done)
    assert set(scores) <= {1, 2, 3, 4, 5}
    assert scores[4] + scores[5] >= 0.75 * len(done)
    assert 0 < len(past) - len(done) < 0.2 * len(past)  # some could not be reached


def test_the_membership_and_callbacks_are_the_same_for_the_same_seed(db: Any) -> None:
    now = (timezone.localtime() - dt.timedelta(days=1)).replace(hour=11, minute=5, second=0, microsecond=0)

    def summary(prefix: str) -> list[Any]:
        org = demo_build(customers=25, seed=4, now=now, user_prefix=prefix, org_name="会员同种子" + prefix).organization
        return [
            list(
                TierChange.objects.for_org(org)
                .order_by("at", "customer__name")
                .values_list("customer__name", "to_tier__code", "reason", "note", "at")
            ),
            list(
                StoredValueEntry.objects.for_org(org)
                .order_by("at", "customer__name")
                .values_list("customer__name", "kind", "principal", "bonus", "at")
            ),
            sorted(Coupon.objects.for_org(org).values_list("customer__name", "name", "state", "issued_at")),
            sorted(PackageCardEntry.objects.for_org(org).values_list("customer__name", "kind", "amount", "at")),
            sorted(
                CareTask.objects.for_org(org).values_list("customer__name", "state", "score", "result", "closed_at")
            ),
            sorted(LoyaltyAccount.objects.for_org(org).values_list("number", "customer__name", "points")),
        ]

    first = summary("ls1_")
    assert first[0] and first[1]
    assert first == summary("ls2_")


def test_the_demo_reports_what_the_membership_story_did(demo: Any, db: Any) -> None:
    stats = demo.orders
    org = demo.organization
    assert stats.loyalty.cards_sold == PackageCard.objects.for_org(org).count()
    assert stats.loyalty.card_uses == PackageCardEntry.objects.for_org(org).filter(kind="use").count()
    assert stats.loyalty.coupons_used == Coupon.objects.for_org(org).filter(state="used").count()
    assert stats.callbacks.done == CareTask.objects.for_org(org).filter(state="done").count()
    paid = ServiceOrder.objects.for_org(org).filter(state=OrderState.PAID).count()
    assert stats.paid == paid
