"""The funnel page: the form, the quick ranges, the chart's data, the table, refusals, roles and queries;
and plotly.min.js served from the install."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from huitou.analytics import errors
from huitou.analytics.forms import quick_ranges
from huitou.analytics.funnel import MAX_DAYS
from huitou.analytics.tests import dataset
from huitou.analytics.tests.dataset import Dataset
from huitou.analytics.views import plotly_js_path, plotly_version
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

URL = reverse("analytics:funnel")
MARCH = {"from": "2025-03-01", "to": "2025-03-31"}
COLUMNS = ("prospects", "intent", "converted", "intent-rate", "conversion-rate", "median-days", "revenue")


class _Table(HTMLParser):
    """The funnel table's rows: ``{key: {"name": ..., "prospects": ..., ...}}`` and the total row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.total: dict[str, str] = {}
        self._row: dict[str, str] | None = None
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and "data-key" in a:
            self._row = {}
            if "total" in (a.get("class") or "").split():
                self.total = self._row
            else:
                self.rows[a["data-key"] or ""] = self._row
        elif tag in ("td", "th") and self._row is not None:
            classes = (a.get("class") or "").split()
            self._cell = next((c for c in classes if c not in ("num",)), "")
            self._row[self._cell] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None and self._cell is not None:
            self._row[self._cell] += data.strip()


def table(response: Any) -> _Table:
    parser = _Table()
    parser.feed(response.content.decode())
    return parser


def shown(e: dataset.Expected) -> dict[str, str]:
    """A row as the table shows it."""
    median = "—" if e.median_days_to_convert is None else f"{e.median_days_to_convert:g}"
    return {
        "prospects": str(e.prospects),
        "intent": str(e.intent),
        "converted": str(e.converted),
        "intent-rate": f"{e.intent_rate * 100:.1f}%",
        "conversion-rate": f"{e.conversion_rate * 100:.1f}%",
        "median-days": median,
        "revenue": f"¥{e.revenue}",
    }


def chart_data(response: Any) -> dict[str, Any]:
    match = re.search(
        r'<script id="funnel-chart-data" type="application/json">(.*?)</script>', response.content.decode()
    )
    assert match, "no chart data in the page"
    return json.loads(match.group(1))


@pytest.fixture
def as_owner(owner: User, client_for: Callable[[User], Client]) -> Client:
    return client_for(owner)


# --- the table and the chart ---------------------------------------------------------------------


def test_by_source_the_table_shows_every_number_with_the_chinese_labels(funnel_data: Dataset, as_owner: Client) -> None:
    response = as_owner.get(URL, MARCH)

    assert response.status_code == 200
    rows = table(response)
    assert list(rows.rows) == [e.key for e in dataset.BY_SOURCE]
    for e in dataset.BY_SOURCE:
        row = rows.rows[e.key]
        assert row["name"] == (e.label or zh("Not given"))
        assert {k: row[k] for k in COLUMNS} == shown(e), e.key
    assert rows.total["name"] == zh("Total")
    assert {k: rows.total[k] for k in COLUMNS} == shown(dataset.TOTAL)
    assert rows.total["revenue"] == "¥2188.88"


def test_by_staff_the_rows_are_the_staff_by_display_name(funnel_data: Dataset, as_owner: Client) -> None:
    response = as_owner.get(URL, {**MARCH, "by": "staff"})

    rows = table(response)
    assert list(rows.rows) == ["advisor", "service", "owner"]
    for e in dataset.BY_STAFF:
        assert rows.rows[e.key]["name"] == e.label
        assert {k: rows.rows[e.key][k] for k in COLUMNS} == shown(e), e.key
    assert {k: rows.total[k] for k in COLUMNS} == shown(dataset.TOTAL)
    assert 'data-by="staff"' in response.content.decode()


def test_the_chart_is_drawn_in_the_page_from_the_same_numbers(funnel_data: Dataset, as_owner: Client) -> None:
    response = as_owner.get(URL, MARCH)
    page = response.content.decode()

    charts = chart_data(response)
    total = charts["funnel-chart-total"]["data"][0]
    assert (total["type"], total["x"]) == ("funnel", [10, 7, 5])
    bars = charts["funnel-chart-groups"]["data"]
    assert [t["type"] for t in bars] == ["bar"] * 3
    assert bars[0]["y"] == ["老带新", "微信", zh("Not given"), "自然到店"]
    assert [t["x"] for t in bars] == [[4, 4, 1, 1], [3, 3, 0, 1], [2, 3, 0, 0]]
    assert bars[2]["customdata"] == [0.5, 0.75, 0.0, 0.0]
    assert 'id="funnel-chart-total"' in page and 'id="funnel-chart-groups"' in page
    # plotly.js from this server, never a CDN.
    assert f'src="/analytics/plotly-{plotly_version()}.min.js"' in page
    assert "cdn." not in page and "https://" not in page


