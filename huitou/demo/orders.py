"""Demo service history: catalog, opening hours, orders, payments and appointments.

``history_with_services`` writes a small demo's history through the real
services (order_open, order_add_line, recommendations, order_complete,
order_pay, order_void, order_adjust, appointment_book ...) under a demo
clock: ``django.utils.timezone.now`` is moved to the moment each step
happens in the story, so order numbers, paid times, payment times and the
change history all carry the story's dates, and the services' own rules
(no payment beyond the amount due, no booking in the past, no lower
mileage reading) apply as they would have on that day.

A past visit that left an odometer reading in the customer demo is an
order at that reading: the order points at the existing reading (now of
source "order") instead of recording a second one. Today's orders record a
new reading above the vehicle's latest.

``bulk_orders`` writes millions of paid orders with their lines and
payments directly (PostgreSQL COPY, ``executemany`` elsewhere), then sets
every customer's visit count, lifetime spend and first and last visit with
one UPDATE from the paid orders. It writes no change history.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.customers.models import Customer, MileageReading, Stage, Vehicle
from huitou.demo.clock import DemoClock
from huitou.demo.generator import DemoRandom, Weighted
from huitou.demo.lifecycle import DAILY_CHECK, stage_after
from huitou.demo.lifecycle_services import lifecycle_apply
from huitou.demo.loaders import DeferredIndexes, TableWriter
from huitou.demo.specs import PAID, FollowUpSpec, LifeEvent, StageEventSpec
from huitou.lib.money import line_amount
from huitou.lifecycle.models import StageChange
from huitou.lifecycle.services.stages import stages_mark_inactive
from huitou.service.models import (
    Appointment,
    OrderLine,
    OrderState,
    Part,
    Payment,
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


def catalog_and_hours(*, organization: Organization) -> list[Shop]:
    """The starter catalog and every shop's opening hours (idempotent)."""
    catalog_seed(organization=organization)
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
    clock: DemoClock
    payment: Weighted = field(default_factory=lambda: Weighted(PAYMENT_WEIGHTS))
    # The km of the last time each piece of interval work was done, by vehicle.
    done_at_km: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    paid_orders: list[ServiceOrder] = field(default_factory=list)


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
        clock=DemoClock(now),
    )
    clock = ctx.clock
    lifecycle = lifecycle or {}
    with clock.running():
        visits = 0
        for step in _story(ctx, lifecycle):
            if isinstance(step, _Visit):
                with transaction.atomic():
                    _past_order(ctx, clock, step, void_first=visits % VOID_EVERY == 7)
                visits += 1
            elif isinstance(step, dt.datetime):
                clock.set(step)
                stages_mark_inactive(organization=organization, today=step.date())
            else:
                customer_id, event = step
                customer = Customer.objects.get(pk=customer_id, organization=organization)
                lifecycle_apply(event, customer=customer, staff=staff, clock=clock, visits_recorded=True)
                ctx.stats.followups += isinstance(event, FollowUpSpec)
        with transaction.atomic():
            _adjustments(ctx, clock)
        with transaction.atomic():
            _appointments_and_today(ctx, clock)
    for customer_id in Customer.objects.for_org(organization).values_list("pk", flat=True):
        customer_visits_refresh(customer_id=customer_id)
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


def _tick(clock: DemoClock, minutes: float) -> None:
    clock.set(clock.at + dt.timedelta(minutes=minutes))


def _advisor(ctx: _Context, shop: Shop) -> User:
    return ctx.staff["advisor"] if shop == ctx.shops[0] else ctx.staff["owner"]


def _technician(ctx: _Context) -> User:
    return ctx.staff["tech"] if ctx.rnd.random() < 0.8 else ctx.staff["owner"]


