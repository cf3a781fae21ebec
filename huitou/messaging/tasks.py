"""Background jobs of messaging (huey): the drain every minute, and bulk sends."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from huitou.messaging.models import BulkSend, Channel, Message, State
from huitou.messaging.services.bulk import bulk_send_batch
from huitou.messaging.services.drain import DrainResult, messages_drain
from huitou.tenancy.models import Organization


@db_task()
def drain_for(organization_id: int) -> DrainResult:
    """One organization's waiting messages: held ones released, due ones sent; safe to run twice."""
    return messages_drain(organization=organization_id)


@db_periodic_task(crontab(minute="*"))
def drain_all() -> None:
    """Every minute: each organization with a message due (held or queued) gets its drain."""
    due = Message.objects.filter(
        organization_id=OuterRef("pk"),
        state__in=[State.QUEUED, State.HELD],
        next_attempt_at__lte=timezone.now(),
    ).exclude(channel=Channel.MANUAL, state=State.QUEUED)
    for organization_id in Organization.objects.filter(Exists(due)).values_list("pk", flat=True):
        drain_for(organization_id)


@db_task()
def bulk_send_run(organization_id: int, bulk_id: int) -> int:
    """Make a bulk send's messages batch by batch until none is left; safe to run twice or resume."""
    bulk = BulkSend.objects.for_org(organization_id).filter(pk=bulk_id).first()
    if bulk is None:
        return 0
    done = 0
    while taken := bulk_send_batch(bulk=bulk):
        done += taken
    return done
