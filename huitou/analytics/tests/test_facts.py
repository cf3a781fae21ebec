"""The dashboard's daily facts: kept by the changes that move them, and equal to computing them afresh."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from huitou.analytics import facts
from huitou.analytics.dashboard import CHURNED, WON_BACK, dashboard
from huitou.analytics.facts import days_mark, facts_rebuild, facts_refresh, facts_stale
from huitou.analytics.models import DayChangeFact, DayFact, DayItemFact, DayNewFact, DayVisitFact, StaleDay
from huitou.analytics.sets import paid_orders_in, stage_changes_in
from huitou.analytics.tests.dashboard_dataset import DATE_FROM, DATE_TO, local
from huitou.analytics.tests.dashboard_dataset import Dashboard as Data
from huitou.customers.models import Customer
from huitou.customers.services import customer_delete, customer_restore, customer_update
from huitou.lifecycle.services.merge import customer_merge
from huitou.lifecycle.services.stages import stages_mark_inactive
from huitou.service.services.orders import order_add_line, order_complete, order_open, order_pay
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.scope import unscoped

pytestmark = pytest.mark.django_db

D = Decimal
DAY = dt.date(2025, 6, 10)


def _facts(org: Organization | int) -> dict[str, list[tuple[Any, ...]]]:
    new = DayNewFact.objects.for_org(org).order_by("day", "shop_id", "source_id")
    counts = ["customers", "returned_7", "returned_30", "returned_90", *(f"month_{k}" for k in range(1, 13))]
    days = DayFact.objects.for_org(org).order_by("day", "shop_id")
    items = DayItemFact.objects.for_org(org).order_by("day", "shop_id", "kind", "service_id", "part_id")
    return {
        "days": list(
            days.values_list(
                "day", "shop_id", "revenue", "member_revenue", "referral_revenue", "orders", "part_sales", "part_cost"
            )
        ),
        "items": list(
            items.values_list("day", "shop_id", "kind", "service_id", "part_id", "quantity", "revenue", "orders")
        ),
        "new": list(new.values_list("day", "shop_id", "source_id", *counts)),
        "visits": list(
            DayVisitFact.objects.for_org(org)
            .order_by("day", "shop_id", "gap")
            .values_list("day", "shop_id", "gap", "first", "second")
        ),
        "changes": list(
            DayChangeFact.objects.for_org(org)
            .order_by("day", "kind", "gap")
            .values_list("day", "kind", "gap", "changes")
        ),
    }


def test_the_facts_the_services_keep_equal_the_facts_computed_afresh(
    org: Organization, other_org: Organization, dashboard_data: Data
) -> None:
    assert facts_stale(org.pk)  # every payment of the data set marked its day
    facts_refresh(org.pk)
    facts_refresh(other_org.pk)
    assert not facts_stale(org.pk)
    kept = _facts(org)
    assert len(kept["days"]) == 17 and kept["items"]  # the days with a payment or an order paid, per shop
    # C5, C6, C1, M1 (on 03-05: the merged M2's visit is its first), C2, C3, C4, C7
    assert len(kept["new"]) == 8
    DayFact.objects.for_org(org).delete()
    DayItemFact.objects.for_org(org).delete()
    DayNewFact.objects.for_org(org).delete()
    DayVisitFact.objects.for_org(org).delete()
    DayChangeFact.objects.for_org(org).delete()
    assert facts_rebuild(org.pk, date_from=dt.date(2024, 1, 1), date_to=dt.date(2025, 12, 31)) == 731
    assert _facts(org) == kept
    # 03-10 at shop A: C2's first payment of 400, the other organization's 666 is its own.
    march_10 = DayFact.objects.for_org(org).get(day=dt.date(2025, 3, 10))
    assert (march_10.revenue, march_10.referral_revenue, march_10.orders) == (D("400.00"), D("400.00"), 0)
    assert DayFact.objects.for_org(other_org).get(day=dt.date(2025, 3, 10)).revenue == D("666.00")
    # 03-11: the order paid in full; its part line and its discount are the day's costed parts.
    march_11 = DayFact.objects.for_org(org).get(day=dt.date(2025, 3, 11))
    assert (march_11.revenue, march_11.orders, march_11.part_sales, march_11.part_cost) == (
        D("280.00"),
        1,
        D("180.00"),
        D("120.00"),
    )


def test_a_rebuild_keeps_the_days_outside_its_range(org: Organization, dashboard_data: Data) -> None:
    facts_refresh(org.pk)
    before = _facts(org)
    facts_rebuild(org.pk, date_from=dt.date(2025, 3, 10), date_to=dt.date(2025, 3, 10))
    assert _facts(org) == before
    DayFact.objects.for_org(org).delete()
    facts_rebuild(org.pk, date_from=dt.date(2025, 3, 10), date_to=dt.date(2025, 3, 11), chunk_days=1)
    assert [d[0] for d in _facts(org)["days"]] == [dt.date(2025, 3, 10), dt.date(2025, 3, 11)]


@pytest.fixture
def shop(org: Organization) -> Shop:
    return Shop.objects.for_org(org).order_by("pk").first()  # type: ignore[return-value]


@pytest.fixture
def pay(
    org: Organization, owner: User, shop: Shop, make_vehicle: Callable[..., Any], make_service_item: Callable[..., Any]
) -> Callable[..., Any]:
    item = make_service_item(name="洗车", labour_price="50.00")

    def pay(customer: Customer, when: dt.datetime, price: str, paid: str | None = None) -> Any:
        car = make_vehicle(customer, by=owner)
        o = order_open(organization=org, vehicle=car, by=owner, shop=shop, now=when - dt.timedelta(hours=1))
        order_add_line(order=o, by=owner, service=item, unit_price=price, now=when)
        order_complete(order=o, by=owner, now=when)
        order_pay(order=o, by=owner, method="cash", amount=paid or price, now=when)
        return o

    return pay


def _june(org: Organization) -> Any:
    return dashboard(organization=org, date_from=DAY, date_to=DAY)


def test_a_payment_marks_its_day_and_the_next_read_shows_it(
    org: Organization, make_customer: Callable[..., Customer], pay: Callable[..., Any]
) -> None:
    customer = make_customer(name="王先生")
    pay(customer, local(2025, 6, 10), "100.00")
    assert _june(org).revenue == D("100.00")
    assert not facts_stale(org.pk)
    pay(customer, local(2025, 6, 10, 15), "80.00")
    assert list(StaleDay.objects.for_org(org).values_list("day", flat=True)) == [DAY]
    june = _june(org)
    assert (june.revenue, june.orders) == (D("180.00"), 2)


def test_the_refresh_runs_after_the_change_commits(
    org: Organization,
    make_customer: Callable[..., Customer],
    pay: Callable[..., Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        pay(make_customer(name="王先生"), local(2025, 6, 10), "100.00")
    assert callbacks  # the huey task, queued for after the commit (run at once in tests)
    assert not facts_stale(org.pk)
    assert DayFact.objects.for_org(org).get(day=DAY).revenue == D("100.00")


def test_setting_a_referrer_moves_the_revenue_already_taken(
    org: Organization, owner: User, make_customer: Callable[..., Customer], pay: Callable[..., Any]
) -> None:
    friend = make_customer(name="介绍人")
    customer = make_customer(name="新客")
    pay(customer, local(2025, 6, 10), "100.00", paid="40.00")  # a deposit: not converted yet
    assert _june(org).referral_revenue == D("0.00")
    customer = Customer.objects.for_org(org).get(pk=customer.pk)  # as a request loads it
    customer_update(customer=customer, by=owner, data={"referrer": friend.pk})
    assert _june(org).referral_revenue == D("40.00")


def test_merging_files_moves_their_revenue_to_the_kept_file(
    org: Organization, owner: User, make_customer: Callable[..., Customer], pay: Callable[..., Any]
) -> None:
    friend = make_customer(name="介绍人")
    kept = make_customer(name="张三", referrer=friend.pk)
    other = make_customer(name="张三（重复）")
    pay(other, local(2025, 6, 10), "100.00")
    assert _june(org).referral_revenue == D("0.00")
    customer_merge(keep=kept, other=other, by=owner)
    assert _june(org).referral_revenue == D("100.00")  # the kept file was referred


def test_a_change_made_while_a_refresh_runs_is_not_lost(
    org: Organization, make_customer: Callable[..., Customer], pay: Callable[..., Any], monkeypatch: Any
) -> None:
    pay(make_customer(name="王先生"), local(2025, 6, 10), "100.00")

    def meanwhile(organization_id: int, first: dt.date, last: dt.date) -> None:
        days_mark(organization_id, [DAY])  # a payment committed after the refresh read the day

    monkeypatch.setattr(facts, "DAY_WRITERS", [*facts.DAY_WRITERS, meanwhile])
    assert facts_refresh(org.pk) == 1
    assert list(StaleDay.objects.for_org(org).values_list("day", flat=True)) == [DAY]
    monkeypatch.undo()
    assert facts_refresh(org.pk) == 1
    assert not facts_stale(org.pk)


def test_the_facts_are_per_organization(org: Organization, other_org: Organization, dashboard_data: Data) -> None:
    facts_refresh(org.pk)
    facts_refresh(other_org.pk)
    other = dashboard(organization=other_org, date_from=DATE_FROM, date_to=DATE_TO)
    assert (other.revenue, other.orders, len(other.top_services)) == (D("666.00"), 1, 1)
    assert not DayFact.objects.for_org(other_org).filter(shop__organization=org).exists()


def test_the_command_rebuilds_every_day(org: Organization, dashboard_data: Data, capsys: Any) -> None:
    facts_refresh(org.pk)
    kept = _facts(org)
    DayFact.objects.for_org(org).delete()
    DayItemFact.objects.for_org(org).delete()
    DayNewFact.objects.for_org(org).delete()
    call_command("analytics", "facts", "--org", org.name)
    assert _facts(org) == kept
    assert f"{org.name}: " in capsys.readouterr().out


def test_a_return_visit_weeks_later_counts_for_the_day_of_the_first(
    org: Organization, make_customer: Callable[..., Customer], pay: Callable[..., Any]
) -> None:
    customer = make_customer(name="王先生")
    pay(customer, local(2025, 6, 10), "100.00")
    later = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    june = dashboard(organization=org, date_from=DAY, date_to=DAY, now=later)
    assert [(r.measured, r.returned) for r in june.return_rates] == [(1, 0), (1, 0), (1, 0)]
    assert june.cohorts[0].returned[:2] == [0, 0]
    pay(customer, local(2025, 7, 5), "80.00")  # 25 days later, the next calendar month
    june = dashboard(organization=org, date_from=DAY, date_to=DAY, now=later)
    assert [(r.measured, r.returned) for r in june.return_rates] == [(1, 0), (1, 1), (1, 1)]
    assert june.cohorts[0].returned[:2] == [1, 0]


def test_deleting_a_file_or_changing_its_source_moves_the_new_customers(
    org: Organization, owner: User, make_customer: Callable[..., Customer], pay: Callable[..., Any]
) -> None:
    customer = make_customer(name="王先生", source="walk_in")
    pay(customer, local(2025, 6, 10), "100.00")
    assert [(s.key, s.count) for s in _june(org).new_by_source] == [("walk_in", 1)]
    customer = Customer.objects.for_org(org).get(pk=customer.pk)  # as a request loads it
    customer_update(customer=customer, by=owner, data={"source": "wechat"})
    assert [(s.key, s.count) for s in _june(org).new_by_source] == [("wechat", 1)]
    customer_delete(customer=customer, by=owner)
    assert _june(org).new_customers == 0
    customer_restore(customer=Customer.objects.for_org(org).get(pk=customer.pk), by=owner)
    assert _june(org).new_customers == 1


def test_upgrading_a_database_with_orders_marks_their_days(
    org: Organization, make_customer: Callable[..., Customer], pay: Callable[..., Any]
) -> None:
    from django.apps import apps

    upgrade = importlib.import_module("huitou.analytics.migrations.0006_mark_past_days")
    pay(make_customer(name="王先生"), local(2025, 6, 10, 23), "100.00")  # 23:00 local: still the 10th
    StaleDay.objects.for_org(org).delete()
    DayFact.objects.for_org(org).delete()  # as before the facts existed
    with unscoped():  # a migration's models know no organization
        upgrade.mark_past_days(apps, None)
    assert list(StaleDay.objects.for_org(org).values_list("day", flat=True)) == [DAY]
    assert _june(org).revenue == D("100.00")


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (dt.date(2025, 3, 1), dt.date(2025, 3, 31)),
        (dt.date(2025, 3, 5), dt.date(2025, 3, 5)),
        (dt.date(2025, 3, 10), dt.date(2025, 3, 26)),
        (dt.date(2024, 6, 1), dt.date(2025, 5, 31)),
        (dt.date(2025, 3, 26), dt.date(2025, 5, 1)),
    ],
)
def test_active_and_repeat_from_the_facts_are_the_live_counts(
    org: Organization, dashboard_data: Data, first: dt.date, last: dt.date
) -> None:
    facts_refresh(org.pk)
    start, end = facts.bounds(first, last)
    for shop_id in (None, dashboard_data.shop_a.pk, dashboard_data.shop_b.pk):
        paid = paid_orders_in(org, start, end, shop_id)
        visits = paid.values("customer_id").annotate(n=Count("pk")).order_by()
        live = visits.aggregate(active=Count("customer_id"), repeat=Count("customer_id", filter=Q(n__gte=2)))
        kept = facts.active_and_repeat(org.pk, first, last, shop_id)
        assert kept == (live["active"], live["repeat"]), (first, last, shop_id)


def test_one_refresh_is_queued_per_transaction_however_many_marks(
    org: Organization,
    make_customer: Callable[..., Customer],
    pay: Callable[..., Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    customer = make_customer(name="王先生")
    with django_capture_on_commit_callbacks() as callbacks:
        pay(customer, local(2025, 6, 10), "100.00")  # a payment and an order paid: two marks
        days_mark(org.pk, [DAY, DAY + dt.timedelta(days=1)])
    assert len([c for c in callbacks if isinstance(c, facts._RefreshLater)]) == 1


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (dt.date(2025, 3, 1), dt.date(2025, 3, 31)),
        (dt.date(2025, 2, 1), dt.date(2025, 3, 31)),
        (dt.date(2025, 3, 16), dt.date(2025, 3, 31)),
        (dt.date(2024, 6, 1), dt.date(2025, 5, 31)),
    ],
)
def test_churned_and_won_back_from_the_facts_are_the_live_counts(
    org: Organization, dashboard_data: Data, first: dt.date, last: dt.date
) -> None:
    facts_refresh(org.pk)
    start, end = facts.bounds(first, last)
    live = stage_changes_in(org, start, end, None).aggregate(
        churned=Count("customer_id", filter=CHURNED, distinct=True),
        won_back=Count("customer_id", filter=WON_BACK, distinct=True),
    )
    assert facts.churned_and_won_back(org.pk, first, last) == (live["churned"], live["won_back"])
    assert live["churned"] + live["won_back"]  # each range has some


def test_the_visit_check_and_a_deleted_file_move_the_churned(
    org: Organization, owner: User, make_customer: Callable[..., Customer], pay: Callable[..., Any]
) -> None:
    Organization.objects.filter(pk=org.pk).update(dormant_after_days=90, lost_after_days=365)
    org.refresh_from_db()
    customer = make_customer(name="王先生")
    pay(customer, local(2025, 1, 10), "100.00")
    check_day = dt.date(2025, 6, 10)
    assert _june(org).churned == 0
    stages_mark_inactive(organization=org, today=check_day, now=local(2025, 6, 10, 3))
    assert _june(org).churned == 1
    customer_delete(customer=Customer.objects.for_org(org).get(pk=customer.pk), by=owner)
    assert _june(org).churned == 0


def test_the_small_hours_count_on_their_local_day(
    org: Organization, make_customer: Callable[..., Customer], pay: Callable[..., Any]
) -> None:
    # 01:00 in China is the day before in UTC: every fact puts it on the local day.
    customer = make_customer(name="王先生")
    pay(customer, local(2025, 6, 10, 1), "100.00")
    pay(customer, local(2025, 6, 10, 2), "50.00")
    june = _june(org)
    assert (june.revenue, june.orders, june.active_customers, june.repeat_customers) == (D("150.00"), 2, 1, 1)
    assert (june.new_customers, [i.quantity for i in june.top_services]) == (1, [D("2.00")])
    day_before = dashboard(organization=org, date_from=DAY - dt.timedelta(days=1), date_to=DAY - dt.timedelta(days=1))
    assert (day_before.revenue, day_before.active_customers, day_before.new_customers) == (D("0.00"), 0, 0)
