"""The benchmarks' bulk loader writes what the services write, from the demo's generator."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from bulkload import customers
from bulkload.build import bulk_build
from huitou.analytics.funnel import funnel
from huitou.customers.models import (
    ConsentRecord,
    Customer,
    CustomerTag,
    Household,
    MileageReading,
    Vehicle,
    VehicleOwnership,
)
from huitou.customers.selectors import customer_list
from huitou.demo import generator
from huitou.demo.generator import DemoGenerator
from huitou.demo.services import STAFF, demo_build
from huitou.lib.phones import last4
from huitou.lib.pinyin import pinyin_keys
from huitou.lifecycle.models import FollowUp, FollowUpTask, StageChange
from huitou.lifecycle.selectors import DUE_OVERDUE, DUE_TODAY, DUE_UPCOMING, tasks_due
from huitou.tenancy.models import Organization, User
from huitou.tenancy.services import organization_create, staff_create

NOW = dt.datetime(2026, 6, 15, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def customers_of(organization: Organization) -> list[Customer]:
    return list(Customer.objects.for_org(organization).order_by("pk"))


def _lifecycle_view(c: Customer) -> dict[str, list[tuple[Any, ...]]]:
    """The file's stage changes, follow-ups and tasks, without ids (staff by role, plan steps by day)."""
    return {
        "stage_changes": list(
            StageChange.objects.for_org(c.organization_id)
            .filter(customer=c)
            .order_by("at", "pk")
            .values_list("from_stage", "to_stage", "reason", "note", "by__role", "at")
        ),
        "followups": list(
            FollowUp.objects.for_org(c.organization_id)
            .filter(customer=c)
            .order_by("at", "pk")
            .values_list(
                "staff__role", "channel", "content", "result", "grade", "next_step", "next_due", "task_id", "at"
            )
        ),
        "tasks": sorted(
            FollowUpTask.objects.for_org(c.organization_id)
            .filter(customer=c)
            .values_list(
                "created_at",
                "due_on",
                "assignee__role",
                "channel",
                "action",
                "origin",
                "plan_step__plan__stage",
                "plan_step__day_offset",
                "stage",
                "closed_at",
                "closed_as",
            ),
            key=repr,
        ),
    }


def _customer_view(c: Customer) -> dict[str, Any]:
    skip = {"id", "organization", "owner", "created_by", "deleted_by", "household", "source", "referrer"}
    values = {f.attname: getattr(c, f.attname) for f in Customer._meta.concrete_fields if f.name not in skip}
    values.update(
        owner=c.owner.role,
        created_by=c.created_by.role if c.created_by else None,
        source=c.source.code if c.source else None,
        referrer=c.referrer.name if c.referrer else None,
        household=bool(c.household_id),
        lifecycle=_lifecycle_view(c),
        tags=sorted(
            CustomerTag.objects.for_org(c.organization_id).filter(customer=c).values_list("tag__name", flat=True)
        ),
        consents=list(
            ConsentRecord.objects.for_org(c.organization_id)
            .filter(customer=c)
            .order_by("pk")
            .values_list("channel", "granted", "method", "purpose", "at", "recorded_by__role")
        ),
        vehicles=[
            (
                {
                    f.attname: getattr(v, f.attname)
                    for f in Vehicle._meta.concrete_fields
                    if f.name not in {"id", "organization", "customer", "deleted_by"}
                },
                list(
                    MileageReading.objects.for_org(v.organization_id)
                    .filter(vehicle=v)
                    .order_by("read_at")
                    .values_list("km", "read_at", "source", "odometer_replaced", "recorded_by__role")
                ),
                list(
                    VehicleOwnership.objects.for_org(v.organization_id).filter(vehicle=v).values_list("since", "until")
                ),
            )
            for v in Vehicle.objects.for_org(c.organization_id).filter(customer=c).order_by("pk")
        ],
    )
    return values


def test_the_bulk_loader_writes_what_the_services_write(db: Any) -> None:
    # Customers only: the services path's order history changes visit stats and readings' sources,
    # and converts the files at their orders' payments instead of at their first visits.
    by_services = demo_build(customers=40, seed=8, now=NOW, history=False).organization
    in_bulk = bulk_build(customers=40, seed=8, now=NOW, org_name="批量", user_prefix="bulk_").organization

    services_files = [_customer_view(c) for c in customers_of(by_services)]
    bulk_files = [_customer_view(c) for c in customers_of(in_bulk)]
    assert len(services_files) == 40
    for a, b in zip(services_files, bulk_files, strict=True):
        assert a == b
    assert Household.objects.for_org(by_services).count() == Household.objects.for_org(in_bulk).count() > 0
    # The comparison covers every kind of lifecycle row.
    stages = {c["stage"] for c in services_files}
    assert {"prospect", "customer", "member"} <= stages and len(stages) >= 5
    assert any(c["referrer"] for c in services_files)
    reasons = {change[2] for c in services_files for change in c["lifecycle"]["stage_changes"]}
    assert {"created", "followup_intent", "first_paid_order", "membership", "imported"} <= reasons
    tasks = [t for c in services_files for t in c["lifecycle"]["tasks"]]
    assert {(t[5], t[10]) for t in tasks} >= {("plan", "done"), ("plan", "cancelled"), ("next_step", ""), ("plan", "")}


