"""The dashboard page and ``GET /api/v1/analytics/dashboard``: the same numbers, links to the lists behind
them, refusals, the store manager only, isolation and pinned queries."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from huitou.analytics import errors
from huitou.analytics.dashboard import dashboard
from huitou.analytics.facts import facts_refresh
from huitou.analytics.tests.dashboard_dataset import Dashboard as Data
from huitou.api.routers.analytics_dashboard import dashboard_out
from huitou.api.services import token_create
from huitou.api.tests.conftest import ApiClient
from huitou.tenancy.models import Organization, Shop, User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

URL = reverse("analytics:dashboard")
API = "/api/v1/analytics/dashboard"
MARCH = {"from": "2025-03-01", "to": "2025-03-31"}
FIELDS = {
    "revenue",
    "orders",
    "average_ticket",
    "gross_margin",
    "new_customers",
    "active_customers",
    "repeat_rate",
    "return_rates",
    "member_revenue_share",
    "referral_share",
    "top_services",
    "series",
    "cohorts",
}


@pytest.fixture
def as_owner(owner: User, client_for: Callable[[User], Client]) -> Client:
    return client_for(owner)


def api_for(user: User) -> ApiClient:
    _, raw = token_create(user=user, name="tests")
    return ApiClient(raw)


class _Figures(HTMLParser):
    """``data-figure`` → (link, ``data-value`` of its number) of the key figures."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, tuple[str, str]] = {}
        self._current: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("data-figure"):
            self._current = (a["data-figure"] or "", a.get("href") or "")
        elif tag == "span" and self._current and "data-value" in a:
            figure, href = self._current
            self.figures[figure] = (href.replace("&amp;", "&"), a["data-value"] or "")


def figures(response: Any) -> dict[str, tuple[str, str]]:
    parser = _Figures()
    parser.feed(response.content.decode())
    return parser.figures


def test_the_page_shows_every_key_figure_with_a_link_to_what_is_behind_it(
    dashboard_data: Data, as_owner: Client
) -> None:
    response = as_owner.get(URL, MARCH)
    assert response.status_code == 200
    shown = figures(response)
    values = {k: v for k, (_href, v) in shown.items()}
    assert values == {
        "revenue": "2399.00",
        "orders": "11",
        "average_ticket": "218.09",
        "gross_margin": "0.3333",
        "new_customers": "5",
        "active_customers": "6",
        "repeat_rate": "0.8333",
        "member_revenue_share": "0.2501",
        "referral_share": "0.2709",
        "churned": "1",
        "won_back": "1",
    }
    # Each number opens its list, which shows exactly the rows behind it.
    for figure, expected in (("revenue", 11), ("orders", 11), ("member_revenue_share", 3)):
        href = shown[figure][0]
        assert href.startswith(reverse("service:order_list") + "?figure=")
        page = as_owner.get(href)
        assert page.status_code == 200 and page.context["totals"]["count"] == expected, figure
        assert page.context["figure"] is not None
    for figure, expected in (("new_customers", 5), ("active_customers", 6), ("repeat_rate", 5), ("churned", 1)):
        href = shown[figure][0]
        assert href.startswith(reverse("customers:list") + "?figure=")
        page = as_owner.get(href)
        assert page.status_code == 200 and page.context["page"].paginator.count == expected, figure
    html = response.content.decode()
    assert 'href="/analytics/funnel/?from=2025-03-01&amp;to=2025-03-31"' in html
    for section in ("dash-chart-money", "dash-chart-sources", "dash-chart-returns", "dash-chart-cohorts"):
        assert f'id="{section}"' in html
    assert 'id="dash-chart-data"' in html and "plotly-" in html and "cdn" not in html.lower()


def test_the_tables_behind_the_charts_link_their_numbers(dashboard_data: Data, as_owner: Client) -> None:
    html = as_owner.get(URL, MARCH).content.decode().replace("&amp;", "&")
    orders, customers = reverse("service:order_list"), reverse("customers:list")
    # A day of the series: the payments of 03-10, the orders paid on 03-11.
    assert f'{orders}?figure=revenue&from=2025-03-10&to=2025-03-10">¥400.00' in html
    assert f'{orders}?figure=paid&from=2025-03-11&to=2025-03-11">1' in html
    assert f'{customers}?figure=return:7&from=2025-03-01&to=2025-03-31">3' in html
    assert f'{customers}?figure=cohort:2025-03:2&from=2025-03-01&to=2025-03-31">1' in html
    assert f'{customers}?figure=new:wechat&from=2025-03-01&to=2025-03-31">2' in html
    assert f'{orders}?figure=service:{dashboard_data.maintenance.pk}&from=2025-03-01&to=2025-03-31">10' in html


