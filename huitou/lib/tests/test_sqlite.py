"""The embedded database's planner statistics are refreshed: nightly, after the demo and after an import."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from huitou.customers.models import Customer
from huitou.customers.selectors import customer_list
from huitou.demo.services import demo_build
from huitou.lib.sqlite import ids_below, planner_stats_refresh
from huitou.lifecycle.services.stages import stage_import
from huitou.tenancy.models import Organization
from huitou.testing.sqlite import SMALL_SHOP, analysed_tables, forget_statistics, planner_statistics_write
from huitou.web.tasks import planner_stats_nightly

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "refresh",
    [
        pytest.param(planner_stats_refresh, id="on demand"),
        pytest.param(planner_stats_nightly.call_local, id="the nightly job"),
        pytest.param(lambda: demo_build(customers=3, history=False), id="after the demo"),
    ],
)
def test_the_planner_learns_the_tables_on_sqlite_only(refresh: Callable[[], object]) -> None:
    demo_build(customers=3, history=False, org_name="另一家", user_prefix="b_")  # rows to analyse
    forget_statistics()
    refresh()
    if connection.vendor == "sqlite":
        assert {"customers_customer", "customers_vehicle"} <= analysed_tables()
    else:
        assert planner_stats_refresh() is False


def test_a_page_below_an_id_holds_only_ids_below_it_whatever_the_plan(
    make_customer: Callable[..., Customer], org: Organization
) -> None:
    made = [make_customer(tags=["贵宾"] if n % 3 == 0 else []) for n in range(12)]
    for c in made[::2]:
        stage_import(customer=c, stage="customer")
    planner_statistics_write(SMALL_SHOP)
    tagged_prospects = customer_list(organization=org, tag="贵宾", stage="prospect")
    everyone = sorted((c.pk for c in tagged_prospects), reverse=True)
    assert len(everyone) >= 2, "the test needs a page after the first"

    below = list(ids_below(tagged_prospects, everyone[0]).values_list("pk", flat=True))

    assert below == everyone[1:]
    assert list(ids_below(tagged_prospects, everyone[-1])) == []
