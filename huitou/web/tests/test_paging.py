"""Lists whose count stops at a cap."""

from __future__ import annotations

from typing import Any

import pytest

from huitou.customers.models import Customer
from huitou.web import paging
from huitou.web.paging import CappedPaginator, count_capped

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("made", "cap", "counted", "capped"), [(3, 3, 3, False), (4, 3, 4, True), (9, 3, 4, True)])
def test_the_count_is_exact_up_to_the_cap_and_one_more_above_it(
    make_customer: Any, org: Any, made: int, cap: int, counted: int, capped: bool
) -> None:
    for _ in range(made):
        make_customer()
    rows = Customer.objects.for_org(org).order_by("-pk")

    assert count_capped(rows, cap) == counted
    paginator = CappedPaginator(rows, 2, cap=cap)
    assert (paginator.count, paginator.capped) == (counted, capped)
    assert [c.pk for c in paginator.page(1).object_list] == [c.pk for c in rows[:2]]
    whole = CappedPaginator(rows, 20, cap=cap)  # one page holds every row, past the capped count too
    assert [c.pk for c in whole.page(1).object_list] == [c.pk for c in rows]


def test_the_cap_defaults_to_the_setting_of_the_module(make_customer: Any, org: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    for _ in range(5):
        make_customer()
    assert CappedPaginator(Customer.objects.for_org(org).order_by("pk"), 20).count == 3
