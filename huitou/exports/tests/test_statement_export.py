"""Exports of a customer's statement (对账单): the file is the statement page under the same ledger filter."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from huitou.audit.models import ChangeEntry
from huitou.customers.models import Customer, Vehicle
from huitou.exports.models import ExportJob
from huitou.exports.services import export_request
from huitou.loyalty import exports as statement_exports
from huitou.loyalty.models import CouponTrigger, PackageCard, TopUpRule
from huitou.loyalty.selectors.wallet import LEDGERS, statement
from huitou.loyalty.services.cards import card_product_save
from huitou.loyalty.services.checkout import order_checkout
from huitou.loyalty.services.coupons import coupon_issue, coupon_template_save
from huitou.loyalty.services.stored_value import stored_value_top_up
from huitou.service.models import PaymentMethod, ServiceOrder
from huitou.service.services.catalog import service_item_save
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import ROLE_PERMISSIONS, Perm, Role
from huitou.testing.fixtures import first_shop

HEADERS = ["时间", "账户", "事项", "金额", "变动后余额", "工单号", "原因"]
LEDGER_FILTERS = ["", "all", "points", "stored_value", "package_cards", "coupons"]


def sheet_rows(content: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "Excel needs the byte-order mark to read UTF-8"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def member(
    org: Organization,
    advisor: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_order: Callable[..., ServiceOrder],
) -> Customer:
    """王大海 with all four ledgers moving: a wash card and 3,000 points from an earlier repair, a
    20-yuan coupon, 1,100.00 of stored value, then one bill paid with the card, the coupon, points,
    stored value and WeChat Pay (entries of one moment on four ledgers)."""
    customer = make_customer(name="王大海", phone="13812340000")
    car = make_vehicle(customer, plate="粤B7X3Q1")
    wash = service_item_save(
        organization=org, data={"code": "D01", "name": "标准洗车", "category": "detailing", "labour_price": "40.00"}
    )
    oil = service_item_save(
        organization=org, data={"code": "BY01", "name": "机油更换", "category": "maintenance", "labour_price": "120.00"}
    )
    repair = service_item_save(
        organization=org, data={"code": "JX01", "name": "发动机维修", "category": "repair", "labour_price": "2850.00"}
    )
    product = card_product_save(
        organization=org,
        data={"code": "wash-5", "name": "洗车5次卡", "price": "150", "uses": 5, "validity_days": 365}
        | {"binding": "vehicle", "services": [wash.pk]},
    )
    earlier = make_order(car, shop=first_shop(org))
    order_add_line(order=earlier, by=advisor, service=product.sale_item)
    order_add_line(order=earlier, by=advisor, service=repair)
    order_complete(order=earlier, by=advisor)
    order_pay(order=earlier, by=advisor, method="cash", amount="3000.00")
    template = coupon_template_save(
        organization=org,
        data={"code": "oil-20", "name": "20元工时券", "kind": "amount", "value": "20", "min_spend": "100"}
        | {"services": [oil]},
    )
    coupon = coupon_issue(customer=customer, template=template, source=CouponTrigger.MANUAL, by=advisor)
    TopUpRule.objects.create(organization=org, minimum=Decimal("1000"), bonus=Decimal("100"))
    stored_value_top_up(customer=customer, amount="1000", method="cash", by=advisor)
    order = make_order(car, shop=first_shop(org))
    wash_line = order_add_line(order=order, by=advisor, service=wash)
    order_add_line(order=order, by=advisor, service=oil)
    order_complete(order=order, by=advisor)
    card = PackageCard.objects.for_org(org).get(product=product)
    order_checkout(
        order=order,
        by=advisor,
        card_lines=[(card, wash_line)],
        coupon=coupon,
        points=1234,
        stored_value="77.77",
        method=PaymentMethod.WECHAT,
        reference="4200009999",
    )
    return customer


class _StatementTable(HTMLParser):
    """The statement page's lines as shown: the six cells' text, and the muted reason in "What"."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self._row: dict[str, Any] | None = None
        self._cell = -1
        self._small = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and "entry" in (dict(attrs).get("class") or "").split():
            self._row = {"cells": [], "reason": ""}
            self.rows.append(self._row)
        elif tag == "td" and self._row is not None:
            self._row["cells"].append("")
        elif tag == "small" and self._row is not None:
            self._small = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None
        elif tag == "small":
            self._small = False

    def handle_data(self, data: str) -> None:
        if self._row is None or not self._row["cells"]:
            return
        if self._small:
            self._row["reason"] += data.strip()
        else:
            self._row["cells"][-1] += data.strip()


def page_lines(response: Any) -> list[list[Any]]:
    """The page's lines in the export's columns: ``−¥77.77`` is -77.77, ``—`` nothing."""
    parser = _StatementTable()
    parser.feed(response.content.decode())
    lines = []
    for row in parser.rows:
        time, ledger, what, amount, balance, order = row["cells"]
        lines.append([time, ledger, what, _number(amount), _number(balance), "" if order == "—" else order])
        lines[-1].append(row["reason"])
    return lines


