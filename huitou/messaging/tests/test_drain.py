"""The drain against the local fake providers: sent, retried with back-off, failed for good; never the internet."""

from __future__ import annotations

import datetime as dt
import email
from typing import Any

import pytest
from django.core import mail

from huitou.customers.models import Customer
from huitou.messaging.fakes import FakeSmtp, FakeTencentSms
from huitou.messaging.models import Message, MessageTemplate, Reason, State
from huitou.messaging.services.drain import MAX_ATTEMPTS, backoff, messages_drain
from huitou.messaging.services.send import message_send
from huitou.messaging.services.templates import messaging_settings_save
from huitou.messaging.tests.conftest import NOON
from huitou.tenancy.models import Organization, User

VALUES = {"service": "小保养", "due_date": "3月20日"}


def _sms(customer: Customer, template: MessageTemplate, by: User) -> Message:
    return message_send(customer=customer, channel="sms", template=template, values=VALUES, by=by, now=NOON)


def _drain(customer: Customer, at: dt.datetime) -> Any:
    return messages_drain(organization=customer.organization_id, now=at)


def test_an_sms_goes_through_the_sdk_signed_with_the_configured_key(
    org: Organization, zhang: Customer, reminder: MessageTemplate, advisor: User, fake_sms: FakeTencentSms
) -> None:
    messaging_settings_save(
        organization=org, quiet_start=dt.time(21), quiet_end=dt.time(9), weekly_marketing_cap=3, sms_sign="顺达汽修城西"
    )
    message = _sms(zhang, reminder, advisor)

    result = _drain(zhang, NOON)

    message.refresh_from_db()
    request = fake_sms.requests[0]
    assert (result.sent, message.state, message.attempts, message.sent_at) == (1, State.SENT, 1, NOON)
    assert message.provider_ref == f"fake-1-{message.pk}"
    assert request["headers"]["X-TC-Action"] == "SendSms"
    assert request["body"] == {
        "PhoneNumberSet": ["+8613812345678"],
        "SmsSdkAppId": fake_sms.app_id,
        "SignName": "顺达汽修城西",
        "TemplateId": "100101",
        "TemplateParamSet": ["张三", "粤B5K2M8", "小保养", "3月20日"],
        "SessionContext": str(message.pk),
    }


def test_a_wrong_key_is_refused_by_the_signature_check_and_retried(
    zhang: Customer, reminder: MessageTemplate, advisor: User, fake_sms: FakeTencentSms, monkeypatch: Any
) -> None:
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "not-the-key")
    message = _sms(zhang, reminder, advisor)

    _drain(zhang, NOON)

    message.refresh_from_db()
    assert (message.state, message.reason) == (State.QUEUED, Reason.PROVIDER_RETRY)
    assert message.detail.startswith("AuthFailure.SignatureFailure")


@pytest.mark.parametrize("failure", ["error:InternalError", "http502", "drop", "error:RequestLimitExceeded"])
def test_a_provider_error_is_retried_with_exponential_back_off(
    zhang: Customer, reminder: MessageTemplate, advisor: User, fake_sms: FakeTencentSms, failure: str
) -> None:
    message = _sms(zhang, reminder, advisor)
    fake_sms.then([failure, failure, failure])
    moment, waits = NOON, []

    for _ in range(3):
        _drain(zhang, moment)
        message.refresh_from_db()
        assert (message.state, message.reason) == (State.QUEUED, Reason.PROVIDER_RETRY)
        waits.append(message.next_attempt_at - moment)
        early = _drain(zhang, message.next_attempt_at - dt.timedelta(seconds=1))
        assert early.batches == 0  # not before its time
        moment = message.next_attempt_at
    _drain(zhang, moment)
    message.refresh_from_db()

    assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=2), dt.timedelta(minutes=4)]
    assert (message.state, message.attempts, message.sent_at) == (State.SENT, 4, moment)


def test_it_gives_up_after_the_last_attempt(
    zhang: Customer, reminder: MessageTemplate, advisor: User, fake_sms: FakeTencentSms
) -> None:
    message = _sms(zhang, reminder, advisor)
    fake_sms.then(["error:InternalError"] * MAX_ATTEMPTS)
    moment = NOON
    for _ in range(MAX_ATTEMPTS):
        _drain(zhang, moment)
        message.refresh_from_db()
        moment = message.next_attempt_at or moment

    assert (message.state, message.reason, message.attempts) == (State.FAILED, Reason.PROVIDER_FAILED, MAX_ATTEMPTS)
    assert message.next_attempt_at is None
    assert len(fake_sms.requests) == MAX_ATTEMPTS


def test_back_off_doubles_up_to_two_hours() -> None:
    assert [backoff(n).total_seconds() / 60 for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 64, 120, 120]


