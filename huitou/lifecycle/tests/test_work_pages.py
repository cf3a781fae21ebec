"""The work lists: my follow-ups by due date, the store manager's backlog by staff member, the workbench card."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.customers.services import customer_delete
from huitou.lifecycle.models import FollowUpPlan, FollowUpTask, TaskOrigin
from huitou.tenancy.models import User

pytestmark = pytest.mark.django_db

MINE = reverse("followups:mine")
TEAM = reverse("followups:team")


@pytest.fixture
def no_plans(org):
    """Without the seeded plans a new file schedules nothing: each test sets the tasks it needs."""
    FollowUpPlan.objects.for_org(org).update(is_active=False)


def task(customer: Customer, assignee: User, days: int, action: str = "电话回访", channel: str = "phone"):
    """An open task due ``days`` from today (negative: overdue)."""
    return FollowUpTask.objects.create(
        organization_id=customer.organization_id,
        customer=customer,
        assignee=assignee,
        due_on=timezone.localdate() + dt.timedelta(days=days),
        channel=channel,
        action=action,
        origin=TaskOrigin.NEXT_STEP,
    )


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_my_list_shows_todays_follow_ups_with_the_customer_and_what_to_do(client_for, advisor, make_customer, no_plans):
    zhang = make_customer(name="张三", phone="13812345678")
    Customer.objects.for_org(zhang.organization_id).filter(pk=zhang.pk).update(intent_grade="A")
    due = task(zhang, advisor, 0, action="邀请到店免费检测", channel="wechat")
    task(make_customer(name="明天的"), advisor, 1)
    task(make_customer(name="昨天的"), advisor, -1)

    response = client_for(advisor).get(MINE)

    body = response.content.decode()
    assert [t.pk for t, _phone, _late in response.context["rows"]] == [due.pk]
    assert "张三" in body and "邀请到店免费检测" in body and "13812345678" in body
    assert '<span class="badge grade">A</span>' in body
    assert "明天的" not in body and "昨天的" not in body
    assert f"{reverse('lifecycle:followup_new', args=[zhang.pk])}?task={due.pk}" in body
    assert [(value, n) for value, _label, n in response.context["tabs"]] == [
        ("today", 1),
        ("overdue", 1),
        ("upcoming", 1),
    ]


def test_overdue_follow_ups_say_how_many_days_late_oldest_first(client_for, advisor, make_customer, no_plans):
    week = task(make_customer(name="一周前"), advisor, -7)
    two = task(make_customer(name="两天前"), advisor, -2)
    task(make_customer(name="今天"), advisor, 0)

    response = client_for(advisor).get(MINE + "?due=overdue")

    assert [(t.pk, late) for t, _phone, late in response.context["rows"]] == [(week.pk, 7), (two.pk, 2)]
    body = response.content.decode()
    assert body.count('class="is-late"') == 2 and "今天" not in body.split('id="results"')[1]


def test_upcoming_shows_what_is_planned_after_today(client_for, advisor, make_customer, no_plans):
    later = task(make_customer(name="下周"), advisor, 7)
    task(make_customer(name="今天"), advisor, 0)
    response = client_for(advisor).get(MINE + "?due=upcoming")
    assert [t.pk for t, _p, _l in response.context["rows"]] == [later.pk]


def test_the_list_holds_only_my_open_tasks_of_files_not_deleted(
    client_for, advisor, service, owner, make_customer, no_plans
):
    mine = task(make_customer(name="我的"), advisor, 0)
    task(make_customer(name="同事的"), service, 0)
    done = task(make_customer(name="做完的"), advisor, 0)
    FollowUpTask.objects.for_org(done.organization_id).filter(pk=done.pk).update(
        closed_at=timezone.now(), closed_as="done"
    )
    gone = make_customer(name="删掉的")
    task(gone, advisor, 0)
    customer_delete(customer=gone, by=owner)

    response = client_for(advisor).get(MINE)

    assert [t.pk for t, _p, _l in response.context["rows"]] == [mine.pk]
    assert response.context["tabs"][0][2] == 1


def test_the_list_pages_by_twenty(client_for, advisor, make_customer, no_plans):
    for i in range(25):
        task(make_customer(name=f"客户{i}"), advisor, -1 - i)
    client = client_for(advisor)
    first = client.get(MINE + "?due=overdue")
    second = client.get(MINE + "?due=overdue&page=2", headers={"HX-Request": "true"})
    assert len(first.context["rows"]) == 20 and len(second.context["rows"]) == 5
    assert "<html" not in second.content.decode()  # the pager's htmx request gets the rows only


def test_the_list_runs_the_same_queries_for_three_tasks_or_thirty(
    client_for, advisor, make_customer, make_vehicle, no_plans, django_assert_num_queries
):
    for i in range(3):
        task(make_customer(name=f"少{i}"), advisor, -1)
    client = client_for(advisor)
    few = _queries(client, MINE + "?due=overdue")
    for i in range(27):
        customer = make_customer(name=f"多{i}")
        make_vehicle(customer)
        task(customer, advisor, -2)
    # 1 session, 2 user + organization, 3 the three tab counts (the page count among
    # them), 4 one page of tasks with customer and assignee, 5 the user's shops (switcher).
    with django_assert_num_queries(5):
        response = client.get(MINE + "?due=overdue")
    assert len(response.context["rows"]) == 20
    assert response.context["page"].paginator.count == 30
    assert response.context["page"].paginator.num_pages == 2
    assert _queries(client, MINE + "?due=overdue") == few


def test_a_technician_has_no_follow_up_list(client_for, tech):
    assert client_for(tech).get(MINE).status_code == 403


def test_an_advisor_sees_neither_the_team_view_nor_a_colleagues_list(client_for, advisor, service):
    client = client_for(advisor)
    assert client.get(TEAM).status_code == 403
    assert client.get(f"{MINE}?owner={service.pk}&due=overdue").status_code == 403
    assert client.get(f"{MINE}?owner={advisor.pk}").status_code == 200  # naming oneself is fine


def test_the_team_view_counts_each_staff_members_overdue_and_today_and_the_oldest(
    client_for, owner, advisor, service, make_customer, no_plans
):
    for days in (-10, -3, 0):
        task(make_customer(), advisor, days)
    task(make_customer(), service, 0)
    task(make_customer(), service, 5)  # upcoming: not in the backlog

    response = client_for(owner).get(TEAM)

    rows = [(b.staff, b.overdue, b.today, waited) for b, waited in response.context["rows"]]
    assert rows == [(advisor, 2, 1, 10), (service, 0, 1, None)]
    body = response.content.decode()
    assert f"{MINE}?owner={advisor.pk}&amp;due=overdue" in body
    assert response.context["totals"] == {"overdue": 2, "today": 2}


def test_the_team_view_shows_a_page_of_staff_and_everyones_totals(
    client_for, owner, org, make_customer, no_plans, monkeypatch
):
    from huitou.tenancy.services import staff_create
    from huitou.testing.fixtures import PASSWORD
    from huitou.web import paging

    monkeypatch.setattr(paging, "TEAM_PAGE", 2)
    people = [
        staff_create(
            organization=org, username=f"t{n}", password=PASSWORD, role="advisor", display_name="", validate=False
        )
        for n in range(3)
    ]
    customer = make_customer()
    for n, person in enumerate(people):  # t0 has 3 overdue, t1 2, t2 1: the longest waits first
        for _ in range(3 - n):
            task(customer, person, -1)
    client = client_for(owner)
    first = client.get(TEAM)
    assert [b.staff for b, _waited in first.context["rows"]] == people[:2]
    assert first.context["totals"] == {"overdue": 6, "today": 0}
    assert 'href="?page=2"' in first.content.decode()
    second = client.get(f"{TEAM}?page=2", headers={"HX-Request": "true"})
    assert [b.staff for b, _waited in second.context["rows"]] == people[2:]
    assert second.context["totals"] == {"overdue": 6, "today": 0}
    assert "<html" not in second.content.decode()  # the table alone, for htmx
    assert 'href="?page=1"' in second.content.decode()


def test_the_store_manager_opens_a_staff_members_overdue_list(client_for, owner, advisor, make_customer, no_plans):
    late = task(make_customer(name="拖了"), advisor, -4)
    response = client_for(owner).get(f"{MINE}?owner={advisor.pk}&due=overdue")
    assert response.context["assignee"] == advisor
    assert [t.pk for t, _p, _l in response.context["rows"]] == [late.pk]
    body = response.content.decode()
    assert "李顾问" in body
    assert f'href="?owner={advisor.pk}&amp;due=today"' in body or f'href="?owner={advisor.pk}&due=today"' in body


def test_staff_of_another_organization_in_owner_is_not_found(client_for, owner, outsider):
    assert client_for(owner).get(f"{MINE}?owner={outsider.pk}").status_code == 404
    assert client_for(owner).get(f"{MINE}?owner=nonsense").status_code == 404


def test_the_team_view_runs_a_fixed_number_of_queries(
    client_for, owner, advisor, service, make_customer, no_plans, django_assert_num_queries
):
    for i in range(30):
        task(make_customer(), advisor if i % 2 else service, -i)
    client = client_for(owner)
    # 1 session, 2 user + organization, 3 counts by staff member, 4 the staff members,
    # 5 the user's shops (switcher).
    with django_assert_num_queries(5):
        assert client.get(TEAM).status_code == 200


def test_the_workbench_shows_my_follow_ups_today_and_overdue(
    client_for: Callable[[User], object], advisor, make_customer, no_plans
):
    task(make_customer(), advisor, 0)
    task(make_customer(), advisor, -1)
    task(make_customer(), advisor, -9)
    response = client_for(advisor).get(reverse("web:home"))
    summary = response.context["summary"]
    assert (summary.followups_today, summary.followups_overdue) == (1, 2)
    assert f"{MINE}?due=overdue" in response.content.decode()


def test_the_nav_links_the_follow_ups_for_front_staff_and_the_plans_for_the_store_manager(
    client_for, owner, advisor, tech
):
    home = reverse("web:home")
    advisor_page = client_for(advisor).get(home).content.decode()
    owner_page = client_for(owner).get(home).content.decode()
    tech_page = client_for(tech).get(home).content.decode()
    assert f'href="{MINE}"' in advisor_page and f'href="{MINE}"' not in tech_page
    plans = reverse("followups:plans")
    assert f'href="{plans}"' in owner_page and f'href="{plans}"' not in advisor_page
