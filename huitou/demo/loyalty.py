"""The demo's membership story, through the real loyalty services at the story's moments.

``LoyaltyStory`` is driven by the order history (``huitou.demo.orders``):

- **Joining** happens on the visit the file's story says (the lifecycle's
  membership event), at the counter: ``membership_set_tier`` at that moment,
  often with a first top-up (``stored_value_top_up``, the starter's bonus
  rules apply). A top-up of 3,000 or 10,000 comes with gold or diamond given
  by hand, as shops run it (储值直升); a customer who moved over from a
  competitor exchanges their old card for silver. Spending moves members up
  by itself (``tier_on_order_paid``, on every paid order).
- **Package cards** are sold as an order line of their sale item on a visit
  with the service they cover (issued when that order is paid) and used on
  later visits: the advisor writes that service as a card use (``card_use``).
- **At the counter** a visit is settled with ``order_checkout`` when the
  customer uses something they hold: a coupon (the starter's 满100送20 labour
  coupon, issued by its rule after each paid order of 100 or more, or a
  tier's free wash), points, the stored-value balance (topped up again when
  it runs short), and the rest by an outside method.
- **The nightly jobs** run on the nights they have work, at their hours:
  points and coupons expire (00:20), the tier review keeps or moves members
  down and the joining anniversaries top up the free services (03:30).
- Points are earned and referral rewards granted by the product's own
  ``order_paid`` receivers; referrers are given their type at the end.

Every decision is drawn from the story's own random stream in the story's
order, so a seed gives the same membership story. Cards are sold only while
they cannot run out before the demo is built (the card expiry job takes no
story time).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from huitou.customers.models import Customer, Vehicle
from huitou.demo.generator import DemoRandom, Weighted
from huitou.loyalty.models import (
    CardBinding,
    CardProduct,
    Coupon,
    CouponKind,
    CouponTemplate,
    LoyaltyAccount,
    PackageCard,
    PointsEntry,
    ReferrerType,
    Tier,
)
from huitou.loyalty.services.cards import card_use
from huitou.loyalty.services.checkout import ALL, order_checkout
from huitou.loyalty.services.coupons import coupons_expire
from huitou.loyalty.services.points import points_expire
from huitou.loyalty.services.program import program_for
from huitou.loyalty.services.referrals import referrer_type_set
from huitou.loyalty.services.stored_value import stored_value_top_up
from huitou.loyalty.services.tiers import free_services_anniversaries, membership_set_tier, tiers_review
from huitou.service.errors import StateConflict
from huitou.service.models import OrderLine, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line
from huitou.tenancy.models import Organization, Shop, User

ZERO = Decimal("0.00")

# The first top-up when joining ("" none), and the tier given by hand with the larger ones.
JOIN_TOP_UPS = Weighted([("", 45), ("500", 10), ("1000", 30), ("3000", 12), ("10000", 3)])
TIER_FOR_TOP_UP = {
    "3000": ("gold", "储值3000元，按店内活动直升金卡"),
    "10000": ("diamond", "储值10000元，店长特批钻石卡"),
}
# A customer who moved over from a competitor exchanges their old card (source, tier, note).
SWITCHED = ("competitor_switch", "silver", "原店会员卡换卡入会，按银卡办理")
TOP_UP_METHODS = Weighted([("wechat", 55), ("alipay", 25), ("card", 12), ("cash", 8)])
JOIN_WINDOW = dt.timedelta(hours=1)  # a membership event this soon after a visit starts is a join at that visit
REFILL_SHARE = 0.6  # a saver whose balance does not cover the bill tops up again at the counter
STORED_VALUE_USE = 0.9  # a saver pays from the balance
BONUS_USE = 0.5  # someone holding only a reward bonus spends it
CARD_USE = 0.9
# Package cards: product code, chance at a visit with its service, chance for a member, sold only
# within this many days before the build (so none runs out before the demo is built).
CARD_SALES: tuple[tuple[str, float, float, int], ...] = (("wash-10", 0.15, 0.3, 330), ("maint-4", 0.06, 0.15, 700))
FREE_SERVICE_COUPON_USE = 0.8
COUPON_USE = 0.45
POINTS_REDEEM = 0.25
POINTS_AT_LEAST = 2000  # points a customer holds before thinking of redeeming them
POINTS_STEP = 100
POINTS_MARGIN = Decimal("0.9")  # of the largest share points may pay
REFERRER_TYPES = Weighted(
    [(ReferrerType.HONOUR.value, 30), (ReferrerType.BENEFIT.value, 40), (ReferrerType.FAVOUR.value, 15)]
    + [(ReferrerType.FRIENDSHIP.value, 15)]
)
# The nightly jobs' hours (huitou.loyalty.tasks_rewards, huitou.loyalty.tasks), China time.
REWARDS_NIGHT = dt.time(0, 20)
REVIEW_NIGHT = dt.time(3, 30)
REWARDS, REVIEW = "rewards", "review"
# Work a day adds to the nightly jobs is due this many days later at the earliest: a tier review is a
# month or more away, a lot of points ends with next year, an anniversary a year on; the coupons' own
# validity may be shorter (``LoyaltyStory.horizon``).
NIGHTLY_HORIZON = 28


@dataclass
class LoyaltyStats:
    members: int = 0
    top_ups: int = 0
    cards_sold: int = 0
    card_uses: int = 0
    coupons_used: int = 0
    points_redeemed: int = 0
    stored_value_payments: int = 0
    checkouts: int = 0
    nights: int = 0
    referrer_types: int = 0


@dataclass
class _Product:
    product: CardProduct
    covered: frozenset[int]  # service ids
    covered_codes: frozenset[str]


class LoyaltyStory:
    """The membership side of the demo's history; see the module's docstring."""

    def __init__(
        self,
        *,
        organization: Organization,
        staff: Mapping[str, User],
        shops: Sequence[Shop],
        rnd: DemoRandom,
        now: dt.datetime,
        joins: Mapping[int, dt.datetime],
        sources: Mapping[int, str],
        stats: LoyaltyStats | None = None,
    ) -> None:
        self.organization = organization
        self.staff = staff
        self.shops = {shop.pk: shop for shop in shops}
        self.first_shop = shops[0]
        self.rnd = rnd
        self.now = now
        self.joins = joins
        self.sources = sources
        self.stats = stats or LoyaltyStats()
        self.tiers = set(Tier.objects.for_org(organization).filter(is_active=True).values_list("code", flat=True))
        self.products: list[_Product] = []
        for product in (
            CardProduct.objects.for_org(organization)
            .filter(is_active=True, sale_item__isnull=False)
            .prefetch_related("services")
            .select_related("sale_item")
            .order_by("pk")
        ):
            services = list(product.services.all())
            self.products.append(
                _Product(product, frozenset(s.pk for s in services), frozenset(s.code for s in services))
            )
        self.covered = {p.product.pk: p.covered for p in self.products}
        program = program_for(organization)
        self.point_value, self.points_share = program.point_value, program.max_points_share
        self._template_services: dict[int, frozenset[int]] = {}
        self.joined: set[int] = set()
        self.savers: set[int] = set()  # customers who keep stored value
        self.card_holders: set[int] = set()
        # The last moment a customer's balances moved (their bill paid, a referee's reward to them).
        self.busy: dict[int, dt.datetime] = {}
        # The nightly jobs: the next moment each has work, the last day it ran, and the day they were looked up.
        self._next: dict[str, dt.datetime | None] = {REWARDS: None, REVIEW: None}
        self._last: dict[str, dt.date | None] = {REWARDS: None, REVIEW: None}
        self._looked_up: dt.date | None = None
        shortest = CouponTemplate.objects.for_org(organization).aggregate(days=Min("days_valid"))["days"]
        self.horizon = dt.timedelta(days=max(1, min(NIGHTLY_HORIZON, shortest or NIGHTLY_HORIZON)))

    # --- joining and topping up ----------------------------------------------------------------

    def join(self, customer: Customer, *, at: dt.datetime, by: User, shop: Shop | None = None) -> None:
        """Join membership at ``at`` (once), often with a first top-up; a large one or a competitor's
        card chooses the tier by hand, else the tier the last 12 months reach."""
        if customer.pk in self.joined or customer.deleted_at is not None:
            return
        self.joined.add(customer.pk)
        at = self.ready_at(customer, at)
        tier, note = "", ""
        if self.sources.get(customer.pk) == SWITCHED[0]:
            tier, note = SWITCHED[1], SWITCHED[2]
        amount = JOIN_TOP_UPS(self.rnd)
        if amount:
            self.top_up(customer, amount=Decimal(amount), by=by, shop=shop, at=at)
            tier, note = TIER_FOR_TOP_UP.get(amount, (tier, note))
        membership_set_tier(customer=customer, tier=tier if tier in self.tiers else None, by=by, note=note, now=at)
        self.stats.members += 1

    def top_up(self, customer: Customer, *, amount: Decimal, by: User, shop: Shop | None, at: dt.datetime) -> None:
        stored_value_top_up(
            customer=customer,
            amount=amount,
            method=TOP_UP_METHODS(self.rnd),
            by=by,
            shop=shop or self.first_shop,
            now=at,
        )
        self.savers.add(customer.pk)
        self.stats.top_ups += 1

    def ready_at(self, customer: Customer, at: dt.datetime) -> dt.datetime:
        """When the customer can be served at ``at``: after their last bill (and their referrer's, whom
        their first bill rewards), so every ledger moves in time order.

        A customer with two cars in on the same day settles the second after the first.
        """
        moments = [self.busy.get(customer.pk), self.busy.get(customer.referrer_id or 0)]
        busy = max((m for m in moments if m is not None), default=None)
        if busy is None or at > busy:
            return at
        return min(busy + dt.timedelta(minutes=5), self.now)

    def after_paid(self, order: ServiceOrder, customer: Customer) -> None:
        """The customer's balances moved at the payment, and their referrer's (a first bill's reward)."""
        assert order.paid_at is not None
        for customer_id in (customer.pk, customer.referrer_id):
            if customer_id is not None:
                self.busy[customer_id] = max(self.busy.get(customer_id, order.paid_at), order.paid_at)

    def at_reception(
        self, order: ServiceOrder, customer: Customer, *, visit_at: dt.datetime, by: User, at: dt.datetime
    ) -> None:
        """A customer whose story has them join on this visit joins at the counter, before the work is written."""
        joins_at = self.joins.get(customer.pk)
        if joins_at is not None and visit_at <= joins_at <= visit_at + JOIN_WINDOW:
            self.join(customer, at=at, by=by, shop=self.shops.get(order.shop_id))

    # --- package cards sold -------------------------------------------------------------------

    def add_sales(
        self,
        order: ServiceOrder,
        customer: Customer,
        vehicle: Vehicle,
        *,
        codes: Sequence[str],
        by: User,
        at: dt.datetime,
    ) -> None:
        """On a visit with a service a card covers, the customer may buy the card (a line of its sale item)."""
        days_before_build = (self.now - at).days
        for code, chance, member_chance, within in CARD_SALES:
            found = next((p for p in self.products if p.product.code == code), None)
            if found is None or days_before_build > within or not found.covered_codes.intersection(codes):
                continue
            if self.rnd.random() >= (member_chance if customer.pk in self.joined else chance):
                continue
            if self._holds(found.product, customer, vehicle, timezone.localdate(at)):
                continue
            assert found.product.sale_item is not None
            order_add_line(order=order, by=by, service=found.product.sale_item, now=at)
            self.card_holders.add(customer.pk)
            self.stats.cards_sold += 1

    def _holds(self, product: CardProduct, customer: Customer, vehicle: Vehicle, today: dt.date) -> bool:
        cards = PackageCard.objects.for_org(self.organization).filter(
            product=product, state=PackageCard.State.ACTIVE, uses_left__gt=0, expires_on__gte=today
        )
        if product.binding == CardBinding.VEHICLE:
            return cards.filter(vehicle=vehicle).exists()
        return cards.filter(customer=customer).exists()

    def cards_for(
        self, order: ServiceOrder, customer: Customer, *, codes: Sequence[str], at: dt.datetime
    ) -> dict[str, PackageCard]:
        """The package cards that pay for this visit's services (by service code), chosen when the work is written."""
        if customer.pk not in self.card_holders:
            return {}
        cards = (
            PackageCard.objects.for_org(self.organization)
            .filter(
                customer=customer,
                state=PackageCard.State.ACTIVE,
                uses_left__gt=0,
                expires_on__gte=timezone.localdate(at),
            )
            .order_by("expires_on", "pk")
        )
        chosen: dict[str, PackageCard] = {}
        for card in cards:
            if card.vehicle_id is not None and card.vehicle_id != order.vehicle_id:
                continue
            found = next((p for p in self.products if p.product.pk == card.product_id), None)
            code = next((c for c in codes if found and c in found.covered_codes and c not in chosen), None)
            if code is not None and self.rnd.random() < CARD_USE:
                chosen[code] = card
        return chosen

    def use_card(
        self, order: ServiceOrder, card: PackageCard, service: ServiceItem, *, by: User, at: dt.datetime
    ) -> None:
        """One use of ``card`` pays the service's line (a line at 0.00, "套餐卡抵扣" on the bill)."""
        card_use(order=order, card=card, service=service, by=by, now=at)
        self.stats.card_uses += 1

    # --- the counter ----------------------------------------------------------------------------

    def checkout(
        self,
        order: ServiceOrder,
        customer: Customer,
        *,
        by: User,
        at: dt.datetime,
        pay_with: Callable[[DemoRandom], str],
    ) -> int:
        """Settle a completed order with what the customer holds (``order_checkout``): the payments taken.

        0 when the customer uses nothing the membership gives (the caller takes the payment).
        """
        org = self.organization
        today = timezone.localdate(at)
        account = LoyaltyAccount.objects.for_org(org).filter(customer_id=customer.pk).first()
        lines = list(OrderLine.objects.for_org(org).filter(order=order).order_by("pk"))
        off: dict[int, Decimal] = {}
        for row in lines:
            if row.applies_to_id is not None:
                off[row.applies_to_id] = off.get(row.applies_to_id, ZERO) + row.amount
        services = [ln for ln in lines if ln.kind == OrderLine.Kind.SERVICE and ln.amount > 0]
        total = order.total

        left = [ln for ln in services if ln.amount + off.get(ln.pk, ZERO) > 0]

        coupon = self._coupon(customer, left, total, today)
        if coupon is not None:
            template = coupon.template
            if template.kind == CouponKind.FREE_SERVICE:
                free = next(ln for ln in left if ln.service_id == template.free_service_id)
                total -= free.amount + off.get(free.pk, ZERO)
            elif template.kind == CouponKind.AMOUNT:
                total -= min(template.value, total)
            else:
                total -= total * template.value / 100

        points = 0
        if account is not None and account.points >= POINTS_AT_LEAST and self.rnd.random() < POINTS_REDEEM:
            most = total * self.points_share * POINTS_MARGIN / self.point_value
            points = min(account.points, int(most)) // POINTS_STEP * POINTS_STEP
            if points * self.point_value < 5:
                points = 0
            total -= points * self.point_value

        stored: str | None = None
        balance = account.stored_balance if account is not None else ZERO
        if customer.pk in self.savers:
            if balance < total and self.rnd.random() < REFILL_SHARE:
                amount = Decimal(3000 if total > 1000 else 1000)
                self.top_up(customer, amount=amount, by=by, shop=self.shops.get(order.shop_id), at=at)
                balance += amount
            if balance > 0 and self.rnd.random() < STORED_VALUE_USE:
                stored = ALL
        elif balance > 0 and self.rnd.random() < BONUS_USE:
            stored = ALL

        if coupon is None and not points and stored is None:
            return 0
        method = pay_with(self.rnd)
        try:
            with transaction.atomic():
                payments = order_checkout(
                    order=order,
                    by=by,
                    coupon=coupon,
                    points=points,
                    stored_value=stored,
                    method=method,
                    now=at,
                )
        except (StateConflict, ValidationError):
            # What the counter would have been told; the visit is then paid the plain way.
            order.refresh_from_db()
            return 0
        self.stats.checkouts += 1
        self.stats.coupons_used += coupon is not None
        self.stats.points_redeemed += points
        self.stats.stored_value_payments += sum(p.method == "stored_value" for p in payments)
        return len(payments)

    def _coupon(self, customer: Customer, lines: Sequence[OrderLine], total: Decimal, today: dt.date) -> Coupon | None:
        """A coupon the customer holds and uses on this bill, if any: a free service first."""
        held = list(
            Coupon.objects.for_org(self.organization)
            .filter(customer=customer, state=Coupon.State.ISSUED, expires_on__gte=today)
            .select_related("template")
            .order_by("expires_on", "pk")
        )
        if not held:
            return None
        service_ids = {ln.service_id for ln in lines}
        for coupon in sorted(held, key=lambda c: c.template.kind != CouponKind.FREE_SERVICE):
            template = coupon.template
            if template.kind == CouponKind.FREE_SERVICE:
                if template.free_service_id in service_ids and self.rnd.random() < FREE_SERVICE_COUPON_USE:
                    return coupon
                continue
            covered = self._covered_by(template)
            usable = total >= template.min_spend and total > 0 and (not covered or service_ids & covered)
            if usable and self.rnd.random() < COUPON_USE:
                return coupon
        return None

    def _covered_by(self, template: CouponTemplate) -> frozenset[int]:
        if template.pk not in self._template_services:
            self._template_services[template.pk] = frozenset(template.services.values_list("pk", flat=True))
        return self._template_services[template.pk]

    # --- the nightly jobs ----------------------------------------------------------------------

    def next_night(self, until: dt.datetime) -> tuple[dt.datetime, str] | None:
        """The first nightly job with work at or before ``until``, with its moment.

        Looked up again only when the story has moved ``horizon`` days on:
        what a day adds (a coupon, a member, a lot of points) is due that
        long after it at the earliest, so nothing falls due unseen.
        """
        day = timezone.localdate(until)
        if self._looked_up is None or day >= self._looked_up + self.horizon:
            yesterday = day - dt.timedelta(days=1)
            for job in self._next:
                self._last[job] = self._last[job] or yesterday
                self._next[job] = self._due(job)
            self._looked_up = day
        due = [(at, job) for job, at in self._next.items() if at is not None and at <= until]
        return min(due) if due else None

    def run_night(self, at: dt.datetime, job: str) -> None:
        org = self.organization
        day = timezone.localdate(at)
        with transaction.atomic():
            if job == REWARDS:
                points_expire(organization=org, now=at)
                coupons_expire(organization=org, now=at)
            else:
                tiers_review(organization=org, today=day, now=at)
                free_services_anniversaries(organization=org, today=day, now=at)
        self.stats.nights += 1
        self._last[job] = day
        self._next[job] = self._due(job)

    def _due(self, job: str) -> dt.datetime | None:
        """The next moment ``job`` has work after the last day it ran (or was looked up)."""
        org = self.organization
        last = self._last[job]
        assert last is not None
        days: list[dt.date] = []
        if job == REWARDS:
            # A coupon expires the night after its last day; a lot of points too.
            coupons = Coupon.objects.for_org(org).filter(state=Coupon.State.ISSUED)
            lots = PointsEntry.objects.for_org(org).filter(expires_on__gte=last)
            for row in (coupons.aggregate(day=Min("expires_on")), lots.aggregate(day=Min("expires_on"))):
                if row["day"] is not None:
                    days.append(row["day"] + dt.timedelta(days=1))
            hour = REWARDS_NIGHT
        else:
            members = LoyaltyAccount.objects.for_org(org).filter(tier__isnull=False)
            review = members.aggregate(day=Min("tier_review_on"))["day"]
            if review is not None:
                days.append(review)
            free = members.filter(~Q(member_since=None), tier__free_services_per_year__gt=0)
            days += [
                _anniversary_after(timezone.localdate(s), last) for s in free.values_list("member_since", flat=True)
            ]
            hour = REVIEW_NIGHT
        days = [max(d, last + dt.timedelta(days=1)) for d in days]
        if not days:
            return None
        return timezone.make_aware(dt.datetime.combine(min(days), hour))

    # --- the end of the story -------------------------------------------------------------------

    def referrer_types(self) -> None:
        """Customers whose referrals came to pay are tagged with why they bring others (no moment: a fact)."""
        org = self.organization
        referrers = (
            Customer.objects.for_org(org)
            .filter(deleted_at=None, pk__in=Customer.objects.for_org(org).filter(visit_count__gt=0).values("referrer"))
            .order_by("pk")
        )
        for customer in referrers:
            referrer_type_set(customer=customer, referrer_type=REFERRER_TYPES(self.rnd), by=None)
            self.stats.referrer_types += 1


def _anniversary_after(joined: dt.date, after: dt.date) -> dt.date:
    """The first anniversary of ``joined`` after ``after`` (a 29 February joiner on 28 February in other years)."""
    for year in (after.year, after.year + 1):
        day = dt.date(year, joined.month, min(joined.day, calendar.monthrange(year, joined.month)[1]))
        if day > after and day > joined:
            return day
    return dt.date(after.year + 2, joined.month, min(joined.day, calendar.monthrange(after.year + 2, joined.month)[1]))
