"""The sweep's writer: new tasks stored as ``save()`` would store them, a key already taken left alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from huitou.care.models import CareKind, CareTask
from huitou.care.services.task_rows import tasks_insert
from huitou.customers.models import Customer
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 12, 6, 3, 0))


def row(customer: Customer, owner: User, key: str, reason: str) -> dict[str, Any]:
    return {
        "kind": CareKind.BIRTHDAY,
        "key": key,
        "customer_id": customer.pk,
        "vehicle_id": None,
        "service_id": None,
        "owner_id": owner.pk,
        "due_on": dt.date(2026, 12, 9),
        "reason": reason,
        "script": "生日快乐",
    }


def test_new_tasks_get_the_defaults_and_a_taken_key_is_skipped(
    org: Organization, owner: User, make_customer: Callable[..., Customer], django_assert_num_queries: Any
) -> None:
    first, second = make_customer(), make_customer()
    tasks_insert(organization_id=org.pk, rows=[row(first, owner, "birthday:1:2026", "一")], now=NOW)
    later = NOW + dt.timedelta(days=1)
    rows = [row(first, owner, "birthday:1:2026", "再一次"), row(second, owner, "birthday:2:2026", "二")]
    # PostgreSQL: 1 savepoint, 2 the staging table, 3 COPY of the rows, 4 INSERT … SELECT … ON CONFLICT
    # DO NOTHING, 5 the staging table dropped, 6 release; SQLite: 1 one INSERT … ON CONFLICT DO NOTHING.
    with django_assert_num_queries(6 if connection.vendor == "postgresql" else 1):
        tasks_insert(organization_id=org.pk, rows=rows, now=later)

    tasks = list(CareTask.objects.for_org(org).order_by("key").values())
    assert [(t["key"], t["reason"], t["created_at"]) for t in tasks] == [
        ("birthday:1:2026", "一", NOW),  # the task already there is not touched
        ("birthday:2:2026", "二", later),
    ]
    new = tasks[1]
    assert (new["state"], new["result"], new["score"], new["answers"], new["closed_at"], new["order_id"]) == (
        CareTask.State.OPEN,
        "",
        None,
        {},
        None,
        None,
    )
    assert (new["customer_id"], new["owner_id"], new["due_on"], new["script"]) == (
        second.pk,
        owner.pk,
        dt.date(2026, 12, 9),
        "生日快乐",
    )
