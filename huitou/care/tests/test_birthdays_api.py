"""GET /api/v1/care/birthdays: whose birthday, solar or lunar, falls in a month, on which solar date."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from huitou.api.services import token_create
from huitou.api.tests.conftest import ApiClient
from huitou.customers.models import Customer, Stage
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db
URL = "/api/v1/care/birthdays"


@pytest.fixture
def api(advisor: User) -> ApiClient:
    return ApiClient(token_create(user=advisor, name="tests")[1])


@pytest.fixture
def people(make_customer: Callable[..., Customer]) -> dict[str, Customer]:
    return {
        # 农历十月廿九 falls on 7 December 2026; 农历冬月初一 on 9 December 2026.
        "lunar_dec": make_customer(name="李女士", birth_month=10, birth_day=29, birthday_calendar="lunar"),
        "lunar_dec_2": make_customer(name="周先生", birth_month=11, birth_day=1, birthday_calendar="lunar"),
        "solar_dec": make_customer(name="王先生", birth_month=12, birth_day=3, birth_year=1985, stage=Stage.MEMBER),
        # A lunar 12th-month birthday: its number says 12, its day falls in January or February.
        "lunar_feb": make_customer(name="腊月生", birth_month=12, birth_day=8, birthday_calendar="lunar"),
        "solar_jan": make_customer(name="一月生", birth_month=1, birth_day=9),
        "none": make_customer(name="不知道生日"),
    }


def test_a_month_s_birthdays_by_the_solar_date_they_fall_on(api: ApiClient, people: dict[str, Customer]) -> None:
    body = api.get(URL, {"month": "2026-12"}).json()
    assert body["count"] == 3
    assert [(i["name"], i["date"], i["calendar"]) for i in body["items"]] == [
        ("王先生", "2026-12-03", "solar"),
        ("李女士", "2026-12-07", "lunar"),
        ("周先生", "2026-12-09", "lunar"),
    ]
    first = body["items"][0]
    assert (first["id"], first["stage"], first["birth_month"], first["birth_day"], first["birth_year"]) == (
        people["solar_dec"].pk,
        "member",
        12,
        3,
        1985,
    )
    # 农历腊月初八 of the lunar year 2026 falls on 15 January 2027.
    january = api.get(URL, {"month": "2027-01"}).json()["items"]
    assert [(i["name"], i["date"]) for i in january] == [("一月生", "2027-01-09"), ("腊月生", "2027-01-15")]


def test_pages_and_the_month_s_format(api: ApiClient, people: dict[str, Customer]) -> None:
    second = api.get(URL, {"month": "2026-12", "page": 2, "page_size": 2}).json()
    assert (second["count"], [i["name"] for i in second["items"]]) == (3, ["周先生"])
    for month in ("2026-13", "2026-1", "26-12", "", "2026-12-01"):
        assert api.get(URL, {"month": month}).status_code == 422, month
    assert api.get(URL).status_code == 422


def test_only_the_organization_s_own_files(
    api: ApiClient,
    people: dict[str, Customer],
    make_customer: Callable[..., Customer],
    other_org: Organization,
    outsider: User,
) -> None:
    make_customer(organization=other_org, by=outsider, name="外人", birth_month=12, birth_day=5)
    names = [i["name"] for i in api.get(URL, {"month": "2026-12"}).json()["items"]]
    assert "外人" not in names and len(names) == 3
    theirs = ApiClient(token_create(user=outsider, name="tests")[1])
    assert [i["name"] for i in theirs.get(URL, {"month": "2026-12"}).json()["items"]] == ["外人"]


def test_the_birthday_calendar_runs_two_queries(
    api: ApiClient, people: dict[str, Customer], django_assert_num_queries: Any
) -> None:
    api.get(URL, {"month": "2026-12"})  # the token's first use also stamps last_used_at
    # 1 token with its user and organization, 2 count, 3 the page
    with django_assert_num_queries(3):
        assert api.get(URL, {"month": "2026-12"}).status_code == 200
