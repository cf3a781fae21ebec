"""Whom a care rule reaches, set in Chromium on a phone and read on a desk."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from huitou.care.models import CareKind
from huitou.care.services.rules import rules_for
from huitou.customers.models import Tag
from huitou.testing.browser import artifacts_dir, no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_store_manager_limits_festival_greetings_to_grade_a_and_a_tag(
    phone_page: Any, page: Any, login: Any, shot: Any, org: Any, owner: Any
) -> None:
    for name in ("车队", "老客户", "转介绍达人", "公务车", "新能源车主"):
        Tag.objects.create(organization=org, name=name)
    fleet = Tag.objects.for_org(org).get(name="车队")

    login(phone_page, owner)
    phone_page.goto("/care/rules/")
    card = phone_page.locator("#rule-festival")
    expect(card.locator(".care-audience")).to_contain_text("所有客户")
    expect(phone_page.locator("#rule-callback input[name='callback-grades']")).to_have_count(0)
    card.locator("input[name='festival-grades'][value='A']").check()
    card.locator(f"input[name='festival-tags'][value='{fleet.pk}']").check()
    no_horizontal_scroll(phone_page)
    card.locator("button[type=submit]").click()

    expect(phone_page.locator(".msg")).to_contain_text("已保存")
    card = phone_page.locator("#rule-festival")
    expect(card.locator(".care-audience")).to_contain_text("A 级 · 标签：车队")
    expect(card.locator("input[name='festival-grades'][value='A']")).to_be_checked()
    no_horizontal_scroll(phone_page)
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(artifacts_dir() / "care-rule-audience-390.png"))
    rule = rules_for(org)[CareKind.FESTIVAL]
    assert (rule.grades, rule.tag_ids) == (("A",), (fleet.pk,))

    login(page, owner)
    page.goto("/care/rules/")
    expect(page.locator("#rule-festival .care-audience")).to_contain_text("A 级 · 标签：车队")
    expect(page.locator("#rule-birthday .care-audience")).to_contain_text("所有客户")
    no_horizontal_scroll(page)
    shot(page, "care-rule-audience-1440")
