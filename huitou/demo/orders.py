"""Demo service history: catalog, opening hours, orders, payments and appointments.

``history_with_services`` writes a small demo's history through the real
services (order_open, order_add_line, recommendations, order_complete,
order_pay, order_void, order_adjust, appointment_book ...), each given the
moment its step happens in the story as ``now`` (``StoryClock``), so order numbers, paid times, payment times and the
change history all carry the story's dates, and the services' own rules
(no payment beyond the amount due, no booking in the past, no lower
mileage reading) apply as they would have on that day.

A past visit that left an odometer reading in the customer demo is an
order at that reading: the order points at the existing reading (now of
source "order") instead of recording a second one. Today's orders record a
new reading above the vehicle's latest.

The benchmarks write millions of orders of the same kinds of work directly
(``bench/bulkload/orders.py``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.care.services.questionnaire import questionnaire_seed
from huitou.customers.models import Customer, MileageReading, Stage, Vehicle
from huitou.demo.care import Callbacks, CallbackStats
from huitou.demo.clock import Agenda, StoryClock
from huitou.demo.generator import DemoRandom, Weighted
from huitou.demo.lifecycle import DAILY_CHECK, stage_after
from huitou.demo.lifecycle_services import lifecycle_apply
from huitou.demo.loyalty import LoyaltyStats, LoyaltyStory
from huitou.demo.specs import MEMBERSHIP, PAID, FollowUpSpec, LifeEvent, StageEventSpec
from huitou.lifecycle.services.stages import stages_mark_inactive
from huitou.loyalty.models import PackageCard
from huitou.loyalty.starter import loyalty_seed
from huitou.messaging.starter import messaging_seed
from huitou.service.models import (
    Appointment,
    Part,
    PaymentMethod,
    Recommendation,
    ServiceItem,
    ServiceOrder,
)
from huitou.service.services.appointments import appointment_book, appointment_convert, appointment_transition
from huitou.service.services.catalog import price_for
from huitou.service.services.orders import (
    customer_visits_refresh,
    order_add_line,
    order_adjust,
    order_complete,
    order_open,
    order_pay,
    order_start,
    order_void,
    recommendation_add,
    recommendation_decide,
)
from huitou.service.starter import catalog_seed, opening_hours_seed
from huitou.tenancy.models import Organization, Shop, User

HISTORY_DAYS = 730  # the shop has used the system for two years
OPENS, CLOSES = dt.time(8, 30), dt.time(18, 30)
ZERO = Decimal("0.00")
ONE = Decimal(1)

PAYMENT_WEIGHTS = (
    (PaymentMethod.WECHAT.value, 46),
    (PaymentMethod.ALIPAY.value, 24),
    (PaymentMethod.CASH.value, 14),
    (PaymentMethod.CARD.value, 16),
)
SPLIT_SHARE = 0.07  # bills paid with two methods
DISCOUNT_SHARE = {Stage.MEMBER.value: 0.35}
DEFAULT_DISCOUNT_SHARE = 0.12
VOID_EVERY = 60  # one visit in so many starts with an order opened by mistake and voided
RECOMMENDATION_SHARE = 0.16
DETAILING_CUSTOMER_SHARE = 0.4

# Oil and the parts of a maintenance (code, quantity).
MINOR = ("M01", (("P002", 1), ("P003", 1)))
MINOR_SYNTHETIC = ("M01", (("P001", 1), ("P003", 1)))
MAJOR = ("M02", (("P001", 1), ("P003", 1), ("P004", 1), ("P006", 1)))
# Other interval work: service, parts, interval km, chance when due.
INTERVAL_WORK = (
    ("M03", (("P005", 1),), 10_000, 0.7),
    ("M04", (("P009", 1),), 40_000, 0.6),
    ("M07", (("P013", 1),), 40_000, 0.4),
    ("M06", (("P010", 4),), 40_000, 0.5),
    ("M05", (("P014", 4),), 60_000, 0.5),
    ("M08", (), 20_000, 0.25),
    ("T01", (), 20_000, 0.3),
    ("T03", (), 10_000, 0.3),
)
NEV_INTERVAL_WORK = (
    ("I03", (), 10_000, 0.9),
    ("M03", (("P005", 1),), 10_000, 0.7),
    ("M04", (("P009", 1),), 40_000, 0.6),
    ("T03", (), 10_000, 0.4),
    ("T01", (), 20_000, 0.3),
)
REPAIRS = Weighted(
    [
        (("R01", (("P007", 1),)), 22),
        (("R02", (("P008", 1),)), 14),
        (("R03", (("P011", 1),)), 14),
        (("R04", (("P012", 1),)), 16),
        (("R05", ()), 12),
        (("R06", ()), 8),
        (("R07", ()), 8),
        (("T04", ()), 10),
        (("T02", (("P015", 2),)), 6),
    ]
)
DETAILING = Weighted(
    [
        (("D01", ()), 40),
        (("D02", (("P018", 1),)), 22),
        (("D03", (("P017", 1),)), 12),
        (("D05", ()), 10),
        (("D04", ()), 7),
        (("D06", ()), 6),
        (("D07", ()), 3),
    ]
)
# Further work a technician finds: service, what they say, urgency.
FINDINGS = (
    ("R01", "前刹车片剩余约3mm，建议尽快更换", Recommendation.Urgency.NOW),
    ("R02", "后刹车片磨损过半，下次保养时更换", Recommendation.Urgency.LATER),
    ("R03", "蓄电池检测电压偏低，冬季可能打不着火", Recommendation.Urgency.SOON),
    ("R04", "雨刮片老化，刮不干净", Recommendation.Urgency.LATER),
    ("T01", "方向跑偏，轮胎偏磨，建议四轮定位", Recommendation.Urgency.SOON),
    ("M08", "怠速抖动，建议清洗节气门", Recommendation.Urgency.LATER),
    ("D05", "内饰有异味，建议清洗消毒", Recommendation.Urgency.LATER),
    ("R05", "空调制冷效果差，建议检修加氟", Recommendation.Urgency.SOON),
)
COMPLAINTS = ("", "", "", "常规保养", "仪表提示保养", "刹车有异响", "空调不够凉", "跑高速前检查一下", "洗车打蜡")
VOID_REASONS = ("重复开单", "客户临时有事，改天再来", "开错车辆")
ADJUSTMENTS = (
    (Decimal("-50.00"), "会员折扣结账时漏录，退回差额"),
    (Decimal("38.00"), "加注玻璃水一瓶，结账时未录入，客户同意补收"),
)
TODAY_NOTES = ("想做个小保养", "刹车有点软", "洗车+打蜡", "空调有异味", "")


@dataclass
class HistoryStats:
    followups: int = 0  # recorded after first paid visits, with the orders
    orders: int = 0
    paid: int = 0
    lines: int = 0
    payments: int = 0
    voided: int = 0
    open_today: int = 0
    adjustments: int = 0
    declined: int = 0
    appointments: int = 0
    seconds: float = 0.0
    loyalty: LoyaltyStats = field(default_factory=LoyaltyStats)
    callbacks: CallbackStats = field(default_factory=CallbackStats)


def catalog_and_hours(*, organization: Organization) -> list[Shop]:
    """The starter catalog, the membership programme and every shop's opening hours (idempotent)."""
    catalog_seed(organization=organization)
    loyalty_seed(organization=organization)
    messaging_seed(organization=organization)
    questionnaire_seed(organization=organization)
    shops = list(Shop.objects.for_org(organization).order_by("pk"))
    for shop in shops:
        opening_hours_seed(shop=shop)
    return shops