def _add_work(ctx: _Context, order: ServiceOrder, by: User, work: Sequence[tuple[str, Any]], discount: bool) -> None:
    rnd = ctx.rnd
    for n, (code, parts) in enumerate(work):
        service = ctx.services[code]
        off: Decimal = ZERO
        if discount and n == 0:
            price = price_for(shop_id=order.shop_id, item=service)
            if code == "D01" and len(work) > 1:
                off = price  # the wash comes free with the service
            else:
                off = (price * Decimal(rnd.choice((10, 15, 20))) / 100).quantize(ONE, ROUND_HALF_UP)
        elif code == "D01" and n > 0 and rnd.random() < 0.6:
            off = price_for(shop_id=order.shop_id, item=service)
        order_add_line(order=order, by=by, service=service, discount=off, technician=_technician(ctx))
        ctx.stats.lines += 1
        for part_code, qty in parts:
            order_add_line(order=order, by=by, part=ctx.parts[part_code], quantity=qty)
            ctx.stats.lines += 1
        _tick(ctx.clock, 2)


def _pay(ctx: _Context, order: ServiceOrder, by: User) -> None:
    rnd = ctx.rnd
    due = order.amount_due
    if due > 100 and rnd.random() < SPLIT_SHARE:
        first = (due * Decimal(rnd.choice((30, 50, 60))) / 100).quantize(ONE, ROUND_HALF_UP)
        order_pay(order=order, by=by, method=PaymentMethod.CASH, amount=first)
        ctx.stats.payments += 1
        due = order.amount_due
    order_pay(order=order, by=by, method=ctx.payment(rnd), amount=due)
    ctx.stats.payments += 1


def _past_order(ctx: _Context, clock: DemoClock, visit: _Visit, *, void_first: bool) -> None:
    rnd, stats = ctx.rnd, ctx.stats
    clock.set(visit.at)
    shop = ctx.shops[0] if visit.customer.pk % 3 else ctx.shops[-1]
    advisor = _advisor(ctx, shop)
    if void_first:
        voided = order_open(organization=ctx.organization, shop=shop, vehicle=visit.vehicle, by=advisor)
        order_add_line(order=voided, by=advisor, service=ctx.services["D01"])
        _tick(clock, 3)
        order_void(order=voided, by=advisor, reason=rnd.choice(VOID_REASONS))
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
    )
    stats.orders += 1
    if visit.reading is not None:
        _attach_reading(order, visit.reading)
    _tick(clock, 5)
    if rnd.random() < 0.6:
        order_start(order=order, by=ctx.staff["tech"])
    share = DISCOUNT_SHARE.get(visit.customer.stage, DEFAULT_DISCOUNT_SHARE)
    _add_work(ctx, order, advisor, work, discount=rnd.random() < share)
    if not visit.detailing and rnd.random() < RECOMMENDATION_SHARE:
        _recommend(ctx, clock, order, work)
    _tick(clock, 20 + sum(float(ctx.services[code].standard_hours) for code, _parts in work) * 60)
    order_complete(order=order, by=advisor)
    _tick(clock, rnd.randint(3, 25))
    _pay(ctx, order, advisor)
    stats.paid += 1
    ctx.paid_orders.append(order)


def _attach_reading(order: ServiceOrder, reading: MileageReading) -> None:
    """The visit's odometer reading is the order's mileage at arrival."""
    ServiceOrder.objects.filter(pk=order.pk).update(mileage=reading, mileage_km=reading.km)
    order.mileage, order.mileage_km = reading, reading.km
    MileageReading.objects.filter(pk=reading.pk).update(source=MileageReading.Source.ORDER)
    created = ChangeEntry.objects.filter(
        subject_type="serviceorder", subject_id=order.pk, action=ChangeEntry.Action.CREATED
    ).first()
    if created is not None:
        created.changes = {**created.changes, "mileage": [None, reading.km]}
        created.save(update_fields=["changes"])


