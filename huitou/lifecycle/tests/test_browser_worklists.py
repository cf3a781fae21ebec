"""The follow-up work lists in Chromium: an advisor's overdue list leads to the form, the manager sees the team."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huitou.lifecycle.models import FollowUp, FollowUpTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_overdue_follow_up_is_recorded_from_the_work_list_and_the_team_view_counts_it(
    page: Any, phone_page: Any, advisor: Any, service: Any, owner: Any, make_customer: Any, login: Any, shot: Any
) -> None:
    today = timezone.localdate()
    late = make_customer(name="王先生", by=advisor, source="flyer", need="四轮定位")
    make_customer(name="赵女士", by=advisor, source="wechat")
    make_customer(name="孙先生", by=service, source="walk_in")
    FollowUpTask.objects.filter(customer=late, due_on=today).update(due_on=today - dt.timedelta(days=3))

    # The advisor's overdue list on a phone: one customer, three days late.
    login(phone_page, advisor)
    phone_page.goto("/followups/?due=overdue")
    rows = phone_page.locator("table.work tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.name")).to_have_text("王先生")
    expect(rows.first).to_have_class(re.compile(r"\bis-late\b"))
    shot(phone_page, "worklist-01-overdue-phone")

    # "Record follow-up" opens the file's form for that task; recording it empties the list.
    rows.first.locator("a.record").click()
    expect(phone_page).to_have_url(re.compile(rf"/customers/{late.pk}/followups/new/\?task=\d+$"))
    form = phone_page.locator("main form").filter(has=phone_page.locator("textarea[name=content]")).first
    form.locator("select[name=channel]").select_option("phone")
    form.locator("textarea[name=content]").fill("电话确认周六到店做四轮定位")
    form.locator("button[type=submit]").click()
    expect(phone_page.locator("#file-stage")).to_be_visible()
    assert FollowUp.objects.filter(customer=late, task__isnull=False).count() == 1
    phone_page.goto("/followups/?due=overdue")
    expect(phone_page.locator("table.work tbody tr")).to_have_count(0)

    # The store manager's team view on a desk: who has what due today.
    login(page, owner)
    page.goto("/followups/team/")
    team = page.locator("table.team tbody tr")
    expect(team).to_have_count(2)
    expect(team.filter(has_text=advisor.display_name)).to_have_count(1)
    expect(team.filter(has_text=service.display_name)).to_have_count(1)
    shot(page, "worklist-02-team-desk")
    page.goto("/followups/")
    shot(page, "worklist-03-mine-desk")
