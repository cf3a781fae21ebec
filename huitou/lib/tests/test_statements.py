"""Statements compiled once per shape: the same rows as Django's own, or Django's own when they cannot be."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.db import connection
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Concat, Upper
from django.test.utils import CaptureQueriesContext

from huitou.customers.models import Customer
from huitou.lib import statements
from huitou.lib.conditions import successor
from huitou.lib.statements import cached_rows, stand_in
from huitou.tenancy.models import Organization
from huitou.tenancy.scope import UnscopedQuery, unscoped


@pytest.fixture
def customers(org: Organization, make_customer: Callable[..., Customer]) -> dict[str, Customer]:
    made = [
        make_customer(name="张三", phone="13812345678"),
        make_customer(name="张三丰", phone="13900001111"),
        make_customer(name="李四", phone="13700002222"),
    ]
    return {c.name: c for c in made}


class Builds:
    """A ``build`` that counts its calls and remembers what it was given."""

    def __init__(self, make: Callable[[Sequence[Any]], QuerySet[Customer] | None]) -> None:
        self.make = make
        self.given: list[list[Any]] = []

    def __call__(self, values: Sequence[Any]) -> QuerySet[Customer] | None:
        self.given.append(list(values))
        return self.make(values)


def by_name(org: Organization) -> Builds:
    def make(values: Sequence[str]) -> QuerySet[Customer]:
        rows = Customer.objects.for_org(org).select_related("owner").filter(name__startswith=values[0])
        return rows.annotate(shout=Concat(F("name"), Value("!"))).order_by("name_pinyin", "pk")

    return Builds(make)


def test_a_shape_is_compiled_once_and_run_again_with_other_values(
    org: Organization, customers: dict[str, Customer], django_assert_num_queries: Any
) -> None:
    build = by_name(org)
    first = cached_rows(("names", org.pk), ["张三"], build)
    assert [c.name for c in first] == ["张三", "张三丰"]
    # Built three times the first time: with stand-ins, then with long ones and with the
    # values to check that each lands where the first did.
    assert build.given == [[stand_in(0)], [stand_in(0, length=statements.STAND_IN_CHECK_LENGTH)], ["张三"]]
    with django_assert_num_queries(1):  # the kept statement, nothing built
        again = cached_rows(("names", org.pk), ["李"], build)
    assert len(build.given) == 3
    assert [c.name for c in again] == ["李四"]
    # Rows are model instances as Django makes them: related rows and annotations included.
    li_si = again[0]
    assert li_si.pk == customers["李四"].pk
    assert li_si.owner.username == customers["李四"].owner.username
    assert li_si.shout == "李四!"  # type: ignore[attr-defined]
    assert li_si._state.adding is False
    assert li_si._state.db == "default"


def test_kept_rows_are_the_rows_django_gives(org: Organization, customers: dict[str, Customer]) -> None:
    build = by_name(org)
    cached_rows(("names", org.pk), ["张"], build)
    for prefix in ["张", "张三", "张三丰", "李", "王"]:
        kept = cached_rows(("names", org.pk), [prefix], build)
        made = build.make([prefix])
        assert made is not None
        assert [(c.pk, c.name, c.shout, c.owner_id) for c in kept] == [  # type: ignore[attr-defined]
            (c.pk, c.name, c.shout, c.owner_id)  # type: ignore[attr-defined]
            for c in made
        ]
    assert len(build.given) == 3


def test_kept_rows_with_deferred_columns_are_the_rows_django_gives(
    org: Organization, customers: dict[str, Customer], django_assert_num_queries: Any
) -> None:
    unread = ("phone_last4", "visit_count", "last_visit_at", "deleted_at")

    def make(values: Sequence[str]) -> QuerySet[Customer]:
        rows = Customer.objects.for_org(org).select_related("owner").defer(*unread, "owner__password")
        return rows.filter(name__startswith=values[0]).order_by("name_pinyin", "pk")

    build = Builds(make)
    cached_rows(("deferred", org.pk), ["张"], build)
    with django_assert_num_queries(1):  # the kept statement; no field read a second time
        kept = cached_rows(("deferred", org.pk), ["张三"], build)
        fields = [f.attname for f in Customer._meta.concrete_fields if f.attname not in unread]
        values = [[getattr(c, name) for name in fields] for c in kept]
    made = list(make(["张三"]))
    assert values == [[getattr(c, name) for name in fields] for c in made]
    # Each field in its place, the deferred ones deferred (read on demand, as Django's are).
    assert [c.get_deferred_fields() for c in kept] == [c.get_deferred_fields() for c in made]
    assert kept[0].get_deferred_fields() == set(unread)
    assert kept[0].owner.get_deferred_fields() == {"password"}
    assert kept[0].visit_count == customers["张三"].visit_count  # one query, as for Django's row
    assert len(build.given) == 3  # built for the first call only: the rows above came from the kept statement


@pytest.mark.parametrize("value", ["张%", "张_", "\\张", ""])
def test_values_a_pattern_would_need_escaped_are_run_through_django(
    org: Organization, customers: dict[str, Customer], value: str
) -> None:
    build = by_name(org)
    cached_rows(("names", org.pk), ["张"], build)
    assert cached_rows(("names", org.pk), [value], build) == list(build.make([value]) or [])
    assert build.given[-1] == [value]


def test_a_value_the_build_transforms_is_never_swapped_in(org: Organization, customers: dict[str, Customer]) -> None:
    # The build cuts the value to its first character: the stand-in's place
    # holds part of it, and the shape is run through Django from then on.
    def cut(values: Sequence[str]) -> QuerySet[Customer]:
        return Customer.objects.for_org(org).filter(name__startswith=values[0][:1]).order_by("pk")

    build = Builds(cut)
    assert {c.name for c in cached_rows(("cut", org.pk), ["张x"], build)} == {"张三", "张三丰"}
    assert [c.name for c in cached_rows(("cut", org.pk), ["李y"], build)] == ["李四"]
    assert build.given[-1] == ["李y"]


def test_a_value_folded_by_the_database_is_the_databases_business(
    org: Organization, customers: dict[str, Customer]
) -> None:
    # Upper() is SQL around a parameter: the value stays a parameter of its own and is swapped.
    def upper(values: Sequence[str]) -> QuerySet[Customer]:
        return Customer.objects.for_org(org).annotate(big=Upper("name_pinyin")).filter(big=values[0]).order_by("pk")

    build = Builds(upper)
    cached_rows(("upper", org.pk), ["ZHANGSAN"], build)
    assert [c.name for c in cached_rows(("upper", org.pk), ["LISI"], build)] == ["李四"]
    assert len(build.given) == 3


def test_a_value_written_into_the_sql_text_is_not_kept(org: Organization, customers: dict[str, Customer]) -> None:
    def raw(values: Sequence[str]) -> QuerySet[Customer]:
        return Customer.objects.for_org(org).extra(where=[f"name = '{values[0]}'"])  # noqa: S610

    build = Builds(raw)
    cached_rows(("raw", org.pk), ["张三"], build)
    assert [c.name for c in cached_rows(("raw", org.pk), ["李四"], build)] == ["李四"]
    assert build.given[-1] == ["李四"]


def test_prefetches_and_value_rows_are_run_through_django(org: Organization, customers: dict[str, Customer]) -> None:
    def prefetching(values: Sequence[str]) -> QuerySet[Customer]:
        return Customer.objects.for_org(org).filter(name=values[0]).prefetch_related("vehicles")

    build = Builds(prefetching)
    cached_rows(("prefetch", org.pk), ["张三"], build)
    rows = cached_rows(("prefetch", org.pk), ["李四"], build)
    assert [c.name for c in rows] == ["李四"]
    assert "vehicles" in rows[0]._prefetched_objects_cache  # type: ignore[attr-defined]
    assert build.given[-1] == ["李四"]


def test_nothing_to_find_is_kept_as_nothing(org: Organization, customers: dict[str, Customer]) -> None:
    build = Builds(lambda values: None)
    assert cached_rows(("none", org.pk), ["x"], build) == []
    assert cached_rows(("none", org.pk), ["y"], build) == []
    assert len(build.given) == 2


def test_the_least_recently_used_statement_goes_first(
    org: Organization, customers: dict[str, Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statements, "STATEMENTS_KEPT", 2)
    builds = {key: by_name(org) for key in "abc"}
    for key in "ab":
        cached_rows(key, ["张"], builds[key])
    cached_rows("a", ["李"], builds["a"])  # a used last: b is the oldest
    cached_rows("c", ["张"], builds["c"])
    cached_rows("a", ["张"], builds["a"])
    cached_rows("b", ["张"], builds["b"])
    assert len(builds["a"].given) == 3  # kept all along
    assert len(builds["b"].given) == 6  # dropped for c, built again


@pytest.mark.django_db(transaction=True)
def test_a_statement_kept_in_one_thread_serves_the_others_on_their_own_connections(
    org: Organization, customers: dict[str, Customer]
) -> None:
    build = by_name(org)
    assert [c.name for c in cached_rows(("names", org.pk), ["张三"], build)] == ["张三", "张三丰"]
    found: dict[str, Any] = {}

    def other_thread() -> None:
        try:
            with CaptureQueriesContext(connection) as queries:
                rows = cached_rows(("names", org.pk), ["李"], build)
            found["rows"] = [(c.name, c.owner.username, c.shout) for c in rows]  # type: ignore[attr-defined]
            found["statements"] = len(queries.captured_queries)
            found["connection"] = id(connection.connection)
        finally:
            connection.close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert len(build.given) == 3  # not built again in the other thread
    assert found["rows"] == [("李四", customers["李四"].owner.username, "李四!")]
    assert found["statements"] == 1
    assert found["connection"] != id(connection.connection)  # that thread's own


def test_the_successor_of_a_stand_in_is_swapped_for_the_values_successor() -> None:
    assert successor("张") == "弡"
    assert successor(stand_in(0)) != stand_in(0)
    assert stand_in(0).upper() == stand_in(0).lower() == stand_in(0)


def test_a_value_holding_a_stand_in_is_run_through_django(org: Organization, customers: dict[str, Customer]) -> None:
    build = by_name(org)
    cached_rows(("names", org.pk), ["张"], build)
    assert cached_rows(("names", org.pk), [f"张{stand_in(0)}"], build) == []
    assert build.given[-1] == [f"张{stand_in(0)}"]


def test_an_unscoped_tenant_query_is_refused_as_django_refuses_it(
    org: Organization, customers: dict[str, Customer]
) -> None:
    unscoped = Builds(lambda values: Customer.objects.filter(name__startswith=values[0]))
    with pytest.raises(UnscopedQuery):
        cached_rows(("unscoped",), ["张"], unscoped)
    with pytest.raises(UnscopedQuery):  # refused again: nothing was kept
        cached_rows(("unscoped",), ["李"], unscoped)


def test_a_cut_the_first_values_do_not_show_is_caught_by_the_long_stand_ins(
    org: Organization, customers: dict[str, Customer]
) -> None:
    # "zhang" survives the cut to five characters; the long stand-ins do not.
    def cut(values: Sequence[str]) -> QuerySet[Customer]:
        return Customer.objects.for_org(org).filter(name_pinyin__startswith=values[0][:5]).order_by("pk")

    build = Builds(cut)
    cached_rows(("cut5", org.pk), ["zhang"], build)
    assert [c.name for c in cached_rows(("cut5", org.pk), ["zhangsanx"], build)] == ["张三", "张三丰"]
    assert build.given[-1] == ["zhangsanx"]


def test_a_statement_built_under_unscoped_is_not_kept_and_refused_outside(
    org: Organization, other_org: Organization, customers: dict[str, Customer]
) -> None:
    build = Builds(lambda values: Customer.objects.filter(name__startswith=values[0]).order_by("pk"))
    with unscoped():
        assert [c.name for c in cached_rows(("anyone",), ["张"], build)] == ["张三", "张三丰"]
    with pytest.raises(UnscopedQuery):
        cached_rows(("anyone",), ["张"], build)


def by_owner_and_id(org: Organization) -> Builds:
    def make(values: Sequence[Any]) -> QuerySet[Customer]:
        rows = Customer.objects.for_org(org).select_related("owner").filter(owner_id=values[0], pk__gte=values[1])
        return rows.order_by("pk")

    return Builds(make)


def test_integer_values_are_swapped_whole(
    org: Organization, customers: dict[str, Customer], django_assert_num_queries: Any
) -> None:
    build = by_owner_and_id(org)
    owner_id = customers["张三"].owner_id
    ids = sorted(c.pk for c in customers.values())
    first = cached_rows(("owned", org.pk), [owner_id, ids[0]], build)
    assert [c.pk for c in first] == [c.pk for c in build.make([owner_id, ids[0]]) or []]
    assert build.given == [
        [statements.int_stand_in(0), statements.int_stand_in(1)],
        [statements.int_stand_in(0, check=True), statements.int_stand_in(1, check=True)],
        [owner_id, ids[0]],
    ]
    for start in [*ids, ids[-1] + 1]:
        with django_assert_num_queries(1):
            kept = cached_rows(("owned", org.pk), [owner_id, start], build)
        made = build.make([owner_id, start])
        assert made is not None
        assert [(c.pk, c.owner.username) for c in kept] == [(c.pk, c.owner.username) for c in made]
    assert len(build.given) == 3  # never built again
    assert cached_rows(("owned", org.pk), [owner_id + 1_000, ids[0]], build) == []


def test_an_integer_the_build_changes_is_never_swapped_in(org: Organization, customers: dict[str, Customer]) -> None:
    ids = sorted(c.pk for c in customers.values())

    def after(values: Sequence[Any]) -> QuerySet[Customer]:
        return Customer.objects.for_org(org).filter(pk__gte=values[0] + 1).order_by("pk")

    build = Builds(after)
    assert [c.pk for c in cached_rows(("after", org.pk), [ids[0]], build)] == ids[1:]
    assert [c.pk for c in cached_rows(("after", org.pk), [ids[1]], build)] == ids[2:]
    assert build.given[-1] == [ids[1]]  # run through Django: the build saw the value itself


def test_strings_and_integers_of_one_key_are_shapes_of_their_own(
    org: Organization, customers: dict[str, Customer]
) -> None:
    def named_or_numbered(values: Sequence[Any]) -> QuerySet[Customer]:
        rows = Customer.objects.for_org(org).order_by("pk")
        return rows.filter(pk=values[0]) if isinstance(values[0], int) else rows.filter(name=values[0])

    build = Builds(named_or_numbered)
    li_si = customers["李四"]
    assert [c.pk for c in cached_rows(("one", org.pk), [li_si.pk], build)] == [li_si.pk]
    assert [c.pk for c in cached_rows(("one", org.pk), ["张三"], build)] == [customers["张三"].pk]
    assert [c.pk for c in cached_rows(("one", org.pk), [customers["张三丰"].pk], build)] == [customers["张三丰"].pk]
    assert len(build.given) == 6  # each kind built (and checked) once


@pytest.mark.parametrize("value", [True, statements.int_stand_in(0)])
def test_booleans_and_numbers_of_the_stand_ins_range_are_run_through_django(
    org: Organization, customers: dict[str, Customer], value: int
) -> None:
    build = by_owner_and_id(org)
    owner_id = customers["张三"].owner_id
    cached_rows(("owned", org.pk), [owner_id, 1], build)
    cached_rows(("owned", org.pk), [owner_id, value], build)
    assert build.given[-1] == [owner_id, value]
