"""The staff performance pages and API: the same figures, sorting, links, who may see what, queries."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from huitou.analytics import staff as staff_module
from huitou.analytics import views_staff
from huitou.analytics.tests import staff_dataset
from huitou.analytics.tests.staff_dataset import MARCH, StaffData
from huitou.api.routers import analytics_staff
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm, Role, role_allows

pytestmark = pytest.mark.django_db

URL = reverse("analytics:staff")
API = "/api/v1/analytics/staff"
MARCH_Q = {"from": "2025-03-01", "to": "2025-03-31"}
COLUMNS = (
    "followups_done",
    "followups_late",
    "care_done",
    "callbacks_done",
    "old_customer_contacts",
    "conversions",
    "satisfaction",
    "complaints",
    "file_completeness",
)


class _Table(HTMLParser):
    """The ranking's rows: ``[(username, {column: data-value})]`` in order, and each cell's links."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, dict[str, str]]] = []
        self.links: dict[tuple[str, str], str] = {}
        self._row: dict[str, str] | None = None
        self._key = ""
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and "data-key" in a:
            self._key = a["data-key"] or ""
            self._row = {}
            self.rows.append((self._key, self._row))
        elif tag == "td" and self._row is not None:
            self._cell = next(c for c in (a.get("class") or "").split() if c != "num")
            self._row[self._cell] = a.get("data-value") or ""
        elif tag == "a" and self._row is not None and self._cell is not None:
            self.links[(self._key, self._cell)] = a.get("href") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            self._row = None


def table(response: Any) -> _Table:
    parser = _Table()
    parser.feed(response.content.decode())
    return parser


def as_values(e: staff_dataset.Expected) -> dict[str, str]:
    """A row as the table's ``data-value`` attributes carry it."""
    return {
        "followups_done": str(e.followups_done),
        "followups_late": str(e.followups_late),
        "care_done": str(e.care_done),
        "callbacks_done": str(e.callbacks_done),
        "old_customer_contacts": str(e.old_customer_contacts),
        "conversions": str(e.conversions),
        "satisfaction": "" if e.satisfaction is None else str(e.satisfaction),
        "complaints": str(e.complaints),
        "file_completeness": "" if e.file_completeness is None else str(e.file_completeness),
    }


def as_item(e: staff_dataset.Expected) -> dict[str, Any]:
    return {
        "followups_done": e.followups_done,
        "followups_late": e.followups_late,
        "care_done": e.care_done,
        "callbacks_done": e.callbacks_done,
        "old_customer_contacts": e.old_customer_contacts,
        "conversions": e.conversions,
        "satisfaction": e.satisfaction,
        "complaints": e.complaints,
        "file_completeness": e.file_completeness,
    }


# --- the ranking ---------------------------------------------------------------------------------


def test_the_ranking_shows_every_figure_of_every_row(
    staff_data: StaffData, client_for: Callable[[User], Client], owner: User
) -> None:
    response = client_for(owner).get(URL, MARCH_Q)

    assert response.status_code == 200
    rows = table(response).rows
    assert [k for k, _ in rows] == list(MARCH)
    for key, values in rows:
        assert values == as_values(MARCH[key]), key
    page = response.content.decode()
    assert "孙离职" in page and "钱已走" not in page and "隔壁老板" not in page


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("-followups_done", ["advisor", "left", "service", "owner"]),
        ("complaints", ["left", "owner", "service", "advisor"]),
        ("-file_completeness", ["service", "advisor", "left", "owner"]),
        ("name", ["advisor", "left", "owner", "service"]),
    ],
)
def test_the_ranking_is_sorted_on_the_server_by_the_sort_parameter(
    staff_data: StaffData, client_for: Callable[[User], Client], owner: User, sort: str, order: list[str]
) -> None:
    response = client_for(owner).get(URL, {**MARCH_Q, "sort": sort})

    assert [k for k, _ in table(response).rows] == order
    page = response.content.decode()
    assert f'data-sort="{sort}"' in page
    column = sort.lstrip("-")
    expected = "descending" if sort.startswith("-") else "ascending"
    assert f'class="{column}{"" if column == "name" else " num"}" aria-sort="{expected}"' in page


def test_the_ranking_comes_in_pages_that_keep_the_sort_and_the_period(
    staff_data: StaffData, client_for: Callable[[User], Client], owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views_staff, "RANKING_PAGE", 3)
    query = {**MARCH_Q, "sort": "-followups_done"}
    client = client_for(owner)

    first = client.get(URL, query)
    second = client.get(URL, {**query, "page": 2})
    past_the_end = client.get(URL, {**query, "page": 9})
    table_alone = client.get(URL, {**query, "page": 2}, headers={"HX-Request": "true"})

    assert [k for k, _ in table(first).rows] == ["advisor", "left", "service"]
    assert [k for k, _ in table(second).rows] == ["owner"]
    assert [k for k, _ in table(past_the_end).rows] == ["owner"]  # the last page
    assert "from=2025-03-01&amp;to=2025-03-31&amp;sort=-followups_done&page=2" in first.content.decode()
    assert [k for k, _ in table(table_alone).rows] == ["owner"]
    assert "<html" not in table_alone.content.decode() and "<html" in second.content.decode()