def _number(text: str) -> Any:
    if text == "—":
        return None
    try:
        return Decimal(text.replace("¥", "").replace("−", "-").replace("+", ""))
    except InvalidOperation:
        return text  # a coupon's state


def _from_sheet(row: list[Any]) -> list[Any]:
    """A sheet row as the page reads: the time to the minute, numbers as decimals, blanks as ""."""
    time, ledger, what, amount, balance, order, reason = row
    assert isinstance(time, dt.datetime)

    def number(value: Any) -> Any:
        return Decimal(str(value)) if isinstance(value, (int, float)) else value

    return [time.strftime("%Y-%m-%d %H:%M"), ledger, what, number(amount), number(balance), order or "", reason or ""]


def _from_csv(row: list[str]) -> list[Any]:
    time, ledger, what, amount, balance, order, reason = row
    return [time, ledger, what, _number(amount or "—"), _number(balance), order, reason]


@pytest.mark.parametrize("ledger", LEDGER_FILTERS)
def test_the_export_of_a_filtered_statement_is_the_page(
    ledger: str,
    member: Customer,
    advisor: User,
    client_for: Callable[[User], Client],
    bearer: Callable[[User], Client],
) -> None:
    client = client_for(advisor)
    page = client.get(reverse("loyalty:statement", args=[member.pk]), {"ledger": ledger})
    sheet = client.get(reverse("exports:statement_xlsx"), {"customer": str(member.pk), "ledger": ledger})
    api = bearer(advisor).get(f"/api/v1/customers/{member.pk}/statement/export.csv", {"ledger": ledger})

    assert page.status_code == sheet.status_code == api.status_code == 200
    shown = page_lines(page)
    exported = sheet_rows(sheet.content)
    assert exported[0] == HEADERS
    assert [_from_sheet(r) for r in exported[1:]] == shown
    as_csv = csv_rows(api.content)
    assert as_csv[0] == HEADERS
    assert [_from_csv(r) for r in as_csv[1:]] == shown
    items = page.context["items"]
    assert len(shown) == len(items) == page.context["count"], "the statement must fit one page to compare it whole"
    assert {i.ledger for i in items} == ({ledger} if ledger in statement_exports.LEDGERS else set(LEDGERS))


def test_the_lines_read_as_the_page_shows_them(
    member: Customer, owner: User, client_for: Callable[[User], Client]
) -> None:
    """Money in yuan (two places), points and uses as whole numbers, a coupon's state in words."""
    client = client_for(owner)
    answer = client.get(reverse("exports:statement_xlsx"), {"customer": str(member.pk)})
    assert answer["Content-Disposition"].startswith("attachment; filename*=UTF-8''statement-")
    rows = sheet_rows(answer.content)[1:]
    by_what = {(r[1], r[2]): r for r in rows}
    assert by_what[("储值", "支付工单")][3:6] == [-77.77, 1022.23, rows[0][5]]
    assert by_what[("储值", "充值")][3:6] == [1100, 1100, None]  # 1,000.00 paid in and 100.00 bonus
    assert by_what[("优惠券", "已发放 · 20元工时券")][3:] == [None, "已发放", None, "手动发放"]
    spend = next(r for r in rows if r[1] == "积分" and r[3] == -1234)
    assert spend[4] == 1766 and spend[5] == rows[0][5]
    coupon = next(r for r in rows if r[1] == "优惠券" and r[4] == "已使用")
    assert coupon[2].endswith(" · 20元工时券") and coupon[3] == 20
    card = next(r for r in rows if r[1] == "套餐卡" and r[3] == -1)
    assert card[2].endswith(" · 洗车5次卡") and card[4] == 4