@pytest.mark.parametrize(
    "answer", ["FailedOperation.PhoneNumberInBlacklist", "error:InvalidParameterValue.IncorrectPhoneNumber"]
)
def test_what_the_provider_refuses_for_good_fails_at_once(
    zhang: Customer, reminder: MessageTemplate, advisor: User, fake_sms: FakeTencentSms, answer: str
) -> None:
    message = _sms(zhang, reminder, advisor)
    fake_sms.then([answer])

    result = _drain(zhang, NOON)

    message.refresh_from_db()
    assert (result.failed, message.state, message.reason, message.attempts) == (
        1,
        State.FAILED,
        Reason.PROVIDER_REFUSED,
        1,
    )
    assert answer.removeprefix("error:") in message.detail


def test_a_batch_records_each_answer(
    make_customer: Any, agreed: Any, reminder: MessageTemplate, advisor: User, fake_sms: FakeTencentSms
) -> None:
    customers = [agreed(make_customer(name=f"客户{i}", phone=f"1370000{i:04d}")) for i in range(5)]
    values = {**VALUES, "plate": "粤B00001"}
    messages = [
        message_send(customer=c, channel="sms", template=reminder, values=values, by=advisor, now=NOON)
        for c in customers
    ]
    fake_sms.then(["ok", "error:InternalError", "ok", "FailedOperation.PhoneNumberInBlacklist", "ok"])

    result = messages_drain(organization=customers[0].organization_id, now=NOON, batch_size=2)

    states = [Message.objects.for_org(m.organization_id).get(pk=m.pk).state for m in messages]
    assert (result.sent, result.retried, result.failed, result.batches) == (3, 1, 1, 3)
    assert states == [State.SENT, State.QUEUED, State.SENT, State.FAILED, State.SENT]


def test_a_leased_batch_is_not_sent_twice_by_a_second_drain(
    zhang: Customer, reminder: MessageTemplate, advisor: User, fake_sms: FakeTencentSms
) -> None:
    """A drain that died after claiming leaves its batch leased: another drain waits out the lease."""
    message = _sms(zhang, reminder, advisor)
    from huitou.messaging.services.drain import LEASE, _claim

    _claim(zhang.organization_id, ["sms"], NOON, 10)  # claimed, then the worker died

    during = _drain(zhang, NOON + LEASE - dt.timedelta(seconds=1))
    after = _drain(zhang, NOON + LEASE)

    message.refresh_from_db()
    assert (during.sent, after.sent, message.attempts, len(fake_sms.requests)) == (0, 1, 2, 1)


def test_manual_messages_wait_for_staff(zhang: Customer, advisor: User, fake_sms: FakeTencentSms) -> None:
    message = message_send(customer=zhang, purpose="service", body="{name}您好", by=advisor, now=NOON)

    result = _drain(zhang, NOON + dt.timedelta(hours=1))

    message.refresh_from_db()
    assert (result.batches, message.state, fake_sms.requests) == (0, State.QUEUED, [])


# --- email ----------------------------------------------------------------------------------------


def test_email_goes_through_djangos_backend(zhang: Customer, advisor: User) -> None:
    message = message_send(
        customer=zhang,
        channel="email",
        purpose="service",
        body="{name}您好，发票已开好。",
        subject="发票",
        by=advisor,
        now=NOON,
    )

    _drain(zhang, NOON)

    message.refresh_from_db()
    assert message.state == State.SENT
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["zhang@example.com"], "发票", "张三您好，发票已开好。")
    ]


def test_email_through_a_local_smtp_server_and_a_refused_recipient(
    make_customer: Any, agreed: Any, advisor: User, fake_smtp: FakeSmtp
) -> None:
    ok = agreed(make_customer(name="张三", phone="13812345678", email="zhang@example.com"))
    gone = agreed(make_customer(name="李四", phone="13900001111", email="nobody@example.com"))
    sent = message_send(customer=ok, channel="email", purpose="service", body="{name}您好", by=advisor, now=NOON)
    refused = message_send(customer=gone, channel="email", purpose="service", body="{name}您好", by=advisor, now=NOON)

    result = _drain(ok, NOON)

    sent.refresh_from_db()
    refused.refresh_from_db()
    assert (result.sent, result.failed) == (1, 1)
    assert (sent.state, refused.state, refused.reason) == (State.SENT, State.FAILED, Reason.PROVIDER_REFUSED)
    assert [to for to, _data in fake_smtp.messages] == [["zhang@example.com"]]
    received = email.message_from_bytes(fake_smtp.messages[0][1])
    assert received.get_payload(decode=True).decode(received.get_content_charset()).strip() == "张三您好"


def test_email_to_a_server_that_is_down_is_retried(zhang: Customer, advisor: User, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    message = message_send(customer=zhang, channel="email", purpose="service", body="您好", by=advisor, now=NOON)

    _drain(zhang, NOON)

    message.refresh_from_db()
    assert (message.state, message.reason, message.next_attempt_at) == (
        State.QUEUED,
        Reason.PROVIDER_RETRY,
        NOON + dt.timedelta(minutes=1),
    )
