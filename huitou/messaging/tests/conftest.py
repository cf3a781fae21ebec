"""Messaging test set-up: a customer who agreed to everything, moments in China time, the fake providers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone

from huitou.api.tests.conftest import api_for  # noqa: F401 - the API client fixture
from huitou.customers.models import Customer
from huitou.customers.services import consent_set
from huitou.messaging.fakes import FakeSmtp, FakeTencentSms
from huitou.messaging.models import MessageTemplate
from huitou.messaging.services.templates import message_template_save
from huitou.tenancy.models import Organization, User


def china(day: dt.date | str, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in China time (the shop's quiet hours are China time)."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)), timezone.get_default_timezone())


# A Tuesday afternoon, outside any quiet hours.
NOON = china("2026-03-10", 14)


@pytest.fixture
def agreed(advisor: User) -> Callable[..., Customer]:
    """``agreed(customer, *channels)``: consent recorded for those channels (all by default)."""

    def give(customer: Customer, *channels: str) -> Customer:
        for channel in channels or ("sms", "wechat", "email"):
            consent_set(
                customer=customer,
                channel=channel,
                granted=True,
                method="paper_form",
                purpose="保养提醒与优惠",
                by=advisor,
            )
        customer.refresh_from_db()
        return customer

    return give


@pytest.fixture
def zhang(make_customer: Callable[..., Customer], make_vehicle: Callable[..., Any], agreed: Any) -> Customer:
    """张三: a mobile, an email, a car, consent to every channel."""
    customer = make_customer(name="张三", phone="13812345678", email="zhang@example.com")
    make_vehicle(customer, plate="粤B5K2M8", brand="丰田", model="卡罗拉")
    return agreed(customer)


@pytest.fixture
def promo(org: Organization) -> MessageTemplate:
    return message_template_save(
        organization=org,
        data={
            "code": "spring",
            "name": "春季优惠",
            "purpose": "marketing",
            "body": "{name}您好，{shop}春季保养八折，欢迎来店。",
            "sms_template_id": "100201",
        },
    )


@pytest.fixture
def reminder(org: Organization) -> MessageTemplate:
    return message_template_save(
        organization=org,
        data={
            "code": "maintenance",
            "name": "保养提醒",
            "purpose": "service",
            "body": "{name}您好，您的爱车{plate}的{service}预计{due_date}到期。",
            "sms_template_id": "100101",
        },
    )


@pytest.fixture
def fake_sms(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTencentSms]:
    """The fake Tencent Cloud SMS server, with Huitou's SMS pointed at it."""
    fake = FakeTencentSms().start()
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    yield fake
    fake.stop()


@pytest.fixture
def fake_smtp(settings: Any) -> Iterator[FakeSmtp]:
    fake = FakeSmtp(refuse={"nobody@example.com"}).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", fake.port
    yield fake
    fake.stop()