def _recommend(ctx: _Context, clock: DemoClock, order: ServiceOrder, work: Sequence[tuple[str, Any]]) -> None:
    rnd = ctx.rnd
    done = {code for code, _parts in work}
    choices = [f for f in FINDINGS if f[0] not in done]
    if not choices:
        return
    code, text, urgency = rnd.choice(choices)
    service = ctx.services[code]
    estimate = price_for(shop_id=order.shop_id, item=service)
    recommendation = recommendation_add(
        order=order, by=ctx.staff["tech"], description=text, urgency=urgency, estimate=estimate, service=service
    )
    _tick(clock, 15)
    accept = rnd.random() < 0.25
    recommendation_decide(recommendation=recommendation, by=_advisor(ctx, order.shop), accept=accept)
    if accept:
        ctx.stats.lines += 1
    else:
        ctx.stats.declined += 1


def _adjustments(ctx: _Context, clock: DemoClock) -> None:
    """A couple of paid bills corrected afterwards, with a reason: refunded or paid up."""
    candidates = [o for o in ctx.paid_orders if o.total > 200]
    if not candidates:
        return
    step = max(len(candidates) // (len(ADJUSTMENTS) + 1), 1)
    for n, (amount, reason) in enumerate(ADJUSTMENTS):
        order = candidates[min((n + 1) * step, len(candidates) - 1)]
        assert order.paid_at is not None
        clock.set(min(order.paid_at + dt.timedelta(days=1, hours=2), ctx.now))
        order_adjust(order=order, by=ctx.staff["owner"], amount=amount, reason=reason)
        ctx.stats.adjustments += 1
        _tick(clock, 10)
        order_pay(order=order, by=ctx.staff["owner"], method=PaymentMethod.WECHAT, amount=order.amount_due)
        ctx.stats.payments += 1


def _appointments_and_today(ctx: _Context, clock: DemoClock) -> None:
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
            )
            ctx.stats.appointments += 1
            _tick(clock, 7)
            if rnd.random() < 0.6:
                appointment_transition(
                    appointment=appointment, target=Appointment.State.CONFIRMED, by=ctx.staff["service"]
                )
            starts = timezone.make_aware(dt.datetime.combine(day, slot))
            if offset == 0 and starts <= now + dt.timedelta(minutes=30):
                arrived.append(appointment)
    # Today: the customers who came, and two who walked in.
    # (Not before midnight: a demo built just after it still has today's work today.)
    clock.set(max(now - dt.timedelta(minutes=90), timezone.make_aware(dt.datetime.combine(now.date(), dt.time.min))))
    for appointment in arrived:
        appointment_transition(appointment=appointment, target=Appointment.State.ARRIVED, by=ctx.staff["advisor"])
        _tick(clock, 5)
    walk_ins = [c for c in customers if c.pk not in taken][:2]
    receptions: list[tuple[Customer, Appointment | None]] = [(a.customer, a) for a in arrived[:2]]
    receptions += [(c, None) for c in walk_ins]
    for n, (customer, booked) in enumerate(receptions):
        vehicle = Vehicle.objects.get(pk=vehicles[customer.pk].pk)  # its latest mileage
        km = (vehicle.mileage_km or 0) + rnd.randint(300, 4_000)
        shop = booked.shop if booked else ctx.shops[n % len(ctx.shops)]
        advisor = _advisor(ctx, shop)
        if booked is not None:
            order = appointment_convert(appointment=booked, by=advisor, mileage_km=km)
        else:
            order = order_open(
                organization=ctx.organization,
                shop=shop,
                vehicle=vehicle,
                by=advisor,
                mileage_km=km,
                description=rnd.choice(TODAY_NOTES),
            )
        ctx.stats.orders += 1
        ctx.stats.open_today += 1
        _tick(clock, 6)
        work = _work(ctx, _Visit(clock.at, customer, vehicle, order.mileage))
        if n % 2 == 0:
            order_start(order=order, by=ctx.staff["tech"])
            _add_work(ctx, order, advisor, work, discount=False)
        else:
            _add_work(ctx, order, advisor, work[:1], discount=False)
        _tick(clock, 4)