# --- through the services ---------------------------------------------------------------------


@dataclass
class _Visit:
    at: dt.datetime
    customer: Customer
    vehicle: Vehicle
    reading: MileageReading | None  # None: a detailing visit without an odometer reading
    detailing: bool = False


# A lifecycle event of one file: (customer id, event).
_Event = tuple[int, LifeEvent]


@dataclass
class _Context:
    organization: Organization
    shops: list[Shop]
    staff: Mapping[str, User]
    services: dict[str, ServiceItem]
    parts: dict[str, Part]
    rnd: DemoRandom
    now: dt.datetime
    stats: HistoryStats
    clock: StoryClock
    payment: Weighted = field(default_factory=lambda: Weighted(PAYMENT_WEIGHTS))
    # The km of the last time each piece of interval work was done, by vehicle.
    done_at_km: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    paid_orders: list[ServiceOrder] = field(default_factory=list)
    adjusted: list[ServiceOrder] = field(default_factory=list)
    # What the story owes later (callbacks, corrections), and the membership and callback sides of it.
    agenda: Agenda = field(default_factory=Agenda)
    loyalty: LoyaltyStory | None = None
    callbacks: Callbacks | None = None


def history_with_services(
    *,
    organization: Organization,
    staff: Mapping[str, User],
    seed: int,
    now: dt.datetime | None = None,
    lifecycle: Mapping[int, Sequence[LifeEvent]] | None = None,
) -> HistoryStats:
    """Catalog, hours, two years of orders, today's work and the coming appointments.

    ``lifecycle``: each file's story from its first paid visit on (customer
    id: events), told in time order with the orders: the orders' payments
    convert the files, the daily visit check runs every night of the two
    years, and the follow-ups and memberships happen in between.
    """
    started = time.monotonic()
    now = timezone.localtime(now or timezone.now())
    shops = catalog_and_hours(organization=organization)
    ctx = _Context(
        organization=organization,
        shops=shops,
        staff=staff,
        services={s.code: s for s in ServiceItem.objects.for_org(organization)},
        parts={p.code: p for p in Part.objects.for_org(organization)},
        rnd=DemoRandom(seed * 7919 + 17),
        now=now,
        stats=HistoryStats(),
        clock=StoryClock(now, until=now),
    )
    clock = ctx.clock
    lifecycle = lifecycle or {}
    joins = {
        customer_id: event.at
        for customer_id, events in lifecycle.items()
        for event in events
        if isinstance(event, StageEventSpec) and event.kind == MEMBERSHIP
    }
    ctx.loyalty = LoyaltyStory(
        organization=organization,
        staff=staff,
        shops=shops,
        rnd=DemoRandom(seed * 6007 + 29),
        now=now,
        joins=joins,
        sources=dict(Customer.objects.for_org(organization).values_list("pk", "source__code")),
        stats=ctx.stats.loyalty,
    )
    ctx.callbacks = Callbacks(
        organization=organization,
        staff=staff,
        rnd=DemoRandom(seed * 4099 + 11),
        now=now,
        agenda=ctx.agenda,
        stats=ctx.stats.callbacks,
    )
    steps = _story(ctx, lifecycle)
    # A couple of paid bills are corrected the day after: the first bill over 200 from each point on.
    corrections = [sum(isinstance(s, _Visit) for s in steps) * (n + 1) // (len(ADJUSTMENTS) + 1) for n in range(2)]
    visits = 0
    for step in steps:
        if isinstance(step, _Visit):
            _catch_up(ctx, step.at)
            with transaction.atomic():
                order = _past_order(ctx, clock, step, void_first=visits % VOID_EVERY == 7)
            visits += 1
            if corrections and visits >= corrections[0] and order.total > 200:
                _correct_later(ctx, order, *ADJUSTMENTS[len(ADJUSTMENTS) - len(corrections)])
                corrections.pop(0)
        elif isinstance(step, dt.datetime):
            _catch_up(ctx, step)
            clock.set(step)
            stages_mark_inactive(organization=organization, today=step.date(), now=step)
        else:
            customer_id, event = step
            _catch_up(ctx, event.at)
            customer = Customer.objects.for_org(organization).get(pk=customer_id)
            if isinstance(event, StageEventSpec) and event.kind == MEMBERSHIP:
                with transaction.atomic():
                    ctx.loyalty.join(customer, at=event.at, by=staff[event.staff])
            else:
                lifecycle_apply(event, customer=customer, staff=staff, visits_recorded=True)
            ctx.stats.followups += isinstance(event, FollowUpSpec)
    _catch_up(ctx, now)
    with transaction.atomic():
        _appointments_and_today(ctx, clock)
        ctx.loyalty.referrer_types()
    # Paying an order refreshes its customer's visit figures; an adjustment afterwards changes the total.
    for customer_id in {order.customer_id for order in ctx.adjusted}:
        customer_visits_refresh(organization_id=organization.pk, customer_id=customer_id)
    ctx.stats.seconds = time.monotonic() - started
    return ctx.stats


def _at(ctx: _Context, day: dt.date) -> dt.datetime:
    minutes = ctx.rnd.randint(0, 560)
    return timezone.make_aware(dt.datetime.combine(day, OPENS)) + dt.timedelta(minutes=minutes)


def _story(ctx: _Context, lifecycle: Mapping[int, Sequence[LifeEvent]]) -> list[_Visit | dt.datetime | _Event]:
    """The visits, the lifecycle events and, when there are events, the nightly visit checks, in time order."""
    visits = _visits(ctx, lifecycle)
    steps: list[tuple[dt.datetime, int, int, _Visit | dt.datetime | _Event]] = [
        (visit.at, 1, n, visit) for n, visit in enumerate(visits)
    ]
    for customer_id, events in lifecycle.items():
        steps += [(event.at, 2, customer_id, (customer_id, event)) for event in events]
    if lifecycle:
        steps += [(check, 0, 0, check) for check in _check_nights(ctx, visits)]
    steps.sort(key=lambda s: s[:3])
    return [step for *_key, step in steps]


def _check_nights(ctx: _Context, visits: Sequence[_Visit]) -> list[dt.datetime]:
    """The nights the daily visit check moves someone: a threshold's day after a visit, unless the
    customer came back before. (On the other nights it would find nobody: running it every night
    gives the same stages, at several times the queries.)"""
    days: dict[int, list[dt.date]] = defaultdict(list)
    for visit in visits:
        days[visit.customer.pk].append(timezone.localtime(visit.at).date())
    org = ctx.organization
    thresholds = [d + 1 for d in (org.dormant_after_days, org.lost_after_days) if d]
    nights: set[dt.date] = set()
    for dates in days.values():
        dates = sorted(set(dates))
        for day, following in zip(dates, [*dates[1:], None], strict=True):
            for threshold in thresholds:
                night = day + dt.timedelta(days=threshold)
                if following is None or following >= night:
                    nights.add(night)
    checks = [timezone.make_aware(dt.datetime.combine(night, DAILY_CHECK)) for night in sorted(nights)]
    return [check for check in checks if check < ctx.now]


def _visits(ctx: _Context, lifecycle: Mapping[int, Sequence[LifeEvent]]) -> list[_Visit]:
    """Every visit of the last two years in time order: the odometer readings and detailing visits.

    Regular customers (customer or member at the end of their story) also
    come in for detailing, after their first paid visit.
    """
    rnd, now = ctx.rnd, ctx.now
    first_day = now - dt.timedelta(days=HISTORY_DAYS)
    yesterday = now.date() - dt.timedelta(days=1)
    customers = {c.pk: c for c in Customer.objects.for_org(ctx.organization).filter(deleted_at=None)}
    vehicles = list(
        Vehicle.objects.for_org(ctx.organization).filter(deleted_at=None, customer_id__in=customers).order_by("pk")
    )
    readings: dict[int, list[MileageReading]] = defaultdict(list)
    for reading in (
        MileageReading.objects.for_org(ctx.organization)
        .filter(vehicle__in=vehicles, read_at__gte=first_day, read_at__lt=now)
        .order_by("vehicle_id", "read_at", "pk")
    ):
        readings[reading.vehicle_id].append(reading)
    visits = []
    for vehicle in vehicles:
        customer = customers[vehicle.customer_id]
        for reading in readings[vehicle.pk]:
            visits.append(_Visit(reading.read_at, customer, vehicle, reading))
        events = lifecycle.get(customer.pk, ())
        stage = stage_after(events, customer.stage)
        if stage in (Stage.CUSTOMER, Stage.MEMBER) and rnd.random() < DETAILING_CUSTOMER_SHARE:
            first_paid = next((e.at for e in events if isinstance(e, StageEventSpec) and e.kind == PAID), None)
            start = max(vehicle.created_at, first_day, first_paid or first_day).date()
            span = (yesterday - start).days
            for _n in range(rnd.randint(1, 3) if span > 0 else 0):
                day = start + dt.timedelta(days=rnd.randint(1, span))
                visits.append(_Visit(_at(ctx, day), customer, vehicle, None, detailing=True))
    visits.sort(key=lambda v: (v.at, v.vehicle.pk))
    return visits


def _due(ctx: _Context, vehicle: Vehicle, code: str, km: int, interval: int) -> bool:
    done = ctx.done_at_km[vehicle.pk]
    if code not in done:  # before the shop's records: somewhere within the last interval
        done[code] = km - ctx.rnd.randint(0, interval)
    return km - done[code] >= interval * 0.9


def _work(ctx: _Context, visit: _Visit) -> list[tuple[str, tuple[tuple[str, int], ...]]]:
    """What is done at a visit: (service code, parts) in the order they go on the bill."""
    rnd = ctx.rnd
    if visit.detailing or visit.reading is None:
        return [DETAILING(rnd)]
    vehicle, km = visit.vehicle, visit.reading.km
    done = ctx.done_at_km[vehicle.pk]
    work: list[tuple[str, tuple[tuple[str, int], ...]]] = []
    nev = len(vehicle.plate) == 8
    if not nev:
        if _due(ctx, vehicle, "M02", km, 20_000):
            work.append(MAJOR)
            done["M02"] = done["M01"] = km
        elif _due(ctx, vehicle, "M01", km, 5_000) or rnd.random() < 0.3:
            work.append(MINOR_SYNTHETIC if rnd.random() < 0.45 else MINOR)
            done["M01"] = km
    for code, parts, interval, chance in NEV_INTERVAL_WORK if nev else INTERVAL_WORK:
        if _due(ctx, vehicle, code, km, interval) and rnd.random() < chance:
            work.append((code, parts))
            done[code] = km
    if rnd.random() < 0.14 or not work:
        repair = REPAIRS(rnd)
        if repair[0] not in (w[0] for w in work):
            work.append(repair)
    if rnd.random() < 0.3:
        work.append(("D01", ()))  # a wash with the service
    return work


def _tick(clock: StoryClock, minutes: float) -> None:
    clock.tick(minutes)


def _advisor(ctx: _Context, shop: Shop) -> User:
    return ctx.staff["advisor"] if shop == ctx.shops[0] else ctx.staff["owner"]


def _technician(ctx: _Context) -> User:
    return ctx.staff["tech"] if ctx.rnd.random() < 0.8 else ctx.staff["owner"]


def _add_work(
    ctx: _Context,
    order: ServiceOrder,
    by: User,
    work: Sequence[tuple[str, Any]],
    discount: bool,
    cards: Mapping[str, PackageCard] | None = None,
) -> None:
    """Write the work on the order; a service a package card pays for is written as the card's use."""
    rnd = ctx.rnd
    for n, (code, parts) in enumerate(work):
        service = ctx.services[code]
        off: Decimal = ZERO
        if cards and code in cards:
            assert ctx.loyalty is not None
            ctx.loyalty.use_card(order, cards[code], service, by=by, at=ctx.clock.at)
            ctx.stats.lines += 1
            for part_code, qty in parts:
                order_add_line(order=order, by=by, part=ctx.parts[part_code], quantity=qty, now=ctx.clock.at)
                ctx.stats.lines += 1
            _tick(ctx.clock, 2)
            continue
        if discount and n == 0:
            price = price_for(shop_id=order.shop_id, item=service)
            if code == "D01" and len(work) > 1:
                off = price  # the wash comes free with the service
            else:
                off = (price * Decimal(rnd.choice((10, 15, 20))) / 100).quantize(ONE, ROUND_HALF_UP)
        elif code == "D01" and n > 0 and rnd.random() < 0.6:
            off = price_for(shop_id=order.shop_id, item=service)
        order_add_line(order=order, by=by, service=service, discount=off, technician=_technician(ctx), now=ctx.clock.at)
        ctx.stats.lines += 1
        for part_code, qty in parts:
            order_add_line(order=order, by=by, part=ctx.parts[part_code], quantity=qty, now=ctx.clock.at)
            ctx.stats.lines += 1
        _tick(ctx.clock, 2)


def _pay(ctx: _Context, order: ServiceOrder, by: User) -> None:
    rnd = ctx.rnd
    due = order.amount_due
    if due > 100 and rnd.random() < SPLIT_SHARE:
        first = (due * Decimal(rnd.choice((30, 50, 60))) / 100).quantize(ONE, ROUND_HALF_UP)
        order_pay(order=order, by=by, method=PaymentMethod.CASH, amount=first, now=ctx.clock.at)
        ctx.stats.payments += 1
        due = order.amount_due
    order_pay(order=order, by=by, method=ctx.payment(rnd), amount=due, now=ctx.clock.at)
    ctx.stats.payments += 1


def _past_order(ctx: _Context, clock: StoryClock, visit: _Visit, *, void_first: bool) -> ServiceOrder:
    rnd, stats, loyalty = ctx.rnd, ctx.stats, ctx.loyalty
    assert loyalty is not None and ctx.callbacks is not None
    clock.set(loyalty.ready_at(visit.customer, visit.at))
    shop = ctx.shops[0] if visit.customer.pk % 3 else ctx.shops[-1]
    advisor = _advisor(ctx, shop)
    if void_first:
        voided = order_open(organization=ctx.organization, shop=shop, vehicle=visit.vehicle, by=advisor, now=clock.at)
        order_add_line(order=voided, by=advisor, service=ctx.services["D01"], now=clock.at)
        _tick(clock, 3)
        order_void(order=voided, by=advisor, reason=rnd.choice(VOID_REASONS), now=clock.at)
        stats.orders += 1
        stats.voided += 1
        _tick(clock, 2)
    work = _work(ctx, visit)
    order = order_open(
        organization=ctx.organization,
        shop=shop,
        vehicle=visit.vehicle,
        by=advisor,
        description=rnd.choice(COMPLAINTS) if not visit.detailing else "",
        now=clock.at,
    )
    stats.orders += 1
    if visit.reading is not None:
        _attach_reading(order, visit.reading)
    loyalty.at_reception(order, visit.customer, visit_at=visit.at, by=advisor, at=clock.at)
    _tick(clock, 5)
    if rnd.random() < 0.6:
        order_start(order=order, by=ctx.staff["tech"], now=clock.at)
    share = DISCOUNT_SHARE.get(visit.customer.stage, DEFAULT_DISCOUNT_SHARE)
    codes = [code for code, _parts in work]
    cards = loyalty.cards_for(order, visit.customer, codes=codes, at=clock.at)
    _add_work(ctx, order, advisor, work, discount=rnd.random() < share, cards=cards)
    if not visit.detailing and rnd.random() < RECOMMENDATION_SHARE:
        _recommend(ctx, clock, order, work)
    loyalty.add_sales(order, visit.customer, visit.vehicle, codes=codes, by=advisor, at=clock.at)
    _tick(clock, 20 + sum(float(ctx.services[code].standard_hours) for code, _parts in work) * 60)
    order_complete(order=order, by=advisor, now=clock.at)
    _tick(clock, rnd.randint(3, 25))
    payments = loyalty.checkout(order, visit.customer, by=advisor, at=clock.at, pay_with=ctx.payment)
    if payments:
        stats.payments += payments
    else:
        _pay(ctx, order, advisor)
    stats.paid += 1
    ctx.paid_orders.append(order)
    loyalty.after_paid(order, visit.customer)
    ctx.callbacks.after_paid(order)
    return order


def _attach_reading(order: ServiceOrder, reading: MileageReading) -> None:
    """The visit's odometer reading is the order's mileage at arrival."""
    ServiceOrder.objects.for_org(order.organization_id).filter(pk=order.pk).update(
        mileage=reading, mileage_km=reading.km
    )
    order.mileage, order.mileage_km = reading, reading.km
    MileageReading.objects.for_org(order.organization_id).filter(pk=reading.pk).update(
        source=MileageReading.Source.ORDER
    )
    created = (
        ChangeEntry.objects.for_org(order.organization_id)
        .filter(subject_type="serviceorder", subject_id=order.pk, action=ChangeEntry.Action.CREATED)
        .first()
    )
    if created is not None:
        created.changes = {**created.changes, "mileage": [None, reading.km]}
        created.save(update_fields=["changes"])


def _recommend(ctx: _Context, clock: StoryClock, order: ServiceOrder, work: Sequence[tuple[str, Any]]) -> None:
    rnd = ctx.rnd
    done = {code for code, _parts in work}
    choices = [f for f in FINDINGS if f[0] not in done]
    if not choices:
        return
    code, text, urgency = rnd.choice(choices)
    service = ctx.services[code]
    estimate = price_for(shop_id=order.shop_id, item=service)
    recommendation = recommendation_add(
        order=order,
        by=ctx.staff["tech"],
        description=text,
        urgency=urgency,
        estimate=estimate,
        service=service,
        now=clock.at,
    )
    _tick(clock, 15)
    accept = rnd.random() < 0.25
    recommendation_decide(recommendation=recommendation, by=_advisor(ctx, order.shop), accept=accept, now=clock.at)
    if accept:
        ctx.stats.lines += 1
    else:
        ctx.stats.declined += 1


def _catch_up(ctx: _Context, until: dt.datetime) -> None:
    """Whatever the story owes up to ``until``, in time order: the callbacks and corrections on the
    agenda, and the membership's nightly jobs on the nights they have work."""
    assert ctx.loyalty is not None
    while True:
        night = ctx.loyalty.next_night(until)
        owed = ctx.agenda.next_at()
        if owed is not None and owed > until:
            owed = None
        if night is None and owed is None:
            return
        if owed is None or (night is not None and night[0] <= owed):
            assert night is not None
            ctx.loyalty.run_night(*night)
        else:
            with transaction.atomic():
                ctx.agenda.run_next()


def _correct_later(ctx: _Context, order: ServiceOrder, amount: Decimal, reason: str) -> None:
    """A paid bill corrected the next day with a reason: refunded or paid up."""
    assert order.paid_at is not None

    def correct(at: dt.datetime) -> None:
        order_adjust(order=order, by=ctx.staff["owner"], amount=amount, reason=reason, now=at)
        ctx.stats.adjustments += 1
        ctx.adjusted.append(order)
        order_pay(
            order=order,
            by=ctx.staff["owner"],
            method=PaymentMethod.WECHAT,
            amount=order.amount_due,
            now=min(at + dt.timedelta(minutes=10), ctx.now),
        )
        ctx.stats.payments += 1

    ctx.agenda.add(min(order.paid_at + dt.timedelta(days=1, hours=2), ctx.now), correct)


def _appointments_and_today(ctx: _Context, clock: StoryClock) -> None:
    """Bookings for today and the next days (made in the days before), arrivals, today's open orders."""
    rnd, now = ctx.rnd, ctx.now
    vehicles = {
        v.customer_id: v for v in Vehicle.objects.for_org(ctx.organization).filter(deleted_at=None).order_by("-pk")
    }
    customers = [
        c
        for c in Customer.objects.for_org(ctx.organization)
        .filter(deleted_at=None, stage__in=[Stage.CUSTOMER, Stage.MEMBER])
        .order_by("pk")
        if c.pk in vehicles
    ]
    if not customers:
        return
    bookable = ("M01", "M02", "D02", "D03", "T01", "R05", "D05", "I01")
    taken: set[int] = set()
    arrived: list[Appointment] = []
    for offset, count in ((0, 6), (1, 5), (2, 4), (3, 3), (5, 3), (6, 2)):
        day = now.date() + dt.timedelta(days=offset)
        # Booked the day before the appointment at the latest (but never before the story ends).
        clock.set(min(timezone.make_aware(dt.datetime.combine(day - dt.timedelta(days=1), dt.time(17))), now))
        for _n in range(count):
            customer = rnd.choice(customers)
            if customer.pk in taken:
                continue
            taken.add(customer.pk)
            slot = dt.time(9 + rnd.randint(0, 8), 30)
            shop = rnd.choice(ctx.shops)
            appointment = appointment_book(
                shop=shop,
                customer=customer,
                day=day,
                slot=slot,
                by=ctx.staff["service"],
                vehicle=vehicles[customer.pk],
                service=ctx.services[rnd.choice(bookable)],
                note=rnd.choice(TODAY_NOTES),
                now=clock.at,
            )
            ctx.stats.appointments += 1
            _tick(clock, 7)
            if rnd.random() < 0.6:
                appointment_transition(
                    appointment=appointment, target=Appointment.State.CONFIRMED, by=ctx.staff["service"], now=clock.at
                )
            starts = timezone.make_aware(dt.datetime.combine(day, slot))
            if offset == 0 and starts <= now + dt.timedelta(minutes=30):
                arrived.append(appointment)
    # Today: the customers who came, and two who walked in.
    # (Not before midnight: a demo built just after it still has today's work today,
    # squeezed into the minutes since midnight.)
    clock.set(max(now - dt.timedelta(minutes=90), timezone.make_aware(dt.datetime.combine(now.date(), dt.time.min))))
    for appointment in arrived:
        appointment_transition(
            appointment=appointment, target=Appointment.State.ARRIVED, by=ctx.staff["advisor"], now=clock.at
        )
        _tick(clock, 5)
    walk_ins = [c for c in customers if c.pk not in taken][:2]
    receptions: list[tuple[Customer, Appointment | None]] = [(a.customer, a) for a in arrived[:2]]
    receptions += [(c, None) for c in walk_ins]
    for n, (customer, booked) in enumerate(receptions):
        vehicle = Vehicle.objects.for_org(ctx.organization).get(pk=vehicles[customer.pk].pk)  # its latest mileage
        km = (vehicle.mileage_km or 0) + rnd.randint(300, 4_000)
        shop = booked.shop if booked else ctx.shops[n % len(ctx.shops)]
        advisor = _advisor(ctx, shop)
        if booked is not None:
            order = appointment_convert(appointment=booked, by=advisor, mileage_km=km, now=clock.at)
        else:
            order = order_open(
                organization=ctx.organization,
                shop=shop,
                vehicle=vehicle,
                by=advisor,
                mileage_km=km,
                description=rnd.choice(TODAY_NOTES),
                now=clock.at,
            )
        ctx.stats.orders += 1
        ctx.stats.open_today += 1
        _tick(clock, 6)
        work = _work(ctx, _Visit(clock.at, customer, vehicle, order.mileage))
        if n % 2 == 0:
            order_start(order=order, by=ctx.staff["tech"], now=clock.at)
            _add_work(ctx, order, advisor, work, discount=False)
        else:
            _add_work(ctx, order, advisor, work[:1], discount=False)
        _tick(clock, 4)
