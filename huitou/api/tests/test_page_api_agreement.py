"""The page and the API agree: the same input through either stores the same rows, or is
refused with the same message.

Every write that has both a page (an HTMX/HTML form) and an API operation is a row of
``WRITES``. Each row arranges a starting state once; the page and then the API each run from
that state inside a savepoint that is rolled back afterwards, and what they leave behind
(``stored``: the domain's rows by natural keys, without ids or timestamps) is compared.

A new app adds its writes here (and its tables to ``stored``): a rule that lives in a view,
a form or a router instead of the service shows up as a difference.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from huitou.api.tests.conftest import ApiClient
from huitou.audit.models import ChangeEntry
from huitou.customers import errors as customer_errors
from huitou.customers.forms import CustomerForm, VehicleForm
from huitou.customers.models import ConsentRecord, Customer, CustomerTag, MileageReading, Vehicle, VehicleOwnership
from huitou.customers.services import consent_set, household_link
from huitou.lifecycle import errors as lifecycle_errors
from huitou.lifecycle.models import FollowUp, FollowUpPlan, FollowUpTask, ProspectRotation, StageChange
from huitou.lifecycle.services.ownership import rotation_set
from huitou.loyalty import errors as loyalty_errors
from huitou.loyalty.models import Coupon, CouponTemplate, LoyaltyAccount, ReferralPolicy, Tier, TierChange
from huitou.loyalty.services.coupons import coupon_template_save
from huitou.loyalty.services.tiers import tier_save
from huitou.privacy import errors as privacy_errors
from huitou.privacy.models import Erasure
from huitou.service import errors
from huitou.service.models import (
    Appointment,
    OpeningHours,
    OrderAdjustment,
    OrderLine,
    Part,
    Payment,
    Recommendation,
    ServiceItem,
    ServiceOrder,
    ShopPrice,
)
from huitou.service.services.appointments import appointment_book, appointment_transition
from huitou.service.services.catalog import part_save, service_item_save, shop_price_set
from huitou.service.services.orders import (
    order_add_line,
    order_complete,
    order_pay,
    recommendation_add,
)
from huitou.tenancy.models import Organization, Shop, User
from huitou.testing.fixtures import first_shop
from huitou.testing.text import zh

# --- what a write leaves behind ----------------------------------------------------------------


def _name(user: User | None) -> str:
    return user.username if user is not None else ""


# The customer's and the vehicle's own fields (besides those named in ``stored``).
CUSTOMER_FIELDS = (
    *("wechat", "email", "address", "gender", "age_bracket", "birthday_calendar", "birth_year", "birth_month"),
    *("birth_day", "need", "intent_grade", "preferred_channel", "preferred_time", "occupation", "family"),
    *("personality", "habits", "hobbies", "lifestyle", "values", "notes", "completeness"),
    *("consent_sms", "consent_wechat", "consent_phone", "consent_email"),
)
VEHICLE_FIELDS = (
    *("vin", "vin_check_failed", "year", "colour", "purchase_date", "insurance_expiry", "inspection_due"),
)


def stored(org: Organization) -> dict[str, list[tuple[Any, ...]]]:
    """The organization's domain rows by natural keys (names, plates, order numbers), sorted."""
    rows: dict[str, list[tuple[Any, ...]]] = {
        "customers": [
            (c.name, c.phone, c.stage, _name(c.owner), c.deleted_at is not None, c.visit_count)
            + tuple(getattr(c, f) for f in CUSTOMER_FIELDS)
            + (c.source.code if c.source else "", c.referrer.name if c.referrer else "")
            + (c.merged_into.name if c.merged_into else "", c.intent_at is not None)
            for c in Customer.objects.for_org(org).select_related("owner", "source", "referrer", "merged_into")
        ],
        "households": [
            tuple(sorted(c.name for c in Customer.objects.for_org(org).filter(household_id=h)))
            for h in set(Customer.objects.for_org(org).exclude(household=None).values_list("household_id", flat=True))
        ],
        "tags": [
            (t.customer.name, t.tag.name) for t in CustomerTag.objects.for_org(org).select_related("customer", "tag")
        ],
        "consents": [
            (r.customer.name, r.channel, r.granted, r.method, r.purpose, _name(r.recorded_by))
            for r in ConsentRecord.objects.for_org(org).select_related("customer", "recorded_by")
        ],
        "vehicles": [
            (v.plate, v.customer.name, v.brand, v.model, v.mileage_km, v.deleted_at is not None)
            + tuple(getattr(v, f) for f in VEHICLE_FIELDS)
            for v in Vehicle.objects.for_org(org).select_related("customer")
        ],
        "ownerships": [
            (o.vehicle.plate, o.customer.name, o.until is not None)
            for o in VehicleOwnership.objects.for_org(org).select_related("vehicle", "customer")
        ],
        "staff": [(u.username, u.role, u.is_active) for u in User.objects.for_org(org)],
        "rotation": [
            (tuple(sorted(m.username for m in r.members.all())),) for r in ProspectRotation.objects.for_org(org)
        ],
        "plans": [
            (p.name, p.stage, p.source.code if p.source else "", p.is_active)
            + tuple((st.day_offset, st.channel, st.action) for st in p.steps.order_by("day_offset", "pk"))
            for p in FollowUpPlan.objects.for_org(org).select_related("source")
        ],
        "readings": [
            (r.vehicle.plate, r.km, r.source) for r in MileageReading.objects.for_org(org).select_related("vehicle")
        ],
        "orders": [
            (o.number, o.state, o.vehicle.plate, o.mileage_km, o.description, _name(o.advisor))
            + (o.lines_total, o.adjustments_total, o.total, o.amount_paid, o.void_reason)
            for o in ServiceOrder.objects.for_org(org).select_related("vehicle", "advisor")
        ],
        "lines": [
            (li.order.number, li.name, li.quantity, li.unit_price, li.discount, li.amount, _name(li.technician))
            for li in OrderLine.objects.for_org(org).select_related("order", "technician")
        ],
        "payments": [
            (p.order.number, p.method, p.amount, p.reference)
            for p in Payment.objects.for_org(org).select_related("order")
        ],
        "adjustments": [
            (a.order.number, a.amount, a.reason) for a in OrderAdjustment.objects.for_org(org).select_related("order")
        ],
        "recommendations": [
            (r.order.number, r.description, r.urgency, r.estimate, r.status, r.service.name if r.service else "")
            + (r.line_id is not None,)
            for r in Recommendation.objects.for_org(org).select_related("order", "service")
        ],
        "appointments": [
            (a.customer.name, a.vehicle.plate if a.vehicle else "", a.day, a.slot, a.state, a.note)
            + (a.order.number if a.order else "",)
            for a in Appointment.objects.for_org(org).select_related("customer", "vehicle", "order")
        ],
        "service_items": [
            (s.code, s.name, s.category, s.labour_price, s.interval_km, s.interval_months, s.is_active)
            for s in ServiceItem.objects.for_org(org)
        ],
        "parts": [(p.code, p.name, p.unit, p.sale_price, p.cost, p.is_active) for p in Part.objects.for_org(org)],
        "shop_prices": [
            (sp.shop.name, sp.service.code if sp.service else sp.part.code if sp.part else "", sp.price)
            for sp in ShopPrice.objects.for_org(org).select_related("shop", "service", "part")
        ],
        "stage_changes": [
            (s.customer.name, s.from_stage, s.to_stage, s.reason, s.note)
            for s in StageChange.objects.for_org(org).select_related("customer")
        ],
        "followups": [
            (f.customer.name, _name(f.staff), f.channel, f.content, f.result, f.grade, f.next_step, f.next_due)
            for f in FollowUp.objects.for_org(org).select_related("customer", "staff")
        ],
        "tasks": [
            (t.customer.name, _name(t.assignee), t.due_on, t.action, t.origin, t.closed_as)
            for t in FollowUpTask.objects.for_org(org).select_related("customer", "assignee")
        ],
        "history": [
            (e.subject_type, e.action, tuple(sorted(e.changes)), e.note) for e in ChangeEntry.objects.for_org(org)
        ],
        "erasures": [
            (e.customer.name, _name(e.by), e.reason, e.files)
            for e in Erasure.objects.for_org(org).select_related("customer", "by")
        ],
        "tiers": [
            (t.code, t.name, t.rank, t.entry_rule, t.entry_threshold, t.price, t.keep_threshold)
            + (t.labour_discount_percent, t.parts_discount_percent, t.points_multiplier, t.is_active)
            for t in Tier.objects.for_org(org)
        ],
        "members": [
            (a.customer.name, a.number, a.tier.code if a.tier else "", _name(a.joined_by))
            for a in LoyaltyAccount.objects.for_org(org).select_related("customer", "tier", "joined_by")
        ],
        "tier_changes": [
            (c.customer.name, c.from_tier_id is None, c.to_tier.code, c.reason, _name(c.by))
            for c in TierChange.objects.for_org(org).select_related("customer", "to_tier", "by")
        ],
        "referral_policies": [
            (p.code, p.name, p.kind, p.percent, p.milestone, p.template.code if p.template else "", p.both_sides)
            + (p.is_active,)
            for p in ReferralPolicy.objects.for_org(org).select_related("template")
        ],
        "referrer_types": [
            (a.customer.name, a.referrer_type)
            for a in LoyaltyAccount.objects.for_org(org).select_related("customer").exclude(referrer_type="")
        ],
        "coupon_templates": [
            (t.code, t.name, t.kind, t.value, t.free_service.code if t.free_service else "", t.min_spend, t.days_valid)
            + (tuple(sorted(t.services.values_list("code", flat=True))), t.is_active)
            for t in CouponTemplate.objects.for_org(org).select_related("free_service")
        ],
        "coupons": [
            (c.customer.name, c.name, c.state, c.source, c.expires_on, _name(c.issued_by))
            for c in Coupon.objects.for_org(org).select_related("customer", "issued_by")
        ],
    }
    return {table: sorted(found, key=repr) for table, found in rows.items()}


