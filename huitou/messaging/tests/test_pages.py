"""The messaging pages: outbox with mark-sent, the send form from the file, the library with its live
preview, settings and bulk sends with progress; query counts pinned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from huitou.customers.models import Customer
from huitou.messaging import errors
from huitou.messaging.models import BulkSend, Message, MessageTemplate, MessagingSettings, State
from huitou.messaging.services.send import message_send
from huitou.messaging.starter import STARTER, messaging_seed
from huitou.messaging.tests.conftest import NOON
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh


@pytest.fixture
def outbox_of(zhang: Customer, advisor: User, promo: MessageTemplate) -> list[Message]:
    return [
        message_send(customer=zhang, purpose="service", body="{name}您好，车已洗好。", by=advisor, now=NOON),
        message_send(customer=zhang, channel="sms", template=promo, by=advisor, now=NOON),  # SMS is off: refused
    ]


def test_the_outbox_lists_every_message_with_why(
    client_for: Callable[[User], Client],
    advisor: User,
    outbox_of: list[Message],
    django_assert_num_queries: Any,
) -> None:
    client = client_for(advisor)
    # session, user (+organization), the count, the page (+customer, template, staff), the shops
    with django_assert_num_queries(5):
        page = client.get(reverse("messaging:outbox"))
    text = page.content.decode()

    assert page.status_code == 200
    assert "张三您好，车已洗好。" in text
    assert zh("SMS is not set up") in text
    assert 'class="copy"' in text  # the manual one waits to be copied


def test_the_outbox_filters_by_state_and_customer(
    client_for: Callable[[User], Client], advisor: User, zhang: Customer, outbox_of: list[Message]
) -> None:
    client = client_for(advisor)
    refused = client.get(reverse("messaging:outbox"), {"state": "refused", "customer": zhang.pk})
    only_rows = client.get(
        reverse("messaging:outbox"), {"state": "queued"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )

    assert "车已洗好" not in refused.content.decode()
    assert "<html" not in only_rows.content.decode() and "车已洗好" in only_rows.content.decode()


def test_marking_sent_from_the_outbox_returns_the_row(
    client_for: Callable[[User], Client], advisor: User, outbox_of: list[Message]
) -> None:
    message = outbox_of[0]
    url = reverse("messaging:mark_sent", args=[message.pk])

    row = client_for(advisor).post(url, headers={"HX-Request": "true"})
    again = client_for(advisor).post(url, headers={"HX-Request": "true"})

    message.refresh_from_db()
    assert message.state == State.SENT and message.sent_by == advisor
    assert 'data-state="sent"' in row.content.decode()
    assert escape(zh(errors.NOT_QUEUED)) in again.content.decode()


def test_the_customer_file_links_to_the_send_form(
    client_for: Callable[[User], Client], advisor: User, tech: User, zhang: Customer
) -> None:
    url = reverse("messaging:send", args=[zhang.pk])
    assert url in client_for(advisor).get(reverse("customers:detail", args=[zhang.pk])).content.decode()
    assert url not in client_for(tech).get(reverse("customers:detail", args=[zhang.pk])).content.decode()
    assert client_for(tech).get(url).status_code == 403


def test_sending_from_the_file_says_what_became_of_it(
    client_for: Callable[[User], Client], advisor: User, zhang: Customer, reminder: MessageTemplate
) -> None:
    client = client_for(advisor)
    form = client.get(reverse("messaging:send", args=[zhang.pk]), {"template": reminder.pk})
    sent = client.post(
        reverse("messaging:send", args=[zhang.pk]),
        {"template": reminder.pk, "channel": "manual", "service": "小保养", "due_date": "3月20日"},
        follow=True,
    )

    message = Message.objects.for_org(zhang.organization_id).get()
    assert "张三您好，您的爱车粤B5K2M8的" in form.content.decode()  # the preview, filled from the file
    assert message.body == "张三您好，您的爱车粤B5K2M8的小保养预计3月20日到期。"
    assert message.state in (State.QUEUED, State.HELD)  # held when the test runs at night
    assert sent.redirect_chain[-1][0] == f"{reverse('messaging:outbox')}?customer={zhang.pk}"


def test_the_send_form_shows_what_is_missing(
    client_for: Callable[[User], Client], advisor: User, zhang: Customer, reminder: MessageTemplate
) -> None:
    page = client_for(advisor).post(
        reverse("messaging:send", args=[zhang.pk]), {"template": reminder.pk, "channel": "manual"}
    )
    assert page.status_code == 200
    assert escape(zh(errors.VALUES_MISSING, names="{service}、{due_date}")) in page.content.decode()
    assert not Message.objects.for_org(zhang.organization_id).exists()


def test_the_live_preview_fills_the_text_and_names_unknown_placeholders(
    client_for: Callable[[User], Client], advisor: User, zhang: Customer
) -> None:
    client = client_for(advisor)
    url = reverse("messaging:preview")

    filled = client.post(url, {"body": "{name}您好，{plate}的{service}到期", "customer": zhang.pk, "service": "年检"})
    sample = client.post(url, {"body": "{name}您好，{plate}"})
    unknown = client.post(url, {"body": "{name}和{nickname}"})

    assert "张三您好，粤B5K2M8的年检到期" in filled.content.decode()
    assert "张先生您好，粤B12345" in sample.content.decode()
    assert "{nickname}" in unknown.content.decode() and 'role="alert"' in unknown.content.decode()


def test_the_library_lists_the_starter_set_with_previews(
    client_for: Callable[[User], Client], org: Organization, owner: User, django_assert_num_queries: Any
) -> None:
    messaging_seed(organization=org)
    client = client_for(owner)
    # session, user (+organization), the templates, the shops
    with django_assert_num_queries(4):
        page = client.get(reverse("messaging:templates"))
    text = page.content.decode()
    assert all(f'data-code="{code}"' in text for code, *_ in STARTER)
    assert "张先生您好" in text


def test_the_store_manager_edits_a_template_and_unknown_placeholders_are_refused(
    client_for: Callable[[User], Client], org: Organization, owner: User, advisor: User
) -> None:
    client = client_for(owner)
    data = {
        "code": "wash",
        "name": "洗车好了",
        "purpose": "service",
        "body": "{name}，{plate}洗好了",
        "is_active": "on",
    }
    created = client.post(reverse("messaging:template_new"), data, follow=True)
    refused = client.post(reverse("messaging:template_new"), {**data, "code": "wash2", "body": "{名字}洗好了"})
    template = MessageTemplate.objects.for_org(org).get(code="wash")
    edited = client.post(reverse("messaging:template_edit", args=[template.pk]), {**data, "name": "洗车完成"})

    assert created.status_code == 200 and edited.status_code == 302
    assert escape(zh(errors.BRACES_UNPAIRED)) in refused.content.decode()
    assert MessageTemplate.objects.for_org(org).get(code="wash").name == "洗车完成"
    assert client_for(advisor).get(reverse("messaging:template_new")).status_code == 403


def test_the_store_manager_sets_quiet_hours_and_the_cap(
    client_for: Callable[[User], Client], org: Organization, owner: User
) -> None:
    page = client_for(owner).post(
        reverse("messaging:settings"),
        {"quiet_start": "22:00", "quiet_end": "08:30", "weekly_marketing_cap": "2", "sms_sign": "顺达汽修"},
    )
    refused = client_for(owner).post(
        reverse("messaging:settings"), {"quiet_start": "22:00", "quiet_end": "08:30", "weekly_marketing_cap": "99"}
    )

    row = MessagingSettings.objects.for_org(org).get()
    assert page.status_code == 302
    assert (row.quiet_start, row.quiet_end, row.weekly_marketing_cap) == (dt.time(22), dt.time(8, 30), 2)
    assert escape(zh(errors.CAP_INVALID)) in refused.content.decode()


def test_a_bulk_send_from_the_page_runs_and_shows_its_progress(
    client_for: Callable[[User], Client],
    org: Organization,
    owner: User,
    zhang: Customer,
    promo: MessageTemplate,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(owner)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("messaging:bulk_new"), {"template": promo.pk, "channel": "manual", "stage": ""})
    bulk = BulkSend.objects.for_org(org).get()
    progress = client.get(reverse("messaging:bulk_progress", args=[bulk.pk]))

    assert started.status_code == 302 and started["Location"] == reverse("messaging:bulk_detail", args=[bulk.pk])
    assert (bulk.state, bulk.total, bulk.processed) == ("done", 1, 1)
    assert 'data-state="done"' in progress.content.decode() and "hx-trigger" not in progress.content.decode()
