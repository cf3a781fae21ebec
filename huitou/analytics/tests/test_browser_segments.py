"""The store manager saves the customer list's filters as a segment and opens it, at a desk and on a phone.

Selectors rely on URLs, form field names, ids, classes and ``data-*`` attributes, not on UI wording.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from huitou.analytics.models import Segment
from huitou.analytics.tests.segment_dataset import SegmentWorld, segment_world  # noqa: F401 - the fixture
from huitou.tenancy.models import User
from huitou.testing.browser import no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_store_manager_saves_the_lists_filters_as_a_segment_and_opens_it(
    page: Any,
    phone_page: Any,
    segment_world: SegmentWorld,  # noqa: F811
    owner: User,
    tech: User,
    login: Any,
    shot: Any,
) -> None:
    login(page, owner)
    page.goto("/customers/")
    expect(page.locator("table.customers tbody tr")).to_have_count(3)

    # Filter the list by grade A (张一, and 李二 graded by hand), then save the filters as a segment.
    page.select_option("select[name=customer_grade]", "A")
    expect(page).to_have_url(re.compile(r"customer_grade=A"))
    expect(page.locator("table.customers tbody tr")).to_have_count(2)
    shot(page, "segments-00-desk-customers")
    page.click("a.save-segment")
    expect(page).to_have_url(re.compile(r"/customers/segments/new/\?.*customer_grade=A"))
    expect(page.locator("select[name=customer_grade]")).to_have_value("A")
    page.fill("input[name=name]", "A级客户")
    page.fill("input[name=spend_min]", "500")
    page.fill("input[name=brand]", "丰田")
    shot(page, "segments-01-desk-form")
    page.click("form.segment-form button[type=submit]")

    segment = Segment.objects.for_org(segment_world.org).get(name="A级客户")
    expect(page).to_have_url(re.compile(rf"/customers/segments/{segment.pk}/$"))
    expect(page.locator("table.customers tbody tr")).to_have_count(1)
    expect(page.locator("table.customers td.name")).to_contain_text("李二")
    expect(page.locator("ul.conditions li")).to_have_count(3)
    shot(page, "segments-02-desk-segment")

    page.goto("/customers/segments/")
    expect(page.locator(f'li[data-segment="{segment.pk}"] ul.conditions li')).to_have_count(3)
    shot(page, "segments-03-desk-list")

    # A technician opens it on a phone: the same customers, phones masked, nothing to change.
    login(phone_page, tech)
    phone_page.goto("/customers/segments/")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "segments-04-phone-list")
    phone_page.click(f'li[data-segment="{segment.pk}"] h2 a')
    expect(phone_page).to_have_url(re.compile(rf"/customers/segments/{segment.pk}/$"))
    expect(phone_page.locator("table.customers td.name")).to_contain_text("李二")
    expect(phone_page.locator("table.customers")).to_contain_text("138****0002")
    expect(phone_page.locator(f'a[href="/customers/segments/{segment.pk}/edit/"]')).to_have_count(0)
    no_horizontal_scroll(phone_page)
    shot(phone_page, "segments-05-phone-segment")

    # The store manager's form at a phone's width.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/customers/segments/{segment.pk}/edit/")
    expect(page.locator("input[name=name]")).to_have_value("A级客户")
    no_horizontal_scroll(page)
    shot(page, "segments-06-phone-form")
