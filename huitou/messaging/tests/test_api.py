"""POST /messages, GET /messages, mark-sent and the template list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huitou.api.tests.conftest import ApiClient
from huitou.customers.models import Customer
from huitou.messaging import errors
from huitou.messaging.models import Message, MessageTemplate, MessagingSettings
from huitou.messaging.services.send import message_send
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh


def _no_quiet_hours(org: Organization) -> None:
    """The API takes the real time: a run at night would hold every message."""
    import datetime as dt

    MessagingSettings.objects.create(organization=org, quiet_start=dt.time(0), quiet_end=dt.time(0))


def test_a_template_message_is_queued_and_reported(
    org: Organization, api_for: Callable[[User], ApiClient], advisor: User, zhang: Customer, reminder: MessageTemplate
) -> None:
    _no_quiet_hours(org)
    response = api_for(advisor).post_json(
        "/api/v1/messages",
        {"customer_id": zhang.pk, "template": "maintenance", "values": {"service": "小保养", "due_date": "3月20日"}},
    )

    doc = response.json()
    assert response.status_code == 201, doc
    assert (doc["state"], doc["reason"], doc["reason_code"], doc["channel"], doc["purpose"]) == (
        "queued",
        "",
        "",
        "manual",
        "service",
    )
    assert doc["body"] == "张三您好，您的爱车粤B5K2M8的小保养预计3月20日到期。"


def test_a_refused_send_is_a_201_with_the_reason_in_chinese(
    org: Organization, api_for: Callable[[User], ApiClient], advisor: User, make_customer: Any, promo: MessageTemplate
) -> None:
    _no_quiet_hours(org)
    li = make_customer(name="李四", phone="13900001111")

    doc = api_for(advisor).post_json("/api/v1/messages", {"customer_id": li.pk, "template": "spring"}).json()

    assert (doc["state"], doc["reason_code"]) == ("refused", "consent_missing")
    assert doc["reason"] == "客户未同意通过这个渠道接收营销信息"
    assert Message.objects.for_org(org).get(pk=doc["id"]).state == "refused"


def test_input_that_makes_no_message_is_a_422_on_its_field(
    api_for: Callable[[User], ApiClient], advisor: User, zhang: Customer, other_org: Organization, outsider: User
) -> None:
    api = api_for(advisor)
    cases = {
        "body": {"customer_id": zhang.pk, "purpose": "service", "body": "{name}的{nickname}"},
        "template": {"customer_id": zhang.pk, "template": "nope"},
        "purpose": {"customer_id": zhang.pk, "body": "您好"},
        "values.nickname": {"customer_id": zhang.pk, "purpose": "service", "body": "您好", "values": {"nickname": "x"}},
        "customer_id": {"customer_id": 10**9, "purpose": "service", "body": "您好"},
    }
    for field, payload in cases.items():
        response = api.post_json("/api/v1/messages", payload)
        assert response.status_code == 422, (field, response.content)
        assert field in response.json()["errors"], (field, response.json())
    assert api.post_json("/api/v1/messages", cases["template"]).json()["errors"]["template"] == [
        zh(errors.TEMPLATE_UNKNOWN)
    ]


def test_the_outbox_lists_and_filters(
    api_for: Callable[[User], ApiClient],
    advisor: User,
    zhang: Customer,
    make_customer: Any,
    django_assert_num_queries: Any,
) -> None:
    from huitou.messaging.tests.conftest import NOON

    li = make_customer(name="李四", phone="13900001111")
    message_send(customer=zhang, purpose="service", body="{name}您好", by=advisor, now=NOON)
    message_send(customer=li, purpose="marketing", body="{name}您好", by=advisor, now=NOON)
    api = api_for(advisor)

    # the token (+user, organization), its last use, the page (+template), the count
    with django_assert_num_queries(4):
        everything = api.get("/api/v1/messages").json()
    refused = api.get("/api/v1/messages", {"state": "refused"}).json()
    zhangs = api.get("/api/v1/messages", {"customer_id": zhang.pk}).json()

    assert (everything["count"], refused["count"], zhangs["count"]) == (2, 1, 1)
    assert refused["items"][0]["customer_id"] == li.pk
    assert api.get("/api/v1/messages", {"state": "lost"}).status_code == 422


def test_a_manual_message_is_marked_sent_once(
    api_for: Callable[[User], ApiClient], advisor: User, zhang: Customer
) -> None:
    from huitou.messaging.tests.conftest import NOON

    message = message_send(customer=zhang, purpose="service", body="{name}您好", by=advisor, now=NOON)
    api = api_for(advisor)

    first = api.post_json(f"/api/v1/messages/{message.pk}/sent")
    second = api.post_json(f"/api/v1/messages/{message.pk}/sent")

    assert (first.status_code, first.json()["state"]) == (200, "sent")
    assert (second.status_code, second.json()["detail"]) == (409, zh(errors.NOT_QUEUED))
    assert api.get(f"/api/v1/messages/{message.pk}").json()["sent_at"] is not None


def test_technicians_do_not_send(api_for: Callable[[User], ApiClient], tech: User, zhang: Customer) -> None:
    response = api_for(tech).post_json("/api/v1/messages", {"customer_id": zhang.pk, "purpose": "service", "body": "x"})
    assert response.status_code == 403


def test_the_template_list(
    org: Organization, api_for: Callable[[User], ApiClient], advisor: User, reminder: MessageTemplate
) -> None:
    doc = api_for(advisor).get("/api/v1/message-templates").json()
    assert [(t["code"], t["purpose"], t["sms_template_id"]) for t in doc["items"]] == [
        ("maintenance", "service", "100101")
    ]