# --- in bulk (PostgreSQL COPY) ----------------------------------------------------------------


@dataclass
class BulkStats:
    orders: int = 0
    lines: int = 0
    payments: int = 0
    seconds: float = 0.0
    rebuild_seconds: float = 0.0
    visits_seconds: float = 0.0


@dataclass(frozen=True)
class _Template:
    """One kind of bill: its lines as (kind, item id, name, quantity, unit price, unit cost, hours)."""

    lines: tuple[tuple[str, int, str, Decimal, Decimal, Decimal | None], ...]
    minutes: int
    mileage: bool
    weight: int


# (service and parts) per bill kind, weight, with an odometer reading
BULK_BILLS: tuple[tuple[tuple[tuple[str, tuple[tuple[str, int], ...]], ...], int, bool], ...] = (
    ((MINOR,), 22, True),
    ((MINOR_SYNTHETIC, ("D01", ())), 12, True),
    ((MAJOR, ("M03", (("P005", 1),))), 8, True),
    ((MINOR, ("T03", ())), 5, True),
    ((("R01", (("P007", 1),)),), 4, True),
    ((("R03", (("P011", 1),)),), 3, True),
    ((("R04", (("P012", 1),)),), 3, True),
    ((("R05", ()), ("M03", (("P005", 1),))), 3, True),
    ((("T01", ()), ("T02", (("P015", 2),))), 2, True),
    ((("M04", (("P009", 1),)), ("M07", (("P013", 1),))), 2, True),
    ((("I03", ()), ("T03", ())), 3, True),
    ((("D01", ()),), 16, False),
    ((("D02", (("P018", 1),)),), 8, False),
    ((("D03", (("P017", 1),)),), 4, False),
    ((("D05", ()),), 2, False),
    ((("D06", ()),), 1, False),
    ((("R07", ()),), 2, False),
)
BULK_CHUNK = 20_000  # customers per chunk
PAYING_STAGES = (Stage.CUSTOMER, Stage.MEMBER, Stage.DORMANT, Stage.LOST)
MANY_ORDERS_EVERY = 100_000  # every so many customers, a fleet customer with ...
MANY_ORDERS = 300  # ... this many orders (the customer file at its worst)


def _templates(services: dict[str, ServiceItem], parts: dict[str, Part]) -> list[_Template]:
    templates = []
    for work, weight, mileage in BULK_BILLS:
        lines: list[tuple[str, int, str, Decimal, Decimal, Decimal | None]] = []
        minutes = 20
        for code, used in work:
            service = services[code]
            lines.append(("service", service.pk, service.name, ONE, service.labour_price, None))
            minutes += int(service.standard_hours * 60)
            for part_code, qty in used:
                part = parts[part_code]
                lines.append(("part", part.pk, part.name, Decimal(qty), part.sale_price, part.cost))
        templates.append(_Template(tuple(lines), minutes, mileage, weight))
    return templates


