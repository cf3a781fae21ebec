"""The staff ranking's kept figures follow the work and the files (``staff_facts``).

A day's work changes when a follow-up is recorded (it closes the tasks it
answers at the same moment) or a care task is closed: that local day is
marked stale. Whether a contact was with an existing customer changes when a
merge moves a file's first paid order earlier: the days of both files'
contacts after it are marked. (A first paid order sets ``converted_at`` to
the payment's moment, after every contact already recorded: no day moves.)
An owner's files (and their conversions per month) change with a new file,
a first paid order, an owner change, a completeness change, a deletion, a
restore and a merge: the owners are marked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from huitou.analytics import facts
from huitou.analytics.staff_facts import contacts_mark, owners_mark
from huitou.care import events as care_events
from huitou.customers import events as customer_events
from huitou.customers.models import Customer
from huitou.lifecycle import events as lifecycle_events
from huitou.lifecycle.models import FollowUp
from huitou.tenancy.models import User


def on_followup_recorded(sender: Any, followup: FollowUp, **kwargs: Any) -> None:
    facts.times_mark(followup.organization_id, [followup.at])


def on_care_tasks_closed(sender: Any, organization_id: int, closed_at: dt.datetime, **kwargs: Any) -> None:
    facts.times_mark(organization_id, [closed_at])


def on_customers_merging(sender: Any, keep: Customer, other: Customer, **kwargs: Any) -> None:
    # The kept file takes the earlier first paid order: contacts after it and up to the later one
    # (or after it at all, when one file had none) become contacts with an existing customer.
    # (Marked from the earlier one on: a few days more than move, never fewer.)
    converted = [c.converted_at for c in (keep, other) if c.converted_at is not None]
    if converted and keep.converted_at != other.converted_at:
        contacts_mark(keep.organization_id, [keep.pk, other.pk], after=min(converted))
    owners_mark(keep.organization_id, [keep.owner_id, other.owner_id])


def on_file_changed(sender: Any, customer: Customer, **kwargs: Any) -> None:
    owners_mark(customer.organization_id, [customer.owner_id])


def on_customer_updated(sender: Any, customer: Customer, changes: dict[str, Any], **kwargs: Any) -> None:
    if "owner" in changes:  # a completeness change has its own event
        owners_mark(customer.organization_id, [customer.owner_id, kwargs.get("owner_id_before")])


def on_customers_reassigned(
    sender: Any, organization_id: int, from_user: User, to_user_ids: list[int], **kwargs: Any
) -> None:
    owners_mark(organization_id, [from_user.pk, *to_user_ids])


lifecycle_events.followup_recorded.connect(on_followup_recorded, dispatch_uid="analytics.staff_followup")
care_events.care_tasks_closed.connect(on_care_tasks_closed, dispatch_uid="analytics.staff_care")
customer_events.customers_merging.connect(on_customers_merging, dispatch_uid="analytics.staff_merge")
customer_events.customer_created.connect(on_file_changed, dispatch_uid="analytics.staff_files_created")
lifecycle_events.customer_converted.connect(on_file_changed, dispatch_uid="analytics.staff_files_converted")
customer_events.customer_completeness_changed.connect(on_file_changed, dispatch_uid="analytics.staff_files_score")
customer_events.customer_deleted.connect(on_file_changed, dispatch_uid="analytics.staff_files_deleted")
customer_events.customer_restored.connect(on_file_changed, dispatch_uid="analytics.staff_files_restored")
customer_events.customer_updated.connect(on_customer_updated, dispatch_uid="analytics.staff_files_owner")
lifecycle_events.customers_reassigned.connect(on_customers_reassigned, dispatch_uid="analytics.staff_files_reassigned")
