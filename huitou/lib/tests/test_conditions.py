"""Conditions an index serves with the value unknown: the same rows as Django's own lookups."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.db.models import QuerySet

from huitou.customers.models import Customer
from huitou.customers.selectors import customer_list
from huitou.lib import statements
from huitou.lib.conditions import NotEmpty, PrefixRange, has_successor, starts_with, successor
from huitou.lib.statements import cached_rows
from huitou.tenancy.models import Organization

NAMES = [
    "王",
    "王德",
    "王德华",
    "王德\U0010ffff",
    "王徸",  # the character right after 德 in code point order
    "王得",
    "汪德",
    "zhang",
    "zhan",
    "zhanga",
    "zhao",
    "zh",
    "zi",
    "Zhang",
]


@pytest.fixture
def named(org: Organization, make_customer: Callable[..., Customer]) -> list[Customer]:
    return [make_customer(name=name, phone=f"1380000{n:04d}") for n, name in enumerate(NAMES)]


@pytest.mark.parametrize("prefix", ["王德", "王", "王德华", "zhan", "zh", "z", "Z", "王德\U0010fffe", "德"])
def test_a_prefix_range_holds_exactly_the_names_starting_with_the_prefix(
    org: Organization, named: list[Customer], prefix: str
) -> None:
    found = Customer.objects.for_org(org).filter(PrefixRange("name", prefix)).values_list("name", flat=True)
    assert sorted(found) == sorted(n for n in NAMES if n.startswith(prefix))


def test_the_range_ends_at_the_prefix_s_successor() -> None:
    assert successor("王德") == "王徸"
    assert successor("zh") == "zi"
    assert has_successor("王德")
    # The last character before the surrogates and the last of all have no successor a text can hold.
    assert not has_successor("王\ud7ff")
    assert not has_successor("王\U0010ffff")
    assert not has_successor("")
    with pytest.raises(ValueError):
        PrefixRange("name", "王\U0010ffff")


def test_a_prefix_without_successor_is_looked_for_as_a_pattern(
    org: Organization, make_customer: Callable[..., Customer]
) -> None:
    odd = make_customer(name="陈\ud7ff华", phone="13800009999")
    make_customer(name="陈华", phone="13800009998")
    rows = Customer.objects.for_org(org).filter(starts_with("name", "陈\ud7ff"))
    assert [c.pk for c in rows] == [odd.pk]

    # The search box runs such a value through Django, not through the statement kept for its shape
    # (whose range would end past the characters), and keeps that statement for the others.
    def page(q: str) -> list[Customer]:
        return list(customer_list(organization=org, q=q)[0:20])

    assert [c.name for c in page("陈华")] == ["陈华"]
    assert [c.pk for c in page("陈\ud7ff")] == [odd.pk]
    assert [c.name for c in page("陈华")] == ["陈华"]
    kept = list(statements._statements.values())
    assert kept and all(isinstance(s, statements._Statement) for s in kept)


def test_values_without_successor_are_never_run_from_a_kept_statement(org: Organization, named: list[Customer]) -> None:
    def build(values: Sequence[Any]) -> QuerySet[Customer]:
        return Customer.objects.for_org(org).filter(starts_with("name", values[0])).order_by("pk")

    assert [c.name for c in cached_rows(("prefix", org.pk), ["王德"], build)] == ["王德", "王德华", "王德\U0010ffff"]
    assert [c.name for c in cached_rows(("prefix", org.pk), ["王德\U0010ffff"], build)] == ["王德\U0010ffff"]


def test_not_empty_writes_the_empty_string_into_the_statement(org: Organization, named: list[Customer]) -> None:
    # A partial index of non-empty phones is only usable in a plan made before the values are known when
    # the query holds the index's own condition as text: no parameter stands for the empty string.
    rows = Customer.objects.for_org(org).filter(NotEmpty("phone"))
    sql, params = rows.query.sql_with_params()
    assert "\"phone\" = '')" in sql
    assert "" not in params
    assert rows.count() == len(NAMES)
    named[0].phone = ""
    named[0].save(update_fields=["phone"])
    assert rows.count() == len(NAMES) - 1
