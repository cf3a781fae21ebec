"""The page and the API agree on messages: the same input through the send form (or the outbox's
mark-sent button) and through ``/api/v1/messages`` stores the same rows, or is refused with the same
message. The pattern of ``huitou/api/tests/test_page_api_agreement.py``, for the outbox's tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from huitou.api.tests.conftest import ApiClient
from huitou.api.tests.test_page_api_agreement import Write, _api_messages, said
from huitou.customers.models import Customer
from huitou.messaging import errors
from huitou.messaging.models import Message, MessageTemplate, MessagingSettings
from huitou.messaging.placeholders import known_list
from huitou.messaging.services.send import message_send
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh


def stored(org: Organization) -> list[tuple[Any, ...]]:
    rows = [
        (m.customer.name, m.channel, m.purpose, m.state, m.reason, m.body, m.template.code if m.template else "")
        + (repr(m.params), m.subject, m.sent_by.username if m.sent_by else "", m.sent_at is not None)
        for m in Message.objects.for_org(org).select_related("customer", "template", "sent_by")
    ]
    return sorted(rows, key=repr)


def _send(w: SimpleNamespace) -> str:
    return reverse("messaging:send", args=[w.zhang.pk])


def _queued(w: SimpleNamespace) -> None:
    w.message = message_send(customer=w.zhang, purpose="service", body="{name}您好", by=w.advisor)


def _sent(w: SimpleNamespace) -> None:
    _queued(w)
    from huitou.messaging.services.send import message_mark_sent

    message_mark_sent(message=w.message, by=w.advisor)


VALUES = {"service": "小保养", "due_date": "3月20日"}

WRITES: list[Write] = [
    Write(
        "send a template by hand with what the file does not know",
        page=lambda w: (_send(w), {"template": w.reminder.pk, "channel": "manual", **VALUES}),
        api=lambda w: (
            "POST",
            "/api/v1/messages",
            {"customer_id": w.zhang.pk, "template": "maintenance", "values": VALUES},
        ),
    ),
    Write(
        "send one's own text as a service message",
        page=lambda w: (_send(w), {"body": "{name}您好，车洗好了", "purpose": "service", "channel": "manual"}),
        api=lambda w: (
            "POST",
            "/api/v1/messages",
            {"customer_id": w.zhang.pk, "body": "{name}您好，车洗好了", "purpose": "service"},
        ),
    ),
    Write(
        "a marketing message without consent is recorded, refused",
        arrange=lambda w: setattr(w, "zhang", w.make_customer(name="李四", phone="13900001111")),
        page=lambda w: (_send(w), {"template": w.promo.pk, "channel": "sms"}),
        api=lambda w: ("POST", "/api/v1/messages", {"customer_id": w.zhang.pk, "template": "spring", "channel": "sms"}),
    ),
    Write(
        "refuse an unknown placeholder",
        page=lambda w: (_send(w), {"body": "{name}和{nickname}", "purpose": "service", "channel": "manual"}),
        api=lambda w: (
            "POST",
            "/api/v1/messages",
            {"customer_id": w.zhang.pk, "body": "{name}和{nickname}", "purpose": "service"},
        ),
        refused=said(errors.PLACEHOLDER_UNKNOWN, names="{nickname}", known=known_list()),
    ),
    Write(
        "refuse a template whose values nobody gave",
        page=lambda w: (_send(w), {"template": w.reminder.pk, "channel": "manual"}),
        api=lambda w: ("POST", "/api/v1/messages", {"customer_id": w.zhang.pk, "template": "maintenance"}),
        refused=said(errors.VALUES_MISSING, names="{service}、{due_date}"),
    ),
    Write(
        "refuse a marketing template as a service message",
        page=lambda w: (_send(w), {"template": w.promo.pk, "purpose": "service", "channel": "manual"}),
        api=lambda w: (
            "POST",
            "/api/v1/messages",
            {"customer_id": w.zhang.pk, "template": "spring", "purpose": "service"},
        ),
        refused=errors.MARKETING_AS_SERVICE,
    ),
    Write(
        "mark a manual message sent",
        arrange=_queued,
        page=lambda w: (reverse("messaging:mark_sent", args=[w.message.pk]), {}),
        api=lambda w: ("POST", f"/api/v1/messages/{w.message.pk}/sent", None),
    ),
    Write(
        "refuse to mark a message sent twice",
        arrange=_sent,
        page=lambda w: (reverse("messaging:mark_sent", args=[w.message.pk]), {}),
        api=lambda w: ("POST", f"/api/v1/messages/{w.message.pk}/sent", None),
        refused=errors.NOT_QUEUED,
        api_status=409,
    ),
]


@pytest.fixture
def world(
    org: Organization,
    owner: User,
    advisor: User,
    zhang: Customer,
    reminder: MessageTemplate,
    promo: MessageTemplate,
    make_customer: Callable[..., Customer],
) -> SimpleNamespace:
    """张三 (consent to everything, a car), a reminder and a marketing template; no quiet hours, so the
    page and the API, which take the real time, answer alike whenever the test runs."""
    MessagingSettings.objects.create(organization=org, quiet_start=dt.time(0), quiet_end=dt.time(0))
    users = {"owner": owner, "advisor": advisor}
    return SimpleNamespace(
        org=org, zhang=zhang, reminder=reminder, promo=promo, make_customer=make_customer, users=users, **users
    )


def _through(channel: str, write: Write, w: SimpleNamespace, client: Client) -> tuple[Any, list[tuple[Any, ...]]]:
    with transaction.atomic():
        if channel == "page":
            url, data = write.page(w)
            response = client.post(url, data, follow=True)
        else:
            _method, path, body = write.api(w)
            response = client.post_json(path, body)  # type: ignore[attr-defined]
        after = stored(w.org)
        transaction.set_rollback(True)
    return response, after


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_the_page_and_the_api_agree_on_messages(
    write: Write,
    world: SimpleNamespace,
    client_for: Callable[[User], Client],
    api_for: Callable[[User], ApiClient],
    fake_sms: Any,
) -> None:
    write.arrange(world)
    user = world.users[write.user]
    before = stored(world.org)

    page, by_page = _through("page", write, world, client_for(user))
    api, by_api = _through("api", write, world, api_for(user))

    assert page.status_code == 200, page.content.decode()[:500]
    if write.refused is None:
        assert api.status_code in (200, 201), api.content.decode()
        assert by_page != before, "the page stored nothing"
    else:
        message = write.refused() if callable(write.refused) else zh(write.refused)
        assert api.status_code == (write.api_status or 422), api.content.decode()
        assert message in _api_messages(api)
        assert escape(message) in page.content.decode(), f"the page does not say: {message}"
        assert by_page == before
    assert by_page == by_api