# --- the writes --------------------------------------------------------------------------------

Json = dict[str, Any] | None


@dataclass
class Write:
    """One write, as the page and the API take it.

    ``arrange(w)`` builds the starting state (and may put what it made on ``w``);
    ``page(w)`` gives the page's (url, form data), ``api(w)`` the API's (method, path,
    json). ``refused`` is the service's message when the input must be refused.
    """

    name: str
    page: Callable[[SimpleNamespace], tuple[str, dict[str, Any]]]
    api: Callable[[SimpleNamespace], tuple[str, str, Json]]
    arrange: Callable[[SimpleNamespace], Any] = lambda w: None
    user: str = "advisor"
    refused: Any = None
    api_status: int | None = None  # the refusal's status, when it is not 422
    params: dict[str, Any] = field(default_factory=dict)


def said(message: Any, **params: Any) -> Callable[[], str]:
    """A refusal whose message has ``%(...)s`` parameters."""
    return lambda: zh(message, **params)


TOMORROW = timezone.localdate() + dt.timedelta(days=1)


def _order(w: SimpleNamespace, **kwargs: Any) -> ServiceOrder:
    w.order = w.make_order(w.car, shop=w.shop, mileage_km=42_500, **kwargs)
    return w.order


def _completed(w: SimpleNamespace) -> None:
    _order(w)
    order_add_line(order=w.order, by=w.advisor, service=w.oil)
    order_complete(order=w.order, by=w.advisor)


def _paid(w: SimpleNamespace) -> None:
    _completed(w)
    order_pay(order=w.order, by=w.advisor, method="cash", amount="120.00")


def _with_line(w: SimpleNamespace) -> None:
    _order(w)
    w.line = order_add_line(order=w.order, by=w.advisor, service=w.oil)


def _with_recommendation(w: SimpleNamespace) -> None:
    _order(w)
    w.rec = recommendation_add(order=w.order, by=w.tech, description="刹车片磨损", service=w.brakes, estimate="300")


def _booked(w: SimpleNamespace) -> None:
    w.appointment = appointment_book(
        shop=w.shop, customer=w.car.customer, vehicle=w.car, day=TOMORROW, slot=dt.time(10), by=w.advisor
    )


def _arrived(w: SimpleNamespace) -> None:
    _booked(w)
    appointment_transition(appointment=w.appointment, target=Appointment.State.ARRIVED, by=w.advisor)


def _order_url(name: str, *extra: Any) -> Callable[[SimpleNamespace], str]:
    return lambda w: reverse(f"service:{name}", args=[w.order.pk, *[getattr(w, e).pk for e in extra]])


def _orders(w: SimpleNamespace, tail: str = "") -> str:
    return f"/api/v1/orders/{w.order.pk}{tail}"


def _line_write(name: str, user: str, line: dict[str, Any], refused: Any = None, **kw: Any) -> Write:
    """A line of the oil change (at the shop's price of 99.00) with ``line``'s price fields."""

    def arrange(w: SimpleNamespace) -> None:
        shop_price_set(shop=w.shop, item=w.oil, price="99.00")
        _order(w)

    return Write(
        name,
        arrange=arrange,
        user=user,
        page=lambda w: (
            reverse("service:order_line_add", args=[w.order.pk]),
            {"item": f"service:{w.oil.pk}", "quantity": "1", **{k: v or "" for k, v in line.items()}},
        ),
        api=lambda w: ("POST", _orders(w, "/lines"), {"service_id": w.oil.pk, "quantity": "1", **line}),
        refused=refused,
        **kw,
    )


def _catalog_service(code: str = "JX01") -> dict[str, Any]:
    return {"code": code, "name": "四轮定位", "category": "repair", "labour_price": "150.00", "interval_km": 20000}


def _form_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _customer_form(c: Customer, **changes: Any) -> dict[str, Any]:
    """What the customer file's edit page posts: the file as it is, with ``changes``."""
    data = {f: _form_value(getattr(c, f)) for f in CustomerForm.base_fields if hasattr(c, f)}
    data.update(
        phone=c.phone_display,
        source=c.source.code if c.source else "",
        owner=c.owner_id,
        tags=", ".join(c.tag_links.values_list("tag__name", flat=True)),
    )
    return {**data, **changes}


def _vehicle_form(v: Vehicle, **changes: Any) -> dict[str, Any]:
    """What the vehicle's edit page posts: the vehicle as it is, with ``changes`` (``vin_confirmed``
    is a checkbox: sent only when ticked)."""
    data = {f: _form_value(getattr(v, f)) for f in VehicleForm.base_fields if hasattr(v, f) and f != "vin_confirmed"}
    data.update(changes)
    if not data.pop("vin_confirmed", False):
        return data
    return {**data, "vin_confirmed": "on"}


# A VIN with its check digit (9th character) right, and the same VIN with it wrong.
VIN_OK = "LSVAU218XN2183294"
VIN_CHECK_WRONG = "LSVAU2180N2183294"