def test_a_column_header_sorts_by_it_and_again_the_other_way(
    staff_data: StaffData, client_for: Callable[[User], Client], owner: User
) -> None:
    page = client_for(owner).get(URL, {**MARCH_Q, "sort": "-conversions"}).content.decode()
    # The active column turns round; the others start with the useful end: the most, or the fewest complaints.
    assert "from=2025-03-01&amp;to=2025-03-31&amp;sort=conversions" in page
    assert "from=2025-03-01&amp;to=2025-03-31&amp;sort=-care_done" in page
    assert "from=2025-03-01&amp;to=2025-03-31&amp;sort=complaints" in page


def test_figures_link_to_the_rows_behind_them(
    staff_data: StaffData, client_for: Callable[[User], Client], owner: User
) -> None:
    links = table(client_for(owner).get(URL, MARCH_Q)).links
    advisor = staff_data.staff["advisor"]
    member = reverse("analytics:staff_member", args=[advisor.pk])
    assert links[("advisor", "file_completeness")] == f"{reverse('customers:list')}?owner={advisor.pk}"
    assert links[("advisor", "conversions")] == f"{member}?from=2025-03-01&to=2025-03-31#converted"
    assert links[("advisor", "complaints")] == f"{member}?from=2025-03-01&to=2025-03-31#complaints"
    assert ("service", "conversions") not in links  # 0: nothing behind it


def test_the_shop_filter_and_a_period_with_no_data(
    staff_data: StaffData, client_for: Callable[[User], Client], owner: User
) -> None:
    first = staff_data.shops[0]
    rows = table(client_for(owner).get(URL, {**MARCH_Q, "shop": first.pk})).rows
    assert [k for k, _ in rows] == ["advisor", "left", "owner"]

    empty = table(client_for(owner).get(URL, {"from": "2024-01-01", "to": "2024-01-31"})).rows
    assert [k for k, _ in empty] == ["advisor", "owner", "service"]
    assert all(v["followups_done"] == "0" and v["satisfaction"] == "" for _, v in empty)


def test_a_refused_range_or_shop_is_shown_on_its_field(
    staff_data: StaffData, client_for: Callable[[User], Client], owner: User, other_org: Organization
) -> None:
    from huitou.tenancy.models import Shop

    reversed_range = client_for(owner).get(URL, {"from": "2025-03-31", "to": "2025-03-01"})
    assert reversed_range.status_code == 200
    assert 'class="table staff-table"' not in reversed_range.content.decode()
    assert "has-error" in reversed_range.content.decode()
    foreign = client_for(owner).get(URL, {**MARCH_Q, "shop": Shop.objects.for_org(other_org).get().pk})
    assert foreign.status_code == 200
    assert 'class="table staff-table"' not in foreign.content.decode()


