"""Bulk sends: batches under a cursor, the same rules as one send, progress, and never twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from huitou.customers.models import Customer
from huitou.messaging import errors
from huitou.messaging.models import BulkSend, Message, MessageTemplate, Reason, State
from huitou.messaging.services.bulk import bulk_send_batch, bulk_send_start
from huitou.messaging.services.send import message_send
from huitou.messaging.tests.conftest import NOON, china
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh


@pytest.fixture
def five(make_customer: Any, make_vehicle: Any, agreed: Any) -> list[Customer]:
    """Five customers tagged 车友会: three agreed to WeChat, one never asked, one without a car."""
    found = []
    for i in range(5):
        c = make_customer(name=f"车友{i}", phone=f"1370000{i:04d}", tags=["车友会"])
        if i != 4:
            make_vehicle(c, plate=f"粤B1000{i}")
        found.append(agreed(c, "wechat") if i < 3 or i == 4 else c)
    return found


def _start(org: Organization, template: MessageTemplate, by: User, **kw: Any) -> BulkSend:
    return bulk_send_start(
        organization=org, template=template, channel="manual", filters={"tag": "车友会"}, by=by, now=NOON, **kw
    )


def _rows(org: Organization, bulk: BulkSend) -> list[tuple[str, str, str]]:
    return [
        (m.customer.name, m.state, m.reason)
        for m in Message.objects.for_org(org).filter(bulk=bulk).select_related("customer").order_by("customer_id")
    ]


def test_a_bulk_send_runs_in_batches_with_the_rules_of_one_send(
    org: Organization, five: list[Customer], owner: User, advisor: User, promo: MessageTemplate
) -> None:
    for _ in range(3):  # 车友1 has had this week's three marketing messages
        message_send(customer=five[1], template=promo, by=advisor, now=NOON - dt.timedelta(days=1))
    bulk = _start(org, promo, owner)

    sizes = []
    while taken := bulk_send_batch(bulk=bulk, now=NOON, size=2):
        sizes.append(taken)

    bulk.refresh_from_db()
    assert sizes == [2, 2, 1]
    assert (bulk.state, bulk.total, bulk.processed, bulk.queued, bulk.refused, bulk.percent) == (
        "done",
        5,
        5,
        3,
        2,
        100,
    )
    assert _rows(org, bulk) == [
        ("车友0", State.QUEUED, ""),
        ("车友1", State.REFUSED, Reason.WEEKLY_CAP),
        ("车友2", State.QUEUED, ""),
        ("车友3", State.REFUSED, Reason.CONSENT_MISSING),
        ("车友4", State.QUEUED, ""),
    ]
    assert (
        Message.objects.for_org(org).get(bulk=bulk, customer=five[0]).body
        == "车友0您好，顺达汽修春季保养八折，欢迎来店。"
    )


def test_running_it_again_or_resuming_sends_no_one_twice(
    org: Organization, five: list[Customer], owner: User, promo: MessageTemplate
) -> None:
    bulk = _start(org, promo, owner)
    bulk_send_batch(bulk=bulk, now=NOON, size=3)

    while bulk_send_batch(bulk=bulk, now=NOON, size=3):  # a second worker, or the task run again
        pass
    bulk_send_batch(bulk=bulk, now=NOON, size=3)

    assert Message.objects.for_org(org).filter(bulk=bulk).count() == 5


def test_the_task_runs_the_whole_send(
    org: Organization,
    five: list[Customer],
    owner: User,
    promo: MessageTemplate,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        bulk = _start(org, promo, owner)

    bulk.refresh_from_db()
    assert (bulk.state, bulk.processed) == ("done", 5)


def test_a_bulk_send_at_night_is_held_until_morning(
    org: Organization, five: list[Customer], owner: User, promo: MessageTemplate
) -> None:
    bulk = _start(org, promo, owner)
    bulk_send_batch(bulk=bulk, now=china("2026-03-10", 22))

    bulk.refresh_from_db()
    held = Message.objects.for_org(org).filter(bulk=bulk, state=State.HELD)
    assert (bulk.held, held.count()) == (4, 4)  # 车友3 was never asked: refused
    assert {m.next_attempt_at for m in held} == {china("2026-03-11", 9)}


def test_a_file_without_what_the_text_needs_is_refused_not_sent_with_a_blank(
    org: Organization, five: list[Customer], owner: User
) -> None:
    from huitou.messaging.services.templates import message_template_save

    template = message_template_save(
        organization=org, data={"code": "wash", "name": "洗车", "purpose": "service", "body": "{name}，{plate}洗好了"}
    )
    bulk = _start(org, template, owner)
    bulk_send_batch(bulk=bulk, now=NOON)

    assert _rows(org, bulk)[4] == ("车友4", State.REFUSED, Reason.VALUES_MISSING)
    assert [r[1] for r in _rows(org, bulk)[:4]] == [State.QUEUED] * 4  # service: 车友3 was never asked


def test_values_for_everyone_must_be_given_and_someone_must_match(
    org: Organization, five: list[Customer], owner: User, reminder: MessageTemplate
) -> None:
    with pytest.raises(ValidationError) as missing:
        _start(org, reminder, owner)
    with pytest.raises(ValidationError) as nobody:
        bulk_send_start(
            organization=org,
            template=reminder,
            channel="manual",
            filters={"tag": "没人"},
            by=owner,
            values={"service": "a", "due_date": "b"},
        )

    assert missing.value.message_dict == {"values": [zh(errors.VALUES_MISSING, names="{service}、{due_date}")]}
    assert nobody.value.message_dict == {"__all__": [zh(errors.BULK_EMPTY)]}
    assert _start(org, reminder, owner, values={"service": "小保养", "due_date": "月底"}).total == 5