def bulk_orders(
    *,
    organization: Organization,
    staff: Mapping[str, User],
    per_customer: float,
    seed: int,
    now: dt.datetime | None = None,
    log: Callable[[str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BulkStats:
    """About ``per_customer`` paid orders per customer with a vehicle, over the last two years.

    Only files that paid get orders, as their lifecycle tells: the first is
    paid at the file's ``converted_at`` (so the first paid order and the
    conversion agree); a dormant or lost file's last is its last visit (its
    vehicles' latest reading), when the daily check started counting; the
    others fall between, or up to yesterday for the others. Files without a
    conversion date but of a paying stage (loaded before there was a
    lifecycle) get orders from their vehicles' registration on, and their
    conversion and intent dates from their first paid order afterwards.

    Runs in the caller's transaction. Loads into service order tables no
    bigger than the load drop their secondary indexes and foreign keys first
    and rebuild them at the end (PostgreSQL).
    """
    stats = BulkStats()
    started = time.monotonic()
    now = timezone.localtime(now or timezone.now())
    org_id = organization.pk
    shops = catalog_and_hours(organization=organization)
    services = {s.code: s for s in ServiceItem.objects.for_org(org_id)}
    parts = {p.code: p for p in Part.objects.for_org(org_id)}
    templates = _templates(services, parts)
    pick = Weighted([(t, t.weight) for t in templates])
    payment = Weighted(PAYMENT_WEIGHTS)
    rnd = DemoRandom(seed * 7919 + 29)
    advisors = [staff["advisor"].pk, staff["owner"].pk]
    technicians = [staff["tech"].pk, staff["tech"].pk, staff["tech"].pk, staff["owner"].pk]
    writers = {m: TableWriter(m, with_ids=m is ServiceOrder) for m in (ServiceOrder, OrderLine, Payment)}
    tables = [m._meta.db_table for m in writers]
    customers = Customer.objects.for_org(org_id).filter(deleted_at=None)
    without_lifecycle = ~Exists(StageChange.objects.for_org(org_id).filter(customer_id=OuterRef("pk")))
    buyers = customers.filter(Q(converted_at__isnull=False) | (Q(stage__in=PAYING_STAGES) & without_lifecycle))
    with_vehicles = (
        Vehicle.objects.for_org(org_id)
        .filter(deleted_at=None, customer__in=buyers)
        .values("customer_id")
        .distinct()
        .count()
    )
    total_customers = customers.count()
    mean = per_customer * total_customers / max(with_vehicles, 1)
    expected = int(per_customer * total_customers)
    existing = ServiceOrder.objects.for_org(org_id).count()
    deferred = None
    if connection.vendor == "postgresql" and expected >= 50_000 and existing <= expected:
        deferred = DeferredIndexes(tables)
        if log:
            log("Loading orders without indexes and foreign keys (rebuilt at the end); the order tables are locked.")
        deferred.drop()
    numbers = _day_numbers(org_id)
    first_day = now.date() - dt.timedelta(days=HISTORY_DAYS)
    last_day = now.date() - dt.timedelta(days=1)
    tz = now.tzinfo
    bounds = customers.order_by("pk").values_list("pk", flat=True)
    low = bounds.first() or 0
    high = customers.order_by("-pk").values_list("pk", flat=True).first() or -1
    position = 0
    for chunk_low in range(low, high + 1, BULK_CHUNK):
        vehicles = list(
            Vehicle.objects.for_org(org_id)
            .filter(deleted_at=None, customer_id__gte=chunk_low, customer_id__lt=chunk_low + BULK_CHUNK)
            .order_by("customer_id", "pk")
            .values_list("pk", "customer_id", "purchase_date", "created_at", "mileage_km", "mileage_at")
        )
        by_customer: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in vehicles:
            by_customer[row[1]].append(row)
        paying = dict(buyers.filter(pk__gte=chunk_low, pk__lt=chunk_low + BULK_CHUNK).values_list("pk", "converted_at"))
        quiet = set(
            customers.filter(
                pk__gte=chunk_low, pk__lt=chunk_low + BULK_CHUNK, stage__in=(Stage.DORMANT, Stage.LOST)
            ).values_list("pk", flat=True)
        )
        orders, lines, payments = [], [], []
        # (customer, car, opened, bill, paid): paid is given for the first order, opened for the others.
        planned: list[tuple[int, tuple[Any, ...], dt.datetime | None, _Template, dt.datetime | None]] = []
        for customer_id, cars in by_customer.items():
            if customer_id not in paying:
                continue
            position += 1
            count = MANY_ORDERS if position % MANY_ORDERS_EVERY == 0 else int(rnd.expovariate(1 / mean) + 0.5)
            converted = paying[customer_id]
            end = last_day
            latest = max((car[5] for car in cars if car[5] is not None), default=None)
            if customer_id in quiet and latest is not None:
                end = timezone.localtime(latest).date() - dt.timedelta(days=1)
                if converted is None or latest > converted:
                    planned.append((customer_id, rnd.choice(cars), latest, pick(rnd), None))
                    count -= 1
            if converted is not None:
                planned.append((customer_id, rnd.choice(cars), None, pick(rnd), converted))
                count -= 1
            for _n in range(count):
                car = rnd.choice(cars)
                start = max(first_day, car[3].date() if car[3] else first_day)
                if converted is not None:
                    start = max(start, timezone.localtime(converted).date() + dt.timedelta(days=1))
                span = (end - start).days
                if span < 0:
                    continue
                day = start + dt.timedelta(days=rnd.randint(0, span))
                opened = dt.datetime.combine(day, OPENS, tzinfo=tz) + dt.timedelta(minutes=rnd.randint(0, 540))
                planned.append((customer_id, car, opened, pick(rnd), None))
        ids = writers[ServiceOrder].allocate_ids(len(planned))
        for order_id, (customer_id, car, arrived, template, paid_at) in zip(ids, planned, strict=True):
            work = dt.timedelta(minutes=template.minutes + rnd.randint(0, 40))
            wait = dt.timedelta(minutes=rnd.randint(3, 25))
            if arrived is not None:
                opened = arrived
            else:
                assert paid_at is not None
                opened = paid_at - wait - work
            shop_index = 0 if customer_id % 3 else len(shops) - 1
            day_key = opened.strftime("%Y%m%d")
            numbers[day_key] += 1
            total = ZERO
            first = True
            for kind, item_id, name, qty, price, cost in template.lines:
                off = ZERO
                if first and rnd.random() < DEFAULT_DISCOUNT_SHARE:
                    off = (price * Decimal(rnd.choice((10, 15, 20))) / 100).quantize(ONE, ROUND_HALF_UP)
                amount = line_amount(qty, price, off)
                total += amount
                lines.append(
                    {
                        "organization_id": org_id,
                        "order_id": order_id,
                        "kind": kind,
                        "service_id": item_id if kind == "service" else None,
                        "part_id": item_id if kind == "part" else None,
                        "name": name,
                        "quantity": qty,
                        "unit_price": price,
                        "discount": off,
                        "amount": amount,
                        "unit_cost": cost,
                        "technician_id": technicians[int(rnd.random() * 4)] if kind == "service" else None,
                        "created_at": opened,
                    }
                )
                first = False
            completed = opened + work
            paid = completed + wait
            km = _estimated_km(car, opened) if template.mileage else None
            orders.append(
                {
                    "id": order_id,
                    "organization_id": org_id,
                    "shop_id": shops[shop_index].pk,
                    "number": f"{day_key}-{numbers[day_key]:04d}",
                    "customer_id": customer_id,
                    "vehicle_id": car[0],
                    "mileage_id": None,
                    "mileage_km": km,
                    "description": "",
                    "advisor_id": advisors[0 if shop_index == 0 else 1],
                    "expected_finish_at": None,
                    "state": OrderState.PAID.value,
                    "void_reason": "",
                    "lines_total": total,
                    "adjustments_total": ZERO,
                    "total": total,
                    "amount_paid": total,
                    "opened_at": opened,
                    "started_at": opened + dt.timedelta(minutes=10),
                    "completed_at": completed,
                    "paid_at": paid,
                    "voided_at": None,
                    "created_by_id": advisors[0 if shop_index == 0 else 1],
                }
            )
            base = {"organization_id": org_id, "order_id": order_id, "reference": "", "at": paid}
            base["received_by_id"] = advisors[0 if shop_index == 0 else 1]
            if total > 100 and rnd.random() < SPLIT_SHARE:
                part = (total / 2).quantize(ONE, ROUND_HALF_UP)
                payments.append({**base, "method": PaymentMethod.CASH.value, "amount": part})
                payments.append({**base, "method": payment(rnd), "amount": total - part})
            else:
                payments.append({**base, "method": payment(rnd), "amount": total})
        writers[ServiceOrder].write(orders)
        writers[OrderLine].write(lines)
        writers[Payment].write(payments)
        stats.orders += len(orders)
        stats.lines += len(lines)
        stats.payments += len(payments)
        if progress:
            progress(stats.orders, expected)
    if deferred:
        if log:
            log(f"Rebuilding {len(deferred.indexes)} indexes and {len(deferred.foreign_keys)} foreign keys ...")
        rebuilt = time.monotonic()
        deferred.rebuild()
        stats.rebuild_seconds = time.monotonic() - rebuilt
    visits = time.monotonic()
    customer_visits_refresh_all(organization_id=org_id)
    customers_converted_from_visits(organization_id=org_id)
    stats.visits_seconds = time.monotonic() - visits
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in [*tables, Customer._meta.db_table]:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    stats.seconds = time.monotonic() - started
    return stats


def _day_numbers(org_id: int) -> defaultdict[str, int]:
    """The last order number used on each day (``YYYYMMDD-NNNN``), to continue from."""
    numbers: defaultdict[str, int] = defaultdict(int)
    for number in ServiceOrder.objects.for_org(org_id).values_list("number", flat=True).iterator():
        day, _dash, sequence = number.partition("-")
        if sequence.isdigit():
            numbers[day] = max(numbers[day], int(sequence))
    return numbers


def _estimated_km(car: tuple[Any, ...], at: dt.datetime) -> int | None:
    """The odometer on ``at``, at the pace of the vehicle's latest reading since purchase."""
    _pk, _customer, purchase, _created, km, read_at = car
    if not km or read_at is None or purchase is None:
        return None
    days = (read_at.date() - purchase).days
    if days <= 0:
        return None
    return max(round(km * (at.date() - purchase).days / days), 0)


def customers_converted_from_visits(*, organization_id: int) -> int:
    """Files that paid but have no conversion date (loaded without a lifecycle): their first paid
    visit is their conversion, and they had reached intent by then at the latest."""
    return (
        Customer.objects.for_org(organization_id)
        .filter(converted_at=None)
        .exclude(first_visit_at=None)
        .update(
            converted_at=F("first_visit_at"), intent_at=Coalesce(Least("intent_at", "first_visit_at"), "first_visit_at")
        )
    )


def customer_visits_refresh_all(*, organization_id: int) -> int:
    """Every customer's visit count, lifetime spend, first and last visit from the paid orders, in bulk.

    The same figures as ``customer_visits_refresh``, for all customers of the
    organization: one UPDATE from the grouped paid orders, and one clearing
    the customers who have none.
    """
    qn = connection.ops.quote_name
    customers, orders = qn(Customer._meta.db_table), qn(ServiceOrder._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {customers} AS c SET visit_count = v.n, lifetime_spend = v.spend, "  # noqa: S608
            "first_visit_at = v.first_at, last_visit_at = v.last_at "
            "FROM (SELECT customer_id, COUNT(*) AS n, SUM(total) AS spend, MIN(paid_at) AS first_at, "
            f"MAX(paid_at) AS last_at FROM {orders} WHERE organization_id = %s AND state = %s "
            "GROUP BY customer_id) AS v WHERE c.id = v.customer_id AND c.organization_id = %s",
            [organization_id, OrderState.PAID.value, organization_id],
        )
        updated = cursor.rowcount
        cursor.execute(
            f"UPDATE {customers} SET visit_count = 0, lifetime_spend = 0, first_visit_at = NULL, "  # noqa: S608
            "last_visit_at = NULL WHERE organization_id = %s AND visit_count <> 0 AND NOT EXISTS "
            f"(SELECT 1 FROM {orders} o WHERE o.customer_id = {customers}.id AND o.state = %s)",
            [organization_id, OrderState.PAID.value],
        )
    return updated