def test_the_ranking_takes_a_fixed_number_of_queries(
    staff_data: StaffData,
    client_for: Callable[[User], Client],
    owner: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    client = client_for(owner)
    # 1 session, 2 user with organization, 3 the shops (the filter), then the six of staff_performance:
    # 4 stale days?, 5 the daily figures per person, 6 conversions, 7 complaints, 8 files per owner (kept),
    # 9 the staff, 10 the menu's shop switcher (the base template).
    with django_assert_num_queries(10):
        client.get(URL, MARCH_Q)
    # With a shop: 4 the shop asked for, then the six and the switcher.
    with django_assert_num_queries(11):
        client.get(URL, {**MARCH_Q, "shop": staff_data.shops[0].pk})


# --- a person's own page -------------------------------------------------------------------------


def test_a_persons_page_shows_their_figures_and_the_rows_behind_them(
    staff_data: StaffData, client_for: Callable[[User], Client], owner: User
) -> None:
    advisor = staff_data.staff["advisor"]
    response = client_for(owner).get(reverse("analytics:staff_member", args=[advisor.pk]), MARCH_Q)

    assert response.status_code == 200
    page = response.content.decode()
    assert "李顾问" in page
    for name in ("P1", "P2"):  # the conversions
        c = staff_data.customers[name]
        assert f'href="{reverse("customers:detail", args=[c.pk])}"' in page
    assert reverse("customers:detail", args=[staff_data.customers["X1"].pk]) not in page  # April
    assert "等太久" in page  # Q1
    assert 'data-value="4.0"' in page  # satisfaction


def test_a_persons_page_takes_a_fixed_number_of_queries(
    staff_data: StaffData,
    client_for: Callable[[User], Client],
    advisor: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    client = client_for(advisor)
    # 1 session, 2 user with organization, 3 the person, 4-9 the six of staff_performance,
    # 10 the converted files, 11 the complaints, 12 the menu's shop switcher (the base template).
    with django_assert_num_queries(12):
        client.get(reverse("analytics:staff_member", args=[advisor.pk]), MARCH_Q)


@pytest.mark.parametrize("who", ["advisor", "service", "tech"])
def test_staff_see_their_own_page_but_not_the_ranking_nor_anyone_elses(
    staff_data: StaffData, client_for: Callable[[User], Client], who: str
) -> None:
    me = staff_data.staff[who]
    client = client_for(me)
    assert client.get(reverse("analytics:staff_member", args=[me.pk]), MARCH_Q).status_code == 200
    assert client.get(URL).status_code == 403
    other = staff_data.staff["owner"]
    assert client.get(reverse("analytics:staff_member", args=[other.pk])).status_code == 403
    assert client.get(API).status_code == 403


def test_the_store_manager_sees_everyones_page_and_only_the_store_manager_ranks() -> None:
    assert [r for r in Role.values if role_allows(r, Perm.VIEW_STAFF_PERFORMANCE)] == [Role.OWNER]


def test_another_organizations_staff_member_is_not_found(
    staff_data: StaffData, client_for: Callable[[User], Client], outsider: User
) -> None:
    response = client_for(outsider).get(reverse("analytics:staff_member", args=[staff_data.staff["advisor"].pk]))
    assert response.status_code == 404
    ranking = client_for(outsider).get(URL, MARCH_Q).content.decode()
    assert "李顾问" not in ranking and "隔壁老板" in ranking


# --- the API -------------------------------------------------------------------------------------


def test_the_api_gives_the_same_figures_in_the_same_order(
    staff_data: StaffData, client_for: Callable[[User], Client], owner: User
) -> None:
    response = client_for(owner).get(API, MARCH_Q)

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["items"]
    assert [i["user"]["username"] for i in body["items"]] == list(MARCH)
    for item in body["items"]:
        assert list(item) == ["user", *COLUMNS]
        assert {k: item[k] for k in COLUMNS} == as_item(MARCH[item["user"]["username"]])
    left = next(i for i in body["items"] if i["user"]["username"] == "left")
    assert left["user"] == {"id": staff_data.staff["left"].pk, "username": "left", "name": "孙离职", "is_active": False}
    # The shop filter.
    at_second = client_for(owner).get(API, {**MARCH_Q, "shop": staff_data.shops[1].pk}).json()
    assert [i["user"]["username"] for i in at_second["items"]] == ["advisor", "owner", "service"]


def test_the_page_and_the_api_call_the_same_selector(
    staff_data: StaffData,
    client_for: Callable[[User], Client],
    owner: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert views_staff.staff_performance is staff_module.staff_performance
    assert analytics_staff.staff_performance is staff_module.staff_performance
    calls: list[str] = []
    real = staff_module.staff_performance

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs["date_from"].isoformat())
        return real(**kwargs)

    monkeypatch.setattr(views_staff, "staff_performance", spy)
    monkeypatch.setattr(analytics_staff, "staff_performance", spy)
    client = client_for(owner)
    page = [(k, v) for k, v in table(client.get(URL, MARCH_Q)).rows]
    api = client.get(API, MARCH_Q).json()["items"]
    assert calls == ["2025-03-01", "2025-03-01"]
    assert [k for k, _ in page] == [i["user"]["username"] for i in api]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2025-03-31", "to": "2025-03-01"}, "to"),
        ({"from": "2020-01-01", "to": "2025-03-31"}, "from"),
        ({"from": "2025-13-01"}, "from"),
        ({"shop": "999999"}, "shop"),
    ],
)
def test_the_api_refuses_a_bad_range_or_shop_with_422(
    staff_data: StaffData, client_for: Callable[[User], Client], owner: User, query: dict[str, str], field: str
) -> None:
    response = client_for(owner).get(API, query)
    assert response.status_code == 422
    assert field in response.content.decode()


def test_the_api_takes_a_fixed_number_of_queries(
    staff_data: StaffData,
    client_for: Callable[[User], Client],
    owner: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    client = client_for(owner)
    # 1 session, 2 user with organization, then the six of staff_performance:
    # 3 stale days?, 4 the daily figures per person, 5 conversions, 6 complaints, 7 files per owner (kept),
    # 8 the staff.
    with django_assert_num_queries(8):
        assert client.get(API, MARCH_Q).status_code == 200


@pytest.mark.parametrize("query", [{"to": "0001-01-05"}, {"from": "9999-12-30"}])
def test_a_date_at_the_calendars_end_is_refused_not_an_error(
    staff_data: StaffData, client_for: Callable[[User], Client], owner: User, query: dict[str, str]
) -> None:
    """The default other end would run off the calendar: refused as a malformed date, on the page and the API."""
    client = client_for(owner)
    assert client.get(API, query).status_code == 422
    page = client.get(URL, query)
    assert page.status_code == 200 and "has-error" in page.content.decode()
    own = client.get(reverse("analytics:staff_member", args=[owner.pk]), query)
    assert own.status_code == 200 and "has-error" in own.content.decode()
