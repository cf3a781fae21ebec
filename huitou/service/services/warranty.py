"""The warranty promised on an order line (质保): given when the line is added, changed afterwards.

A line takes its item's usual terms (``ServiceItem.warranty_months`` /
``warranty_km``) unless others are named. A promise is made at the counter
like a price, so only those who settle bills (``may_set_line_warranty``: store
manager, service advisor) name other terms or change them later; a technician's
line carries the item's terms. A promise can be corrected on a paid order too
(the money does not change), with a reason in the order's history; never on a
void one. The care sweep reminds the customer before a promise lapses
(``huitou.care.services.sweep_warranty``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record
from huitou.service import errors
from huitou.service.errors import RoleRefused, StateConflict
from huitou.service.models import OrderLine, OrderState, Part, ServiceItem, ServiceOrder
from huitou.service.warranty import FROM_ITEM, warranty_terms
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm


def may_set_line_warranty(user: User) -> bool:
    """Whether ``user`` may promise other terms than the item's, or change a line's promise.

    The same people who may set a line's price (``orders.settle``): the promise is part
    of what is agreed with the customer at the counter.
    """
    return user.has_role_perm(Perm.SETTLE_ORDERS)


def line_promise(*, item: ServiceItem | Part, by: User, months: Any, km: Any) -> tuple[int | None, int | None]:
    """The terms a new line of ``item`` carries: the item's, or those named (``FROM_ITEM``: the item's leg).

    Raises ``ValidationError`` for terms out of range and ``RoleRefused`` when someone who
    may not set them names other terms than the item's.
    """
    usual = (getattr(item, "warranty_months", None), getattr(item, "warranty_km", None))
    terms = warranty_terms(usual[0] if months is FROM_ITEM else months, usual[1] if km is FROM_ITEM else km)
    if terms != usual and not may_set_line_warranty(by):
        raise RoleRefused(errors.WARRANTY_NOT_YOURS, "warranty_months")
    return terms


def order_line_warranty_set(
    *,
    line: OrderLine,
    by: User,
    months: Any,
    km: Any,
    reason: str = "",
    now: dt.datetime | None = None,
) -> OrderLine:
    """Replace the line's promise with ``months`` and ``km`` (empty: no such leg, both empty: none).

    On a paid order the change needs a ``reason``; a void order's lines are not changed
    (``StateConflict``). No change, no history entry.
    """
    if not may_set_line_warranty(by):
        raise RoleRefused(errors.WARRANTY_CHANGE_NOT_YOURS, "warranty_months")
    if line.kind == OrderLine.Kind.DISCOUNT:
        raise ValidationError({"warranty_months": [errors.WARRANTY_ON_DISCOUNT]})
    new_months, new_km = warranty_terms(months, km)
    reason = (reason or "").strip()[:200]
    org = line.organization_id
    with transaction.atomic():
        # Every write of an order's lines holds the order's row lock (services.orders).
        order = ServiceOrder.objects.for_org(org).select_for_update().get(pk=line.order_id)
        if order.state == OrderState.VOID:
            raise StateConflict(errors.ORDER_VOID)
        line.refresh_from_db(fields=["warranty_months", "warranty_km"])
        before = (line.warranty_months, line.warranty_km)
        if before == (new_months, new_km):
            return line
        if order.state == OrderState.PAID and not reason:
            raise ValidationError({"reason": [errors.WARRANTY_REASON_REQUIRED]})
        OrderLine.objects.for_org(org).filter(pk=line.pk).update(warranty_months=new_months, warranty_km=new_km)
        line.warranty_months, line.warranty_km = new_months, new_km
        changes: dict[str, Any] = {"warranty_of": [None, line.name]}
        if before[0] != new_months:
            changes["warranty_months"] = [before[0], new_months]
        if before[1] != new_km:
            changes["warranty_km"] = [before[1], new_km]
        change_record(
            organization_id=org,
            subject=order,
            action=ChangeEntry.Action.UPDATED,
            actor=by,
            customer_id=order.customer_id,
            changes=changes,
            note=reason,
            at=now,
        )
    return line
