"""In Chromium: the store manager exports a filtered customer list at a desk, then erases a customer
on a phone. Selectors rely on URLs, field names and classes, not on the (translated) wording."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from huitou.customers.models import Customer
from huitou.privacy.models import Erasure
from huitou.tenancy.models import User
from huitou.testing.browser import no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_store_manager_exports_the_vip_customers_at_the_desk(
    page: Any,
    login: Callable[[Any, User], None],
    shot: Callable[[Any, str], Path],
    owner: User,
    make_customer: Callable[..., Customer],
) -> None:
    for n in range(6):
        make_customer(
            name=f"贵宾{n}号" if n % 2 else f"普通{n}号", phone=f"1390013{n:04d}", tags=["贵宾"] if n % 2 else []
        )
    login(page, owner)
    page.goto("/customers/")
    page.select_option("select[name=tag]", "贵宾")
    link = page.locator('.export-links a[href*="customers.xlsx"]')
    expect(link).to_have_attribute("href", re.compile(r"^/exports/customers\.xlsx\?.*tag=%E8%B4%B5%E5%AE%BE"))
    shown = page.locator("table.customers td.name a").all_inner_texts()
    shot(page, "export-customer-list-1440")

    with page.expect_download() as download:
        link.click()
    content = Path(download.value.path()).read_bytes()

    rows = list(load_workbook(io.BytesIO(content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == shown == ["贵宾5号", "贵宾3号", "贵宾1号"]
    assert download.value.suggested_filename.endswith(".xlsx")


def test_the_store_manager_erases_a_customer_on_a_phone(
    phone_page: Any,
    login: Callable[[Any, User], None],
    shot: Callable[[Any, str], Path],
    owner: User,
    make_customer: Callable[..., Customer],
) -> None:
    page = phone_page
    customer = make_customer(name="欧阳娜娜", phone="13812345678", wechat="ouyang_nana", notes="只在周六来")
    login(page, owner)
    page.goto(f"/customers/{customer.pk}/")
    page.click(f'a[href="/privacy/customers/{customer.pk}/"]')
    page.wait_for_url(f"**/privacy/customers/{customer.pk}/")
    no_horizontal_scroll(page)
    shot(page, "privacy-rights-390")
    page.click(f'a[href="/privacy/customers/{customer.pk}/erase/"]')
    page.wait_for_url(f"**/privacy/customers/{customer.pk}/erase/")
    page.fill("input[name=reason]", "客户本人到店要求删除")
    page.fill("input[name=confirm]", "0")
    page.click("form button[type=submit].danger")
    expect(page.locator(".field.has-error input[name=confirm]")).to_be_visible()
    page.fill("input[name=confirm]", str(customer.pk))
    no_horizontal_scroll(page)
    shot(page, "privacy-erase-confirm-390")
    page.click("form button[type=submit].danger")

    page.wait_for_url(f"**/privacy/customers/{customer.pk}/")
    expect(page.locator("h1")).to_contain_text("已注销客户")
    no_horizontal_scroll(page)
    shot(page, "privacy-erased-390")
    erased = Customer.objects.for_org(owner.organization_id).get(pk=customer.pk)
    assert (erased.phone, erased.wechat, erased.notes) == ("", "", "")
    assert Erasure.objects.for_org(owner.organization_id).get(customer=customer).by == owner


def test_the_erasure_confirmation_fits_a_desk_too(
    page: Any,
    login: Callable[[Any, User], None],
    shot: Callable[[Any, str], Path],
    owner: User,
    make_customer: Callable[..., Customer],
) -> None:
    customer = make_customer(name="司马光", phone="13600001234")
    login(page, owner)
    page.goto(f"/privacy/customers/{customer.pk}/erase/")
    shot(page, "privacy-erase-confirm-1440")
    page.goto("/exports/")
    shot(page, "exports-list-1440")
    page.goto("/privacy/settings/")
    shot(page, "privacy-settings-1440")
