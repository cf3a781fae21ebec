"""Merging duplicate customer files into one, losing nothing."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record
from huitou.customers import events as customer_events
from huitou.customers.models import Channel, ConsentRecord, Customer, CustomerTag
from huitou.customers.services import CUSTOMER_TEXT_FIELDS, customer_refresh_completeness
from huitou.lifecycle import errors, events
from huitou.lifecycle.models import FollowUpTask, StageChange, StageReason
from huitou.lifecycle.services.stages import BEFORE_CONVERSION
from huitou.service.services.orders import customer_visits_refresh
from huitou.tenancy.models import User

# Which of two stages a merged file takes: the further along, with buyers above the lapsed.
STAGE_RANK = {"prospect": 0, "intent": 1, "lost": 2, "dormant": 3, "customer": 4, "member": 5}
# Hard facts a kept file takes from the other when it has none of its own.
FILL_FIELDS = (*CUSTOMER_TEXT_FIELDS, "phone", "phone_last4", "email", "birth_year", "birth_month", "birth_day")
FILL_FIELDS_RELATED = ("source", "household", "referrer")


def _customer_relations() -> list[models.ForeignObject[Any, Any]]:
    """Every foreign key from another table to a customer, the hidden ones included.

    Read from the models, so tables added later are moved too.
    """
    fields: list[models.ForeignObject[Any, Any]] = []
    for rel in Customer._meta.get_fields(include_hidden=True):
        if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one):
            if rel.related_model is Customer:
                continue  # referrer and merged_into point between files: handled below
            if getattr(rel.related_model, "merged_by_receiver", False):
                continue  # its app folds it in on ``customers_merging``
            fields.append(rel.field)  # type: ignore[union-attr]
    return fields


def customer_merge(*, keep: Customer, other: Customer, by: User) -> Customer:
    """Move everything of ``other`` into ``keep`` and close ``other``.

    Vehicles, orders, appointments, follow-ups, tasks, stage changes, tags,
    consents and history entries all move. ``keep`` keeps its own values and
    takes the other's where it has none; the earliest first contact, intent
    and conversion; the further stage. ``other`` stays, soft-deleted, pointing
    at ``keep``, with a history entry on both.
    """
    if keep.pk == other.pk:
        raise ValidationError({"other": [errors.MERGE_SAME]})
    if keep.organization_id != other.organization_id:
        raise ValidationError({"other": [errors.MERGE_SAME]})
    org_id = keep.organization_id
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Customer.objects.for_org(org_id)
            .select_for_update()
            .filter(pk__in=[keep.pk, other.pk])
            .order_by("pk")
        }
        keep, other = locked[keep.pk], locked[other.pk]
        if keep.deleted_at is not None or other.deleted_at is not None:
            raise ValidationError({"other": [errors.MERGE_DELETED]})
        now = timezone.now()

        # The other file leaves the active set first, freeing its phone for the kept one.
        other.deleted_at, other.deleted_by, other.merged_into = now, by, keep
        other.save(update_fields=["deleted_at", "deleted_by", "merged_into", "updated_at"])

        kept_tags = set(CustomerTag.objects.for_org(org_id).filter(customer=keep).values_list("tag_id", flat=True))
        CustomerTag.objects.for_org(org_id).filter(customer=other, tag_id__in=kept_tags).delete()
        # Both files may have the same plan running: the kept file's steps stay, the other's repeats go.
        open_tasks = FollowUpTask.objects.for_org(org_id).filter(closed_at=None, plan_step__isnull=False)
        kept_steps = set(open_tasks.filter(customer=keep).values_list("plan_step_id", flat=True))
        open_tasks.filter(customer=other, plan_step_id__in=kept_steps).update(
            closed_at=now, closed_as=FollowUpTask.Closed.CANCELLED
        )
        customer_events.customers_merging.send(sender=Customer, keep=keep, other=other, by=by)
        for field in _customer_relations():
            # Every table pointing at a customer is a tenant table: the move stays in the organization.
            field.model._default_manager.filter(organization_id=org_id, **{field.name: other}).update(
                **{field.name: keep}
            )
        ChangeEntry.objects.for_org(org_id).filter(customer_id=other.pk).update(customer_id=keep.pk)
        Customer.objects.for_org(org_id).filter(referrer=other).exclude(pk=keep.pk).update(referrer=keep)

        if keep.referrer_id == other.pk:
            keep.referrer_id = None  # referred by its own duplicate: no referrer of its own
        filled = []
        for name in FILL_FIELDS:
            if not getattr(keep, name) and getattr(other, name):
                setattr(keep, name, getattr(other, name))
                filled.append(name)
        for name in FILL_FIELDS_RELATED:
            if getattr(keep, f"{name}_id") is None and getattr(other, f"{name}_id") not in (None, keep.pk):
                setattr(keep, f"{name}_id", getattr(other, f"{name}_id"))
                filled.append(name)
        keep.created_at = min(keep.created_at, other.created_at)
        for name in ("intent_at", "converted_at"):
            dates = [d for d in (getattr(keep, name), getattr(other, name)) if d is not None]
            setattr(keep, name, min(dates) if dates else None)
        if not keep.intent_grade:
            keep.intent_grade = other.intent_grade
        for channel in Channel.values:
            latest = ConsentRecord.objects.for_org(org_id).filter(customer=keep, channel=channel).order_by("-at", "-pk")
            setattr(keep, f"consent_{channel}", bool(latest.values_list("granted", flat=True).first()))
        keep.save()
        # created_at is set on insert only; the earliest first contact counts in the funnel.
        Customer.objects.for_org(org_id).filter(pk=keep.pk).update(created_at=keep.created_at)

        if STAGE_RANK[other.stage] > STAGE_RANK[keep.stage]:
            StageChange.objects.create(
                organization_id=org_id,
                customer=keep,
                from_stage=keep.stage,
                to_stage=other.stage,
                reason=StageReason.MERGED,
                by=by,
                at=now,
            )
            events.stages_moved.send(
                sender=StageChange,
                organization_id=org_id,
                customer_ids=[keep.pk],
                to_stage=other.stage,
                reason=StageReason.MERGED,
                at=now,
            )
            keep.stage = other.stage
            keep.save(update_fields=["stage"])
        if keep.stage not in BEFORE_CONVERSION:
            # As on any move past intent: the prospect plan's calls (of either file) are pointless now.
            FollowUpTask.objects.for_org(org_id).filter(
                customer=keep, closed_at=None, stage__in=BEFORE_CONVERSION
            ).update(closed_at=now, closed_as=FollowUpTask.Closed.CANCELLED)
        if other.owner_id != keep.owner_id:
            # One file, one owner: the other owner's open follow-ups of it go to the kept file's owner.
            FollowUpTask.objects.for_org(org_id).filter(
                customer=keep, closed_at=None, assignee_id=other.owner_id
            ).update(assignee_id=keep.owner_id)
        customer_visits_refresh(organization_id=org_id, customer_id=keep.pk)
        change_record(
            organization_id=org_id,
            subject=keep,
            action=ChangeEntry.Action.MERGED,
            actor=by,
            customer_id=keep.pk,
            changes={"merged": [other.pk, keep.pk], **{f: [None, str(getattr(keep, f))] for f in filled}},
            note=other.name,
        )
        change_record(
            organization_id=org_id,
            subject=other,
            action=ChangeEntry.Action.MERGED,
            actor=by,
            customer_id=other.pk,
            changes={"merged": [other.pk, keep.pk]},
            note=keep.name,
        )
        keep.refresh_from_db()
        customer_refresh_completeness(customer=keep)
    return keep
