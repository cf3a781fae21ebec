"""Prospects and service history from sheets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from huitou.analytics.facts import facts_stale
from huitou.analytics.models import DayFact
from huitou.customers.models import Customer, Stage, Vehicle
from huitou.imports import errors
from huitou.imports.models import ImportIssue, ImportJob
from huitou.imports.services import import_check, import_configure, import_start, import_upload
from huitou.imports.tests.sheets import xlsx_upload
from huitou.lifecycle.models import FollowUpTask
from huitou.service.models import OrderState, Payment, ServiceOrder
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db


def _run(org: Organization, by: User, upload: Any, kind: str, capture: Any) -> ImportJob:
    job = import_upload(organization=org, by=by, upload=upload, kind=kind)
    import_configure(job=job)
    import_check(job=job, by=by)
    with capture(execute=True):
        import_start(job=job, by=by)
    job.refresh_from_db()
    return job


def test_prospects_come_in_with_their_source_and_need(
    org: Organization, owner: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    rows = [
        ["姓名", "电话", "微信", "来源", "需求", "车牌"],
        ["林小姐", "13700001111", "", "传单", "想做镀晶", "粤B12345"],
        ["陈先生", "", "chen_wx", "自然到店", "", ""],
        ["无联系", "", "", "", "", ""],
        ["错来源", "13700002222", "", "路过的神仙", "", ""],
    ]
    job = _run(org, owner, xlsx_upload(rows), "prospects", django_capture_on_commit_callbacks)
    assert (job.rows, job.created, job.failed) == (4, 2, 2)
    lin = Customer.objects.for_org(org).get(name="林小姐")
    assert (lin.stage, lin.source.code, lin.need) == (Stage.PROSPECT, "flyer", "想做镀晶")
    assert lin.vehicles.get().plate == "粤B12345"
    assert Customer.objects.for_org(org).get(name="陈先生").wechat == "chen_wx"
    messages = list(ImportIssue.objects.for_org(org).order_by("row").values_list("row", "message"))
    assert messages == [(4, str(errors.CONTACT_REQUIRED_PROSPECT)), (5, str(errors.SOURCE_UNKNOWN))]
    # Imported prospects get no calls due today: the plan is for prospects met today.
    assert not FollowUpTask.objects.for_org(org).exists()


def test_service_history_becomes_paid_orders_of_the_catalog(
    org: Organization,
    owner: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_service_item: Callable[..., Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    customer = make_customer(name="老张", phone="13800001111")
    make_vehicle(customer, plate="粤B11111")
    make_service_item(name="小保养（机油+机滤）", code="M01", interval_km=5000, interval_months=6)
    rows = [
        ["车牌", "日期", "项目", "金额", "里程", "备注"],
        ["粤b11111", "2024/3/1", "小保养", "298", "30000", "换了机油"],
        ["粤B11111", "2024年9月1日", "M01", "¥320.00", "35,000", ""],
        ["粤B11111", "2024/3/1", "小保养", "298", "30000", "同一单又一次"],
        ["粤B99999", "2024/3/1", "小保养", "298", "", ""],
        ["粤B11111", "2024/3/1", "喷漆", "298", "", ""],
    ]
    job = _run(org, owner, xlsx_upload(rows, name="历史.xlsx"), "orders", django_capture_on_commit_callbacks)
    assert (job.rows, job.created, job.skipped, job.failed) == (5, 2, 1, 2)
    orders = ServiceOrder.objects.for_org(org).order_by("opened_at")
    assert [(o.state, o.total, o.amount_paid, o.mileage_km) for o in orders] == [
        (OrderState.PAID, Decimal("298.00"), Decimal("298.00"), 30000),
        (OrderState.PAID, Decimal("320.00"), Decimal("320.00"), 35000),
    ]
    assert orders[0].number == "20240301-0001" and orders[0].description == "换了机油"
    assert Payment.objects.for_org(org).count() == 2
    customer.refresh_from_db()
    assert (customer.visit_count, customer.lifetime_spend, customer.stage) == (2, Decimal("618.00"), Stage.CUSTOMER)
    assert timezone.localdate(customer.converted_at) == dt.date(2024, 3, 1)
    messages = set(ImportIssue.objects.for_org(org).values_list("row", "message"))
    assert messages == {(5, str(errors.VEHICLE_UNKNOWN)), (6, str(errors.ITEM_UNKNOWN))}
    # The dashboard's daily facts of both days were computed after the import committed.
    assert not facts_stale(org.pk)
    facts = DayFact.objects.for_org(org).order_by("day").values_list("day", "revenue", "orders")
    assert list(facts) == [(dt.date(2024, 3, 1), Decimal("298.00"), 1), (dt.date(2024, 9, 1), Decimal("320.00"), 1)]