def _customers(w: SimpleNamespace, tail: str = "") -> str:
    return f"/api/v1/customers/{w.car.customer_id}{tail}"


def _new_customer(**fields: Any) -> dict[str, Any]:
    """The new-customer page's fields for ``fields`` (its defaults: walk-in, solar birthday, verbal consent)."""
    return {"birthday_calendar": "solar", "source": "walk_in", "consent_method": "verbal", **fields}


def _prospect(**fields: Any) -> dict[str, Any]:
    return {"name": "赵先生", "phone": "13712345678", "source": "flyer", "need": "全车贴膜", **fields}


def _colleague(w: SimpleNamespace, *, left: bool = False, in_turn: bool = False) -> None:
    """A second customer of the advisor's, and a colleague (customer service) to take customers;
    who has ``left``, or who takes prospects ``in_turn`` with the advisor."""
    w.make_customer(name="李四", phone="13900001111")
    w.colleague = w.users["service"]
    if left:
        User.objects.for_org(w.org).filter(pk=w.colleague.pk).update(is_active=False)
    if in_turn:
        rotation_set(organization=w.org, member_ids=[w.advisor.pk, w.colleague.pk])


def _plan_page(name: str, stage: str, steps: list[tuple[int, str, str]], source: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "stage": stage, "source": source, "is_active": "on"}
    data |= {"steps-TOTAL_FORMS": str(len(steps)), "steps-INITIAL_FORMS": "0"}
    data |= {"steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "100"}
    for i, (day, channel, action) in enumerate(steps):
        data |= {f"steps-{i}-day_offset": str(day), f"steps-{i}-channel": channel, f"steps-{i}-action": action}
    return data


def _plan_api(name: str, stage: str, steps: list[tuple[int, str, str]], source: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "stage": stage,
        "source": source,
        "is_active": True,
        "steps": [{"day_offset": d, "channel": c, "action": a} for d, c, a in steps],
    }


def _prospect_plan(w: SimpleNamespace) -> None:
    w.plan = FollowUpPlan.objects.for_org(w.org).get(stage="prospect", source=None)


PLAN_STEPS = [(0, "phone", "电话问候"), (5, "wechat", "发保养提醒")]


WRITES: list[Write] = [
    # --- receiving a car -----------------------------------------------------------------------
    Write(
        "open an order with the mileage at arrival",
        page=lambda w: (
            f"{reverse('service:order_new')}?customer={w.car.customer_id}",
            {"vehicle_id": w.car.pk, "mileage": "43000", "description": "刹车异响", "advisor": w.advisor.pk},
        ),
        api=lambda w: ("POST", "/api/v1/orders", {"vehicle_id": w.car.pk, "mileage": 43000, "description": "刹车异响"}),
    ),
    Write(
        "open an order without the mileage (a car wash)",
        page=lambda w: (
            f"{reverse('service:order_new')}?customer={w.car.customer_id}",
            {"vehicle_id": w.car.pk, "mileage": "", "description": "洗车", "advisor": w.advisor.pk},
        ),
        api=lambda w: ("POST", "/api/v1/orders", {"vehicle_id": w.car.pk, "description": "洗车"}),
    ),
    Write(
        "refuse a mileage at arrival below the last reading",
        page=lambda w: (
            f"{reverse('service:order_new')}?customer={w.car.customer_id}",
            {"vehicle_id": w.car.pk, "mileage": "41000", "advisor": w.advisor.pk},
        ),
        api=lambda w: ("POST", "/api/v1/orders", {"vehicle_id": w.car.pk, "mileage": 41000}),
        refused=said(customer_errors.MILEAGE_LOWER, km=41000, previous=42000),
    ),
    # --- lines: the price is the shop's unless someone who settles bills sets it ----------------
    _line_write("an advisor's line at the shop's price", "advisor", {}),
    _line_write(
        "an advisor's line at another price with a discount", "advisor", {"unit_price": "80.00", "discount": "5.00"}
    ),
    _line_write("a technician's line at the shop's price, the technician as its technician", "tech", {}),
    _line_write(
        "refuse a technician's price",
        "tech",
        {"unit_price": "1.00"},
        refused=errors.PRICE_NOT_YOURS,
        api_status=403,
    ),
    _line_write(
        "refuse a technician's discount",
        "tech",
        {"discount": "50.00"},
        refused=errors.PRICE_NOT_YOURS,
        api_status=403,
    ),
    _line_write("refuse a discount above the line", "advisor", {"discount": "500.00"}, refused=errors.DISCOUNT_INVALID),
    Write(
        "remove a line",
        arrange=_with_line,
        page=lambda w: (reverse("service:order_line_remove", args=[w.order.pk, w.line.pk]), {}),
        api=lambda w: ("DELETE", _orders(w, f"/lines/{w.line.pk}"), None),
    ),
    Write(
        "start the work",
        arrange=_order,
        user="tech",
        page=lambda w: (_order_url("order_start")(w), {}),
        api=lambda w: ("POST", _orders(w, "/start"), None),
    ),
    Write(
        "complete the work",
        arrange=_with_line,
        user="tech",
        page=lambda w: (_order_url("order_complete")(w), {}),
        api=lambda w: ("POST", _orders(w, "/complete"), None),
    ),
    # --- settling ------------------------------------------------------------------------------
    Write(
        "take a payment in full",
        arrange=_completed,
        page=lambda w: (_order_url("order_pay")(w), {"method": "wechat", "amount": "120.00", "reference": "WX1"}),
        api=lambda w: ("POST", _orders(w, "/payments"), {"method": "wechat", "amount": "120.00", "reference": "WX1"}),
    ),
    Write(
        "refuse a payment above the amount due",
        arrange=_completed,
        page=lambda w: (_order_url("order_pay")(w), {"method": "cash", "amount": "500.00"}),
        api=lambda w: ("POST", _orders(w, "/payments"), {"method": "cash", "amount": "500.00"}),
        refused=said(errors.PAYMENT_TOO_MUCH, amount=Decimal("500.00"), due=Decimal("120.00")),
        api_status=409,
    ),
    Write(
        "void an order",
        arrange=_with_line,
        page=lambda w: (_order_url("order_void")(w), {"reason": "客户不修了"}),
        api=lambda w: ("POST", _orders(w, "/void"), {"reason": "客户不修了"}),
    ),
    Write(
        "refuse a void without a reason",
        arrange=_with_line,
        page=lambda w: (_order_url("order_void")(w), {"reason": "  "}),
        api=lambda w: ("POST", _orders(w, "/void"), {"reason": "  "}),
        refused=errors.VOID_REASON_REQUIRED,
    ),
    Write(
        "adjust a paid order",
        arrange=_paid,
        page=lambda w: (_order_url("order_adjust")(w), {"amount": "-20.00", "reason": "老客户优惠"}),
        api=lambda w: ("POST", _orders(w, "/adjustments"), {"amount": "-20.00", "reason": "老客户优惠"}),
    ),
    Write(
        "refuse an adjustment of an unpaid order",
        arrange=_completed,
        page=lambda w: (_order_url("order_adjust")(w), {"amount": "-20.00", "reason": "优惠"}),
        api=lambda w: ("POST", _orders(w, "/adjustments"), {"amount": "-20.00", "reason": "优惠"}),
        refused=errors.ORDER_NOT_PAID,
        api_status=409,
    ),
    # --- recommendations -----------------------------------------------------------------------
    Write(
        "record a recommendation",
        arrange=_order,
        user="tech",
        page=lambda w: (
            _order_url("recommendation_add")(w),
            {"description": "空调滤芯脏", "urgency": "soon", "estimate": "80", "service_id": ""},
        ),
        api=lambda w: (
            "POST",
            _orders(w, "/recommendations"),
            {"description": "空调滤芯脏", "urgency": "soon", "estimate": "80"},
        ),
    ),
    Write(
        "the customer accepts a recommendation",
        arrange=_with_recommendation,
        page=lambda w: (_order_url("recommendation_decide", "rec")(w), {"accept": "1"}),
        api=lambda w: ("POST", _orders(w, f"/recommendations/{w.rec.pk}/accept"), {}),
    ),
    Write(
        "the customer declines a recommendation",
        arrange=_with_recommendation,
        page=lambda w: (_order_url("recommendation_decide", "rec")(w), {"accept": "0"}),
        api=lambda w: ("POST", _orders(w, f"/recommendations/{w.rec.pk}/decline"), None),
    ),
    # --- appointments --------------------------------------------------------------------------
    Write(
        "book an appointment",
        page=lambda w: (
            reverse("service:appointment_new"),
            {"customer": w.car.customer_id, "vehicle": w.car.pk, "day": TOMORROW.isoformat(), "slot": "09:00"},
        ),
        api=lambda w: (
            "POST",
            "/api/v1/appointments",
            {"customer_id": w.car.customer_id, "vehicle_id": w.car.pk, "day": TOMORROW.isoformat(), "slot": "09:00"},
        ),
    ),
    Write(
        "refuse an appointment outside the opening hours",
        page=lambda w: (
            reverse("service:appointment_new"),
            {"customer": w.car.customer_id, "vehicle": w.car.pk, "day": TOMORROW.isoformat(), "slot": "20:00"},
        ),
        api=lambda w: (
            "POST",
            "/api/v1/appointments",
            {"customer_id": w.car.customer_id, "vehicle_id": w.car.pk, "day": TOMORROW.isoformat(), "slot": "20:00"},
        ),
        refused=errors.SLOT_CLOSED,
    ),
    Write(
        "confirm an appointment",
        arrange=_booked,
        page=lambda w: (
            reverse("service:appointment_state", args=[w.appointment.pk]),
            {"state": Appointment.State.CONFIRMED},
        ),
        api=lambda w: ("PATCH", f"/api/v1/appointments/{w.appointment.pk}", {"state": Appointment.State.CONFIRMED}),
    ),
    Write(
        "the customer is here: an appointment becomes an order",
        arrange=_arrived,
        page=lambda w: (reverse("service:appointment_convert", args=[w.appointment.pk]), {"mileage": "43000"}),
        api=lambda w: ("POST", f"/api/v1/appointments/{w.appointment.pk}/convert", {"mileage": 43000}),
    ),
    Write(
        "refuse converting with a mileage below the last reading",
        arrange=_arrived,
        page=lambda w: (reverse("service:appointment_convert", args=[w.appointment.pk]), {"mileage": "100"}),
        api=lambda w: ("POST", f"/api/v1/appointments/{w.appointment.pk}/convert", {"mileage": 100}),
        refused=said(customer_errors.MILEAGE_LOWER, km=100, previous=42000),
    ),
    Write(
        "the customer is here: an order without the mileage (no odometer read)",
        arrange=_arrived,
        page=lambda w: (reverse("service:appointment_convert", args=[w.appointment.pk]), {"mileage": ""}),
        api=lambda w: ("POST", f"/api/v1/appointments/{w.appointment.pk}/convert", {}),
    ),
    Write(
        "an appointment booked without a car becomes an order for the customer's only car",
        arrange=lambda w: setattr(
            w,
            "appointment",
            appointment_book(shop=w.shop, customer=w.car.customer, day=TOMORROW, slot=dt.time(11), by=w.advisor),
        ),
        page=lambda w: (reverse("service:appointment_convert", args=[w.appointment.pk]), {"mileage": "43000"}),
        api=lambda w: ("POST", f"/api/v1/appointments/{w.appointment.pk}/convert", {"mileage": 43000}),
    ),
    Write(
        "refuse converting for a customer without a car on file",
        arrange=lambda w: setattr(
            w,
            "appointment",
            appointment_book(
                shop=w.shop, customer=w.make_customer(name="王五"), day=TOMORROW, slot=dt.time(11), by=w.advisor
            ),
        ),
        page=lambda w: (reverse("service:appointment_convert", args=[w.appointment.pk]), {"mileage": ""}),
        api=lambda w: ("POST", f"/api/v1/appointments/{w.appointment.pk}/convert", {}),
        refused=errors.CONVERT_NEEDS_CAR,
    ),
    # --- the catalog ---------------------------------------------------------------------------
    Write(
        "add a service item",
        user="owner",
        page=lambda w: (reverse("service:catalog_service_new"), {**_catalog_service(), "is_active": "on"}),
        api=lambda w: ("POST", "/api/v1/catalog/services", _catalog_service()),
    ),
    Write(
        "refuse a service item with a code in use",
        user="owner",
        page=lambda w: (reverse("service:catalog_service_new"), {**_catalog_service("BY01"), "is_active": "on"}),
        api=lambda w: ("POST", "/api/v1/catalog/services", _catalog_service("BY01")),
        refused=errors.CODE_TAKEN,
    ),
    Write(
        "change a service item's price",
        user="owner",
        page=lambda w: (
            reverse("service:catalog_service_edit", args=[w.oil.pk]),
            {"code": "BY01", "name": "机油更换", "category": "maintenance", "labour_price": "130.00"}
            | {"interval_km": "5000", "interval_months": "6", "standard_hours": "0", "is_active": "on"},
        ),
        api=lambda w: ("PATCH", f"/api/v1/catalog/services/{w.oil.pk}", {"labour_price": "130.00"}),
    ),
    Write(
        "add a part",
        user="owner",
        page=lambda w: (
            reverse("service:catalog_part_new"),
            {"code": "PJ09", "name": "雨刮片", "unit": "对", "sale_price": "68.00", "cost": "30.00", "is_active": "on"},
        ),
        api=lambda w: (
            "POST",
            "/api/v1/catalog/parts",
            {"code": "PJ09", "name": "雨刮片", "unit": "对", "sale_price": "68.00", "cost": "30.00"},
        ),
    ),
    # --- customers and vehicles ----------------------------------------------------------------
    Write(
        "register a vehicle with its mileage",
        page=lambda w: (
            reverse("customers:vehicle_new", args=[w.car.customer_id]),
            {"plate": "粤B7Q2N1", "brand": "本田", "model": "雅阁", "mileage": "12000"},
        ),
        api=lambda w: (
            "POST",
            f"/api/v1/customers/{w.car.customer_id}/vehicles",
            {"plate": "粤B7Q2N1", "brand": "本田", "model": "雅阁", "mileage": 12000},
        ),
    ),
    Write(
        "record a mileage reading",
        page=lambda w: (reverse("customers:mileage_add", args=[w.car.pk]), {"km": "45000"}),
        api=lambda w: ("POST", f"/api/v1/vehicles/{w.car.pk}/mileage", {"km": 45000}),
    ),
    Write(
        "refuse a mileage reading below the last one",
        page=lambda w: (reverse("customers:mileage_add", args=[w.car.pk]), {"km": "100"}),
        api=lambda w: ("POST", f"/api/v1/vehicles/{w.car.pk}/mileage", {"km": 100}),
        refused=said(customer_errors.MILEAGE_LOWER, km=100, previous=42000),
    ),
    Write(
        "hand a vehicle to another customer",
        arrange=lambda w: setattr(w, "buyer", w.make_customer(name="李四", phone="13900001111")),
        page=lambda w: (reverse("customers:vehicle_transfer", args=[w.car.pk]), {"customer": w.buyer.pk}),
        api=lambda w: ("POST", f"/api/v1/vehicles/{w.car.pk}/transfer", {"customer_id": w.buyer.pk}),
    ),
    Write(
        "delete a customer file",
        page=lambda w: (reverse("customers:delete", args=[w.car.customer_id]), {}),
        api=lambda w: ("DELETE", f"/api/v1/customers/{w.car.customer_id}", None),
    ),
    # --- personal data -------------------------------------------------------------------------
    Write(
        "erase a customer's personal data",
        user="owner",
        page=lambda w: (
            reverse("privacy:erase", args=[w.car.customer_id]),
            {"reason": "本人来店要求删除", "confirm": str(w.car.customer_id)},
        ),
        api=lambda w: ("POST", _customers(w, "/erase"), {"reason": "本人来店要求删除"}),
    ),
    Write(
        "erase without a reason",
        user="owner",
        page=lambda w: (
            reverse("privacy:erase", args=[w.car.customer_id]),
            {"reason": "  ", "confirm": str(w.car.customer_id)},
        ),
        api=lambda w: ("POST", _customers(w, "/erase"), {"reason": "  "}),
        refused=privacy_errors.REASON_REQUIRED,
    ),
    # --- the lifecycle -------------------------------------------------------------------------
    Write(
        "record a follow-up with a grade",
        page=lambda w: (
            reverse("lifecycle:followup_new", args=[w.car.customer_id]),
            {
                "channel": "phone",
                "content": "问保养",
                "result": "下周来",
                "grade": "A",
                "next_step": "",
                "next_due": "",
            },
        ),
        api=lambda w: (
            "POST",
            f"/api/v1/customers/{w.car.customer_id}/followups",
            {"channel": "phone", "content": "问保养", "result": "下周来", "grade": "A"},
        ),
    ),
    Write(
        "mark a customer lost",
        page=lambda w: (
            reverse("lifecycle:stage_change", args=[w.car.customer_id]),
            {"stage": "lost", "reason": "搬去外地"},
        ),
        api=lambda w: ("POST", f"/api/v1/customers/{w.car.customer_id}/stage", {"stage": "lost", "reason": "搬去外地"}),
    ),
    # --- the customer file --------------------------------------------------------------------
    Write(
        "register a customer",
        page=lambda w: (reverse("customers:new"), _new_customer(name="王五", phone="13600001234", owner=w.advisor.pk)),
        api=lambda w: ("POST", "/api/v1/customers", {"name": "王五", "phone": "13600001234", "source": "walk_in"}),
    ),
    Write(
        "register a customer with consent to SMS",
        page=lambda w: (
            reverse("customers:new"),
            _new_customer(name="王五", phone="13600001234", owner=w.advisor.pk, consents=["sms"])
            | {"consent_purpose": "保养提醒"},
        ),
        api=lambda w: (
            "POST",
            "/api/v1/customers",
            {"name": "王五", "phone": "13600001234", "source": "walk_in", "consents": {"sms": True}}
            | {"consent_purpose": "保养提醒"},
        ),
    ),
    Write(
        "refuse a customer with a phone already on file",
        page=lambda w: (reverse("customers:new"), _new_customer(name="王五", phone="13812345678", owner=w.advisor.pk)),
        api=lambda w: ("POST", "/api/v1/customers", {"name": "王五", "phone": "13812345678", "source": "walk_in"}),
        refused=customer_errors.PHONE_TAKEN,
    ),
    Write(
        "refuse a customer with a malformed phone",
        page=lambda w: (reverse("customers:new"), _new_customer(name="王五", phone="12345", owner=w.advisor.pk)),
        api=lambda w: ("POST", "/api/v1/customers", {"name": "王五", "phone": "12345", "source": "walk_in"}),
        refused=customer_errors.PHONE_INVALID,
    ),
    Write(
        "edit a customer's file",
        page=lambda w: (
            reverse("customers:edit", args=[w.car.customer_id]),
            _customer_form(w.car.customer, wechat="zsf_wx", occupation="出租车司机", tags="VIP"),
        ),
        api=lambda w: ("PATCH", _customers(w), {"wechat": "zsf_wx", "occupation": "出租车司机", "tags": ["VIP"]}),
    ),
    Write(
        "hand a customer to another owner",
        page=lambda w: (
            reverse("customers:edit", args=[w.car.customer_id]),
            _customer_form(w.car.customer, owner=w.users["service"].pk),
        ),
        api=lambda w: ("PATCH", _customers(w), {"owner": w.users["service"].pk}),
    ),
    Write(
        "refuse an edit to a phone already on file",
        arrange=lambda w: w.make_customer(name="李四", phone="13900001111"),
        page=lambda w: (
            reverse("customers:edit", args=[w.car.customer_id]),
            _customer_form(w.car.customer, phone="13900001111"),
        ),
        api=lambda w: ("PATCH", _customers(w), {"phone": "13900001111"}),
        refused=customer_errors.PHONE_TAKEN,
    ),
    Write(
        "refuse an edit to a malformed phone",
        page=lambda w: (reverse("customers:edit", args=[w.car.customer_id]), _customer_form(w.car.customer, phone="0")),
        api=lambda w: ("PATCH", _customers(w), {"phone": "0"}),
        refused=customer_errors.PHONE_INVALID,
    ),
    Write(
        "the customer agrees to WeChat messages",
        page=lambda w: (
            reverse("customers:consent", args=[w.car.customer_id]),
            {"channel": "wechat", "granted": "1", "method": "paper_form", "purpose": "保养提醒"},
        ),
        api=lambda w: (
            "POST",
            _customers(w, "/consents"),
            {"channel": "wechat", "granted": True, "method": "paper_form", "purpose": "保养提醒"},
        ),
    ),
    Write(
        "the customer withdraws consent to SMS",
        arrange=lambda w: w.consent_set(
            customer=w.car.customer, channel="sms", granted=True, method="verbal", purpose="保养提醒", by=w.advisor
        ),
        page=lambda w: (
            reverse("customers:consent", args=[w.car.customer_id]),
            {"channel": "sms", "granted": "0", "method": "verbal", "purpose": "不想收短信"},
        ),
        api=lambda w: (
            "POST",
            _customers(w, "/consents"),
            {"channel": "sms", "granted": False, "method": "verbal", "purpose": "不想收短信"},
        ),
    ),
    Write(
        "link a family member",
        arrange=lambda w: setattr(w, "wife", w.make_customer(name="李梅", phone="13900002222")),
        page=lambda w: (reverse("customers:household_link", args=[w.car.customer_id]), {"other": w.wife.pk}),
        api=lambda w: ("POST", _customers(w, "/household"), {"other_id": w.wife.pk}),
    ),
    Write(
        "refuse a customer as their own family member",
        page=lambda w: (reverse("customers:household_link", args=[w.car.customer_id]), {"other": w.car.customer_id}),
        api=lambda w: ("POST", _customers(w, "/household"), {"other_id": w.car.customer_id}),
        refused=customer_errors.HOUSEHOLD_SELF,
    ),
    Write(
        "leave the household",
        arrange=lambda w: household_link(
            customer=w.car.customer, other=w.make_customer(name="李梅", phone="13900002222"), by=w.advisor
        ),
        page=lambda w: (reverse("customers:household_unlink", args=[w.car.customer_id]), {}),
        api=lambda w: ("DELETE", _customers(w, "/household"), None),
    ),
    # --- vehicles ------------------------------------------------------------------------------
    Write(
        "edit a vehicle",
        page=lambda w: (
            reverse("customers:vehicle_edit", args=[w.car.pk]),
            _vehicle_form(w.car, colour="白色", year="2019", vin=VIN_OK, insurance_expiry="2027-03-01"),
        ),
        api=lambda w: (
            "PATCH",
            f"/api/v1/vehicles/{w.car.pk}",
            {"colour": "白色", "year": 2019, "vin": VIN_OK, "insurance_expiry": "2027-03-01"},
        ),
    ),
    Write(
        "refuse a malformed plate",
        page=lambda w: (reverse("customers:vehicle_edit", args=[w.car.pk]), _vehicle_form(w.car, plate="粤B12")),
        api=lambda w: ("PATCH", f"/api/v1/vehicles/{w.car.pk}", {"plate": "粤B12"}),
        refused=customer_errors.PLATE_INVALID,
    ),
    Write(
        "refuse a VIN whose check digit fails, unconfirmed",
        page=lambda w: (
            reverse("customers:vehicle_edit", args=[w.car.pk]),
            _vehicle_form(w.car, vin=VIN_CHECK_WRONG),
        ),
        api=lambda w: ("PATCH", f"/api/v1/vehicles/{w.car.pk}", {"vin": VIN_CHECK_WRONG}),
        refused=customer_errors.VIN_CHECK_FAILED,
    ),
    Write(
        "keep a VIN whose check digit fails, once confirmed",
        page=lambda w: (
            reverse("customers:vehicle_edit", args=[w.car.pk]),
            _vehicle_form(w.car, vin=VIN_CHECK_WRONG, vin_confirmed=True),
        ),
        api=lambda w: ("PATCH", f"/api/v1/vehicles/{w.car.pk}", {"vin": VIN_CHECK_WRONG, "vin_confirmed": True}),
    ),
    Write(
        "register a vehicle whose VIN check digit fails, confirmed",
        page=lambda w: (
            reverse("customers:vehicle_new", args=[w.car.customer_id]),
            {"plate": "粤B7Q2N1", "vin": VIN_CHECK_WRONG, "vin_confirmed": "on", "mileage": ""},
        ),
        api=lambda w: (
            "POST",
            _customers(w, "/vehicles"),
            {"plate": "粤B7Q2N1", "vin": VIN_CHECK_WRONG, "vin_confirmed": True},
        ),
    ),
    Write(
        "refuse registering a malformed plate",
        page=lambda w: (
            reverse("customers:vehicle_new", args=[w.car.customer_id]),
            {"plate": "ABC", "mileage": ""},
        ),
        api=lambda w: ("POST", _customers(w, "/vehicles"), {"plate": "ABC"}),
        refused=customer_errors.PLATE_INVALID,
    ),
    Write(
        "delete a vehicle",
        page=lambda w: (reverse("customers:vehicle_delete", args=[w.car.pk]), {}),
        api=lambda w: ("DELETE", f"/api/v1/vehicles/{w.car.pk}", None),
    ),
    # --- prospects -----------------------------------------------------------------------------
    Write(
        "capture a prospect with a car, followed up by the one who captures",
        page=lambda w: (
            reverse("lifecycle:prospect_new"),
            _prospect(owner="me", plate="粤B9X7Y6", brand="宝马", model="X3"),
        ),
        api=lambda w: ("POST", "/api/v1/prospects", _prospect(plate="粤B9X7Y6", brand="宝马", model="X3")),
    ),
    Write(
        "capture a prospect for a colleague",
        page=lambda w: (reverse("lifecycle:prospect_new"), _prospect(owner=str(w.users["service"].pk))),
        api=lambda w: ("POST", "/api/v1/prospects", _prospect(owner_id=w.users["service"].pk)),
    ),
    Write(
        "capture a prospect in turn",
        arrange=lambda w: rotation_set(organization=w.org, member_ids=[w.users["service"].pk, w.owner.pk]),
        page=lambda w: (reverse("lifecycle:prospect_new"), _prospect(owner="auto")),
        api=lambda w: ("POST", "/api/v1/prospects", _prospect(owner="auto")),
    ),
    Write(
        "refuse a prospect in turn when nobody takes them in turn",
        page=lambda w: (reverse("lifecycle:prospect_new"), _prospect(owner="auto")),
        api=lambda w: ("POST", "/api/v1/prospects", _prospect(owner="auto")),
        refused=lifecycle_errors.ROTATION_EMPTY,
    ),
    Write(
        "refuse an owner that is neither me, in turn nor a staff member",
        page=lambda w: (reverse("lifecycle:prospect_new"), _prospect(owner="boss")),
        api=lambda w: ("POST", "/api/v1/prospects", _prospect(owner="boss")),
        refused=lifecycle_errors.OWNER_MODE_INVALID,
    ),
    Write(
        "refuse a prospect for a staff member who left",
        arrange=lambda w: User.objects.for_org(w.org).filter(pk=w.users["service"].pk).update(is_active=False),
        page=lambda w: (reverse("lifecycle:prospect_new"), _prospect(owner=str(w.users["service"].pk))),
        api=lambda w: ("POST", "/api/v1/prospects", _prospect(owner_id=w.users["service"].pk)),
        refused=customer_errors.OWNER_INVALID,
    ),
    Write(
        "refuse a prospect whose phone is on file, naming the file",
        page=lambda w: (reverse("lifecycle:prospect_new"), _prospect(owner="me", phone="13812345678")),
        api=lambda w: ("POST", "/api/v1/prospects", _prospect(phone="13812345678")),
        refused=said(lifecycle_errors.DUPLICATE_PHONE, name="张三丰"),
    ),
    Write(
        "refuse a prospect whose car is on file, naming the file",
        page=lambda w: (reverse("lifecycle:prospect_new"), _prospect(owner="me", plate="粤B5K2M8")),
        api=lambda w: ("POST", "/api/v1/prospects", _prospect(plate="粤B5K2M8")),
        refused=said(lifecycle_errors.DUPLICATE_PLATE, plate="粤B5K2M8", name="张三丰"),
    ),
    # --- merging -------------------------------------------------------------------------------
    Write(
        "merge a duplicate file",
        arrange=lambda w: setattr(w, "dup", w.make_customer(name="张三丰（重复）", phone="13900003333", wechat="zsf")),
        page=lambda w: (reverse("followups:merge_confirm"), {"keep": w.car.customer_id, "other": w.dup.pk}),
        api=lambda w: ("POST", "/api/v1/customers/merge", {"keep_id": w.car.customer_id, "other_id": w.dup.pk}),
    ),
    Write(
        "refuse merging a file into itself",
        page=lambda w: (reverse("followups:merge_confirm"), {"keep": w.car.customer_id, "other": w.car.customer_id}),
        api=lambda w: (
            "POST",
            "/api/v1/customers/merge",
            {"keep_id": w.car.customer_id, "other_id": w.car.customer_id},
        ),
        refused=lifecycle_errors.MERGE_SAME,
    ),
    # --- staff who hand customers over, or leave --------------------------------------------------
    Write(
        "hand a staff member's customers to colleagues",
        arrange=_colleague,
        user="owner",
        page=lambda w: (reverse("followups:staff_reassign", args=[w.advisor.pk]), {"to": [w.colleague.pk, w.owner.pk]}),
        api=lambda w: ("POST", f"/api/v1/staff/{w.advisor.pk}/reassign", {"to": [w.colleague.pk, w.owner.pk]}),
    ),
    Write(
        "refuse handing customers to a staff member who left",
        arrange=lambda w: _colleague(w, left=True),
        user="owner",
        page=lambda w: (reverse("followups:staff_reassign", args=[w.advisor.pk]), {"to": [w.colleague.pk]}),
        api=lambda w: ("POST", f"/api/v1/staff/{w.advisor.pk}/reassign", {"to": [w.colleague.pk]}),
        refused=lifecycle_errors.REASSIGN_TARGET_REQUIRED,
    ),
    Write(
        "refuse handing customers to nobody",
        arrange=_colleague,
        user="owner",
        page=lambda w: (reverse("followups:staff_reassign", args=[w.advisor.pk]), {}),
        api=lambda w: ("POST", f"/api/v1/staff/{w.advisor.pk}/reassign", {"to": []}),
        refused=lifecycle_errors.REASSIGN_TARGET_REQUIRED,
    ),
    Write(
        "a staff member leaves, handing over every customer",
        arrange=lambda w: _colleague(w, in_turn=True),
        user="owner",
        page=lambda w: (reverse("followups:staff_deactivate", args=[w.advisor.pk]), {"to": [w.colleague.pk]}),
        api=lambda w: (
            "POST",
            f"/api/v1/staff/{w.advisor.pk}/reassign",
            {"to": [w.colleague.pk], "deactivate": True},
        ),
    ),
    Write(
        "a staff member who owns nobody leaves without handing over",
        user="owner",
        page=lambda w: (reverse("followups:staff_deactivate", args=[w.tech.pk]), {}),
        api=lambda w: ("POST", f"/api/v1/staff/{w.tech.pk}/reassign", {"to": [], "deactivate": True}),
    ),
    Write(
        "refuse a leaver who owns customers without anyone to take them",
        arrange=_colleague,
        user="owner",
        page=lambda w: (reverse("followups:staff_deactivate", args=[w.advisor.pk]), {}),
        api=lambda w: ("POST", f"/api/v1/staff/{w.advisor.pk}/reassign", {"to": [], "deactivate": True}),
        refused=lifecycle_errors.REASSIGN_TARGET_REQUIRED,
    ),
    Write(
        "refuse deactivating oneself",
        user="owner",
        page=lambda w: (reverse("followups:staff_deactivate", args=[w.owner.pk]), {"to": [w.advisor.pk]}),
        api=lambda w: ("POST", f"/api/v1/staff/{w.owner.pk}/reassign", {"to": [w.advisor.pk], "deactivate": True}),
        refused=lifecycle_errors.DEACTIVATE_SELF,
    ),
    # --- follow-up plans -----------------------------------------------------------------------
    Write(
        "create a follow-up plan for lost customers",
        user="owner",
        page=lambda w: (reverse("followups:plan_new"), _plan_page("流失挽回", "lost", PLAN_STEPS)),
        api=lambda w: ("POST", "/api/v1/followup-plans", _plan_api("流失挽回", "lost", PLAN_STEPS)),
    ),
    Write(
        "create a follow-up plan for prospects from flyers",
        user="owner",
        page=lambda w: (reverse("followups:plan_new"), _plan_page("传单潜客", "prospect", PLAN_STEPS, "flyer")),
        api=lambda w: ("POST", "/api/v1/followup-plans", _plan_api("传单潜客", "prospect", PLAN_STEPS, "flyer")),
    ),
    Write(
        "refuse a second active plan for the same stage and source",
        user="owner",
        page=lambda w: (reverse("followups:plan_new"), _plan_page("又一个", "prospect", PLAN_STEPS)),
        api=lambda w: ("POST", "/api/v1/followup-plans", _plan_api("又一个", "prospect", PLAN_STEPS)),
        refused=lifecycle_errors.PLAN_DUPLICATE,
    ),
    Write(
        "rewrite the steps of a plan",
        arrange=_prospect_plan,
        user="owner",
        page=lambda w: (
            reverse("followups:plan_edit", args=[w.plan.pk]),
            _plan_page("新潜客跟进", "prospect", PLAN_STEPS),
        ),
        api=lambda w: ("PUT", f"/api/v1/followup-plans/{w.plan.pk}", _plan_api("新潜客跟进", "prospect", PLAN_STEPS)),
    ),
    Write(
        "refuse a plan without steps",
        arrange=_prospect_plan,
        user="owner",
        page=lambda w: (reverse("followups:plan_edit", args=[w.plan.pk]), _plan_page("新潜客跟进", "prospect", [])),
        api=lambda w: ("PUT", f"/api/v1/followup-plans/{w.plan.pk}", _plan_api("新潜客跟进", "prospect", [])),
        refused=lifecycle_errors.PLAN_STEPS_REQUIRED,
    ),
    # --- a line needs one item; a part's price ------------------------------------------------------
    Write(
        "refuse a line without a service or part",
        arrange=_order,
        page=lambda w: (reverse("service:order_line_add", args=[w.order.pk]), {"item": "", "quantity": "1"}),
        api=lambda w: ("POST", _orders(w, "/lines"), {"quantity": "1"}),
        refused=errors.ITEM_REQUIRED,
    ),
    Write(
        "add a part to an order",
        arrange=_order,
        page=lambda w: (
            reverse("service:order_line_add", args=[w.order.pk]),
            {"item": f"part:{w.part.pk}", "quantity": "2"},
        ),
        api=lambda w: ("POST", _orders(w, "/lines"), {"part_id": w.part.pk, "quantity": "2"}),
    ),
    Write(
        "change a part's price",
        user="owner",
        page=lambda w: (
            reverse("service:catalog_part_edit", args=[w.part.pk]),
            {
                "code": "PJ01",
                "name": "机油滤芯",
                "unit": "个",
                "sale_price": "48.00",
                "cost": "20.00",
                "is_active": "on",
            },
        ),
        api=lambda w: ("PATCH", f"/api/v1/catalog/parts/{w.part.pk}", {"sale_price": "48.00"}),
    ),
    # --- tiers and membership -----------------------------------------------------------------
    Write(
        "join a customer to membership at a tier",
        arrange=lambda w: tier_save(
            organization=w.org, data={"code": "gold", "name": "金卡", "entry_rule": "spend", "entry_threshold": "8000"}
        ),
        page=lambda w: (reverse("loyalty:membership_set", args=[w.car.customer_id]), {"tier": "gold"}),
        api=lambda w: ("POST", f"/api/v1/customers/{w.car.customer_id}/membership", {"tier": "gold"}),
    ),
    Write(
        "add a tier",
        user="owner",
        page=lambda w: (
            reverse("loyalty:tier_new"),
            {"code": "silver", "name": "银卡", "rank": "1", "entry_rule": "spend", "entry_threshold": "3000"}
            | {"keep_threshold": "3000", "labour_discount_percent": "5", "parts_discount_percent": "0"}
            | {"points_multiplier": "1.2", "free_services_per_year": "0", "is_active": "on"},
        ),
        api=lambda w: (
            "POST",
            "/api/v1/loyalty/tiers",
            {"code": "silver", "name": "银卡", "rank": 1, "entry_rule": "spend", "entry_threshold": "3000"}
            | {"keep_threshold": "3000", "labour_discount_percent": "5", "points_multiplier": "1.2"},
        ),
    ),
    # --- referrals ------------------------------------------------------------------------------
    Write(
        "add a referral policy: a share of the first bill",
        user="owner",
        page=lambda w: (
            reverse("loyalty:referral_policy_new"),
            {"code": "first-5", "name": "首单5%", "kind": "first_bill_percent", "percent": "5", "is_active": "on"},
        ),
        api=lambda w: (
            "POST",
            "/api/v1/loyalty/referral-policies",
            {"code": "first-5", "name": "首单5%", "kind": "first_bill_percent", "percent": "5"},
        ),
    ),
    Write(
        "refuse a milestone referral policy without its coupon",
        user="owner",
        page=lambda w: (
            reverse("loyalty:referral_policy_new"),
            {"code": "m5", "name": "第5位", "kind": "milestone_coupon", "milestone": "5", "is_active": "on"},
        ),
        api=lambda w: (
            "POST",
            "/api/v1/loyalty/referral-policies",
            {"code": "m5", "name": "第5位", "kind": "milestone_coupon", "milestone": 5},
        ),
        refused=loyalty_errors.POLICY_TEMPLATE_INVALID,
    ),
    Write(
        "set the referrer type on the file",
        page=lambda w: (reverse("loyalty:referrer_type", args=[w.car.customer_id]), {"referrer_type": "honour"}),
        api=lambda w: ("PUT", f"/api/v1/customers/{w.car.customer_id}/referrer-type", {"referrer_type": "honour"}),
    ),
    # --- coupons --------------------------------------------------------------------------------
    Write(
        "add a coupon template for a free service",
        user="owner",
        page=lambda w: (
            reverse("loyalty:coupon_template_new"),
            {"code": "free-by01", "name": "免费换机油券", "kind": "free_service", "free_service": w.oil.pk}
            | {"min_spend": "", "days_valid": "365", "is_active": "on"},
        ),
        api=lambda w: (
            "POST",
            "/api/v1/loyalty/coupon-templates",
            {
                "code": "free-by01",
                "name": "免费换机油券",
                "kind": "free_service",
                "free_service": "BY01",
                "days_valid": 365,
            },
        ),
    ),
    Write(
        "add a fixed-amount coupon template on two services",
        user="owner",
        page=lambda w: (
            reverse("loyalty:coupon_template_new"),
            {"code": "labour-20", "name": "20元工时券", "kind": "amount", "value": "20", "min_spend": "100"}
            | {"days_valid": "90", "services": [w.oil.pk, w.brakes.pk], "is_active": "on"},
        ),
        api=lambda w: (
            "POST",
            "/api/v1/loyalty/coupon-templates",
            {"code": "labour-20", "name": "20元工时券", "kind": "amount", "value": "20", "min_spend": "100"}
            | {"days_valid": 90, "services": ["BY01", "ZD01"]},
        ),
    ),
    Write(
        "refuse a percentage coupon above 100",
        user="owner",
        page=lambda w: (
            reverse("loyalty:coupon_template_new"),
            {"code": "pct", "name": "折扣券", "kind": "percent", "value": "120", "days_valid": "30", "is_active": "on"},
        ),
        api=lambda w: (
            "POST",
            "/api/v1/loyalty/coupon-templates",
            {"code": "pct", "name": "折扣券", "kind": "percent", "value": "120", "days_valid": 30},
        ),
        refused=loyalty_errors.TEMPLATE_PERCENT_INVALID,
    ),
    Write(
        "give a customer a coupon by hand",
        arrange=lambda w: setattr(
            w,
            "template",
            coupon_template_save(
                organization=w.org, data={"code": "wash-5", "name": "5元洗车券", "kind": "amount", "value": "5"}
            ),
        ),
        page=lambda w: (reverse("loyalty:coupon_issue", args=[w.car.customer_id]), {"template": w.template.pk}),
        api=lambda w: ("POST", f"/api/v1/customers/{w.car.customer_id}/coupons", {"template": "wash-5"}),
    ),
]


# --- the test ----------------------------------------------------------------------------------


@pytest.fixture
def world(
    org: Organization,
    owner: User,
    advisor: User,
    tech: User,
    service: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_order: Callable[..., ServiceOrder],
    make_opening_hours: Callable[..., list[OpeningHours]],
) -> SimpleNamespace:
    """One shop open 08:00-18:00 every day, a customer's car at 42,000 km, an oil change
    (120.00), brake pads (350.00) and an oil filter (45.00)."""
    shop: Shop = first_shop(org)
    make_opening_hours(shop=shop)
    car = make_vehicle(make_customer(name="张三丰", phone="13812345678"), plate="粤B5K2M8", mileage_km=42_000)
    oil = service_item_save(
        organization=org,
        data={"code": "BY01", "name": "机油更换", "category": "maintenance", "labour_price": "120.00"}
        | {"interval_km": 5000, "interval_months": 6},
    )
    brakes = service_item_save(
        organization=org, data={"code": "ZD01", "name": "刹车片更换", "category": "repair", "labour_price": "350.00"}
    )
    part = part_save(
        organization=org, data={"code": "PJ01", "name": "机油滤芯", "sale_price": "45.00", "cost": "20.00"}
    )
    users = {"owner": owner, "advisor": advisor, "tech": tech, "service": service}
    return SimpleNamespace(
        org=org,
        shop=shop,
        car=car,
        oil=oil,
        brakes=brakes,
        part=part,
        make_order=make_order,
        make_customer=make_customer,
        consent_set=consent_set,
        users=users,
        **users,
    )


def _run(client: Client, method: str, path: str, data: Any, *, page: bool) -> Any:
    if page:
        return client.post(path, data, follow=True)
    if method == "DELETE":
        return client.delete(path)
    if method == "PATCH":
        return client.patch_json(path, data)  # type: ignore[attr-defined]
    if method == "PUT":
        return client.put(path, json.dumps(data), content_type="application/json")
    return client.post_json(path, data)  # type: ignore[attr-defined]


def _through(channel: str, write: Write, w: SimpleNamespace, client: Client) -> tuple[Any, dict[str, Any]]:
    """Send the write through one channel in a savepoint; answer the response and the rows it left."""
    with transaction.atomic():
        if channel == "page":
            url, data = write.page(w)
            response = _run(client, "POST", url, data, page=True)
        else:
            method, path, body = write.api(w)
            response = _run(client, method, path, body, page=False)
        after = stored(w.org)
        transaction.set_rollback(True)
    return response, after


def _api_messages(response: Any) -> list[str]:
    doc = response.json()
    return [doc.get("detail", "")] + [m for messages in (doc.get("errors") or {}).values() for m in messages]


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_the_page_and_the_api_agree(
    write: Write,
    world: SimpleNamespace,
    client_for: Callable[[User], Client],
    api_for: Callable[[User], ApiClient],
) -> None:
    write.arrange(world)
    user = world.users[write.user]
    before = stored(world.org)

    page, by_page = _through("page", write, world, client_for(user))
    api, by_api = _through("api", write, world, api_for(user))

    assert page.status_code == 200, page.content.decode()[:500]
    if write.refused is None:
        assert api.status_code in (200, 201, 204), api.content.decode()
        assert by_page != before, "the page stored nothing"
    else:
        message = write.refused() if callable(write.refused) else zh(write.refused)
        assert api.status_code == (write.api_status or 422), api.content.decode()
        assert message in _api_messages(api)
        assert escape(message) in page.content.decode(), f"the page does not say: {message}"
        assert by_page == before
    assert by_page == by_api
