"""Exports of the customer and order lists: the file is the list, as the viewer sees it, and recorded."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from huitou.audit.models import ChangeEntry
from huitou.customers import selectors
from huitou.customers.models import Customer
from huitou.exports.models import ExportJob
from huitou.exports.services import export_request
from huitou.lifecycle.services.stages import stage_import
from huitou.service.models import ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User
from huitou.testing.fixtures import first_shop
from huitou.testing.sqlite import SMALL_SHOP, planner_statistics_write

Make = Callable[..., Any]


def sheet_rows(content: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "Excel needs the byte-order mark to read UTF-8"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def customers(make_customer: Make, make_vehicle: Make, owner: User, advisor: User) -> list[Customer]:
    """Twelve customers: prospects and customers, some tagged 贵宾, some owned by the store manager."""
    made = []
    for n in range(12):
        c = make_customer(
            name=f"陈{n:02d}号",
            phone=f"1380013{n:04d}",
            tags=["贵宾"] if n % 3 == 0 else [],
            owner=owner.pk if n % 2 else advisor.pk,
        )
        if n % 4 == 0:
            stage_import(customer=c, stage="customer")
        make_vehicle(c, plate=f"粤B8{n:04d}")
        made.append(c)
    return made


FILTERS = [
    {},
    {"stage": "customer"},
    {"tag": "贵宾"},
    {"tag": "贵宾", "stage": "prospect"},
    {"owner": "owner", "stage": "prospect"},
    {"q": "陈0"},
    {"q": "13800130005"},
    {"q": "chen"},
]


@pytest.mark.parametrize("query", FILTERS, ids=[str(f) for f in FILTERS])
def test_the_export_of_a_filtered_list_is_the_list_on_the_page_and_in_the_api(
    query: dict[str, str],
    customers: list[Customer],
    org: Organization,
    owner: User,
    client_for: Callable[[User], Client],
    bearer: Callable[[User], Client],
) -> None:
    if "owner" in query:
        query = {**query, "owner": str(owner.pk)}
    page = client_for(owner).get(reverse("exports:customers_xlsx"), query)
    api = bearer(owner).get("/api/v1/customers/export.csv", query)
    listed = bearer(owner).get("/api/v1/customers", {**query, "page_size": "100"}).json()
    shown = selectors.customer_list(
        organization=org,
        q=query.get("q", ""),
        stage=query.get("stage", ""),
        tag=query.get("tag", ""),
        owner_id=int(query["owner"]) if "owner" in query else None,
    )

    assert page.status_code == api.status_code == 200
    exported = [row[0] for row in sheet_rows(page.content)[1:]]
    assert exported == [c.pk for c in shown] == [item["id"] for item in listed["items"]]
    assert [int(row[0]) for row in csv_rows(api.content)[1:]] == exported
    assert exported, "the filters must keep someone, or the comparison proves nothing"


@pytest.mark.timeout(60)
def test_a_filtered_export_ends_with_the_list_whatever_plan_the_database_chooses(
    customers: list[Customer], org: Organization, owner: User, client_for: Callable[[User], Client]
) -> None:
    # The statistics of a small shop, under which SQLite 3.40 returned rows above a page's bound.
    planner_statistics_write(SMALL_SHOP)
    query = {"tag": "贵宾", "stage": "prospect"}

    page = client_for(owner).get(reverse("exports:customers_xlsx"), query)

    exported = [row[0] for row in sheet_rows(page.content)[1:]]
    assert exported == [c.pk for c in selectors.customer_list(organization=org, **query)]
    assert len(exported) >= 2


def test_the_page_links_its_export_with_its_own_filters(
    customers: list[Customer], owner: User, client_for: Callable[[User], Client]
) -> None:
    page = client_for(owner).get(reverse("customers:list"), {"stage": "customer", "tag": "贵宾"})
    assert f"{reverse('exports:customers_xlsx')}?stage=customer&amp;tag=%E8%B4%B5%E5%AE%BE" in page.content.decode()


def test_phones_are_masked_for_the_roles_that_see_them_masked(
    customers: list[Customer], owner: User, tech: User, client_for: Callable[[User], Client]
) -> None:
    query = {"q": "13800130005"}
    full = sheet_rows(client_for(owner).get(reverse("exports:customers_xlsx"), query).content)
    masked = sheet_rows(client_for(tech).get(reverse("exports:customers_xlsx"), query).content)
    assert full[1][1:3] == ["陈05号", "13800130005"]
    assert masked[1][1:3] == ["陈05号", "138****0005"]
    as_csv = client_for(tech).get(reverse("exports:customers_csv"), query).content.decode("utf-8-sig")
    assert "13800130005" not in as_csv and "138****0005" in as_csv


def test_every_export_is_recorded_in_the_audit_log(
    customers: list[Customer], org: Organization, advisor: User, client_for: Callable[[User], Client]
) -> None:
    client_for(advisor).get(reverse("exports:customers_csv"), {"tag": "贵宾"})

    job = ExportJob.objects.for_org(org).get()
    entry = ChangeEntry.objects.for_org(org).get(subject_type="exportjob", subject_id=job.pk)
    assert (entry.actor, entry.action) == (advisor, ChangeEntry.Action.CREATED)
    assert entry.changes == {
        "source": [None, "customers"],
        "format": [None, "csv"],
        "filters": [None, {"tag": "贵宾"}],
        "rows": [None, 4],
    }
    assert (job.state, job.rows, job.file) == (ExportJob.State.DELIVERED, 4, "")


def test_a_long_list_is_made_in_the_background_and_downloaded_when_ready(
    django_capture_on_commit_callbacks: Any,
    customers: list[Customer],
    org: Organization,
    owner: User,
    settings: Any,
    client_for: Callable[[User], Client],
) -> None:
    settings.EXPORT_SYNC_MAX_ROWS = 5
    client = client_for(owner)

    with django_capture_on_commit_callbacks(execute=True):
        asked = client.get(reverse("exports:customers_xlsx"), {"stage": "prospect"})

    assert asked.status_code == 302 and asked["Location"] == reverse("exports:list")
    job = ExportJob.objects.for_org(org).get()  # huey runs at once in tests
    assert (job.state, job.rows) == (ExportJob.State.READY, 9)
    listing = client.get(reverse("exports:list")).content.decode()
    assert reverse("exports:download", args=[job.pk]) in listing
    download = client.get(reverse("exports:download", args=[job.pk]))
    rows = sheet_rows(download.getvalue())
    expected = selectors.customer_list(organization=org, stage="prospect")
    assert [r[0] for r in rows[1:]] == [c.pk for c in expected]
    assert ChangeEntry.objects.for_org(org).filter(subject_type="exportjob", changes__rows=[None, 9]).count() == 1


def test_the_api_answers_a_long_list_with_its_job_then_the_file(
    django_capture_on_commit_callbacks: Any,
    customers: list[Customer],
    org: Organization,
    owner: User,
    settings: Any,
    bearer: Callable[[User], Client],
) -> None:
    settings.EXPORT_SYNC_MAX_ROWS = 5
    api = bearer(owner)

    with django_capture_on_commit_callbacks(execute=True):
        asked = api.get("/api/v1/customers/export.csv")
    assert asked.status_code == 202
    body = asked.json()
    assert (body["state"], body["rows"], body["format"]) == ("pending", 12, "csv")
    made = api.get(f"/api/v1/exports/{body['id']}").json()
    assert (made["state"], made["file_url"]) == ("ready", f"/api/v1/exports/{body['id']}/file")
    file = api.get(made["file_url"])
    assert len(csv_rows(file.getvalue())) == 13
    assert [j["id"] for j in api.get("/api/v1/exports").json()] == [body["id"]]


def test_an_expired_export_is_gone_with_a_clear_answer(
    django_capture_on_commit_callbacks: Any,
    customers: list[Customer],
    org: Organization,
    owner: User,
    settings: Any,
    bearer: Callable[[User], Client],
) -> None:
    from huitou.exports.services import exports_expire

    settings.EXPORT_SYNC_MAX_ROWS = 5
    api = bearer(owner)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api.get("/api/v1/customers/export.xlsx").json()["id"]
    settings.EXPORT_KEEP_DAYS = 0
    assert exports_expire(organization=org) == 1
    gone = api.get(f"/api/v1/exports/{job_id}/file")
    assert gone.status_code == 409
    assert ExportJob.objects.for_org(org).get(pk=job_id).state == ExportJob.State.EXPIRED


def test_the_order_list_exports_as_the_page_shows_it(
    org: Organization,
    advisor: User,
    make_order: Make,
    make_service_item: Make,
    client_for: Callable[[User], Client],
    bearer: Callable[[User], Client],
) -> None:
    item = make_service_item()
    orders = [make_order() for _ in range(3)]
    order_add_line(order=orders[0], by=advisor, service=item)
    order_complete(order=orders[0], by=advisor)
    order_pay(order=orders[0], by=advisor, method="cash", amount="200.00")
    shop = first_shop(org)
    client = client_for(advisor)

    page = client.get(reverse("service:order_list"), {"state": "open"})
    exported = client.get(reverse("exports:orders_xlsx"), {"shop": str(shop.pk), "state": "open"})
    api = bearer(advisor).get("/api/v1/orders/export.xlsx", {"shop": str(shop.pk), "state": "open"})

    rows = sheet_rows(exported.content)[1:]
    assert [r[0] for r in rows] == [o.number for o in sorted(orders[1:], key=lambda o: o.pk, reverse=True)]
    assert [r[0] for r in sheet_rows(api.content)[1:]] == [r[0] for r in rows]
    for number in (r[0] for r in rows):
        assert number in page.content.decode()
    assert orders[0].number not in [r[0] for r in rows]
    link = f"{reverse('exports:orders_xlsx')}?shop={shop.pk}&amp;day="
    assert link in page.content.decode()
    paid = sheet_rows(client.get(reverse("exports:orders_xlsx"), {"shop": str(shop.pk), "state": "paid"}).content)[1]
    assert paid[0] == ServiceOrder.objects.for_org(org).get(pk=orders[0].pk).number
    assert (paid[9], paid[10], paid[11]) == (200, 200, 0)


def test_text_that_a_spreadsheet_would_run_stays_text(
    make_customer: Make, owner: User, client_for: Callable[[User], Client]
) -> None:
    make_customer(name="=HYPERLINK(1)", phone="13900139000")
    client = client_for(owner)
    xlsx = load_workbook(io.BytesIO(client.get(reverse("exports:customers_xlsx")).content))
    cell = xlsx.worksheets[0]["B2"]
    assert (cell.value, cell.data_type) == ("=HYPERLINK(1)", "s")
    assert csv_rows(client.get(reverse("exports:customers_csv")).content)[1][1] == "'=HYPERLINK(1)"


def test_another_organizations_export_is_not_found(
    django_capture_on_commit_callbacks: Any,
    customers: list[Customer],
    org: Organization,
    owner: User,
    outsider: User,
    settings: Any,
    client_for: Callable[[User], Client],
    bearer: Callable[[User], Client],
) -> None:
    settings.EXPORT_SYNC_MAX_ROWS = 5
    with django_capture_on_commit_callbacks(execute=True):
        job = export_request(organization=org, by=owner, source="customers", fmt="csv", params={}).job

    assert client_for(outsider).get(reverse("exports:download", args=[job.pk])).status_code == 404
    assert bearer(outsider).get(f"/api/v1/exports/{job.pk}").status_code == 404
    assert bearer(outsider).get(f"/api/v1/exports/{job.pk}/file").status_code == 404
    theirs = csv_rows(bearer(outsider).get("/api/v1/customers/export.csv").content)
    assert theirs == [theirs[0]]  # the header alone: the outsider's organization has no customer


def test_a_colleagues_export_is_not_mine(
    django_capture_on_commit_callbacks: Any,
    customers: list[Customer],
    org: Organization,
    owner: User,
    advisor: User,
    settings: Any,
    client_for: Callable[[User], Client],
) -> None:
    settings.EXPORT_SYNC_MAX_ROWS = 5
    with django_capture_on_commit_callbacks(execute=True):
        job = export_request(organization=org, by=owner, source="customers", fmt="csv", params={}).job
    assert client_for(advisor).get(reverse("exports:download", args=[job.pk])).status_code == 404
