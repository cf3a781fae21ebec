"""The lifecycle follows events of other areas: new, deleted and restored files, and paid orders.

Receivers only hand over to the lifecycle services, inside the sender's transaction.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from huitou.customers.events import customer_created, customer_deleted, customer_restored
from huitou.customers.models import Customer
from huitou.lifecycle.services.followups import tasks_hold, tasks_resume
from huitou.lifecycle.services.stages import customer_entered, stage_on_paid_order
from huitou.service.events import order_paid
from huitou.service.models import ServiceOrder


@receiver(customer_created, sender=Customer, dispatch_uid="lifecycle_customer_created")
def _on_customer_created(sender: Any, customer: Customer, by: Any = None, **kwargs: Any) -> None:
    customer_entered(customer=customer, by=by, now=kwargs.get("now"))


@receiver(customer_deleted, sender=Customer, dispatch_uid="lifecycle_customer_deleted")
def _on_customer_deleted(sender: Any, customer: Customer, **kwargs: Any) -> None:
    tasks_hold(customer=customer)


@receiver(customer_restored, sender=Customer, dispatch_uid="lifecycle_customer_restored")
def _on_customer_restored(sender: Any, customer: Customer, **kwargs: Any) -> None:
    tasks_resume(customer=customer)


@receiver(order_paid, sender=ServiceOrder, dispatch_uid="lifecycle_order_paid")
def _on_order_paid(sender: Any, order: ServiceOrder, by: Any = None, **kwargs: Any) -> None:
    stage_on_paid_order(
        organization_id=order.organization_id,
        customer_id=order.customer_id,
        paid_at=order.paid_at or order.opened_at,
        by=by,
    )
