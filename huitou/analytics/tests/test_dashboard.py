"""The dashboard's figures on the hand-built month of ``dashboard_dataset``, each worked out by hand here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from huitou.analytics import errors
from huitou.analytics.dashboard import (
    GRAIN_DAY,
    GRAIN_MONTH,
    GRAIN_WEEK,
    Dashboard,
    auto_grain,
    buckets,
    dashboard,
    figure_customers,
    figure_orders,
)
from huitou.analytics.tests.dashboard_dataset import DATE_FROM, DATE_TO, local
from huitou.analytics.tests.dashboard_dataset import Dashboard as Data
from huitou.customers.models import Customer
from huitou.service.models import ServiceOrder
from huitou.tenancy.models import Organization

pytestmark = pytest.mark.django_db

D = Decimal


def march(org: Organization, **kwargs: Any) -> Dashboard:
    return dashboard(organization=org, date_from=DATE_FROM, date_to=DATE_TO, **kwargs)


def names(org: Organization, ids: Any) -> set[str]:
    return set(Customer.objects.for_org(org).filter(pk__in=ids).values_list("name", flat=True))


def test_money_for_all_shops(org: Organization, dashboard_data: Data) -> None:
    d = march(org)
    # Payments taken in March (a refund is negative; the top-up of 1000 is no payment of an order;
    # the voided order has none; the other organization's 666 is not ours):
    # C1 300 + 200; C2 400 + 280 − 30; C3 400 (stored value) + 100; C4 299 (package card) + 100;
    # C5 80 + 120; M1/M2 60 + 90.
    assert d.revenue == D("500") + D("650") + D("500") + D("399") + D("200") + D("150") == D("2399.00")
    # Orders whose payment completed in March: C1 2, C2 1 (on 03-11), C3 2, C4 2, C5 2, M 2.
    assert d.orders == 11
    assert d.average_ticket == D("218.09")  # 2399 / 11 = 218.0909...
    # Parts with a known cost: C2's 2 × 100 less the 20 discount on them, cost 2 × 60; C1's filter has no cost.
    assert (d.part_sales, d.part_cost) == (D("180.00"), D("120.00"))
    assert d.gross_margin == 0.3333  # 60 / 180
    assert d.gross_profit == D("60.00")
    # Members at the time of payment: C3 (joined 03-01) 500; C4 joined 03-25: only the 100 of 03-28.
    assert d.member_revenue == D("600.00")
    assert d.member_revenue_share == 0.2501  # 600 / 2399 = 0.25010...
    # Referred customers: C2 (referred by C1) 650.
    assert d.referral_revenue == D("650.00")
    assert d.referral_share == 0.2709  # 650 / 2399 = 0.27094...


def test_customers_for_all_shops(org: Organization, dashboard_data: Data) -> None:
    d = march(org)
    # First paid visit in March: C1 03-02, M1 03-05 (M2's visit, merged in), C2 03-11, C3 03-15, C4 03-18.
    # C5 first came in 2024, C7 in April.
    assert d.new_customers == 5
    assert [(s.key, s.count) for s in d.new_by_source] == [("walk_in", 2), ("wechat", 2), ("", 1)]
    # A paid order in March: C1, C2, C3, C4, C5 (two shops, counted once) and M1 (the merged pair, once).
    assert d.active_customers == 6
    # Two or more: C1, C3, C4, C5, M1; C2 paid once.
    assert (d.repeat_customers, d.repeat_rate) == (5, 0.8333)
    # C6 turned dormant on 03-15; C5 came back from dormant on 03-25.
    assert (d.churned, d.won_back) == (1, 1)


def test_return_rates_and_cohorts(org: Organization, dashboard_data: Data) -> None:
    d = march(org)
    # Next paid visit after the first: C1 3 days, M1 3 days (03-05 → 03-08, at the other shop), C3 5 days,
    # C4 10 days, C2 51 days (03-11 → 05-01). Every first visit is long enough ago to be measured.
    assert [(r.days, r.measured, r.returned, r.rate) for r in d.return_rates] == [
        (7, 5, 3, 0.6),
        (30, 5, 4, 0.8),
        (90, 5, 5, 1.0),
    ]
    # One cohort (March, 5 customers): C1 paid in April (month 1), C2 in May (month 2).
    assert len(d.cohorts) == 1
    cohort = d.cohorts[0]
    assert (cohort.month, cohort.size) == (dt.date(2025, 3, 1), 5)
    assert cohort.returned == [1, 1] + [0] * 10
    assert cohort.shares()[:3] == [0.2, 0.2, 0.0]


def test_only_first_visits_old_enough_are_measured(org: Organization, dashboard_data: Data) -> None:
    d = march(org, now=local(2025, 4, 5, 0))
    # 7 days: first visits up to 03-29 → all 5. 30 days: up to 03-06 → C1 and M1, both back in 3 days.
    # 90 days: none yet → 0, and no division by zero.
    assert [(r.days, r.measured, r.returned, r.rate) for r in d.return_rates] == [
        (7, 5, 3, 0.6),
        (30, 2, 2, 1.0),
        (90, 0, 0, 0.0),
    ]
    # In April, month 1 (April) has begun, month 2 (May) has not.
    assert d.cohorts[0].returned == [1] + [None] * 11


def test_top_services_and_parts(org: Organization, dashboard_data: Data) -> None:
    d = march(org)
    # Maintenance lines of the orders paid in March: 300, 150, 500, 400, 100, 100, 80, 120, 60, 90.
    assert [(i.name, i.quantity, i.revenue, i.orders) for i in d.top_services] == [
        ("保养", D("10.00"), D("1900.00"), 10),
        ("洗车10次卡", D("1.00"), D("299.00"), 1),  # the package card sold
    ]
    assert [(i.name, i.quantity, i.revenue, i.orders) for i in d.top_parts] == [
        ("机油", D("2.00"), D("200.00"), 1),
        ("滤芯", D("1.00"), D("50.00"), 1),
    ]
    # Everything sold less the discount line and the adjustment is the revenue.
    assert D("1900") + D("299") + D("250") - D("20") - D("30") == d.revenue


def test_series_by_day_and_by_week(org: Organization, dashboard_data: Data) -> None:
    d = march(org)
    assert d.grain == GRAIN_DAY and len(d.series) == 31
    by_day = {p.date_from.day: p for p in d.series}
    # C2 paid 400 on 03-10 (the order not yet paid in full), 280 on 03-11 (paid), −30 on 03-12.
    assert [(by_day[n].revenue, by_day[n].orders) for n in (10, 11, 12)] == [
        (D("400.00"), 0),
        (D("280.00"), 1),
        (D("-30.00"), 0),
    ]
    assert (by_day[11].part_sales, by_day[11].part_cost, by_day[11].gross_margin) == (D("180.00"), D("120.00"), 0.3333)
    assert (by_day[5].revenue, by_day[5].orders, by_day[5].average_ticket) == (D("260.00"), 2, D("130.00"))
    assert by_day[1].gross_margin is None  # no part sold
    weeks = march(org, grain=GRAIN_WEEK).series
    # March 2025 begins on a Saturday: weeks from Monday, the first and last clipped to the month.
    assert [(p.date_from.day, p.date_to.day, p.revenue, p.orders) for p in weeks] == [
        (1, 2, D("300.00"), 1),  # C1
        (3, 9, D("350.00"), 3),  # C1 200, M2 60, M1 90
        (10, 16, D("1050.00"), 2),  # C2 650, C3 400
        (17, 23, D("399.00"), 2),  # C4 299, C3 100
        (24, 30, D("300.00"), 3),  # C5 80 + 120, C4 100
        (31, 31, D("0.00"), 0),
    ]
    (month,) = march(org, grain=GRAIN_MONTH).series
    assert (month.revenue, month.orders) == (D("2399.00"), 11)


def test_one_shop(org: Organization, dashboard_data: Data) -> None:
    d = march(org, shop_id=dashboard_data.shop_a.pk)
    # Shop A: C1 500, C2 650, C4 399, C5 80, M2 60.
    assert (d.revenue, d.orders, d.average_ticket) == (D("1689.00"), 7, D("241.29"))
    assert d.gross_margin == 0.3333  # C2's parts were sold at shop A
    # Active at A: C1, C2, C4, C5, M1; twice: C1 and C4 (C5 and M1 once each here).
    assert (d.active_customers, d.repeat_customers, d.repeat_rate) == (5, 2, 0.4)
    # First visit at A: C1, C2, C4, M1 (M2's first visit was at A); C3 first came to B.
    assert d.new_customers == 4
    assert (d.member_revenue, d.member_revenue_share) == (D("100.00"), 0.0592)  # 100 / 1689
    assert (d.referral_revenue, d.referral_share) == (D("650.00"), 0.3848)  # 650 / 1689
    # Came back at any shop: C1 (3 days), M1 (3 days, at B), C4 (10), C2 (51).
    assert [(r.measured, r.returned) for r in d.return_rates] == [(4, 2), (4, 3), (4, 4)]
    assert (d.cohorts[0].size, d.cohorts[0].returned[:2]) == (4, [1, 1])
    # Customers with a paid order at A: C6 (churned) and C5 (won back).
    assert (d.churned, d.won_back) == (1, 1)
    b = march(org, shop_id=dashboard_data.shop_b.pk)
    # Shop B: C3 400 + 100, C5 120, M1 90. C6 never came to B; C5 did.
    assert (b.revenue, b.orders, b.new_customers, b.churned, b.won_back) == (D("710.00"), 4, 1, 0, 1)
    assert b.gross_margin is None and b.gross_profit is None
    assert b.revenue + d.revenue == march(org).revenue


def test_a_period_without_data_is_all_zeros(org: Organization, dashboard_data: Data) -> None:
    d = dashboard(organization=org, date_from=dt.date(2024, 7, 1), date_to=dt.date(2024, 7, 31))
    assert (d.revenue, d.orders, d.average_ticket, d.gross_margin) == (D("0.00"), 0, D("0.00"), None)
    assert (d.new_customers, d.active_customers, d.repeat_rate) == (0, 0, 0.0)
    assert (d.member_revenue_share, d.referral_share, d.churned, d.won_back) == (0.0, 0.0, 0, 0)
    assert [r.rate for r in d.return_rates] == [0.0, 0.0, 0.0]
    assert (d.cohorts, d.top_services, d.top_parts, d.new_by_source) == ([], [], [], [])
    assert len(d.series) == 31 and all(p.revenue == 0 and p.orders == 0 for p in d.series)


def test_another_organization_sees_none_of_it(other_org: Organization, dashboard_data: Data) -> None:
    d = dashboard(organization=other_org, date_from=DATE_FROM, date_to=DATE_TO)
    # Its own order of 666 on 03-10, nothing of ours.
    assert (d.revenue, d.orders, d.active_customers, d.new_customers) == (D("666.00"), 1, 1, 1)
    assert [i.name for i in d.top_services] != ["保养"]


def test_the_lists_behind_the_figures(org: Organization, dashboard_data: Data) -> None:
    a = dashboard_data.shop_a.pk

    def orders(figure: str, shop_id: int | None = None) -> int:
        ids = figure_orders(organization=org, figure=figure, date_from=DATE_FROM, date_to=DATE_TO, shop_id=shop_id)
        assert ids is not None
        return ServiceOrder.objects.for_org(org).filter(pk__in=ids).count()

    def customers(figure: str, shop_id: int | None = None) -> set[str]:
        ids = figure_customers(organization=org, figure=figure, date_from=DATE_FROM, date_to=DATE_TO, shop_id=shop_id)
        assert ids is not None
        return names(org, ids)

    assert orders("paid") == 11 and orders("paid", a) == 7
    assert orders("revenue") == 11  # every order with a payment in March was also paid in full in March
    assert (orders("member"), orders("referral"), orders("margin")) == (3, 1, 1)  # C3 × 2 + C4's 03-28; C2; C2
    assert orders(f"service:{dashboard_data.maintenance.pk}") == 10
    assert orders(f"part:{dashboard_data.oil.pk}") == 1
    assert customers("new") == {"C1", "C2", "C3", "C4", "M1"}
    assert customers("new:wechat") == {"C2", "C3"} and customers("new:") == {"C4"}
    assert customers("new", a) == {"C1", "C2", "C4", "M1"}
    assert customers("active") == {"C1", "C2", "C3", "C4", "C5", "M1"}
    assert customers("repeat") == {"C1", "C3", "C4", "C5", "M1"} and customers("repeat", a) == {"C1", "C4"}
    assert customers("return:7") == {"C1", "C3", "M1"} and customers("return:7:measured") == customers("new")
    assert customers("return:30") == {"C1", "C3", "C4", "M1"}
    assert customers("cohort:2025-03:0") == customers("new")
    assert customers("cohort:2025-03:1") == {"C1"} and customers("cohort:2025-03:2") == {"C2"}
    assert customers("churned") == {"C6"} and customers("won_back") == {"C5"}
    assert (
        figure_orders(organization=org, figure="nonsense", date_from=DATE_FROM, date_to=DATE_TO, shop_id=None) is None
    )
    assert figure_customers(organization=org, figure="paid", date_from=DATE_FROM, date_to=DATE_TO, shop_id=None) is None
    for nonsense in (
        "cohort:0001-01:1",
        "cohort:2025-03:99999",
        "cohort:2025-13:1",
        "return:x",
        "return:99999999",
        "new:a:b",
    ):
        ids = figure_customers(organization=org, figure=nonsense, date_from=DATE_FROM, date_to=DATE_TO, shop_id=None)
        assert ids is None, nonsense


def test_grains_and_buckets() -> None:
    assert auto_grain(dt.date(2025, 1, 1), dt.date(2025, 3, 3)) == GRAIN_DAY  # 62 days
    assert auto_grain(dt.date(2025, 1, 1), dt.date(2025, 3, 4)) == GRAIN_WEEK
    assert auto_grain(dt.date(2025, 1, 1), dt.date(2026, 1, 1)) == GRAIN_WEEK  # 366 days
    assert auto_grain(dt.date(2025, 1, 1), dt.date(2026, 1, 2)) == GRAIN_MONTH
    assert buckets(dt.date(2025, 1, 30), dt.date(2025, 3, 2), GRAIN_MONTH) == [
        (dt.date(2025, 1, 30), dt.date(2025, 1, 31)),
        (dt.date(2025, 2, 1), dt.date(2025, 2, 28)),
        (dt.date(2025, 3, 1), dt.date(2025, 3, 2)),
    ]


def test_a_refused_range(org: Organization) -> None:
    with pytest.raises(ValidationError) as exc:
        dashboard(organization=org, date_from=dt.date(2025, 3, 2), date_to=dt.date(2025, 3, 1))
    assert exc.value.message_dict == {"date_to": [str(errors.RANGE_REVERSED)]}
    with pytest.raises(ValidationError) as exc:
        dashboard(organization=org, date_from=DATE_FROM, date_to=DATE_TO, grain="year")
    assert exc.value.message_dict == {"grain": [str(errors.GRAIN_INVALID)]}
    with pytest.raises(ValidationError) as exc:
        dashboard(organization=org, date_from=dt.date(2020, 1, 1), date_to=DATE_TO)
    assert list(exc.value.message_dict) == ["date_from"]