def test_the_page_and_the_api_call_the_same_selector_and_agree(
    org: Organization, dashboard_data: Data, as_owner: Client, owner: User
) -> None:
    shop = dashboard_data.shop_a.pk
    for params in (MARCH, {**MARCH, "shop": str(shop), "grain": "week"}, {"from": "2024-07-01", "to": "2024-07-31"}):
        page = as_owner.get(URL, params).context["result"]
        doc = api_for(owner).get(API, params).json()
        direct = dashboard(
            organization=org,
            date_from=page.date_from,
            date_to=page.date_to,
            shop_id=int(params["shop"]) if "shop" in params else None,
            grain=params.get("grain", ""),
        )
        assert page == direct
        expected = dashboard_out(direct)
        expected["return_rates"] = {"7": expected["return_rates"]["d7"], "30": expected["return_rates"]["d30"],
                                    "90": expected["return_rates"]["d90"]}  # fmt: skip
        for point in expected["series"]:
            point["period"], point["to"] = point["period"].isoformat(), point["to"].isoformat()
        assert doc == expected
        assert set(doc) == FIELDS


def test_the_api_answers_money_as_strings_and_rates_as_fractions(dashboard_data: Data, owner: User) -> None:
    doc = api_for(owner).get(API, MARCH).json()
    assert (doc["revenue"], doc["orders"], doc["average_ticket"], doc["gross_margin"]) == (
        "2399.00",
        11,
        "218.09",
        0.3333,
    )
    assert (doc["new_customers"], doc["active_customers"], doc["repeat_rate"]) == (5, 6, 0.8333)
    assert doc["return_rates"] == {"7": 0.6, "30": 0.8, "90": 1.0}
    assert (doc["member_revenue_share"], doc["referral_share"]) == (0.2501, 0.2709)
    assert doc["top_services"][0] == {
        "kind": "service",
        "id": dashboard_data.maintenance.pk,
        "name": "保养",
        "quantity": "10.00",
        "revenue": "1900.00",
        "orders": 10,
    }
    assert [(i["kind"], i["name"]) for i in doc["top_services"]] == [
        ("service", "保养"),
        ("service", "洗车10次卡"),
        ("part", "机油"),
        ("part", "滤芯"),
    ]
    assert doc["cohorts"] == [{"month": "2025-03", "size": 5, "returned": [1, 1] + [0] * 10}]
    assert len(doc["series"]) == 31
    assert doc["series"][10] == {
        "period": "2025-03-11",
        "to": "2025-03-11",
        "revenue": "280.00",
        "orders": 1,
        "average_ticket": "280.00",
        "gross_margin": 0.3333,
    }
    assert sum(Decimal(p["revenue"]) for p in doc["series"]) == Decimal("2399.00")


def test_a_period_without_data_answers_zeros(dashboard_data: Data, owner: User) -> None:
    doc = api_for(owner).get(API, {"from": "2024-07-01", "to": "2024-07-31"}).json()
    assert (doc["revenue"], doc["orders"], doc["average_ticket"], doc["gross_margin"]) == ("0.00", 0, "0.00", None)
    assert (doc["repeat_rate"], doc["member_revenue_share"], doc["referral_share"]) == (0.0, 0.0, 0.0)
    assert doc["return_rates"] == {"7": 0.0, "30": 0.0, "90": 0.0}
    assert (doc["top_services"], doc["cohorts"]) == ([], [])


def test_refusals_per_parameter(org: Organization, other_org: Organization, owner: User, as_owner: Client) -> None:
    api = api_for(owner)
    r = api.get(API, {"from": "2025-03-31", "to": "2025-03-01"})
    assert r.status_code == 422 and "to" in str(r.json())
    foreign = Shop.objects.for_org(other_org).get()
    r = api.get(API, {**MARCH, "shop": foreign.pk})
    assert r.status_code == 422 and zh(errors.SHOP_UNKNOWN) in str(r.json())
    assert api.get(API, {**MARCH, "grain": "year"}).status_code == 422
    # The page: the form refuses another organization's shop and a reversed range.
    response = as_owner.get(URL, {**MARCH, "shop": foreign.pk})
    assert response.status_code == 200 and response.context["result"] is None
    response = as_owner.get(URL, {"from": "2025-03-31", "to": "2025-03-01"})
    assert response.context["result"] is None
    assert zh(errors.RANGE_REVERSED) in response.content.decode()


def test_only_the_store_manager_sees_the_dashboard(
    dashboard_data: Data, advisor: User, service: User, tech: User, client_for: Callable[[User], Client]
) -> None:
    for user in (advisor, service, tech):
        assert client_for(user).get(URL, MARCH).status_code == 403
        assert api_for(user).get(API, MARCH).status_code == 403
        # The lists ignore a figure for those who may not see the dashboard.
        page = client_for(user).get(reverse("customers:list"), {"figure": "active", **MARCH})
        assert page.context["figure"] is None


