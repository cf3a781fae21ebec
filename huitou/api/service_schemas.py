"""Schemas of the service API: catalog, orders, recommendations, appointments.

Money travels as decimal strings in yuan with two places (``"123.45"``), both
ways: a JSON number with a fraction is refused, since a float cannot hold
every amount of fen exactly; a whole number (``100``) is taken as ``"100"``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from huitou.api.base import Schema
from huitou.lib.money import FEN
from huitou.service.warranty import MAX_KM, MAX_MONTHS

# The values of the models' choices, spelt out so the OpenAPI document lists them
# (tests check that they match the models).
CategoryCode = Literal["maintenance", "repair", "detailing", "tyres", "inspection"]
OrderStateCode = Literal["open", "in_progress", "completed", "paid", "void"]
PaymentMethodCode = Literal["cash", "wechat", "alipay", "card", "transfer", "stored_value"]
UrgencyCode = Literal["now", "soon", "later"]
AppointmentTarget = Literal["confirmed", "arrived", "no_show", "cancelled"]


DECIMAL_AS_STRING = _('Send amounts as decimal strings, e.g. "123.45".')


def _decimal_text(value: Any) -> Any:
    """A whole JSON number becomes its digits; a fraction must come as a string."""
    if isinstance(value, bool | float):
        raise PydanticCustomError("decimal_string", str(DECIMAL_AS_STRING))
    if isinstance(value, int):
        return str(value)
    return value


MoneyIn = Annotated[
    str,
    BeforeValidator(_decimal_text),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$", "examples": ["123.45"]}),
]
QuantityIn = Annotated[
    str,
    BeforeValidator(_decimal_text),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["1", "4.5"]}),
]
Money = Annotated[str, Field(description="Yuan as a decimal string with two places", examples=["123.45"])]
# An id sent in a body or a filter: within the database's integer range, so that an absurd one is a 422.
IdIn = Annotated[int, Field(ge=1, le=2**63 - 1)]
# Warranty terms (质保): "3 months or 3,000 km", whichever comes first; either may be missing.
WarrantyMonths = Annotated[int, Field(ge=1, le=MAX_MONTHS, description="Warranty in months", examples=[3])]
WarrantyKm = Annotated[int, Field(ge=1, le=MAX_KM, description="Warranty in km", examples=[3000])]


def _in_utc(moment: dt.datetime) -> dt.datetime:
    """A moment with an offset, in UTC: the database takes offsets up to ±15:59 only, JSON any up to ±23:59."""
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as exc:
        raise ValueError("out of range once in UTC") from exc


# A date and time sent by a client: with an offset, it is read in UTC; without, in the shop's time zone.
MomentIn = Annotated[dt.datetime, AfterValidator(_in_utc)]


def money(value: Any) -> str | None:
    """A Decimal as the API writes money: ``"123.40"``; None stays None."""
    return None if value is None else str(value.quantize(FEN))


# --- references to other objects --------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class CustomerRef(Schema):
    id: int
    name: str
    phone: str = Field(description="Full number, or masked (138****1234) for roles that may not see it")


class VehicleRef(Schema):
    id: int
    plate: str
    brand: str
    model: str


# --- catalog ----------------------------------------------------------------------------------


class ServiceItemOut(Schema):
    id: int
    category: CategoryCode
    code: str
    name: str
    labour_price: Money
    standard_hours: str = Field(examples=["1.50"])
    interval_km: int | None = Field(description="Maintenance interval in km, e.g. 5000")
    interval_months: int | None
    warranty_months: int | None = Field(description="The usual warranty of a line of this item, in months")
    warranty_km: int | None = Field(description="… or in km, whichever comes first")
    is_active: bool
    shop_price: Money | None = Field(description="The price at the shop asked for (?shop=), when it has its own")


class ServiceItemPage(Schema):
    items: list[ServiceItemOut]
    count: int
    page: int
    page_size: int


class ServiceItemPatch(Schema):
    category: CategoryCode | None = None
    code: str | None = None
    name: str | None = None
    labour_price: MoneyIn | None = None
    standard_hours: QuantityIn | None = None
    interval_km: int | None = None
    interval_months: int | None = None
    warranty_months: WarrantyMonths | None = Field(default=None, description="Copied to each line; null: none")
    warranty_km: WarrantyKm | None = Field(default=None, description="Copied to each line; null: none")
    is_active: bool | None = None


class ServiceItemIn(ServiceItemPatch):
    category: CategoryCode
    code: str
    name: str
    labour_price: MoneyIn


class PartOut(Schema):
    id: int
    code: str
    name: str
    unit: str
    sale_price: Money
    cost: Money | None = Field(description="Only for roles that manage settings; null for the others")
    is_active: bool
    shop_price: Money | None = Field(description="The price at the shop asked for (?shop=), when it has its own")


class PartPage(Schema):
    items: list[PartOut]
    count: int
    page: int
    page_size: int


class PartPatch(Schema):
    code: str | None = None
    name: str | None = None
    unit: str | None = None
    sale_price: MoneyIn | None = None
    cost: MoneyIn | None = None
    is_active: bool | None = None


class PartIn(PartPatch):
    code: str
    name: str
    sale_price: MoneyIn
    cost: MoneyIn


# --- orders -----------------------------------------------------------------------------------


class OrderLineOut(Schema):
    id: int
    kind: Literal["service", "part", "discount"] = Field(
        description="discount: money off as a line of its own (member's discount, coupon, points), amount ≤ 0"
    )
    service_id: int | None
    part_id: int | None
    name: str
    quantity: str = Field(examples=["1.00"])
    unit_price: Money
    discount: Money
    amount: Money = Field(description="quantity × unit price − discount, rounded half-up to the fen")
    unit_cost: Money | None = Field(description="Parts only, for roles that manage settings; else null")
    technician: Ref | None
    note: str = Field(description="Why the line is priced as it is, as printed on the bill (e.g. 套餐卡抵扣)")
    applies_to: int | None = Field(description="For a discount line: the line it takes money off, if one")
    warranty_months: int | None = Field(description="The warranty promised on this line, in months (质保)")
    warranty_km: int | None = Field(description="… or in km, whichever comes first; both null: no warranty")
    created_at: dt.datetime


class PaymentOut(Schema):
    id: int
    method: PaymentMethodCode
    amount: Money
    reference: str
    received_by: Ref | None
    at: dt.datetime


class AdjustmentOut(Schema):
    id: int
    amount: Money
    reason: str
    author: Ref
    at: dt.datetime


class RecommendationOut(Schema):
    id: int
    order_id: int
    description: str
    urgency: UrgencyCode
    estimate: Money | None
    status: Literal["open", "accepted", "declined"]
    service: Ref | None
    line_id: int | None = Field(description="The order line it became, once accepted")
    recorded_by: Ref | None
    recorded_at: dt.datetime
    decided_at: dt.datetime | None


class OrderSummaryOut(Schema):
    id: int
    number: str
    state: OrderStateCode
    shop: Ref
    customer: CustomerRef
    vehicle: VehicleRef
    advisor: Ref
    mileage_km: int | None
    description: str
    expected_finish_at: dt.datetime | None
    opened_at: dt.datetime
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    paid_at: dt.datetime | None
    voided_at: dt.datetime | None
    void_reason: str
    lines_total: Money
    adjustments_total: Money
    total: Money = Field(description="Lines plus adjustments")
    amount_paid: Money
    amount_due: Money = Field(description="total − amount_paid")


class OrderOut(OrderSummaryOut):
    lines: list[OrderLineOut]
    payments: list[PaymentOut]
    adjustments: list[AdjustmentOut]
    recommendations: list[RecommendationOut]


class OrderPage(Schema):
    items: list[OrderSummaryOut]
    count: int
    page: int
    page_size: int


class OrderIn(Schema):
    vehicle_id: IdIn
    mileage: int | None = Field(default=None, description="Odometer at arrival, km: recorded as a reading")
    description: str = Field(default="", description="The customer's description of the problem")
    shop_id: IdIn | None = Field(default=None, description="Default: the caller's first shop")
    expected_finish_at: MomentIn | None = None


class LineIn(Schema):
    service_id: IdIn | None = Field(default=None, description="A service item, or:")
    part_id: IdIn | None = Field(default=None, description="a part (exactly one of the two)")
    quantity: QuantityIn = "1"
    unit_price: MoneyIn | None = Field(default=None, description="Default: the shop's price")
    discount: MoneyIn | None = Field(default=None, description="Yuan off the line, at most its full price")
    technician_id: IdIn | None = Field(default=None, description="Default: the caller, when a technician")
    package_card_id: IdIn | None = Field(
        default=None,
        description="A package card that pays the line (store manager, service advisor): with service_id a service "
        "it covers (default: the card's only service); the line is priced 0.00, 套餐卡抵扣 on the bill; "
        "409 when the card has no use left, expired or is bound to another car",
    )
    warranty_months: WarrantyMonths | None = Field(
        default=None,
        description="The warranty promised on the line. Left out: the service item's terms; null: none. Other "
        "terms than the item's: store managers and service advisors only (403 for a technician)",
    )
    warranty_km: WarrantyKm | None = Field(default=None, description="The same, in km (whichever comes first)")


class LineWarrantyIn(Schema):
    warranty_months: WarrantyMonths | None = Field(description="null: no limit by time")
    warranty_km: WarrantyKm | None = Field(description="null: no limit by distance; both null: no warranty")
    reason: str = Field(default="", max_length=200, description="Needed once the order is paid")


class PaymentIn(Schema):
    method: PaymentMethodCode
    amount: MoneyIn
    reference: str = Field(default="", max_length=64, description="e.g. the WeChat Pay transaction number")


class VoidIn(Schema):
    reason: str = Field(max_length=200)


class AdjustmentIn(Schema):
    amount: MoneyIn = Field(description="Negative lowers the total (then refund with a negative payment)")
    reason: str = Field(max_length=200)


class RecommendationIn(Schema):
    description: str = Field(default="", max_length=200, description="Default: the service item's name")
    urgency: UrgencyCode = "soon"
    estimate: MoneyIn | None = Field(default=None, description="Becomes the line's price if accepted")
    service_id: IdIn | None = None


class DecisionIn(Schema):
    service_id: IdIn | None = Field(
        default=None, description="The service item the work becomes (needed if it was recorded as free text)"
    )


# --- appointments -----------------------------------------------------------------------------


class AppointmentOut(Schema):
    id: int
    shop: Ref
    customer: CustomerRef
    vehicle: VehicleRef | None
    service: Ref | None
    day: dt.date
    slot: str = Field(examples=["09:30"])
    state: Literal["booked", "confirmed", "arrived", "converted", "no_show", "cancelled"]
    note: str
    order_id: int | None = Field(description="The service order it was converted into")
    created_at: dt.datetime


class AppointmentPage(Schema):
    items: list[AppointmentOut]
    count: int


class AppointmentIn(Schema):
    shop_id: IdIn | None = Field(default=None, description="Default: the caller's first shop")
    customer_id: IdIn
    vehicle_id: IdIn | None = None
    service_id: IdIn | None = None
    day: dt.date
    slot: dt.time = Field(description='"HH:MM", the start of one of the day\'s slots')
    note: str = Field(default="", max_length=200)


class AppointmentPatch(Schema):
    state: AppointmentTarget


class ConvertIn(Schema):
    mileage: int | None = Field(default=None, description="Odometer at arrival, km: recorded as a reading")
    description: str = Field(default="", description="Default: the appointment's note")
    vehicle_id: IdIn | None = Field(default=None, description="Default: the appointment's vehicle")


class SlotOut(Schema):
    start: str = Field(examples=["09:00"])
    bays: int
    booked: int
    free: int
    past: bool


class SlotsOut(Schema):
    shop_id: int
    day: dt.date
    open: bool = Field(description="False when the shop has no opening hours that weekday")
    slots: list[SlotOut]
