"""/api/v1/analytics/funnel: the funnel's numbers as JSON, refusals per parameter, the store manager only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from huitou.analytics import errors
from huitou.analytics.funnel import MAX_DAYS
from huitou.analytics.tests import dataset
from huitou.analytics.tests.dataset import Dataset
from huitou.api.tests.conftest import ApiClient
from huitou.tenancy.models import User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

URL = "/api/v1/analytics/funnel"
MARCH = {"from": "2025-03-01", "to": "2025-03-31"}
FIELDS = {
    "key",
    "label",
    "prospects",
    "intent",
    "converted",
    "intent_rate",
    "conversion_rate",
    "median_days_to_convert",
    "revenue",
}


@pytest.fixture
def api(owner: User, api_for: Callable[[User], ApiClient]) -> ApiClient:
    """The store manager: the only role that sees the funnel."""
    return api_for(owner)


def as_json(e: dataset.Expected, label: str | None = None) -> dict[str, Any]:
    return {
        "key": e.key,
        "label": e.label if label is None else label,
        "prospects": e.prospects,
        "intent": e.intent,
        "converted": e.converted,
        "intent_rate": e.intent_rate,
        "conversion_rate": e.conversion_rate,
        "median_days_to_convert": e.median_days_to_convert,
        "revenue": str(e.revenue),
    }


def test_by_source_it_answers_every_number_of_every_row(funnel_data: Dataset, api: ApiClient) -> None:
    r = api.get(URL, MARCH)

    assert r.status_code == 200
    doc = r.json()
    assert (doc["from"], doc["to"], doc["by"]) == ("2025-03-01", "2025-03-31", "source")
    assert doc["rows"] == [as_json(e, label=e.label or zh("Not given")) for e in dataset.BY_SOURCE]
    assert doc["total"] == as_json(dataset.TOTAL, label=zh("Total"))
    assert all(set(row) == FIELDS for row in [*doc["rows"], doc["total"]])


def test_by_staff_the_key_is_the_username_and_the_label_the_name(funnel_data: Dataset, api: ApiClient) -> None:
    doc = api.get(URL, {**MARCH, "by": "staff"}).json()

    assert doc["by"] == "staff"
    assert doc["rows"] == [as_json(e) for e in dataset.BY_STAFF]
    assert doc["total"] == as_json(dataset.TOTAL, label=zh("Total"))


def test_revenue_is_a_decimal_string(funnel_data: Dataset, api: ApiClient) -> None:
    doc = api.get(URL, MARCH).json()

    assert [row["revenue"] for row in doc["rows"]] == ["1000.00", "1188.88", "0.00", "0.00"]
    assert Decimal(doc["total"]["revenue"]) == Decimal("2188.88")


def test_without_parameters_it_is_the_last_90_days_by_source(api: ApiClient) -> None:
    today = timezone.localdate()

    doc = api.get(URL).json()

    assert (doc["from"], doc["to"], doc["by"]) == (
        (today - dt.timedelta(days=89)).isoformat(),
        today.isoformat(),
        "source",
    )
    assert doc["rows"] == []
    assert doc["total"]["prospects"] == 0 and doc["total"]["median_days_to_convert"] is None


def test_another_organizations_files_never_count(
    funnel_data: Dataset, outsider: User, api_for: Callable[[User], ApiClient]
) -> None:
    doc = api_for(outsider).get(URL, MARCH).json()

    assert [(r["key"], r["prospects"], r["converted"], r["revenue"]) for r in doc["rows"]] == [
        ("referral", 1, 1, "666.00"),
        ("wechat", 1, 0, "0.00"),
    ]


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-02-30", "to": "2025-03-31"}, "from"),
        ({"from": "2025-03-01", "to": "31.03.2025"}, "to"),
        ({**MARCH, "by": "shop"}, "by"),
    ],
)
def test_a_malformed_parameter_is_refused_on_its_name(api: ApiClient, params: dict[str, str], field: str) -> None:
    r = api.get(URL, params)

    assert r.status_code == 422
    assert set(r.json()["errors"]) == {field}


def test_an_end_before_the_start_is_refused_on_to(api: ApiClient) -> None:
    r = api.get(URL, {"from": "2025-03-31", "to": "2025-03-01"})

    assert r.status_code == 422
    assert r.json()["errors"] == {"to": [zh(errors.RANGE_REVERSED)]}


def test_a_range_longer_than_the_funnel_allows_is_refused_on_from(api: ApiClient) -> None:
    start = dt.date(2020, 1, 1)
    too_long = api.get(URL, {"from": start.isoformat(), "to": (start + dt.timedelta(days=MAX_DAYS)).isoformat()})
    longest = api.get(URL, {"from": start.isoformat(), "to": (start + dt.timedelta(days=MAX_DAYS - 1)).isoformat()})

    assert too_long.status_code == 422
    assert too_long.json()["errors"] == {"from": [zh(errors.RANGE_TOO_LONG, days=MAX_DAYS)]}
    assert longest.status_code == 200


def test_dates_at_the_ends_of_the_calendar_are_refused_not_a_crash(api: ApiClient) -> None:
    r = api.get(URL, {"from": "0001-01-01", "to": "9999-12-31"})

    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"from", "to"}


@pytest.mark.parametrize("role", ["advisor", "service", "tech"])
def test_roles_without_the_funnel_are_refused(
    role: str, request: pytest.FixtureRequest, api_for: Callable[[User], ApiClient]
) -> None:
    r = api_for(request.getfixturevalue(role)).get(URL, MARCH)

    assert r.status_code == 403


def test_an_unauthenticated_caller_is_refused(db: object) -> None:
    assert ApiClient().get(URL).status_code == 401


# --- queries and the document ---------------------------------------------------------------------


def _queries(api: ApiClient, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = api.get(URL, params)
    assert r.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("by", ["source", "staff"])
def test_it_runs_the_same_queries_for_one_row_or_many(
    funnel_data: Dataset, api: ApiClient, by: str, django_assert_num_queries: Callable[..., Any]
) -> None:
    # 1 the token with its user and organization, 2 the token's last use, 3 the funnel's counts
    # per group, 4 the conversion times, 5 the labels (sources or staff).
    with django_assert_num_queries(5):
        doc = api.get(URL, {**MARCH, "by": by}).json()
    assert len(doc["rows"]) >= 3
    one_row = {"from": "2025-03-31", "to": "2025-03-31", "by": by}
    assert len(api.get(URL, one_row).json()["rows"]) == 1
    assert _queries(api, {**MARCH, "by": by}) == _queries(api, one_row)


def test_the_openapi_document_lists_the_funnel_and_its_parameters(db: object) -> None:
    doc = ApiClient().get("/api/v1/openapi.json").json()

    operation = doc["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"from", "to", "by"}
