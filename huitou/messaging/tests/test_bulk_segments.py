"""A saved segment as a bulk send's audience: exactly its customers, as it stood when the send started."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from huitou.analytics.models import Segment
from huitou.analytics.segments import segment_create, segment_update
from huitou.analytics.selectors import segment_customers
from huitou.analytics.tests.segment_dataset import SegmentWorld, segment_world  # noqa: F401 - the fixture
from huitou.messaging import errors
from huitou.messaging.models import BulkSend, Message, MessageTemplate
from huitou.messaging.services.bulk import bulk_send_batch, bulk_send_start
from huitou.messaging.tests.conftest import NOON
from huitou.tenancy.models import User
from huitou.testing.text import zh


@pytest.fixture
def graded(segment_world: SegmentWorld, owner: User) -> Segment:  # noqa: F811
    """张一 and 李二 (grade A, one by hand); 王三 and the deleted 赵四 are not in it."""
    return segment_create(organization=segment_world.org, name="A级客户", filters={"customer_grade": "A"}, by=owner)


def _reached(bulk: BulkSend) -> set[str]:
    messages = Message.objects.for_org(bulk.organization_id).filter(bulk=bulk).select_related("customer")
    return {m.customer.name for m in messages}


def test_a_bulk_send_to_a_segment_reaches_exactly_its_customers(
    graded: Segment, owner: User, reminder: MessageTemplate
) -> None:
    bulk = bulk_send_start(
        organization=graded.organization,
        template=reminder,
        channel="manual",
        filters={"segment": graded},
        values={"service": "小保养", "due_date": "3月20日"},
        by=owner,
        now=NOON,
    )
    while bulk_send_batch(bulk=bulk, now=NOON, size=1):
        pass

    bulk.refresh_from_db()
    assert _reached(bulk) == {c.name for c in segment_customers(graded)} == {"张一", "李二"}
    assert (bulk.total, bulk.processed, bulk.state) == (2, 2, "done")
    assert bulk.filters["conditions"] == {"customer_grade": "A"} and bulk.filters["segment"] == "A级客户"


def test_the_send_keeps_the_segment_as_it_was_when_it_started(
    graded: Segment, owner: User, reminder: MessageTemplate
) -> None:
    bulk = bulk_send_start(
        organization=graded.organization,
        template=reminder,
        channel="manual",
        filters={"segment": graded, "stage": "customer"},  # a stage narrows it further
        values={"service": "小保养", "due_date": "3月20日"},
        by=owner,
        now=NOON,
    )
    segment_update(segment=graded, name="A级客户", filters={"stage": "prospect"}, by=owner)
    while bulk_send_batch(bulk=bulk, now=NOON):
        pass

    assert _reached(bulk) == {"张一"}


def test_another_organizations_segment_is_refused(
    segment_world: SegmentWorld,  # noqa: F811
    outsider: User,
    owner: User,
    reminder: MessageTemplate,
) -> None:
    theirs = segment_create(organization=segment_world.other_org, name="VIP", filters={"tags": ["VIP"]}, by=outsider)

    with pytest.raises(ValidationError) as refused:
        bulk_send_start(
            organization=segment_world.org,
            template=reminder,
            channel="manual",
            filters={"segment": theirs},
            values={"service": "小保养", "due_date": "3月20日"},
            by=owner,
        )

    assert refused.value.message_dict == {"segment": [str(errors.SEGMENT_UNKNOWN)]}


def test_the_bulk_page_sends_to_a_segment_chosen_on_its_page(
    django_capture_on_commit_callbacks: Any,
    graded: Segment,
    owner: User,
    reminder: MessageTemplate,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(owner)
    detail = client.get(graded.get_absolute_url()).content.decode()
    link = f"{reverse('messaging:bulk_new')}?segment={graded.pk}"
    assert link in detail

    form = client.get(link).context["form"]
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            reverse("messaging:bulk_new"),
            {
                "template": reminder.pk,
                "channel": "manual",
                "segment": graded.pk,
                "service": "小保养",
                "due_date": "明天",
            },
            follow=True,
        )

    bulk = BulkSend.objects.for_org(graded.organization_id).get()
    assert form.initial["segment"] == str(graded.pk)
    assert sent.status_code == 200 and _reached(bulk) == {"张一", "李二"}
    assert zh("To the segment “%(name)s”") % {"name": "A级客户"} in sent.content.decode()
