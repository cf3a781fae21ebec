"""Helpers shared by the service tests (not collected: no ``test_`` prefix)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.service.errors import StateConflict
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import User


def refused(exc: pytest.ExceptionInfo[ValidationError], field: str) -> list[str]:
    """The messages a ValidationError gives for one field."""
    return exc.value.message_dict.get(field, [])


def conflict(exc: pytest.ExceptionInfo[StateConflict]) -> str:
    return str(exc.value)


def fresh(order: ServiceOrder) -> ServiceOrder:
    return ServiceOrder.objects.for_org(order.organization_id).get(pk=order.pk)


def completed(order: ServiceOrder, item: ServiceItem, by: User, price: Any) -> ServiceOrder:
    """One line of ``item`` at ``price``, then completed: ``price`` is due."""
    order_add_line(order=order, by=by, service=item, unit_price=price)
    return order_complete(order=order, by=by)


def paid(order: ServiceOrder, item: ServiceItem, by: User, price: Any, method: str = "cash") -> ServiceOrder:
    """Completed at ``price`` and paid in full with one payment."""
    completed(order, item, by, price)
    order_pay(order=order, by=by, method=method, amount=price)
    return order


def history(order: ServiceOrder) -> list[ChangeEntry]:
    """The order's own change entries, oldest first."""
    return list(
        ChangeEntry.objects.for_org(order.organization_id)
        .filter(organization_id=order.organization_id, subject_type="serviceorder", subject_id=order.pk)
        .order_by("at", "pk")
    )


def next_monday() -> dt.date:
    """A Monday 1 to 7 days ahead: every slot on it is in the future."""
    today = timezone.localdate()
    return today + dt.timedelta(days=7 - today.weekday())


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """An aware datetime at a wall-clock time in the shops' time zone (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def money(value: str) -> Decimal:
    return Decimal(value)
