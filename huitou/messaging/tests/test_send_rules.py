"""Every send passes consent for its channel and purpose, quiet hours and the weekly cap; what stops it says why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from huitou.customers.models import Customer
from huitou.customers.services import consent_set, customer_delete
from huitou.messaging import errors
from huitou.messaging.fakes import FakeTencentSms
from huitou.messaging.models import Channel, Message, MessageTemplate, Reason, State
from huitou.messaging.services.drain import messages_drain
from huitou.messaging.services.send import message_mark_sent, message_send
from huitou.messaging.services.templates import messaging_settings_save
from huitou.messaging.tests.conftest import NOON, china
from huitou.service.errors import StateConflict
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

# --- consent ---------------------------------------------------------------------------------------


def test_marketing_without_consent_for_the_channel_is_refused_and_recorded(
    make_customer: Callable[..., Customer], promo: MessageTemplate, advisor: User, agreed: Any
) -> None:
    li = agreed(make_customer(name="李四", phone="13900001111"), "sms")  # SMS yes, WeChat never asked

    message = message_send(customer=li, channel=Channel.MANUAL, template=promo, by=advisor, now=NOON)

    assert (message.state, message.reason) == (State.REFUSED, Reason.CONSENT_MISSING)
    assert zh(message.get_reason_display()) == "客户未同意通过这个渠道接收营销信息"
    assert Message.objects.for_org(li.organization_id).count() == 1


def test_a_service_message_goes_to_a_customer_never_asked_but_not_after_a_withdrawal(
    make_customer: Callable[..., Customer], advisor: User
) -> None:
    wang = make_customer(name="王五", phone="13900002222")

    first = message_send(customer=wang, purpose="service", body="{name}您好，车已洗好。", by=advisor, now=NOON)
    consent_set(customer=wang, channel="wechat", granted=False, method="phone", purpose="不要再发微信", by=advisor)
    second = message_send(customer=wang, purpose="service", body="{name}您好，车已洗好。", by=advisor, now=NOON)

    assert (first.state, first.reason, first.body) == (State.QUEUED, "", "王五您好，车已洗好。")
    assert (second.state, second.reason) == (State.REFUSED, Reason.CONSENT_WITHDRAWN)


def test_consent_is_per_channel(
    make_customer: Callable[..., Customer], promo: MessageTemplate, advisor: User, agreed: Any, fake_sms: Any
) -> None:
    li = agreed(make_customer(name="李四", phone="13900001111"), "wechat")

    by_hand = message_send(customer=li, channel=Channel.MANUAL, template=promo, by=advisor, now=NOON)
    by_sms = message_send(customer=li, channel=Channel.SMS, template=promo, by=advisor, now=NOON)

    assert by_hand.state == State.QUEUED
    assert (by_sms.state, by_sms.reason) == (State.REFUSED, Reason.CONSENT_MISSING)


def test_a_withdrawal_after_queueing_stops_the_message_at_the_drain(
    zhang: Customer, promo: MessageTemplate, advisor: User, fake_sms: FakeTencentSms
) -> None:
    message = message_send(customer=zhang, channel=Channel.SMS, template=promo, by=advisor, now=NOON)
    consent_set(customer=zhang, channel="sms", granted=False, method="sms_reply", purpose="回复TD退订", by=advisor)

    result = messages_drain(organization=zhang.organization_id, now=NOON + dt.timedelta(seconds=5))

    message.refresh_from_db()
    assert (message.state, message.reason) == (State.REFUSED, Reason.CONSENT_MISSING)
    assert (result.refused, result.sent, fake_sms.requests) == (1, 0, [])


def test_a_deleted_file_stops_its_queued_messages(
    zhang: Customer, reminder: MessageTemplate, owner: User, advisor: User, fake_sms: FakeTencentSms
) -> None:
    values = {"service": "小保养", "due_date": "3月20日"}
    message = message_send(customer=zhang, channel="sms", template=reminder, values=values, by=advisor, now=NOON)
    customer_delete(customer=zhang, by=owner)

    messages_drain(organization=zhang.organization_id, now=NOON)

    message.refresh_from_db()
    assert (message.state, message.reason) == (State.REFUSED, Reason.CUSTOMER_DELETED)


# --- the weekly cap --------------------------------------------------------------------------------


def test_the_fourth_marketing_message_in_seven_days_is_refused(
    zhang: Customer, promo: MessageTemplate, advisor: User
) -> None:
    sent = [message_send(customer=zhang, template=promo, by=advisor, now=NOON + dt.timedelta(days=d)) for d in range(4)]

    assert [m.state for m in sent] == [State.QUEUED] * 3 + [State.REFUSED]
    assert sent[3].reason == Reason.WEEKLY_CAP
    assert zh(sent[3].get_reason_display()) == "本周发给该客户的营销消息已达上限"


def test_the_cap_is_a_rolling_week_and_refused_messages_do_not_count(
    zhang: Customer, promo: MessageTemplate, advisor: User, agreed: Any
) -> None:
    for d in range(3):
        message_send(customer=zhang, template=promo, by=advisor, now=NOON + dt.timedelta(days=d))
    a_week_later = message_send(customer=zhang, template=promo, by=advisor, now=NOON + dt.timedelta(days=7))
    refused = message_send(customer=zhang, template=promo, by=advisor, now=NOON + dt.timedelta(days=7, hours=1))
    next_day = message_send(customer=zhang, template=promo, by=advisor, now=NOON + dt.timedelta(days=8, hours=1))

    assert a_week_later.state == State.QUEUED  # the first of the three is 7 days old: out of the window
    assert (refused.state, refused.reason) == (State.REFUSED, Reason.WEEKLY_CAP)
    assert next_day.state == State.QUEUED  # two in the window, and the refused one does not count


def test_service_messages_are_not_capped_nor_counted(
    zhang: Customer, reminder: MessageTemplate, promo: MessageTemplate, advisor: User
) -> None:
    values = {"service": "小保养", "due_date": "3月20日"}
    services = [message_send(customer=zhang, template=reminder, values=values, by=advisor, now=NOON) for _ in range(5)]
    marketing = [message_send(customer=zhang, template=promo, by=advisor, now=NOON) for _ in range(3)]

    assert {m.state for m in services + marketing} == {State.QUEUED}


def test_the_cap_is_the_organizations_setting(
    org: Organization, zhang: Customer, promo: MessageTemplate, advisor: User
) -> None:
    messaging_settings_save(organization=org, quiet_start=dt.time(21), quiet_end=dt.time(9), weekly_marketing_cap=1)

    first = message_send(customer=zhang, template=promo, by=advisor, now=NOON)
    second = message_send(customer=zhang, template=promo, by=advisor, now=NOON)

    assert (first.state, second.state) == (State.QUEUED, State.REFUSED)


# --- quiet hours -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "until"),
    [
        (china("2026-03-10", 21, 0), china("2026-03-11", 9)),
        (china("2026-03-10", 23, 59), china("2026-03-11", 9)),
        (china("2026-03-11", 0, 30), china("2026-03-11", 9)),
        (china("2026-03-11", 8, 59), china("2026-03-11", 9)),
    ],
)
def test_a_message_in_quiet_hours_is_held_until_they_end(
    zhang: Customer, advisor: User, moment: dt.datetime, until: dt.datetime
) -> None:
    message = message_send(customer=zhang, purpose="service", body="{name}您好", by=advisor, now=moment)

    assert (message.state, message.reason, message.next_attempt_at) == (State.HELD, Reason.QUIET_HOURS, until)
    assert zh(message.get_reason_display()) == "免打扰时段：到点后再发"


@pytest.mark.parametrize("moment", [china("2026-03-10", 9, 0), china("2026-03-10", 20, 59)])
def test_the_edges_of_the_day_are_open(zhang: Customer, advisor: User, moment: dt.datetime) -> None:
    message = message_send(customer=zhang, purpose="service", body="{name}您好", by=advisor, now=moment)
    assert message.state == State.QUEUED


def test_held_sms_is_released_and_sent_by_the_drain_when_the_window_opens(
    zhang: Customer, reminder: MessageTemplate, advisor: User, fake_sms: FakeTencentSms
) -> None:
    values = {"service": "小保养", "due_date": "3月20日"}
    message = message_send(
        customer=zhang, channel="sms", template=reminder, values=values, by=advisor, now=china("2026-03-10", 22)
    )

    at_night = messages_drain(organization=zhang.organization_id, now=china("2026-03-11", 3))
    asked_at_night = len(fake_sms.requests)
    at_nine = messages_drain(organization=zhang.organization_id, now=china("2026-03-11", 9))

    message.refresh_from_db()
    assert (at_night.released, at_night.sent, asked_at_night) == (0, 0, 0)
    assert (at_nine.released, at_nine.sent) == (1, 1)
    assert (message.state, message.reason, message.sent_at) == (State.SENT, "", china("2026-03-11", 9))


def test_a_retry_falling_in_quiet_hours_waits_for_the_morning(
    zhang: Customer, reminder: MessageTemplate, advisor: User, fake_sms: FakeTencentSms
) -> None:
    values = {"service": "小保养", "due_date": "3月20日"}
    message = message_send(
        customer=zhang, channel="sms", template=reminder, values=values, by=advisor, now=china("2026-03-10", 20, 59)
    )
    fake_sms.then(["error:InternalError"])
    messages_drain(organization=zhang.organization_id, now=china("2026-03-10", 20, 59))

    messages_drain(organization=zhang.organization_id, now=china("2026-03-10", 21, 1))

    message.refresh_from_db()
    assert (message.state, message.reason, message.next_attempt_at) == (
        State.HELD,
        Reason.QUIET_HOURS,
        china("2026-03-11", 9),
    )


def test_held_manual_messages_come_back_to_the_list_and_cannot_be_marked_sent_at_night(
    zhang: Customer, advisor: User
) -> None:
    message = message_send(
        customer=zhang, purpose="service", body="{name}您好", by=advisor, now=china("2026-03-10", 23)
    )

    with pytest.raises(StateConflict) as caught:
        message_mark_sent(message=message, by=advisor, now=china("2026-03-11", 6))
    released = messages_drain(organization=zhang.organization_id, now=china("2026-03-11", 9, 1))
    message.refresh_from_db()

    assert str(caught.value.message) == zh(errors.HELD_UNTIL) % {"time": "09:00"}
    assert (released.released, message.state, message.next_attempt_at) == (1, State.QUEUED, None)


def test_quiet_hours_are_the_organizations_setting(org: Organization, zhang: Customer, advisor: User) -> None:
    messaging_settings_save(organization=org, quiet_start=dt.time(12), quiet_end=dt.time(14), weekly_marketing_cap=3)
    lunch = message_send(customer=zhang, purpose="service", body="{name}您好", by=advisor, now=china("2026-03-10", 13))
    night = message_send(customer=zhang, purpose="service", body="{name}您好", by=advisor, now=china("2026-03-10", 22))
    messaging_settings_save(organization=org, quiet_start=dt.time(0), quiet_end=dt.time(0), weekly_marketing_cap=3)
    never = message_send(customer=zhang, purpose="service", body="{name}您好", by=advisor, now=china("2026-03-10", 13))

    assert (lunch.state, lunch.next_attempt_at) == (State.HELD, china("2026-03-10", 14))
    assert night.state == never.state == State.QUEUED


# --- where it goes, and what makes no message ------------------------------------------------------


def test_sms_needs_a_mobile_a_provider_and_a_registered_template(
    make_customer: Callable[..., Customer],
    promo: MessageTemplate,
    advisor: User,
    agreed: Any,
    monkeypatch: pytest.MonkeyPatch,
    fake_sms: FakeTencentSms,
) -> None:
    landline = agreed(make_customer(name="赵六", phone="020-87654321"))
    mobile = agreed(make_customer(name="钱七", phone="13700001234"))

    no_mobile = message_send(customer=landline, channel="sms", template=promo, by=advisor, now=NOON)
    free_text = message_send(customer=mobile, channel="sms", purpose="service", body="您好", by=advisor, now=NOON)
    monkeypatch.delenv("HUITOU_SMS_PROVIDER")
    no_provider = message_send(customer=mobile, channel="sms", template=promo, by=advisor, now=NOON)

    assert no_mobile.reason == Reason.NO_PHONE
    assert free_text.reason == Reason.SMS_TEMPLATE_MISSING
    assert no_provider.reason == Reason.SMS_OFF
    assert {no_mobile.state, free_text.state, no_provider.state} == {State.REFUSED}


def test_email_needs_an_address(make_customer: Callable[..., Customer], advisor: User, agreed: Any) -> None:
    li = agreed(make_customer(name="李四", phone="13900001111"))
    message = message_send(customer=li, channel="email", purpose="service", body="您好", by=advisor, now=NOON)
    assert (message.state, message.reason) == (State.REFUSED, Reason.NO_EMAIL)


def test_placeholders_are_filled_from_the_file_and_what_the_caller_gives(
    zhang: Customer, reminder: MessageTemplate, advisor: User
) -> None:
    message = message_send(
        customer=zhang, template=reminder, values={"service": "小保养", "due_date": "3月20日"}, by=advisor, now=NOON
    )
    assert message.body == "张三您好，您的爱车粤B5K2M8的小保养预计3月20日到期。"
    assert message.params == [["name", "张三"], ["plate", "粤B5K2M8"], ["service", "小保养"], ["due_date", "3月20日"]]
    assert message.to == "+8613812345678"


def test_a_text_needing_values_nobody_gave_makes_no_message(
    zhang: Customer, reminder: MessageTemplate, advisor: User
) -> None:
    with pytest.raises(ValidationError) as caught:
        message_send(customer=zhang, template=reminder, by=advisor, now=NOON)

    assert caught.value.message_dict == {"values": [zh(errors.VALUES_MISSING, names="{service}、{due_date}")]}
    assert not Message.objects.for_org(zhang.organization_id).exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"purpose": "service", "body": "{name}的{nickname}"}, "body", None),
        ({"purpose": "service"}, "template", errors.TEMPLATE_OR_BODY),
        ({"body": "您好"}, "purpose", errors.PURPOSE_REQUIRED),
        ({"purpose": "service", "body": "您好", "channel": "fax"}, "channel", errors.CHANNEL_INVALID),
    ],
)
def test_input_that_makes_no_message_is_refused_field_by_field(
    zhang: Customer, advisor: User, kwargs: dict[str, Any], field: str, message: Any
) -> None:
    with pytest.raises(ValidationError) as caught:
        message_send(customer=zhang, by=advisor, now=NOON, **kwargs)
    assert list(caught.value.message_dict) == [field]
    if message is not None:
        assert caught.value.message_dict[field] == [zh(message)]


def test_a_marketing_template_cannot_be_sent_as_service(zhang: Customer, promo: MessageTemplate, advisor: User) -> None:
    with pytest.raises(ValidationError) as caught:
        message_send(customer=zhang, template=promo, purpose="service", by=advisor, now=NOON)
    assert caught.value.message_dict == {"purpose": [zh(errors.MARKETING_AS_SERVICE)]}


def test_only_a_waiting_manual_message_is_marked_sent(zhang: Customer, advisor: User) -> None:
    message = message_send(customer=zhang, purpose="service", body="{name}您好", by=advisor, now=NOON)

    message_mark_sent(message=message, by=advisor, now=NOON + dt.timedelta(minutes=3))
    message.refresh_from_db()
    with pytest.raises(StateConflict):
        message_mark_sent(message=message, by=advisor, now=NOON)

    assert (message.state, message.sent_by, message.sent_at) == (State.SENT, advisor, NOON + dt.timedelta(minutes=3))