def test_a_label_is_drawn_as_text_never_as_markup(funnel_data: Dataset, org: Organization, as_owner: Client) -> None:
    from huitou.customers.models import Source

    Source.objects.for_org(org).filter(code="wechat").update(label='<a href="x">微信</a>')

    bars = chart_data(as_owner.get(URL, MARCH))["funnel-chart-groups"]["data"]

    assert bars[0]["y"][1] == "&lt;a href=&quot;x&quot;&gt;微信&lt;/a&gt;"


def test_without_parameters_it_shows_the_last_90_days_by_source(
    org: Organization, owner: User, make_customer: Callable[..., Any], as_owner: Client
) -> None:
    make_customer(name="今天的潜客", source="referral", by=owner)
    today = timezone.localdate()

    response = as_owner.get(URL)

    page = response.content.decode()
    assert f'name="from" value="{(today - dt.timedelta(days=89)).isoformat()}"' in page
    assert f'name="to" value="{today.isoformat()}"' in page
    assert re.search(r'<input type="radio" name="by" value="source"[^>]*checked', page)
    assert table(response).rows["referral"]["prospects"] == "1"
    # The quick range of the last 90 days is the one shown.
    assert re.search(r'class="chip active"[^>]*>' + re.escape(zh("Last 90 days")), page)


def test_an_empty_range_says_so_kindly(funnel_data: Dataset, as_owner: Client) -> None:
    response = as_owner.get(URL, {"from": "2024-01-01", "to": "2024-01-31"})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="empty funnel-empty"' in page
    assert zh("No customer file was created in this range.") in page
    assert "funnel-chart-data" not in page and "funnel-table" not in page


def test_htmx_gets_the_results_alone(funnel_data: Dataset, as_owner: Client) -> None:
    response = as_owner.get(URL, {**MARCH, "by": "staff"}, headers={"HX-Request": "true"})

    page = response.content.decode()
    assert "<html" not in page and "funnel-filters" in page
    assert list(table(response).rows) == ["advisor", "service", "owner"]


# --- refusals ------------------------------------------------------------------------------------


def field_errors(response: Any) -> dict[str, list[str]]:
    form = response.context["form"]
    return {field: list(messages) for field, messages in form.errors.items()}


def test_a_malformed_date_is_refused_on_its_field_in_chinese(funnel_data: Dataset, as_owner: Client) -> None:
    response = as_owner.get(URL, {"from": "2025-02-30", "to": "2025-03-31"})

    assert response.status_code == 200
    assert field_errors(response) == {"date_from": ["输入一个有效的日期。"]}
    page = response.content.decode()
    assert "输入一个有效的日期。" in page and "funnel-table" not in page
    assert 'value="2025-02-30"' in page  # what was typed stays in the box


def test_an_end_before_the_start_is_refused_on_the_end(funnel_data: Dataset, as_owner: Client) -> None:
    response = as_owner.get(URL, {"from": "2025-03-31", "to": "2025-03-01"})

    assert field_errors(response) == {"date_to": [zh(errors.RANGE_REVERSED)]}
    assert zh(errors.RANGE_REVERSED) in response.content.decode()
    assert "funnel-table" not in response.content.decode()


def test_a_range_longer_than_the_funnel_allows_is_refused_on_the_start(funnel_data: Dataset, as_owner: Client) -> None:
    start = dt.date(2020, 1, 1)
    response = as_owner.get(URL, {"from": start.isoformat(), "to": (start + dt.timedelta(days=MAX_DAYS)).isoformat()})

    assert field_errors(response) == {"date_from": [zh(errors.RANGE_TOO_LONG, days=MAX_DAYS)]}
    ok = as_owner.get(URL, {"from": start.isoformat(), "to": (start + dt.timedelta(days=MAX_DAYS - 1)).isoformat()})
    assert field_errors(ok) == {}


def test_an_unknown_grouping_is_refused(funnel_data: Dataset, as_owner: Client) -> None:
    response = as_owner.get(URL, {**MARCH, "by": "shop"})

    assert set(field_errors(response)) == {"by"}
    assert "funnel-table" not in response.content.decode()


# --- who may see it ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["advisor", "service", "tech"])
def test_only_the_store_manager_sees_the_funnel(
    role: str, request: pytest.FixtureRequest, client_for: Callable[[User], Client]
) -> None:
    user = request.getfixturevalue(role)
    client = client_for(user)

    assert client.get(URL).status_code == 403
    assert reverse("analytics:funnel") not in client.get(reverse("web:home")).content.decode()


