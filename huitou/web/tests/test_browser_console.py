"""The console shell in Chromium: the menu, the language switch, and every
main page on a 390px phone and a 1440px desk without sideways scrolling.

Screenshots of each page at both widths go to artifacts/screenshots.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from huitou.customers.models import Stage
from huitou.testing.browser import no_horizontal_scroll
from huitou.testing.text import zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MENU = "details.menu"
NAV = "nav.nav"


@pytest.fixture
def shop_data(make_customer: Any, make_vehicle: Any, advisor: Any, owner: Any) -> Any:
    """A file with a long profile, two vehicles with readings and some history; more rows for the list."""
    zhang = make_customer(
        name="张三丰",
        phone="13812345678",
        wechat="zhangsanfeng_wudangshan_2024",
        email="zhang.sanfeng.wudang.mountain@example.com",
        address="广东省深圳市南山区科技园南区高新南七道深圳湾科技生态园十栋B座2301室",
        tags=["VIP", "传播型", "爱车如命"],
        occupation="武馆馆主",
        hobbies="太极拳、书法、自驾游",
        source="referral",
        stage=Stage.MEMBER,
    )
    first = make_vehicle(zhang, plate="粤B5K2M8", vin="1M8GDM9AXKP042788", mileage_km=52000, year=2019)
    make_vehicle(zhang, plate="粤AD12345", brand="比亚迪", model="汉 EV", mileage_km=8000)
    from huitou.customers.services import customer_update, mileage_record

    mileage_record(vehicle=first, km=56000, by=advisor)
    customer_update(customer=zhang, by=owner, data={"occupation": "武当派掌门", "owner": owner.pk})
    for i, name in enumerate(["李四", "王小明", "欧阳娜娜", "诸葛孔明"]):
        c = make_customer(name=name, phone=f"1390000{i:04d}", tags=["老客户"] if i % 2 else [])
        make_vehicle(c, plate=f"京A{i:05d}")
    return zhang


def pages_for(customer: Any) -> list[tuple[str, str]]:
    return [
        ("home", "/"),
        ("customers", "/customers/"),
        ("file", f"/customers/{customer.pk}/"),
        ("customer-form", "/customers/new/"),
        ("customer-edit", f"/customers/{customer.pk}/edit/"),
        ("vehicle-form", f"/customers/{customer.pk}/vehicles/new/"),
        ("deleted", "/customers/deleted/"),
        ("staff", "/staff/"),
        ("staff-form", "/staff/new/"),
    ]


@pytest.mark.parametrize("width", [390, 1440])
def test_main_pages_fit_the_screen(
    width: int, request: pytest.FixtureRequest, owner: Any, shop_data: Any, login: Any, shot: Any
) -> None:
    view = request.getfixturevalue("phone_page" if width == 390 else "page")
    view.goto("/login/")
    no_horizontal_scroll(view)
    shot(view, f"console-login-{width}")
    login(view, owner)
    for name, url in pages_for(shop_data):
        view.goto(url)
        expect(view.locator("main h1").first).to_be_visible()
        no_horizontal_scroll(view)
        shot(view, f"console-{name}-{width}")
    # The consent checkboxes sit in a row of readable labels, not squeezed beside the field label.
    view.goto("/customers/new/")
    consents = view.locator(".field:has(input[name=consents])")
    expect(consents.locator("input[type=checkbox]")).to_have_count(4)
    field_box, title_box = consents.bounding_box(), consents.locator("> label").bounding_box()
    assert field_box is not None and title_box is not None
    for label in consents.locator("label:has(input)").all():
        box = label.bounding_box()
        line = label.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
        assert box is not None
        assert box["height"] < 1.5 * line, "a consent choice wraps onto several lines"
        assert box["y"] >= title_box["y"] + title_box["height"], "the choices sit beside the field label"
        assert box["x"] + box["width"] <= field_box["x"] + field_box["width"]
    # A form with errors (long messages) still fits.
    view.goto("/customers/new/")
    view.fill("input[name=phone]", "12345")
    view.click("form.form button[type=submit]")
    expect(view.locator(".field.has-error").first).to_be_visible()
    no_horizontal_scroll(view)
    shot(view, f"console-customer-form-errors-{width}")


def test_phone_menu_opens_from_the_hamburger(
    phone_page: Any, advisor: Any, shop_data: Any, login: Any, shot: Any
) -> None:
    page = phone_page
    login(page, advisor)
    page.goto("/customers/")
    menu, nav = page.locator(MENU), page.locator(NAV)
    expect(menu.locator("summary")).to_be_visible()
    expect(nav).to_be_hidden()
    no_horizontal_scroll(page)

    menu.locator("summary").click()
    expect(menu).to_have_attribute("open", "")
    expect(nav).to_be_visible()
    expect(nav.locator('a[href="/customers/"]')).to_have_class(re.compile(r"\bactive\b"))
    expect(nav.locator("button[name=language]")).to_be_visible()
    # The advisor does not manage staff.
    expect(nav.locator('a[href="/staff/"]')).to_have_count(0)
    box = nav.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    no_horizontal_scroll(page)
    shot(page, "phone-menu-open")

    # Closing it again, then going to the file from the menu's workbench link.
    menu.locator("summary").click()
    expect(nav).to_be_hidden()
    menu.locator("summary").click()
    nav.locator('a[href="/"]').click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(NAV)).to_be_hidden()  # a new page starts with the menu closed

    # The list and the file read well on the phone.
    page.goto("/customers/")
    rows = page.locator("#results table.customers tbody tr")
    expect(rows).to_have_count(5)
    row = rows.filter(has_text="张三丰")
    expect(row.locator(".plate")).to_have_text(["粤B5K2M8", "粤AD12345"])
    for cell in row.locator("td").all():
        cell_box = cell.bounding_box()
        if cell_box:
            assert cell_box["x"] + cell_box["width"] <= 390
    row.locator("td.name a").click()
    expect(page.locator(".file-head h1")).to_contain_text("张三丰")
    expect(page.locator(".vehicle")).to_have_count(2)
    for card in page.locator(".card").all():
        card_box = card.bounding_box()
        assert card_box is not None and card_box["x"] >= 0 and card_box["x"] + card_box["width"] <= 390
    no_horizontal_scroll(page)
    shot(page, "phone-file")


def test_desk_shows_the_side_navigation(page: Any, owner: Any, login: Any) -> None:
    login(page, owner)
    page.goto("/customers/")
    expect(page.locator(MENU)).to_be_hidden()
    nav = page.locator(NAV)
    expect(nav).to_be_visible()
    expect(nav.locator('a[href="/customers/"]')).to_have_class(re.compile(r"\bactive\b"))
    expect(nav.locator('a[href="/staff/"]')).to_be_visible()
    expect(nav.locator(".soon").first).to_have_attribute("aria-disabled", "true")
    # The main column starts right of the side bar, not under it.
    bar = page.locator("header.topbar").bounding_box()
    main = page.locator("main").bounding_box()
    assert bar is not None and main is not None and main["x"] >= bar["x"] + bar["width"]


def test_language_switch_to_english_and_back(phone_page: Any, advisor: Any, login: Any, shot: Any) -> None:
    page = phone_page
    login(page, advisor)
    page.goto("/customers/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-CN")
    customers_link = page.locator(f'{NAV} a[href="/customers/"]')
    expect(customers_link).to_have_text(zh("Customers"), use_inner_text=False)

    page.locator(f"{MENU} > summary").click()
    page.locator(f"{NAV} button[name=language][value=en]").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/customers/$"))  # back on the page it was switched from
    expect(customers_link).to_have_text("Customers", use_inner_text=False)
    expect(page.locator("form.filters button[type=submit]")).to_have_text("Search")
    shot(page, "phone-customers-english")
    # The choice sticks on the next page.
    page.goto("/customers/new/")
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text("Register a customer")

    page.locator(f"{MENU} > summary").click()
    page.locator(f"{NAV} button[name=language][value=zh-hans]").click()
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(page).to_have_url(re.compile(r"/customers/new/$"))
    expect(page.locator("main h1")).to_have_text(zh("Register a customer"))
    expect(page.locator(f"{NAV} button[name=language][value=en]")).to_have_count(1)