def test_derived_search_keys_and_scores_are_the_services_own(db: Any) -> None:
    organization = bulk_build(customers=60, seed=21, now=NOW).organization
    for c in customers_of(organization):
        assert (c.name_pinyin, c.name_initials) == pinyin_keys(c.name)
        assert c.phone_last4 == last4(c.phone)
    assert len({c.completeness for c in customers_of(organization)}) > 5


def test_demo_customers_are_found_by_every_search_key(db: Any) -> None:
    organization = bulk_build(customers=30, seed=4, now=NOW).organization
    for c in customers_of(organization)[:10]:
        keys = [c.name, c.name_pinyin, c.name_initials]
        if c.phone:
            keys += [c.phone_display, c.phone_last4]
        for v in Vehicle.objects.for_org(organization).filter(customer=c):
            # Two letters alone are initials: the plate after the province needs a digit or a third character.
            start = v.plate[1:3] if not v.plate[1:3].isalpha() else v.plate[1:4]
            keys += [v.plate, v.plate[1:], v.plate[-4:], v.plate[:3], start] + ([v.vin[-6:]] if v.vin else [])
        for q in keys:
            assert c in customer_list(organization=organization, q=q), q


def test_referrals_find_their_referrer_in_an_earlier_chunk(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generator, "REFERRERS_KEPT", 5)
    monkeypatch.setattr(customers, "REFERRER_IDS_KEPT", 30)
    org = organization_create(name="分批", shop_names=["分批"])
    staff = {
        key: staff_create(organization=org, username=f"chunk_{key}", password="x", role=role, validate=False)
        for key, role, _name, _shops in STAFF
    }
    specs = list(DemoGenerator(seed=6, now=NOW).customers(150))
    customers.BulkLoader(organization=org, staff=staff, chunk_size=9).load(specs, total=len(specs))

    expected = [specs[s.referrer].name if s.referrer is not None else None for s in specs]
    files = Customer.objects.for_org(org).select_related("referrer").order_by("pk")
    assert [c.referrer.name if c.referrer else None for c in files] == expected
    assert sum(name is not None for name in expected) > 10


def test_the_same_seed_gives_the_same_follow_ups(db: Any) -> None:
    def followups(prefix: str, seed: int) -> list[tuple[Any, ...]]:
        org = bulk_build(customers=25, seed=seed, now=NOW, user_prefix=prefix, org_name=prefix)
        return list(
            FollowUp.objects.for_org(org.organization)
            .order_by("customer_id", "at")
            .values_list("customer__name", "staff__role", "channel", "content", "result", "grade", "next_due", "at")
        )

    first = followups("a_", 7)
    assert len(first) > 25
    assert followups("b_", 7) == first
    assert followups("c_", 8) != first


def test_everyone_at_the_front_desk_has_follow_ups_today_overdue_and_upcoming_in_a_default_demo(db: Any) -> None:
    org = bulk_build(customers=300, seed=2026, now=NOW).organization
    today = NOW.date()
    for username in ("owner", "advisor", "service"):
        staff = User.objects.get(username=username)
        for due in (DUE_TODAY, DUE_OVERDUE, DUE_UPCOMING):
            assert tasks_due(organization=org, due=due, assignee_id=staff.pk, today=today).exists(), (username, due)
        # A work list, not a pile: a few due today.
        assert tasks_due(organization=org, due=DUE_TODAY, assignee_id=staff.pk, today=today).count() <= 10


def test_the_funnel_of_a_bulk_demo_has_a_story(db: Any) -> None:
    org = bulk_build(customers=400, seed=3, now=NOW, user_prefix="f_", org_name="漏斗").organization
    today = NOW.date()
    result = funnel(organization=org, date_from=today - dt.timedelta(days=729), date_to=today)
    rates = {row.key: row.conversion_rate for row in result.rows}
    assert rates["referral"] > rates["walk_in"] * 0.9 > rates["flyer"]
    assert result.total.prospects == 400
    assert result.total.converted < result.total.intent < result.total.prospects
    median = statistics.median(r.median_days_to_convert for r in result.rows if r.median_days_to_convert is not None)
    assert median >= 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="indexes are rebuilt on PostgreSQL only")
def test_a_big_load_puts_back_every_index_and_foreign_key(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def schema() -> list[tuple[str, ...]]:
        tables = [m._meta.db_table for m in customers.LOADED_MODELS]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = ANY(%s::regclass[]) "
                "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
                [tables, tables],
            )
            return cursor.fetchall()

    before = schema()
    monkeypatch.setattr(customers, "REBUILD_MIN", 10)
    log: list[str] = []
    result = bulk_build(customers=30, seed=4, now=NOW, log=log.append)

    assert any("Rebuilding" in line for line in log)
    assert result.stats is not None and result.stats.rebuild_seconds > 0
    assert schema() == before
    assert len(customers_of(result.organization)) == 30


def test_the_last_four_digits_of_a_mobile_are_those_the_services_keep() -> None:
    for spec in DemoGenerator(seed=2026, now=NOW).customers(500):
        if spec.phone:
            assert customers._last4(spec.phone) == last4(spec.phone)