def test_the_menu_leads_the_store_manager_to_the_analytics_and_on_to_the_funnel(as_owner: Client) -> None:
    home = as_owner.get(reverse("web:home")).content.decode()
    page = as_owner.get(URL).content.decode()

    dashboard = reverse("analytics:dashboard")
    assert f'<a href="{dashboard}" class="">' in home
    assert f'<a href="{dashboard}" class="active">' in page  # the menu's "Analytics"
    assert f'href="{URL}"' in home or f'href="{URL}"' in as_owner.get(dashboard).content.decode()
    assert re.search(rf'<a class="chip active" href="{URL}" aria-current="page">', page)  # the analytics tabs


def test_signed_out_visitors_are_sent_to_sign_in(db: object) -> None:
    response = Client().get(URL)

    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_page_counts_only_the_organizations_own_files(
    funnel_data: Dataset, outsider: User, client_for: Callable[[User], Client]
) -> None:
    rows = table(client_for(outsider).get(URL, MARCH))

    assert {k: (r["prospects"], r["converted"]) for k, r in rows.rows.items()} == {
        "referral": ("1", "1"),
        "wechat": ("1", "0"),
    }


# --- queries -------------------------------------------------------------------------------------


def _queries(client: Client, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("by", ["source", "staff"])
def test_the_page_runs_the_same_queries_for_one_row_or_many(
    funnel_data: Dataset, as_owner: Client, by: str, django_assert_num_queries: Callable[..., Any]
) -> None:
    # 1 session, 2 user with organization, 3 the funnel's counts per group, 4 the conversion
    # times, 5 the labels (sources or staff), 6 the user's shops (the menu's shop switcher).
    with django_assert_num_queries(6):
        response = as_owner.get(URL, {**MARCH, "by": by})
    assert len(table(response).rows) >= 3
    one_row = {"from": "2025-03-31", "to": "2025-03-31", "by": by}
    assert len(table(as_owner.get(URL, one_row)).rows) == 1
    assert _queries(as_owner, {**MARCH, "by": by}) == _queries(as_owner, one_row)


# --- quick ranges --------------------------------------------------------------------------------


def test_the_quick_ranges_are_calendar_months_and_the_last_days_up_to_today() -> None:
    ranges = [(r.date_from, r.date_to) for r in quick_ranges(dt.date(2025, 3, 15))]

    assert ranges == [
        (dt.date(2025, 3, 1), dt.date(2025, 3, 15)),  # this month
        (dt.date(2025, 2, 1), dt.date(2025, 2, 28)),  # last month
        (dt.date(2025, 2, 14), dt.date(2025, 3, 15)),  # 30 days, today included
        (dt.date(2024, 12, 16), dt.date(2025, 3, 15)),  # 90 days
        (dt.date(2024, 3, 16), dt.date(2025, 3, 15)),  # 365 days
    ]
    january = quick_ranges(dt.date(2025, 1, 1))
    assert (january[0].date_from, january[1].date_from, january[1].date_to) == (
        dt.date(2025, 1, 1),
        dt.date(2024, 12, 1),
        dt.date(2024, 12, 31),
    )


def test_the_quick_ranges_keep_the_grouping(funnel_data: Dataset, as_owner: Client) -> None:
    page = as_owner.get(URL, {**MARCH, "by": "staff"}).content.decode()

    quick = page.split('class="chips quick-ranges"', 1)[1]  # not the analytics tabs above the title
    links = re.findall(r'<a class="chip[^"]*" href="([^"]+)"', quick)
    assert len(links) == 5
    assert all(link.startswith(URL + "?from=") and link.endswith("&amp;by=staff") for link in links)


# --- plotly.js -----------------------------------------------------------------------------------


def test_plotly_js_comes_from_the_installed_wheel_cached_for_a_year(db: object) -> None:
    url = reverse("analytics:plotly_js")
    assert url == f"/analytics/plotly-{plotly_version()}.min.js"

    response = Client().get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "immutable" in response["Cache-Control"] and "max-age=31536000" in response["Cache-Control"]
    body = response.content
    assert body == plotly_js_path().read_bytes()
    assert b"window.Plotly" in body


def test_plotly_js_is_compressed_for_browsers_that_accept_it_and_revalidates(db: object) -> None:
    url = reverse("analytics:plotly_js")

    response = Client().get(url, headers={"Accept-Encoding": "gzip"})

    assert response["Content-Encoding"] == "gzip" and "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(response.content) == plotly_js_path().read_bytes()
    assert len(response.content) < len(plotly_js_path().read_bytes()) / 2
    again = Client().get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": response["ETag"]})
    assert again.status_code == 304
    # The plain file is another representation: the compressed one's tag does not stand for it.
    plain = Client().get(url, headers={"If-None-Match": response["ETag"]})
    assert plain.status_code == 200