def test_the_main_menu_leads_the_store_manager_to_the_dashboard(
    as_owner: Client, advisor: User, client_for: Callable[[User], Client]
) -> None:
    html = as_owner.get(reverse("customers:list")).content.decode()
    assert re.search(r'<a href="/analytics/"[^>]*>' + re.escape(zh("Analytics")), html)
    assert '<a href="/analytics/"' not in client_for(advisor).get(reverse("customers:list")).content.decode()


def test_another_organization_sees_only_its_own(dashboard_data: Data, outsider: User) -> None:
    doc = api_for(outsider).get(API, MARCH).json()
    assert (doc["revenue"], doc["orders"], doc["new_customers"]) == ("666.00", 1, 1)
    client = Client()
    client.force_login(outsider)
    assert figures(client.get(URL, MARCH))["revenue"][1] == "666.00"
    # A figure's list shows its own organization's rows only, whatever shop id is asked for.
    page = client.get(reverse("customers:list"), {"figure": "active", **MARCH})
    assert page.context["page"].paginator.count == 1
    page = client.get(
        reverse("service:order_list"), {"figure": "paid", **MARCH, "figure_shop": dashboard_data.shop_a.pk}
    )
    assert page.context["totals"]["count"] == 0


def _queries(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert call().status_code == 200
    return len(ctx.captured_queries)


def test_the_page_runs_the_same_queries_for_a_day_or_three_years(
    dashboard_data: Data, as_owner: Client, django_assert_num_queries: Callable[..., Any]
) -> None:
    as_owner.get(URL, MARCH)  # the days the data set changed are brought into the daily facts first
    # 1 session, 2 user with organization, 3 the organization's shops, 4 any stale day (none), 5 the
    # daily facts by day, 6 active and repeat customers, 7 new customers by source (daily facts),
    # 8 return rates and cohorts by month (daily facts), 9 churned and won back, 10 top services and
    # parts (daily facts), 11 the user's shops (the menu's shop switcher).
    with django_assert_num_queries(11):
        as_owner.get(URL, MARCH)
    day = {"from": "2025-03-11", "to": "2025-03-11"}
    years = {"from": "2023-01-01", "to": "2025-12-31"}
    assert _queries(lambda: as_owner.get(URL, day)) == _queries(lambda: as_owner.get(URL, years)) == 11
    # 12 when the day a return window starts counting from falls in the range (today less 7, 30 or
    # 90 days): that day's new customers are read one by one (see ``dashboard``).
    today = timezone.localdate()
    recent = {"from": (today - dt.timedelta(days=30)).isoformat(), "to": today.isoformat()}
    assert _queries(lambda: as_owner.get(URL, recent)) == 12


def test_the_api_runs_the_same_queries_for_a_day_or_three_years(
    dashboard_data: Data, owner: User, django_assert_num_queries: Callable[..., Any]
) -> None:
    facts_refresh(dashboard_data.shop_a.organization_id)
    api = api_for(owner)
    # 1 the token with its user and organization, 2 the token's last use, then the dashboard's seven
    # (3 any stale day, 4 the daily facts, 5 active and repeat, 6 new by source, 7 return rates and
    # cohorts, 8 churned and won back, 9 top items).
    with django_assert_num_queries(9):
        api.get(API, MARCH)
    # 10: with a shop, the shop is looked up first (a fresh token: its first use is written down).
    fresh = api_for(owner)
    with django_assert_num_queries(10):
        fresh.get(API, {**MARCH, "shop": dashboard_data.shop_a.pk})


def test_the_lists_behind_a_figure_keep_their_query_counts(
    dashboard_data: Data, as_owner: Client, django_assert_num_queries: Callable[..., Any]
) -> None:
    # The order list: 1 session, 2 user, 3 the user's shops, 4 the totals, 5 count, 6 the page of orders.
    with django_assert_num_queries(6):
        as_owner.get(reverse("service:order_list"), {"figure": "member", **MARCH})
    # The customer list: as without a figure (its own pinned count), the figure a subquery of its statement.
    plain = _queries(lambda: as_owner.get(reverse("customers:list")))
    behind = _queries(lambda: as_owner.get(reverse("customers:list"), {"figure": "return:30", **MARCH}))
    assert behind == plain


def test_dates_at_the_calendars_ends_are_refused_not_a_server_error(dashboard_data: Data, owner: User) -> None:
    api = api_for(owner)
    for params in ({"to": "0001-01-02"}, {"from": "9999-12-31"}, {"to": "0001-01-01", "shop": 2**63}):
        assert api.get(API, params).status_code == 422, params
    client = Client()
    client.force_login(owner)
    response = client.get(URL, {"to": "0001-01-02"})
    assert response.status_code == 200 and response.context["result"] is None
