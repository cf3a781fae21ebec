"""A service advisor clicking through the customer pages in Chromium.

Selectors rely on form field names, hrefs, form actions and CSS classes, not
on UI wording, because the wording is being translated. Where a test checks
a message it compares with the message as the zh-hans catalogue renders it,
so the tests hold before and after the translation lands.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from huitou.customers import errors
from huitou.customers.models import Customer, Stage, Vehicle
from huitou.testing.fixtures import PASSWORD
from huitou.testing.text import zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VALID_VIN = "1M8GDM9AXKP042788"  # check digit X is right
BAD_CHECK_VIN = "1M8GDM9A1KP042788"  # 9th character changed: the check digit fails
FILE_URL = re.compile(r"/customers/(\d+)/(#.*)?$")


def field(page: Any, name: str) -> Any:
    """The form field wrapper (label, input, help, errors) of the input called ``name``."""
    return page.locator(f".field:has([name={name}])")


def test_advisor_registers_customer_with_vehicle_and_mileage(page: Any, advisor: Any, shot: Any) -> None:
    # Sign in through the form, in Chinese.
    page.goto("/customers/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("form button[type=submit]")).to_have_text(zh("Sign in"))
    page.fill("input[name=username]", advisor.username)
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    expect(page.locator(".form-errors")).to_have_text(zh("The username or password is wrong. Both are case-sensitive."))
    expect(page.locator("input[name=username]")).to_have_value(advisor.username)
    shot(page, "flow-01-login-error")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.locator(".empty")).to_be_visible()

    # Register a customer.
    page.click('main a[href$="/customers/new/"]')
    expect(page.locator("select[name=owner]")).to_have_value(str(advisor.pk))
    page.fill("input[name=name]", "张三丰")
    page.fill("input[name=phone]", "138 1234 5678")
    page.select_option("select[name=source]", "referral")
    page.fill("input[name=tags]", "VIP，爱车如命")
    page.fill("input[name=occupation]", "武馆馆主")
    page.check("input[name=consents][value=sms]")
    page.select_option("select[name=consent_method]", "paper_form")
    page.fill("input[name=consent_purpose]", "保养提醒和会员优惠")
    shot(page, "flow-02-customer-form")
    page.click("form.form button[type=submit]")

    expect(page).to_have_url(FILE_URL)
    expect(page.locator(".msg-success")).to_contain_text("张三丰")
    head = page.locator(".file-head")
    expect(head.locator("h1")).to_contain_text("张三丰")
    expect(head.locator(".phone")).to_have_text("13812345678")
    expect(head).to_contain_text("老带新")
    expect(head.locator(".tag")).to_have_text(["VIP", "爱车如命"])
    expect(page.locator(".consents li.on")).to_have_count(1)
    expect(page.locator(".consents li").first).to_have_class("on")
    page.locator("details:has(.timeline.small) > summary").click()
    expect(page.locator(".timeline.small li")).to_contain_text("保养提醒和会员优惠")
    customer = Customer.objects.for_org(advisor.organization_id).get(name="张三丰")
    assert customer.phone == "+8613812345678"
    assert customer.consent_sms and not customer.consent_wechat

    # Add a vehicle whose VIN check digit is wrong: refused until confirmed.
    page.click(f'a[href$="/customers/{customer.pk}/vehicles/new/"]')
    expect(page.locator("input[name=vin_confirmed]")).to_have_count(0)
    page.fill("input[name=plate]", "粤b5k2m8")
    page.fill("input[name=vin]", BAD_CHECK_VIN.lower())
    page.fill("input[name=brand]", "丰田")
    page.fill("input[name=model]", "凯美瑞")
    page.fill("input[name=year]", "2019")
    page.click("form.form button[type=submit]")
    expect(page.locator(".form-errors")).to_be_visible()
    expect(field(page, "vin")).to_have_class(re.compile(r"\bhas-error\b"))
    expect(field(page, "vin").locator(".error")).to_have_text(zh(errors.VIN_CHECK_FAILED))
    expect(field(page, "plate")).not_to_have_class(re.compile(r"\bhas-error\b"))
    expect(page.locator("input[name=brand]")).to_have_value("丰田")
    expect(page.locator("input[name=year]")).to_have_value("2019")
    shot(page, "flow-03-vin-check-digit")
    page.check("input[name=vin_confirmed]")
    page.click("form.form button[type=submit]")

    expect(page).to_have_url(FILE_URL)
    vehicle = Vehicle.objects.get(customer=customer)
    card = page.locator(f"#vehicle-{vehicle.pk}")
    expect(card.locator(".plate.big")).to_have_text("粤B5K2M8")
    expect(card.locator("dd.mono")).to_contain_text(BAD_CHECK_VIN)
    expect(card.locator("dd.mono .badge.warn")).to_be_visible()
    assert vehicle.vin_check_failed

    # Record mileage; a lower reading is refused with a clear message.
    mileage = card.locator('form[action$="/mileage/"]')
    mileage.locator("input[name=km]").fill("52000")
    mileage.locator("button[type=submit]").click()
    expect(page.locator(".msg-success")).to_be_visible()
    expect(card.locator("dl.facts")).to_contain_text("52000 km")
    mileage.locator("input[name=km]").fill("51000")
    mileage.locator("button[type=submit]").click()
    expect(page.locator(".msg-error")).to_have_text(zh(errors.MILEAGE_LOWER, km=51000, previous=52000))
    expect(card.locator("dl.facts")).to_contain_text("52000 km")
    shot(page, "flow-04-mileage-refused")
    # Marked as an odometer replacement, a lower reading is accepted.
    mileage.locator("input[name=km]").fill("800")
    mileage.locator("input[name=odometer_replaced]").check()
    mileage.locator("button[type=submit]").click()
    expect(page.locator(".msg-success")).to_be_visible()
    expect(card.locator("dl.facts")).to_contain_text("800 km")
    card.locator("details.readings > summary").click()
    expect(card.locator("details.readings tbody tr")).to_have_count(2)
    expect(card.locator("details.readings tbody tr").first.locator(".badge.warn")).to_be_visible()
    shot(page, "flow-05-customer-file")


def test_search_by_initials_plate_and_phone(
    page: Any, advisor: Any, login: Any, shot: Any, make_customer: Any, make_vehicle: Any
) -> None:
    zhang = make_customer(name="张三丰", phone="13812345678", tags=["VIP"])
    make_vehicle(zhang, plate="粤B5K2M8")
    li = make_customer(name="李四", phone="13900001111", stage=Stage.CUSTOMER)
    make_vehicle(li, plate="京A12345")
    make_customer(name="王小明", phone="13700002222")
    login(page, advisor)

    # Plain submit from the workbench search bar (no htmx there): part of the plate, no province.
    page.goto("/")
    page.fill("form.searchbar input[name=q]", "5k2m")
    page.click("form.searchbar button[type=submit]")
    expect(page).to_have_url(re.compile(r"/customers/\?q=5k2m$"))
    rows = page.locator("#results table.customers tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.name a")).to_have_text("张三丰")
    expect(page.locator("input[name=q]")).to_have_value("5k2m")

    # Live search on the list: type, the results update without a page load.
    page.goto("/customers/")
    expect(rows).to_have_count(3)
    page.evaluate("window.__same_page = true")
    search = page.locator("form.filters input[name=q]")
    search.press_sequentially("zsf", delay=30)
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.name a")).to_have_text("张三丰")
    expect(rows.first.locator(".plate")).to_have_text("粤B5K2M8")
    expect(page).to_have_url(re.compile(r"q=zsf"))
    shot(page, "search-01-initials")

    search.fill("B5K2")
    expect(rows.first.locator("td.name a")).to_have_text("张三丰")
    expect(page).to_have_url(re.compile(r"q=B5K2"))
    expect(rows).to_have_count(1)

    search.fill("A123")
    expect(rows.first.locator("td.name a")).to_have_text("李四")
    expect(rows).to_have_count(1)

    search.fill("1111")  # last 4 digits of the phone
    expect(rows.first.locator("td.name a")).to_have_text("李四")

    search.fill("nobody-xyz")
    expect(rows).to_have_count(0)
    expect(page.locator("#results .empty")).to_contain_text("nobody-xyz")

    # Submitting the form (Enter) searches too; so does a filter change.
    search.fill("")
    expect(rows).to_have_count(3)
    page.select_option("form.filters select[name=stage]", Stage.CUSTOMER)
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.name a")).to_have_text("李四")
    page.select_option("form.filters select[name=stage]", "")
    expect(rows).to_have_count(3)
    search.fill("zhangsanfeng")
    search.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.name a")).to_have_text("张三丰")
    assert page.evaluate("window.__same_page") is True  # all of it without leaving the page

    # The pushed URL reloads to the same results (the non-htmx render of the list).
    page.reload()
    expect(search).to_have_value("zhangsanfeng")
    expect(rows).to_have_count(1)

    rows.first.locator("td.name a").click()
    expect(page).to_have_url(re.compile(rf"/customers/{zhang.pk}/$"))
    expect(page.locator(".file-head h1")).to_contain_text("张三丰")


def test_search_without_javascript(browser: Any, live_server: Any, advisor: Any, make_customer: Any) -> None:
    make_customer(name="张三丰", phone="13812345678")
    make_customer(name="李四", phone="13900001111")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="zh-CN")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto("/login/")
        page.fill("input[name=username]", advisor.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto("/customers/")
        page.fill("form.filters input[name=q]", "zsf")
        page.click("form.filters button[type=submit]")
        expect(page).to_have_url(re.compile(r"/customers/\?q=zsf"))
        rows = page.locator("#results table.customers tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first.locator("td.name a")).to_have_text("张三丰")
    finally:
        context.close()


def test_edit_customer_shows_history(
    page: Any, advisor: Any, owner: Any, login: Any, shot: Any, make_customer: Any
) -> None:
    customer = make_customer(name="张三丰", phone="13812345678", occupation="教师", tags=["VIP"])
    login(page, advisor)
    page.goto(f"/customers/{customer.pk}/")
    page.click(f'a[href$="/customers/{customer.pk}/edit/"]')

    expect(page.locator("input[name=name]")).to_have_value("张三丰")
    expect(page.locator("input[name=phone]")).to_have_value("13812345678")
    expect(page.locator("input[name=tags]")).to_have_value("VIP")
    expect(page.locator("input[name=occupation]")).to_have_value("教师")
    page.fill("input[name=occupation]", "出租车司机")
    page.select_option("select[name=owner]", str(owner.pk))
    page.click("form.form button[type=submit]")

    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.locator(".msg-success")).to_be_visible()
    head = page.locator(".file-head")
    expect(head).to_contain_text(owner.display_name)
    expect(head.locator(".badge").first).to_have_class(re.compile(r"\bstage-prospect\b"))

    latest = page.locator("#h-history ~ .timeline > li").first
    expect(latest.locator("strong")).to_have_text(advisor.display_name)
    changes = latest.locator(".changes li")
    expect(changes).to_have_count(2)
    occupation = changes.filter(has_text="出租车司机")
    expect(occupation.locator("del")).to_have_text("教师")
    expect(occupation.locator("ins")).to_have_text("出租车司机")
    owner_change = changes.filter(has_text=owner.display_name)
    expect(owner_change.locator("del")).to_have_text(advisor.display_name)
    expect(owner_change.locator("ins")).to_have_text(owner.display_name)
    # The creation is further down the timeline.
    expect(page.locator("#h-history ~ .timeline > li")).to_have_count(2)
    shot(page, "edit-01-history")


def test_form_errors_are_shown_next_to_the_field(
    page: Any, advisor: Any, login: Any, shot: Any, make_customer: Any
) -> None:
    customer = make_customer(name="李四", phone="13900001111")
    login(page, advisor)

    page.goto("/customers/new/")
    page.fill("input[name=name]", "张三丰")
    page.fill("input[name=phone]", "12345")
    page.fill("input[name=wechat]", "zsf_wudang")
    page.fill("input[name=occupation]", "武馆馆主")
    page.fill("input[name=tags]", "VIP")
    page.select_option("select[name=source]", "referral")
    page.click("form.form button[type=submit]")

    expect(page).to_have_url(re.compile(r"/customers/new/$"))
    expect(page.locator(".form-errors[role=alert]")).to_be_visible()
    phone = field(page, "phone")
    expect(phone).to_have_class(re.compile(r"\bhas-error\b"))
    expect(phone.locator(".error")).to_have_text(zh(errors.PHONE_INVALID))
    expect(page.locator(".field.has-error")).to_have_count(1)
    expect(page.locator("input[name=phone]")).to_have_value("12345")
    expect(page.locator("input[name=name]")).to_have_value("张三丰")
    expect(page.locator("input[name=wechat]")).to_have_value("zsf_wudang")
    expect(page.locator("input[name=occupation]")).to_have_value("武馆馆主")
    expect(page.locator("input[name=tags]")).to_have_value("VIP")
    expect(page.locator("select[name=source]")).to_have_value("referral")
    shot(page, "errors-01-phone")

    # A phone another customer already has; and no name: Django's own message, already Chinese.
    page.fill("input[name=phone]", "139-0000-1111")
    page.fill("input[name=name]", "")
    page.click("form.form button[type=submit]")
    expect(field(page, "name").locator(".error")).to_have_text("这个字段是必填项。")
    page.fill("input[name=name]", "张三丰")
    page.click("form.form button[type=submit]")
    expect(field(page, "phone").locator(".error")).to_have_text(zh(errors.PHONE_TAKEN))

    page.fill("input[name=phone]", "13812345678")
    page.click("form.form button[type=submit]")
    expect(page).to_have_url(FILE_URL)
    expect(page.locator(".file-head h1")).to_contain_text("张三丰")

    # A malformed plate, and a VIN of the wrong length, on the vehicle form.
    page.goto(f"/customers/{customer.pk}/vehicles/new/")
    page.fill("input[name=plate]", "粤12345")
    page.fill("input[name=vin]", "LSVAB1234")
    page.fill("input[name=brand]", "大众")
    page.fill("input[name=year]", "1900")
    page.click("form.form button[type=submit]")
    expect(field(page, "plate")).to_have_class(re.compile(r"\bhas-error\b"))
    expect(field(page, "plate").locator(".error")).to_have_text(zh(errors.PLATE_INVALID))
    expect(page.locator("input[name=plate]")).to_have_value("粤12345")
    expect(page.locator("input[name=brand]")).to_have_value("大众")
    expect(field(page, "year").locator(".error")).to_have_text(zh(errors.YEAR_INVALID))
    shot(page, "errors-02-plate")
    page.fill("input[name=year]", "2021")
    page.fill("input[name=plate]", "粤B12345")
    page.click("form.form button[type=submit]")
    expect(field(page, "vin").locator(".error")).to_have_text(zh(errors.VIN_INVALID))
    expect(field(page, "plate")).not_to_have_class(re.compile(r"\bhas-error\b"))
    page.fill("input[name=vin]", VALID_VIN)
    page.click("form.form button[type=submit]")
    expect(page).to_have_url(FILE_URL)
    expect(page.locator(".vehicle .plate.big")).to_have_text("粤B12345")
    expect(page.locator(".vehicle dd.mono .badge.warn")).to_have_count(0)


def test_technician_sees_masked_phones(
    page: Any, tech: Any, login: Any, shot: Any, make_customer: Any, make_vehicle: Any
) -> None:
    customer = make_customer(name="张三丰", phone="13812345678")
    make_vehicle(customer, plate="粤B5K2M8", mileage_km=30000)
    login(page, tech)

    page.goto("/customers/")
    row = page.locator("#results table.customers tbody tr").filter(has_text="张三丰")
    expect(row).to_contain_text("138****5678")
    expect(page.locator("main")).not_to_contain_text("13812345678")
    expect(page.locator('a[href$="/customers/new/"]')).to_have_count(0)
    shot(page, "tech-01-list")

    # Searching by the full number still finds the customer, but shows it masked.
    page.fill("form.filters input[name=q]", "13812345678")
    expect(row).to_contain_text("138****5678")
    expect(page.locator("#results")).not_to_contain_text("13812345678")

    row.locator("td.name a").click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.locator(".file-head .phone")).to_have_text("138****5678")
    expect(page.locator("main")).not_to_contain_text("13812345678")
    expect(page.locator("main")).to_contain_text("138****5678")
    # No editing, but a technician may record mileage.
    expect(page.locator('a[href$="/edit/"]')).to_have_count(0)
    expect(page.locator('a[href$="/vehicles/new/"]')).to_have_count(0)
    page.fill('form[action$="/mileage/"] input[name=km]', "31000")
    page.click('form[action$="/mileage/"] button[type=submit]')
    expect(page.locator(".vehicle dl.facts")).to_contain_text("31000 km")
    shot(page, "tech-02-file")
