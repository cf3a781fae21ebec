"""A store manager imports the shop's old sheet in Chromium: upload, fix a column, dry run, import, search.

Selectors use field names, form actions and data attributes, not wording.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from huitou.customers.models import Customer
from huitou.imports import errors
from huitou.imports.tests.sheets import xlsx_bytes
from huitou.testing.browser import no_horizontal_scroll
from huitou.testing.text import zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# 联系 is not a header the recognition knows: the user picks the phone column by hand.
ROWS = [
    ["车主", "联系", "车牌号码", "品牌车型", "生日", "上次保养日期", "里程"],
    ["黄蓉", "138 1111 0000", "浙a·12345", "丰田 卡罗拉", "农历三月初八", "2024/5/1", "45,000"],
    ["郭靖", "+86 139-2222-0000", "浙A54321", "大众 帕萨特", "1980年2月1日", "2024年6月1日", 32000],
    ["杨过", "1381111", "浙A66666", "", "", "", ""],
    ["合计", "", "3辆", "", "", "", ""],
]


@pytest.mark.parametrize(("width", "name"), [(1440, "desk"), (390, "phone")])
def test_manager_imports_a_sheet_and_finds_the_customers(
    browser: Any, live_server: Any, owner: Any, login: Any, shot: Any, tmp_path: Path, width: int, name: str
) -> None:
    mobile = width < 600
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 844 if mobile else 900},
        is_mobile=mobile,
        has_touch=mobile,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    sheet = tmp_path / "旧系统客户.xlsx"
    sheet.write_bytes(xlsx_bytes(ROWS, title="顺达汽修 客户档案"))

    login(page, owner)
    if mobile:
        page.locator("details.menu > summary").click()
    page.click('nav.nav a[href="/imports/"]')
    expect(page).to_have_url(re.compile(r"/imports/$"))
    page.select_option("select[name=kind]", "customers")
    page.set_input_files("input[name=file]", str(sheet))
    shot(page, f"import-01-upload-{name}")
    page.click("form.import-upload button[type=submit]")

    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    expect(page.locator("select[name=col_name]")).to_have_value("0")
    expect(page.locator("select[name=col_plate]")).to_have_value("2")
    expect(page.locator("select[name=col_phone]")).to_have_value("")
    page.select_option("select[name=col_phone]", "1")
    no_horizontal_scroll(page)
    shot(page, f"import-02-mapping-{name}")
    page.click("form.import-mapping button[type=submit]")

    report = page.locator("#import-progress")
    expect(report.locator("[data-count=rows]")).to_have_text("3")
    expect(report.locator("[data-count=created]")).to_have_text("2")
    expect(report.locator("[data-count=failed]")).to_have_text("1")
    expect(report.locator("table.import-errors")).to_contain_text(zh(errors.PHONE_INVALID))
    assert not Customer.objects.for_org(owner.organization_id).exists()
    no_horizontal_scroll(page)
    shot(page, f"import-03-dry-run-{name}")

    page.click('form[action$="/start"] button[type=submit]')
    expect(report.locator("[data-count=created]")).to_have_text("2")
    expect(page.locator('.progress[aria-valuenow="100"]')).to_be_visible()
    shot(page, f"import-04-done-{name}")

    page.goto("/customers/?q=黄蓉")
    expect(page.locator("main")).to_contain_text("黄蓉")
    page.goto("/customers/?q=浙A54321")
    expect(page.locator("main")).to_contain_text("郭靖")
    shot(page, f"import-05-search-{name}")
    context.close()
