"""Consent to promotional messages: per channel, with when, how and for what purpose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from huitou.audit.models import ChangeEntry
from huitou.customers import errors
from huitou.customers.models import ConsentRecord, Customer
from huitou.customers.selectors import consent_history
from huitou.customers.services import consent_set, customer_create
from huitou.tenancy.models import Organization, User


def refused(exc: pytest.ExceptionInfo[ValidationError], field: str) -> list[str]:
    return exc.value.message_dict.get(field, [])


@pytest.fixture
def customer(make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(name="张三")


def test_consent_given_appends_a_record_and_sets_the_flag(customer: Customer, service: User) -> None:
    record = consent_set(
        customer=customer, channel="sms", granted=True, method="paper_form", purpose=" 保养提醒和会员活动 ", by=service
    )
    record.refresh_from_db()
    assert (record.channel, record.granted, record.method, record.purpose) == (
        "sms",
        True,
        "paper_form",
        "保养提醒和会员活动",
    )
    assert (record.recorded_by, record.organization_id, record.customer_id) == (
        service,
        customer.organization_id,
        customer.pk,
    )
    assert record.at is not None
    assert customer.consent_sms is True
    assert Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).consents() == {
        "sms": True,
        "wechat": False,
        "phone": False,
        "email": False,
    }


def test_withdrawal_appends_a_second_record_and_clears_the_flag(customer: Customer, service: User) -> None:
    consent_set(customer=customer, channel="wechat", granted=True, method="verbal", purpose="节日问候", by=service)
    consent_set(customer=customer, channel="wechat", granted=False, method="phone", purpose="客户要求退订", by=service)
    assert Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).consent_wechat is False
    records = list(consent_history(customer=customer))
    assert [(r.granted, r.method, r.purpose) for r in records] == [
        (False, "phone", "客户要求退订"),
        (True, "verbal", "节日问候"),
    ]


def test_consent_on_one_channel_leaves_the_others(customer: Customer, service: User) -> None:
    consent_set(customer=customer, channel="email", granted=True, method="online", purpose="电子账单", by=service)
    consent_set(customer=customer, channel="phone", granted=True, method="verbal", purpose="回访", by=service)
    consent_set(customer=customer, channel="email", granted=False, method="online", purpose="退订", by=service)
    assert Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).consents() == {
        "sms": False,
        "wechat": False,
        "phone": True,
        "email": False,
    }


@pytest.mark.parametrize("purpose", ["", "   ", None])
def test_it_refuses_consent_without_a_purpose(customer: Customer, service: User, purpose: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        consent_set(customer=customer, channel="sms", granted=True, method="verbal", purpose=purpose, by=service)
    assert refused(exc, "purpose") == [errors.CONSENT_PURPOSE_REQUIRED]
    assert not ConsentRecord.objects.for_org(customer.organization_id).exists()
    assert Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).consent_sms is False


def test_it_refuses_a_withdrawal_without_a_purpose(customer: Customer, service: User) -> None:
    consent_set(customer=customer, channel="sms", granted=True, method="verbal", purpose="保养提醒", by=service)
    with pytest.raises(ValidationError) as exc:
        consent_set(customer=customer, channel="sms", granted=False, method="verbal", purpose="", by=service)
    assert refused(exc, "purpose") == [errors.CONSENT_PURPOSE_REQUIRED]
    assert Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).consent_sms is True


@pytest.mark.parametrize(("field", "kwargs"), [("channel", {"channel": "fax"}), ("method", {"method": "telepathy"})])
def test_it_refuses_an_unknown_channel_or_method(
    customer: Customer, service: User, field: str, kwargs: dict[str, str]
) -> None:
    args = {"channel": "sms", "method": "verbal", **kwargs}
    with pytest.raises(ValidationError) as exc:
        consent_set(customer=customer, granted=True, purpose="保养提醒", by=service, **args)
    assert refused(exc, field) == [errors.CHOICE_INVALID]


def test_consent_is_recorded_in_the_history(customer: Customer, service: User) -> None:
    consent_set(customer=customer, channel="sms", granted=True, method="sms_reply", purpose="保养提醒", by=service)
    entry = ChangeEntry.objects.for_org(customer.organization_id).get(action=ChangeEntry.Action.CONSENT)
    assert (entry.actor, entry.customer_id) == (service, customer.pk)
    assert entry.changes == {
        "consent_sms": [False, True],
        "method": [None, "sms_reply"],
        "purpose": [None, "保养提醒"],
    }


def test_consents_given_at_registration_are_recorded_with_method_and_purpose(org: Organization, advisor: User) -> None:
    customer = customer_create(
        organization=org,
        by=advisor,
        data={"name": "张三", "phone": "13812345678"},
        consents={"sms": True, "wechat": True, "email": False},
        consent_method="paper_form",
        consent_purpose="保养提醒",
    )
    customer.refresh_from_db()
    assert customer.consents() == {"sms": True, "wechat": True, "phone": False, "email": False}
    records = ConsentRecord.objects.filter(customer=customer)
    assert sorted(r.channel for r in records) == ["sms", "wechat"]
    assert {(r.method, r.purpose, r.recorded_by_id) for r in records} == {("paper_form", "保养提醒", advisor.pk)}


def test_registration_with_consent_but_without_purpose_is_refused(org: Organization, advisor: User) -> None:
    with pytest.raises(ValidationError) as exc:
        customer_create(organization=org, by=advisor, data={"name": "张三"}, consents={"sms": True})
    assert refused(exc, "consent_purpose") == [errors.CONSENT_PURPOSE_REQUIRED]
    assert not Customer.objects.for_org(org).exists()


def test_consent_counts_towards_completeness(customer: Customer, service: User) -> None:
    before = Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).completeness
    consent_set(customer=customer, channel="sms", granted=True, method="verbal", purpose="保养提醒", by=service)
    assert Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).completeness == before + 8
