"""/api/v1/orders: service orders (工单), their lines, payments, adjustments and recommendations.

Who may do what (``huitou.tenancy.roles``):

- ``orders.view`` (all staff): read orders and their recommendations;
- ``orders.open`` (store manager, service advisor): receive a car, opening an order;
- ``orders.work`` (the same and technicians, who record the work): add and remove lines,
  record recommendations, start and complete an order;
- ``orders.settle`` (store manager, service advisor): take payments, void, adjust a paid
  order, record the customer's answer to a recommendation, and set a line's price or
  discount (a technician's line is charged at the shop's price) or its warranty (a
  technician's line promises the item's usual terms).

A write the state machine forbids (a line on a paid order, paying more than is due...)
answers 409 with the reason; refused input 422 with messages per field; an order of
another organization 404. Writes answer with the whole order as ``GET`` shows it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Status
from pydantic import Field

from huitou.api.base import Schema
from huitou.api.errors import fields_renamed
from huitou.api.lookups import in_org, own_shop, staff_member
from huitou.api.permissions import require
from huitou.api.schemas import MAX_PAGE
from huitou.api.service_schemas import (
    AdjustmentIn,
    DecisionIn,
    IdIn,
    LineIn,
    LineWarrantyIn,
    OrderIn,
    OrderOut,
    OrderPage,
    OrderStateCode,
    PaymentIn,
    RecommendationIn,
    RecommendationOut,
    VoidIn,
    money,
)
from huitou.customers.models import Customer, Vehicle
from huitou.customers.presentation import visible_phone
from huitou.loyalty import errors as loyalty_errors
from huitou.loyalty.models import PackageCard
from huitou.loyalty.services.cards import card_use
from huitou.service import errors, selectors
from huitou.service.models import OrderLine, Part, Recommendation, ServiceItem, ServiceOrder
from huitou.service.services import orders as services
from huitou.service.services.warranty import order_line_warranty_set
from huitou.service.warranty import FROM_ITEM
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["orders"])


# --- how an order reads back ------------------------------------------------------------------


def staff_ref(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": str(user)}


def customer_ref(customer: Customer, viewer: User) -> dict[str, Any]:
    return {"id": customer.pk, "name": customer.name, "phone": visible_phone(customer, viewer)}


def vehicle_ref(vehicle: Vehicle | None) -> dict[str, Any] | None:
    if vehicle is None:
        return None
    return {"id": vehicle.pk, "plate": vehicle.plate, "brand": vehicle.brand, "model": vehicle.model}


def order_summary_out(order: ServiceOrder, viewer: User) -> dict[str, Any]:
    """An order without its lines (shop, customer, vehicle and advisor must be selected)."""
    return {
        "id": order.pk,
        "number": order.number,
        "state": order.state,
        "shop": {"id": order.shop.pk, "name": order.shop.name},
        "customer": customer_ref(order.customer, viewer),
        "vehicle": vehicle_ref(order.vehicle),
        "advisor": staff_ref(order.advisor),
        "mileage_km": order.mileage_km,
        "description": order.description,
        "expected_finish_at": order.expected_finish_at,
        "opened_at": order.opened_at,
        "started_at": order.started_at,
        "completed_at": order.completed_at,
        "paid_at": order.paid_at,
        "voided_at": order.voided_at,
        "void_reason": order.void_reason,
        "lines_total": money(order.lines_total),
        "adjustments_total": money(order.adjustments_total),
        "total": money(order.total),
        "amount_paid": money(order.amount_paid),
        "amount_due": money(order.amount_due),
    }


def recommendation_out(recommendation: Recommendation) -> dict[str, Any]:
    """(``recorded_by`` and ``service`` must be selected.)"""
    service = recommendation.service
    return {
        "id": recommendation.pk,
        "order_id": recommendation.order_id,
        "description": recommendation.description,
        "urgency": recommendation.urgency,
        "estimate": money(recommendation.estimate),
        "status": recommendation.status,
        "service": None if service is None else {"id": service.pk, "name": service.name},
        "line_id": recommendation.line_id,
        "recorded_by": staff_ref(recommendation.recorded_by),
        "recorded_at": recommendation.recorded_at,
        "decided_at": recommendation.decided_at,
    }


def order_out(order: ServiceOrder, viewer: User) -> dict[str, Any]:
    """An order as ``selectors.order_for_page`` loads it, for ``viewer``."""
    sees_cost = viewer.has_role_perm(Perm.MANAGE_SETTINGS)
    return {
        **order_summary_out(order, viewer),
        "lines": [
            {
                "id": line.pk,
                "kind": line.kind,
                "service_id": line.service_id,
                "part_id": line.part_id,
                "name": line.name,
                "quantity": str(line.quantity),
                "unit_price": money(line.unit_price),
                "discount": money(line.discount),
                "amount": money(line.amount),
                "unit_cost": money(line.unit_cost) if sees_cost else None,
                "technician": staff_ref(line.technician),
                "note": line.note,
                "applies_to": line.applies_to_id,
                "warranty_months": line.warranty_months,
                "warranty_km": line.warranty_km,
                "created_at": line.created_at,
            }
            for line in order.lines.all()
        ],
        "payments": [
            {
                "id": p.pk,
                "method": p.method,
                "amount": money(p.amount),
                "reference": p.reference,
                "received_by": staff_ref(p.received_by),
                "at": p.at,
            }
            for p in order.payments.all()
        ],
        "adjustments": [
            {"id": a.pk, "amount": money(a.amount), "reason": a.reason, "author": staff_ref(a.author), "at": a.at}
            for a in order.adjustments.all()
        ],
        "recommendations": [recommendation_out(r) for r in order.recommendations.all()],
    }


def order_detail(request: ApiRequest, order_id: int) -> dict[str, Any]:
    """The caller's organization's order, read back whole (5 queries: ``selectors.order_for_page``)."""
    organization = request.organization
    if organization is None:
        raise Http404
    try:
        order = selectors.order_for_page(organization=organization, order_id=order_id)
    except ServiceOrder.DoesNotExist as exc:
        raise Http404 from exc
    return order_out(order, request.user)


def _get_order(request: ApiRequest, order_id: int) -> ServiceOrder:
    """The order row alone (1 query), for a write."""
    return get_scoped_or_404(ServiceOrder.objects.all(), request.organization, pk=order_id)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment)
    return moment


# --- list, open, read -------------------------------------------------------------------------


class OrderFilters(Schema):
    shop: IdIn | None = None
    date: dt.date | None = Field(default=None, description="The local day the order was opened, YYYY-MM-DD")
    state: OrderStateCode | None = None
    customer: IdIn | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=20, ge=1, le=100)


@router.get("", response=OrderPage, summary="List orders")
def list_orders(request: ApiRequest, filters: Query[OrderFilters]) -> dict[str, Any]:
    """Newest first, by shop, day, state and customer (``orders.view``: all staff).

    Queries: 1 count, 1 page of orders with shop, customer, vehicle and advisor.
    """
    organization = require(request, Perm.VIEW_ORDERS)
    orders = selectors.order_list(
        organization=organization,
        shop_id=filters.shop,
        day=filters.date,
        state=filters.state or "",
        customer_id=filters.customer,
    )
    count = orders.count()
    start = (filters.page - 1) * filters.page_size
    viewer: User = request.user
    return {
        "items": [order_summary_out(o, viewer) for o in orders[start : start + filters.page_size]],
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.post("", response={201: OrderOut}, summary="Receive a car: open an order")
def open_order(request: ApiRequest, payload: OrderIn) -> Status:
    """For the vehicle's current owner, at ``shop_id`` or the caller's first shop, with the
    caller as service advisor; the mileage at arrival, when given, is recorded as a reading
    and may not be below the vehicle's last one (``orders.open``: store manager, service
    advisor)."""
    organization = require(request, Perm.OPEN_ORDERS)
    vehicle = in_org(Vehicle.objects.active(), organization, payload.vehicle_id, "vehicle_id", errors.VEHICLE_UNKNOWN)
    order = services.order_open(
        organization=organization,
        shop=own_shop(request, payload.shop_id),
        vehicle=vehicle,
        by=request.user,
        mileage_km=payload.mileage,
        description=payload.description,
        expected_finish_at=_aware(payload.expected_finish_at),
    )
    return Status(201, order_detail(request, order.pk))


@router.get("/{order_id}", response=OrderOut, summary="Read an order")
def get_order(request: ApiRequest, order_id: IdIn) -> dict[str, Any]:
    """With lines, payments, adjustments and recommendations (``orders.view``: all staff;
    a line's ``unit_cost`` only with ``settings.manage``).

    Queries: 1 order with shop, customer, vehicle and advisor, 1 lines, 1 payments,
    1 adjustments, 1 recommendations.
    """
    require(request, Perm.VIEW_ORDERS)
    return order_detail(request, order_id)


# --- lines and progress -----------------------------------------------------------------------


@router.post("/{order_id}/lines", response={201: OrderOut}, summary="Add a service item or a part")
def add_line(request: ApiRequest, order_id: IdIn, payload: LineIn) -> Status:
    """``service_id`` or ``part_id``, with ``quantity``; the new line is the order's last
    (``orders.work``: technicians too, who are the line's technician unless one is named).
    ``unit_price`` and ``discount`` (default: the shop's price, no discount) are for store
    managers and service advisors: 403 with the reason for a technician. 409 once the order
    is paid or void. With ``package_card_id`` (store manager, service advisor) a card pays
    the line: priced 0.00, one use taken; 409 when it has none left. The line promises the item's
    warranty unless ``warranty_months`` / ``warranty_km`` are sent (null: none; other terms: store
    managers and service advisors, 403 for a technician)."""
    organization = require(request, Perm.WORK_ON_ORDERS)
    user: User = request.user
    order = _get_order(request, order_id)
    # The ids name rows of the organization; whether they make a line (one item, in use) is the service's.
    service = part = None
    if payload.service_id is not None:
        items = ServiceItem.objects.all()
        service = in_org(items, organization, payload.service_id, "service_id", errors.ITEM_UNKNOWN)
    if payload.part_id is not None:
        part = in_org(Part.objects.all(), organization, payload.part_id, "part_id", errors.ITEM_UNKNOWN)
    technician: User | None = None
    if payload.technician_id is not None:
        technician = staff_member(organization, payload.technician_id, "technician_id")
    if payload.package_card_id is not None:
        _card_line(request, order, payload.package_card_id, service, technician)
        return Status(201, order_detail(request, order.pk))
    with fields_renamed({"item": "part_id" if payload.service_id is None and part is not None else "service_id"}):
        services.order_add_line(
            order=order,
            by=user,
            service=service,
            part=part,
            quantity=payload.quantity,
            unit_price=payload.unit_price,
            discount=payload.discount,
            technician=technician,
            # Left out: the item's terms; null: no warranty.
            **{f: getattr(payload, f) if f in payload.model_fields_set else FROM_ITEM for f in _WARRANTY},
        )
    return Status(201, order_detail(request, order.pk))


_WARRANTY = ("warranty_months", "warranty_km")


def _card_line(
    request: ApiRequest, order: ServiceOrder, card_id: int, service: ServiceItem | None, technician: User | None
) -> None:
    """A line paid by a package card (``orders.settle`` too): of ``service``, or the card's only service."""
    organization = require(request, Perm.SETTLE_ORDERS)
    card = in_org(PackageCard.objects.select_related("product"), organization, card_id, "package_card_id",
                  loyalty_errors.CARD_UNKNOWN)  # fmt: skip
    if service is None:
        covered = list(card.product.services.all()[:2])
        if len(covered) != 1:
            raise ValidationError({"service_id": [errors.ITEM_REQUIRED]})
        service = covered[0]
    card_use(order=order, card=card, service=service, by=request.user, technician=technician)


@router.delete("/{order_id}/lines/{line_id}", response=OrderOut, summary="Remove a line")
def remove_line(request: ApiRequest, order_id: IdIn, line_id: IdIn) -> dict[str, Any]:
    """(``orders.work``). 409 once the order is paid or void: then record an adjustment.
    A recommendation that had become this line is open again."""
    require(request, Perm.WORK_ON_ORDERS)
    line = get_scoped_or_404(
        OrderLine.objects.select_related("order"),
        request.organization,
        pk=line_id,
        order_id=order_id,
    )
    services.order_remove_line(line=line, by=request.user)
    return order_detail(request, order_id)


@router.put("/{order_id}/lines/{line_id}/warranty", response=OrderOut, summary="Set the warranty promised on a line")
def set_line_warranty(request: ApiRequest, order_id: IdIn, line_id: IdIn, payload: LineWarrantyIn) -> dict[str, Any]:
    """Both legs replace the line's (null: none), whichever comes first (``orders.work``, but only store
    managers and service advisors may: 403 with the reason for a technician). On a paid order a
    ``reason`` is needed (422 without); 409 on a void order; 422 for a discount line."""
    require(request, Perm.WORK_ON_ORDERS)
    line = get_scoped_or_404(OrderLine.objects.all(), request.organization, pk=line_id, order_id=order_id)
    order_line_warranty_set(
        line=line, by=request.user, months=payload.warranty_months, km=payload.warranty_km, reason=payload.reason
    )
    return order_detail(request, order_id)


@router.post("/{order_id}/start", response=OrderOut, summary="Start the work")
def start_order(request: ApiRequest, order_id: IdIn) -> dict[str, Any]:
    """open → in progress (``orders.work``); 409 from any other state."""
    require(request, Perm.WORK_ON_ORDERS)
    services.order_start(order=_get_order(request, order_id), by=request.user)
    return order_detail(request, order_id)


@router.post("/{order_id}/complete", response=OrderOut, summary="Complete the work")
def complete_order(request: ApiRequest, order_id: IdIn) -> dict[str, Any]:
    """open or in progress → completed, ready for payment (``orders.work``); 409 otherwise."""
    require(request, Perm.WORK_ON_ORDERS)
    services.order_complete(order=_get_order(request, order_id), by=request.user)
    return order_detail(request, order_id)


# --- settling ---------------------------------------------------------------------------------


@router.post("/{order_id}/payments", response={201: OrderOut}, summary="Take a payment")
def take_payment(request: ApiRequest, order_id: IdIn, payload: PaymentIn) -> Status:
    """One of several payments; the order becomes paid when they cover the total
    (``orders.settle``: store manager, service advisor). 409 before completion, on a void
    order, or for more than is due. After a downward adjustment a refund is a negative amount."""
    require(request, Perm.SETTLE_ORDERS)
    services.order_pay(
        order=_get_order(request, order_id),
        by=request.user,
        method=payload.method,
        amount=payload.amount,
        reference=payload.reference,
    )
    return Status(201, order_detail(request, order_id))


@router.post("/{order_id}/void", response=OrderOut, summary="Void the order")
def void_order(request: ApiRequest, order_id: IdIn, payload: VoidIn) -> dict[str, Any]:
    """With a reason (``orders.settle``). 409 for a paid order: adjust it instead."""
    require(request, Perm.SETTLE_ORDERS)
    services.order_void(order=_get_order(request, order_id), by=request.user, reason=payload.reason)
    return order_detail(request, order_id)


@router.post("/{order_id}/adjustments", response={201: OrderOut}, summary="Adjust a paid order")
def adjust_order(request: ApiRequest, order_id: IdIn, payload: AdjustmentIn) -> Status:
    """A paid order is never edited: its total changes by an adjustment with a reason and
    an author (``orders.settle``). 409 if the order is not paid."""
    require(request, Perm.SETTLE_ORDERS)
    services.order_adjust(
        order=_get_order(request, order_id),
        by=request.user,
        amount=payload.amount,
        reason=payload.reason,
    )
    return Status(201, order_detail(request, order_id))


# --- recommendations (建议项目) ---------------------------------------------------------------


def _get_recommendation(request: ApiRequest, order_id: int, recommendation_id: int) -> Recommendation:
    return get_scoped_or_404(
        Recommendation.objects.select_related("order", "service", "recorded_by"),
        request.organization,
        pk=recommendation_id,
        order_id=order_id,
    )


@router.get("/{order_id}/recommendations", response=list[RecommendationOut], summary="Recommendations of an order")
def list_recommendations(request: ApiRequest, order_id: IdIn) -> list[dict[str, Any]]:
    """(``orders.view``: all staff.) Queries: 1 order, 1 recommendations with service and recorder."""
    require(request, Perm.VIEW_ORDERS)
    order = _get_order(request, order_id)
    found = Recommendation.objects.for_org(order.organization_id).filter(order=order)
    return [recommendation_out(r) for r in found.select_related("service", "recorded_by").order_by("pk")]


@router.post("/{order_id}/recommendations", response={201: RecommendationOut}, summary="Record further work found")
def add_recommendation(request: ApiRequest, order_id: IdIn, payload: RecommendationIn) -> Status:
    """A description and/or a service item, urgency and estimate (``orders.work``:
    technicians too). 409 on a void order."""
    organization = require(request, Perm.WORK_ON_ORDERS)
    order = _get_order(request, order_id)
    service = None
    if payload.service_id is not None:
        active = ServiceItem.objects.filter(is_active=True)
        service = in_org(active, organization, payload.service_id, "service_id", errors.ITEM_UNKNOWN)
    recommendation = services.recommendation_add(
        order=order,
        by=request.user,
        description=payload.description,
        urgency=payload.urgency,
        estimate=payload.estimate,
        service=service,
    )
    return Status(201, recommendation_out(recommendation))


def _decide(request: ApiRequest, order_id: int, recommendation_id: int, service_id: int | None, accept: bool) -> Any:
    organization = require(request, Perm.SETTLE_ORDERS)
    recommendation = _get_recommendation(request, order_id, recommendation_id)
    service = None
    if service_id is not None:
        active = ServiceItem.objects.filter(is_active=True)
        service = in_org(active, organization, service_id, "service_id", errors.ITEM_UNKNOWN)
    services.recommendation_decide(
        recommendation=recommendation,
        by=request.user,
        accept=accept,
        service=service,
    )
    return recommendation_out(recommendation)


@router.post(
    "/{order_id}/recommendations/{recommendation_id}/accept",
    response=RecommendationOut,
    summary="The customer accepts: the work becomes a line",
)
def accept_recommendation(
    request: ApiRequest, order_id: IdIn, recommendation_id: IdIn, payload: DecisionIn | None = None
) -> dict[str, Any]:
    """Charged at the estimate, else the shop's price; work recorded as free text needs its
    ``service_id`` (``orders.settle``). 409 if already decided or the order is paid or void."""
    return _decide(request, order_id, recommendation_id, payload.service_id if payload else None, accept=True)


@router.post(
    "/{order_id}/recommendations/{recommendation_id}/decline",
    response=RecommendationOut,
    summary="The customer declines: kept for follow-up",
)
def decline_recommendation(request: ApiRequest, order_id: IdIn, recommendation_id: IdIn) -> dict[str, Any]:
    """(``orders.settle``.) 409 if already decided."""
    return _decide(request, order_id, recommendation_id, None, accept=False)