def test_the_page_links_its_export_with_its_ledger(
    member: Customer, tech: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(tech)
    points = client.get(reverse("loyalty:statement", args=[member.pk]), {"ledger": "points"}).content.decode()
    every = client.get(reverse("loyalty:statement", args=[member.pk])).content.decode()
    assert f"{reverse('exports:statement_xlsx')}?customer={member.pk}&amp;ledger=points" in points
    assert f"{reverse('exports:statement_csv')}?customer={member.pk}&amp;ledger=points" in points
    assert f"{reverse('exports:statement_xlsx')}?customer={member.pk}&amp;ledger=all" in every


def test_every_statement_export_is_recorded_in_the_audit_log(
    member: Customer, org: Organization, advisor: User, client_for: Callable[[User], Client]
) -> None:
    client_for(advisor).get(reverse("exports:statement_csv"), {"customer": str(member.pk), "ledger": "points"})

    job = ExportJob.objects.for_org(org).get()
    entry = ChangeEntry.objects.for_org(org).get(subject_type="exportjob", subject_id=job.pk)
    assert (entry.actor, entry.action) == (advisor, ChangeEntry.Action.CREATED)
    assert entry.changes == {
        "source": [None, "statement"],
        "format": [None, "csv"],
        "filters": [None, {"customer_id": member.pk, "ledger": "points"}],
        "rows": [None, 3],  # earned 3,000; redeemed 1,234; earned 87
    }
    assert (job.state, job.rows, job.file) == (ExportJob.State.DELIVERED, 3, "")


def test_another_organizations_customer_is_not_found_and_nothing_is_made(
    member: Customer,
    org: Organization,
    other_org: Organization,
    outsider: User,
    make_customer: Callable[..., Customer],
    client_for: Callable[[User], Client],
    bearer: Callable[[User], Client],
) -> None:
    web, api = client_for(outsider), bearer(outsider)
    for fmt in ("xlsx", "csv"):
        for ledger in ("", "points"):
            query = {"customer": str(member.pk), "ledger": ledger}
            assert web.get(reverse(f"exports:statement_{fmt}"), query).status_code == 404
            answer = api.get(f"/api/v1/customers/{member.pk}/statement/export.{fmt}", {"ledger": ledger})
            assert answer.status_code == 404 and "王大海" not in answer.content.decode()
    assert web.get(reverse("exports:statement_csv")).status_code == 404  # no customer at all
    assert web.get(reverse("exports:statement_csv"), {"customer": "x"}).status_code == 404
    assert not ExportJob.objects.for_org(org).exists() and not ExportJob.objects.for_org(other_org).exists()
    assert not ChangeEntry.objects.for_org(other_org).filter(subject_type="exportjob").exists()

    theirs = make_customer(organization=other_org, by=outsider, name="赵小河", phone="13912340000")
    own = csv_rows(api.get(f"/api/v1/customers/{theirs.pk}/statement/export.csv").content)
    assert own == [HEADERS]  # their own customer's statement: the header alone


def test_a_role_that_may_not_see_customers_may_not_export_their_statements(
    member: Customer,
    org: Organization,
    owner: User,
    tech: User,
    monkeypatch: pytest.MonkeyPatch,
    client_for: Callable[[User], Client],
    bearer: Callable[[User], Client],
) -> None:
    monkeypatch.setitem(ROLE_PERMISSIONS, Perm.VIEW_CUSTOMERS, {Role.OWNER})
    query = {"customer": str(member.pk), "ledger": "stored_value"}

    assert client_for(tech).get(reverse("exports:statement_xlsx"), query).status_code == 403
    refused = bearer(tech).get(f"/api/v1/customers/{member.pk}/statement/export.csv", {"ledger": "stored_value"})
    assert refused.status_code == 403
    with pytest.raises(PermissionDenied):
        export_request(organization=org, by=tech, source="statement", fmt="csv", params=query)
    assert not ExportJob.objects.for_org(org).exists()
    assert not ChangeEntry.objects.for_org(org).filter(subject_type="exportjob").exists()
    assert client_for(owner).get(reverse("exports:statement_xlsx"), query).status_code == 200


def test_a_long_statement_is_read_page_by_page_in_the_pages_order(
    member: Customer, org: Organization, advisor: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of three lines: the same lines, in the same order, as the whole statement read at once."""
    monkeypatch.setattr(statement_exports, "BATCH", 3)
    source = statement_exports.StatementSource()
    filters = source.filters({"customer": str(member.pk)}, organization=org, viewer=advisor)
    whole = statement(customer=member, page_size=1000).items

    rows = list(source.rows(organization=org, viewer=advisor, filters=filters))
    assert rows == [statement_exports.statement_row(i) for i in whole]
    assert len(rows) == source.count(organization=org, viewer=advisor, filters=filters) > 3


def test_a_long_statement_is_made_in_the_background(
    django_capture_on_commit_callbacks: Any,
    member: Customer,
    org: Organization,
    owner: User,
    settings: Any,
    bearer: Callable[[User], Client],
) -> None:
    settings.EXPORT_SYNC_MAX_ROWS = 5
    api = bearer(owner)
    at_once = sheet_rows(api.get(f"/api/v1/customers/{member.pk}/statement/export.xlsx", {"ledger": "points"}).content)

    with django_capture_on_commit_callbacks(execute=True):
        asked = api.get(f"/api/v1/customers/{member.pk}/statement/export.xlsx")
    assert asked.status_code == 202
    body = asked.json()
    assert (body["source"], body["filters"]) == ("statement", {"customer_id": member.pk, "ledger": "all"})
    made = api.get(f"/api/v1/exports/{body['id']}").json()
    assert made["state"] == "ready" and made["rows"] == statement(customer=member).count
    rows = sheet_rows(api.get(made["file_url"]).getvalue())
    assert rows[0] == HEADERS and len(rows) == made["rows"] + 1
    assert [r for r in rows[1:] if r[1] == "积分"] == at_once[1:]
