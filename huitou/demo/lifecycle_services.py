"""The demo's lifecycle through the services: each event of a file's story, at its time.

With the order history (``visits_recorded``), the paid orders convert the
file (the order_paid event) and the daily visit check, run for every day of
the story, makes it dormant and lost; the story's own PAID and INACTIVE
events are then skipped. Without it the first paid visit converts the file
through ``stage_on_paid_order`` at that time, and dormant and lost are given
with ``stage_import`` on the day the check would have moved it.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from huitou.customers.models import Customer, Stage
from huitou.demo.specs import GIVEN_UP, INACTIVE, MEMBERSHIP, PAID, FollowUpSpec, LifeEvent
from huitou.lifecycle.services.followups import followup_record
from huitou.lifecycle.services.stages import stage_change, stage_import, stage_on_membership, stage_on_paid_order
from huitou.tenancy.models import User


def lifecycle_apply(
    event: LifeEvent,
    *,
    customer: Customer,
    staff: Mapping[str, User],
    visits_recorded: bool,
) -> None:
    """Record one event of the story through the service that would have recorded it, at its time."""
    now = event.at
    with transaction.atomic():
        if isinstance(event, FollowUpSpec):
            followup_record(
                customer=customer,
                by=staff[event.staff],
                channel=event.channel,
                content=event.content,
                result=event.result,
                grade=event.grade,
                next_step=event.next_step,
                next_due=event.next_due,
                now=now,
            )
        elif event.kind == PAID:
            if not visits_recorded:
                stage_on_paid_order(
                    organization_id=customer.organization_id, customer_id=customer.pk, paid_at=event.at, by=None
                )
        elif event.kind == MEMBERSHIP:
            customer.refresh_from_db()
            stage_on_membership(customer=customer, by=staff[event.staff], now=now)
        elif event.kind == INACTIVE:
            if not visits_recorded:
                customer.refresh_from_db()
                stage_import(customer=customer, stage=event.stage, by=None, now=now)
        elif event.kind == GIVEN_UP:
            customer.refresh_from_db()
            stage_change(customer=customer, to_stage=Stage.LOST, reason=event.note, by=staff[event.staff], now=now)
