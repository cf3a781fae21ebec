"""The daily facts follow the orders: every change to a day's money marks that day stale (``facts``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from huitou.analytics import facts
from huitou.customers import events as customer_events
from huitou.customers.models import Customer
from huitou.lifecycle import events as lifecycle_events
from huitou.lifecycle.models import StageReason
from huitou.service import events as order_events
from huitou.service.models import Payment, ServiceOrder

# How long after a first visit a paid order still moves that day's figures (the 12 cohort months).
COHORT_SPAN = dt.timedelta(days=31 * (facts.COHORT_MONTHS + 1))


def on_payment_taken(sender: Any, order: ServiceOrder, payment: Payment, **kwargs: Any) -> None:
    facts.times_mark(order.organization_id, [payment.at])


def on_order_paid(sender: Any, order: ServiceOrder, **kwargs: Any) -> None:
    """The day paid; and the day of the first visit, whose returns and cohort a visit within 13 months moves."""
    if order.paid_at is not None:
        facts.paid_order_mark(
            order.organization_id, customer_id=order.customer_id, paid_at=order.paid_at, within=COHORT_SPAN
        )


def on_customers_merging(sender: Any, keep: Customer, other: Customer, **kwargs: Any) -> None:
    # The other's payments become the kept file's: membership and referrer are the kept file's now.
    # And the other's first visit and stage changes become the kept file's.
    ids = [keep.pk, other.pk]
    org = keep.organization_id
    facts.days_mark(org, facts.customer_days(org, ids) | facts.first_visit_days(org, ids) | facts.stage_days(org, ids))


def on_customer_updated(sender: Any, customer: Customer, changes: dict[str, Any], **kwargs: Any) -> None:
    if "referrer" in changes:  # the referred customers' share of revenue
        facts.customers_mark(customer.organization_id, [customer.pk])
    if "source" in changes:  # new customers by source
        facts.first_visits_mark_ids(customer.organization_id, [customer.pk])


def on_customer_deleted_or_restored(sender: Any, customer: Customer, **kwargs: Any) -> None:
    # Deleted files are in no customer figure: their first visit's and stage changes' days move.
    org, ids = customer.organization_id, [customer.pk]
    facts.days_mark(org, facts.first_visit_days(org, ids) | facts.stage_days(org, ids))


def on_stages_moved(
    sender: Any, organization_id: int, to_stage: str, reason: str, at: dt.datetime, **kwargs: Any
) -> None:
    if to_stage == "dormant" or reason == StageReason.RETURNED:  # churned, won back
        facts.times_mark(organization_id, [at])


order_events.payment_taken.connect(on_payment_taken, dispatch_uid="analytics.facts_payment")
order_events.order_paid.connect(on_order_paid, dispatch_uid="analytics.facts_paid")
customer_events.customers_merging.connect(on_customers_merging, dispatch_uid="analytics.facts_merge")
customer_events.customer_updated.connect(on_customer_updated, dispatch_uid="analytics.facts_referrer")
customer_events.customer_deleted.connect(on_customer_deleted_or_restored, dispatch_uid="analytics.facts_deleted")
customer_events.customer_restored.connect(on_customer_deleted_or_restored, dispatch_uid="analytics.facts_restored")
lifecycle_events.stages_moved.connect(on_stages_moved, dispatch_uid="analytics.facts_stages")
