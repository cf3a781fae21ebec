"""Kept statements on PostgreSQL: prepared on the connection, run with a generic plan that uses the indexes."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.db import connection, connections
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from huitou.customers.models import Customer, Vehicle
from huitou.customers.selectors import LIST_UNREAD, customer_list
from huitou.lib.postgresql.base import DatabaseWrapper
from huitou.lib.statements import cached_rows
from huitou.tenancy.models import Organization

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements and plans of PostgreSQL"),
    pytest.mark.skipif(
        connection.settings_dict.get("OPTIONS", {}).get("prepared_statements") is False,
        reason="prepared statements turned off (DB_PREPARED_STATEMENTS=0)",
    ),
    pytest.mark.django_db,
]


def _prepared() -> dict[str, tuple[str, int, int]]:
    """The connection's prepared statements: name -> (text, generic plans, custom plans)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {name: (text, generic, custom) for name, text, generic, custom in cursor.fetchall()}


def _search(org: Organization, q: str) -> list[Customer]:
    """The search box's first page as the list page and the API ask for it (counted, kept)."""
    customers = customer_list(organization=org, q=q, with_tags=True, unread=LIST_UNREAD)
    page = list(customers[0:20])
    customers.count()
    return page


def _generic_plan(name: str) -> str:
    """EXPLAIN of the connection's prepared statement ``name``: the plan it runs with."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [name])
        (text,) = cursor.fetchone()
    values = ", ".join("NULL" for _ in range(max(int(n) for n in re.findall(r"\$(\d+)", text))))
    with connection.cursor() as cursor:
        # Made once, before any value is known: the values given here are not looked at.
        cursor.execute(f"EXPLAIN EXECUTE {name}({values})")  # noqa: S608 - a prepared statement's own name
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def searchable(make_customer: Callable[..., Customer], make_vehicle: Callable[..., Vehicle]) -> dict[str, Customer]:
    zhang = make_customer(name="张三", phone="13812345678")
    wang = make_customer(name="王德华", phone="13900001234")
    make_vehicle(wang, plate="粤B12345", vin="LSVAM4187C2184847")
    return {"zhang": zhang, "wang": wang}


def test_a_kept_statement_is_prepared_once_and_run_with_its_generic_plan(
    org: Organization, searchable: dict[str, Customer]
) -> None:
    assert [c.pk for c in _search(org, "13812345678")] == [searchable["zhang"].pk]
    assert [c.pk for c in _search(org, "13900001234")] == [searchable["wang"].pk]
    searches = [(generic, custom) for text, generic, custom in _prepared().values() if '"phone" = $' in text]
    assert len(searches) == 1
    ((generic, custom),) = searches
    assert (generic, custom) == (2, 0)


# Each key of the search box: the text of its statement, the index its plan must use.
PLANS = [
    # A whole phone number: the partial index of non-empty phones (its condition in the text).
    ("13812345678", '"phone" = $', "customer_unique_phone_per_org"),
    # Initials, the full pinyin and a name's first characters: index ranges with the prefix unknown.
    ("zs", "name_initials", "customer_org_initials_idx"),
    ("zhangsan", "name_pinyin", "customer_org_pinyin_idx"),
    ("王德", '"name" ~>=~', "customer_org_active_name_idx"),
    # The start of a plate, and two characters taken as the start after the province (粤B1 from B1).
    ("粤B1", '"plate" ~>=~', "vehicle_org_plate_prefix"),
    ("B1", '"plate", 2) ~>=~', "vehicle_org_plate_tail"),
    # (A part of a plate or a VIN's end is a trigram pattern: a plan made without the pattern takes the
    # trigram index or reads the table by their costs, as the plan made with it does; at a million cars the
    # index, bench/README.md.)
]


def _many(org: Organization, owner: Any, n: int) -> None:
    """``n`` customers with a car each, written at once, and the tables' statistics: with a handful of
    rows any index, or none, is as cheap as the right one."""
    customers = Customer.objects.bulk_create(
        Customer(
            organization=org,
            owner=owner,
            name=f"客{i}",
            phone=f"137{i:08d}",
            phone_last4=f"{i:04d}"[-4:],
            name_pinyin=f"ke{i}",
            name_initials=f"k{i}",
        )
        for i in range(n)
    )
    Vehicle.objects.bulk_create(
        Vehicle(organization=org, customer=c, plate=f"湘C{i:05d}", vin=f"LFV{i:014d}") for i, c in enumerate(customers)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer, customers_vehicle")


def test_the_generic_plan_of_each_search_uses_its_index(
    org: Organization, owner: Any, searchable: dict[str, Customer]
) -> None:
    _many(org, owner, 5000)
    for q, text, index in PLANS:
        before = set(_prepared())
        _search(org, q)
        (made,) = [(name, t) for name, (t, _g, _c) in _prepared().items() if name not in before]
        assert text in made[1]
        plan = _generic_plan(made[0])
        assert index in plan, (q, plan)


def test_the_debug_log_shows_a_prepared_statement_with_its_values(org: Organization, searchable: Any) -> None:
    with CaptureQueriesContext(connection) as queries:
        _search(org, "13812345678")
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert '"phone" = \'+8613812345678\' AND NOT ("customers_customer"."phone" = \'\')' in sql


def test_prepared_statements_can_be_turned_off(
    org: Organization, searchable: dict[str, Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = set(_prepared())
    wrapper = connections["default"]
    monkeypatch.setattr(wrapper, "prepares", False)
    assert [c.pk for c in _search(org, "王德")] == [searchable["wang"].pk]
    assert set(_prepared()) == before
    monkeypatch.setattr(wrapper, "prepares", True)
    assert [c.pk for c in _search(org, "王德")] == [searchable["wang"].pk]
    assert set(_prepared()) > before


def _plan_cache_mode(wrapper: Any) -> str:
    with wrapper.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return str(cursor.fetchone()[0])


def test_the_settings_option_turns_prepared_statements_off() -> None:
    assert _plan_cache_mode(connection) == "force_generic_plan"
    settings = connections["default"].settings_dict
    off = DatabaseWrapper({**settings, "OPTIONS": {**settings["OPTIONS"], "prepared_statements": False}}, "off")
    try:
        off.ensure_connection()
        assert off.prepares is False
        assert _plan_cache_mode(off) == "auto"
        with off.prepared_cursor() as cursor:  # an ordinary cursor: nothing is prepared
            cursor.execute("SELECT %s::int", [1])
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone()[0] == 0
    finally:
        off.close()


@pytest.mark.django_db(transaction=True)
def test_a_statement_whose_columns_a_migration_changed_is_prepared_again(
    org: Organization, make_customer: Callable[..., Customer]
) -> None:
    zhang = make_customer(name="张三", phone="13812345678")
    assert [c.pk for c in _search(org, "13812345678")] == [zhang.pk]
    _alter_elsewhere("ALTER TABLE customers_customer ALTER COLUMN wechat TYPE varchar(77)")
    try:
        # The prepared statement's result changed type: prepared again, found again, at the first try.
        assert [c.pk for c in _search(org, "13812345678")] == [zhang.pk]
    finally:
        _alter_elsewhere("ALTER TABLE customers_customer ALTER COLUMN wechat TYPE varchar(64)")


def _alter_elsewhere(sql: str) -> None:
    """``sql`` from a connection of its own, as another process's migration would run it."""
    other: Any = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(sql)
    finally:
        other.close()


def test_one_statement_is_prepared_once_whatever_the_size_of_its_ids(org: Organization) -> None:
    # psycopg would send 5 as a smallint and 70,000 as an integer: two prepared statements of one text.
    # Both go as integers, as in the statement's text (a bigint organization id is slower: IntAsInText).
    def build(values: Sequence[Any]) -> QuerySet[Customer]:
        return Customer.objects.for_org(values[0]).filter(pk=values[1])

    for pk in (5, 70_000, 1_999_999_999):
        assert cached_rows(("by id",), [org.pk, pk], build) == []
    by_id = [name for name, (text, _g, _c) in _prepared().items() if '"id" = $' in text]
    assert len(by_id) == 1, by_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT parameter_types FROM pg_prepared_statements WHERE name = %s", by_id)
        assert cursor.fetchone()[0] == ["integer", "integer"]
