"""The care pages: my work list by tab, one task closed as done or skipped, late tasks by staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from huitou.care import errors
from huitou.care.models import CallbackQuestion, CareKind, CareTask
from huitou.customers.models import Customer
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

MINE = reverse("care:mine")
TEAM = reverse("care:team")
TODAY = timezone.localdate()


def task(
    customer: Customer,
    owner: User,
    days: int,
    kind: str = CareKind.MAINTENANCE,
    reason: str = "小保养预计 12月9日 到期：上次 2026-06-02 · 41,200 km，日均 38 km",
    script: str = "您好，您的爱车快到保养时间了",
    vehicle: Any = None,
) -> CareTask:
    """An open care task due ``days`` from today (negative: overdue)."""
    return CareTask.objects.create(
        organization_id=customer.organization_id,
        kind=kind,
        key=f"{kind}:{customer.pk}:{days}:{owner.pk}:{reason}",
        customer=customer,
        vehicle=vehicle,
        owner=owner,
        due_on=TODAY + dt.timedelta(days=days),
        reason=reason,
        script=script,
        created_at=timezone.now(),
    )


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# --- the work list ---------------------------------------------------------------------------


def test_my_list_shows_todays_tasks_with_owner_kind_due_date_reason_and_script(
    client_for: Callable[[User], Client], advisor: User, service: User, make_customer: Any, make_vehicle: Any
) -> None:
    zhang = make_customer(name="张三", phone="13812345678")
    car = make_vehicle(zhang, plate="粤B12345")
    due = task(zhang, advisor, 0, vehicle=car)
    task(make_customer(name="明天的"), advisor, 1)
    task(make_customer(name="下周以后的"), advisor, 8)
    task(make_customer(name="昨天的"), advisor, -1)
    task(make_customer(name="同事的"), service, 0)

    response = client_for(advisor).get(MINE)

    body = response.content.decode()
    assert [t.pk for t, _phone, _late in response.context["rows"]] == [due.pk]
    assert "张三" in body and "粤B12345" in body and "保养到期" in body  # the kind, in Chinese
    assert "小保养预计 12月9日 到期：上次 2026-06-02 · 41,200 km，日均 38 km" in body
    assert "您好，您的爱车快到保养时间了" in body
    assert f"负责人：{advisor}" in body
    assert 'href="tel:13812345678"' in body
    assert f"{reverse('care:task', args=[due.pk])}?next=" in body
    for other in ("明天的", "昨天的", "同事的", "下周以后的"):
        assert other not in body
    assert [(value, n) for value, _label, n in response.context["tabs"]] == [("today", 1), ("overdue", 1), ("week", 1)]


def test_a_task_opens_the_message_page_with_the_text_of_its_kind(
    client_for: Callable[[User], Client], advisor: User, make_customer: Any
) -> None:
    from huitou.messaging.starter import messaging_seed

    zhang = make_customer(name="张三", phone="13812345678")
    messaging_seed(organization=zhang.organization_id)
    task(zhang, advisor, 0, kind=CareKind.INSURANCE)
    client = client_for(advisor)

    link = f"{reverse('messaging:send', args=[zhang.pk])}?template=insurance"
    assert f'href="{link}"' in client.get(MINE).content.decode()
    page = client.get(link)
    chosen = page.context["form"].templates[page.context["form"]["template"].value()]
    assert chosen.code == "insurance"
    assert page.context["preview"].startswith("张三您好，您爱车")  # the insurance text, filled for this customer


def test_every_kind_of_care_has_a_starter_message() -> None:
    from huitou.messaging.starter import STARTER

    assert {code for code, *_ in STARTER} == set(CareKind.values)


def test_overdue_tasks_say_how_late_oldest_first_and_the_week_is_the_next_seven_days(
    client_for: Callable[[User], Client], advisor: User, make_customer: Any
) -> None:
    week = task(make_customer(name="一周前"), advisor, -7)
    two = task(make_customer(name="两天前"), advisor, -2)
    tomorrow = task(make_customer(name="明天"), advisor, 1)
    seventh = task(make_customer(name="第七天"), advisor, 7)
    task(make_customer(name="第八天"), advisor, 8)
    client = client_for(advisor)

    overdue = client.get(MINE + "?due=overdue")
    coming = client.get(MINE + "?due=week")

    assert [(t.pk, late) for t, _phone, late in overdue.context["rows"]] == [(week.pk, 7), (two.pk, 2)]
    assert "7天前到期" in overdue.content.decode() or "逾期 7 天" in overdue.content.decode()
    assert [t.pk for t, _phone, _late in coming.context["rows"]] == [tomorrow.pk, seventh.pk]


def test_the_list_runs_the_same_queries_for_one_task_or_a_full_page(
    client_for: Callable[[User], Client],
    advisor: User,
    make_customer: Any,
    make_vehicle: Any,
    django_assert_num_queries: Any,
) -> None:
    first = make_customer(name="第一位")
    task(first, advisor, 0, vehicle=make_vehicle(first))
    client = client_for(advisor)
    one = _queries(client, MINE)
    for i in range(30):
        customer = make_customer(name=f"客户甲{i}")
        task(
            customer,
            advisor,
            0,
            kind=CareKind.CALLBACK if i % 2 else CareKind.INSURANCE,
            vehicle=make_vehicle(customer),
        )

    # 1 session, 2 user + organization, 3 the tab counts (the page count among them),
    # 4 one page of tasks + customers, vehicles and owners, 5 the user's shops (switcher).
    with django_assert_num_queries(5):
        response = client.get(MINE)
    assert len(response.context["rows"]) == 20
    assert response.context["page"].paginator.count == 31
    assert one == 5


def test_a_store_manager_opens_a_colleagues_list_and_others_may_not(
    client_for: Callable[[User], Client], owner: User, advisor: User, service: User, make_customer: Any
) -> None:
    task(make_customer(name="顾问的客户"), advisor, -3)

    as_manager = client_for(owner).get(f"{MINE}?owner={advisor.pk}&due=overdue")
    as_colleague = client_for(service).get(f"{MINE}?owner={advisor.pk}&due=overdue")

    assert as_manager.status_code == 200
    assert "顾问的客户" in as_manager.content.decode()
    assert as_manager.context["owner"] == advisor
    assert as_colleague.status_code == 403


def test_technicians_have_no_care_list_and_no_menu_entry(
    client_for: Callable[[User], Client], tech: User, advisor: User
) -> None:
    assert client_for(tech).get(MINE).status_code == 403
    assert reverse("care:mine") not in client_for(tech).get("/").content.decode()
    assert f'href="{MINE}"' in client_for(advisor).get("/").content.decode()


# --- late tasks by staff ---------------------------------------------------------------------


def test_the_team_view_counts_overdue_callbacks_and_todays_tasks_by_staff_longest_wait_first(
    client_for: Callable[[User], Client],
    owner: User,
    advisor: User,
    service: User,
    make_customer: Any,
    django_assert_num_queries: Any,
) -> None:
    task(make_customer(), advisor, -1)
    task(make_customer(), advisor, 0)
    task(make_customer(), service, -5, kind=CareKind.CALLBACK)
    task(make_customer(), service, -2)
    task(make_customer(), service, 3)  # not late
    done = task(make_customer(), advisor, -9)
    CareTask.objects.for_org(done.organization_id).filter(pk=done.pk).update(state=CareTask.State.DONE)
    client = client_for(owner)

    # 1 session, 2 user + organization, 3 the counts by staff member, 4 the staff members,
    # 5 the user's shops (switcher).
    with django_assert_num_queries(5):
        response = client.get(TEAM)

    rows = [(s.staff.pk, s.overdue, s.callbacks_overdue, s.today, waited) for s, waited in response.context["rows"]]
    assert rows == [(service.pk, 2, 1, 0, 5), (advisor.pk, 1, 0, 1, 1)]
    assert response.context["totals"] == {"overdue": 3, "callbacks": 1, "today": 1}
    assert f"{MINE}?owner={service.pk}&amp;due=overdue" in response.content.decode()
    assert client_for(advisor).get(TEAM).status_code == 403


# --- one task --------------------------------------------------------------------------------


def test_the_team_view_shows_a_page_of_staff_and_everyones_totals(
    client_for: Callable[[User], Client], owner: User, org: Organization, make_customer: Any, monkeypatch: Any
) -> None:
    from huitou.tenancy.services import staff_create
    from huitou.testing.fixtures import PASSWORD
    from huitou.web import paging

    monkeypatch.setattr(paging, "TEAM_PAGE", 2)
    people = [
        staff_create(
            organization=org, username=f"c{n}", password=PASSWORD, role="service", display_name="", validate=False
        )
        for n in range(3)
    ]
    for n, person in enumerate(people):  # c0 has 3 overdue, c1 2, c2 1: the longest waits first
        for m in range(3 - n):
            task(make_customer(), person, -1 - m)
    client = client_for(owner)
    first = client.get(TEAM)
    assert [s.staff for s, _waited in first.context["rows"]] == people[:2]
    assert first.context["totals"] == {"overdue": 6, "callbacks": 0, "today": 0}
    assert 'href="?page=2"' in first.content.decode()
    second = client.get(f"{TEAM}?page=2", headers={"HX-Request": "true"})
    assert [s.staff for s, _waited in second.context["rows"]] == people[2:]
    assert second.context["totals"] == {"overdue": 6, "callbacks": 0, "today": 0}
    assert "<html" not in second.content.decode()  # the table alone, for htmx


@pytest.fixture
def questions(org: Organization) -> list[CallbackQuestion]:
    return [
        CallbackQuestion.objects.create(organization=org, position=1, text="交车是否准时？"),
        CallbackQuestion.objects.create(organization=org, position=2, text="其他意见", kind=CallbackQuestion.Kind.TEXT),
    ]


def test_a_callback_is_recorded_with_a_score_and_answers_and_the_list_goes_back_where_it_was(
    client_for: Callable[[User], Client],
    advisor: User,
    make_customer: Any,
    questions: list[CallbackQuestion],
    django_assert_num_queries: Any,
) -> None:
    callback = task(
        make_customer(name="回访客户"),
        advisor,
        -1,
        kind=CareKind.CALLBACK,
        reason="回访：工单 20261205-0001（精致洗车）",
    )
    client = client_for(advisor)
    back = f"{MINE}?due=overdue"
    url = f"{reverse('care:task', args=[callback.pk])}?next={back}"

    # 1 session, 2 user + organization, 3 the task + customer, vehicle, owner and closer,
    # 4 the questionnaire, 5 the user's shops (switcher).
    with django_assert_num_queries(5):
        page = client.get(url)
    body = page.content.decode()
    assert "回访：工单 20261205-0001（精致洗车）" in body and "交车是否准时？" in body
    assert body.count('name="score"') == 5

    response = client.post(
        reverse("care:task_done", args=[callback.pk]),
        {"result": "客户满意，下次保养再来", "score": "4", f"answer_{questions[0].pk}": "5", "next": back},
    )

    assert response.status_code == 302 and response["Location"] == back
    callback.refresh_from_db()
    assert (callback.state, callback.result, callback.score) == ("done", "客户满意，下次保养再来", 4)
    assert callback.answers == {str(questions[0].pk): 5}
    assert callback.closed_by == advisor
    shown = client.get(reverse("care:task", args=[callback.pk])).content.decode()
    assert "4 / 5" in shown and "交车是否准时？" in shown and 'name="result"' not in shown


def test_a_callback_without_a_score_is_refused_on_the_page_and_stays_open(
    client_for: Callable[[User], Client], advisor: User, make_customer: Any
) -> None:
    callback = task(make_customer(), advisor, 0, kind=CareKind.CALLBACK)

    response = client_for(advisor).post(reverse("care:task_done", args=[callback.pk]), {"result": "联系上了"})

    assert response.status_code == 200
    assert escape(zh(errors.SCORE_REQUIRED)) in response.content.decode()
    callback.refresh_from_db()
    assert callback.state == CareTask.State.OPEN


def test_a_reminder_is_done_without_a_score_or_skipped_with_a_reason(
    client_for: Callable[[User], Client], advisor: User, make_customer: Any
) -> None:
    reminder = task(make_customer(), advisor, 0)
    other = task(make_customer(), advisor, 0, kind=CareKind.INSURANCE)
    client = client_for(advisor)
    form = client.get(reverse("care:task", args=[reminder.pk])).content.decode()
    assert 'name="score"' not in form

    blank = client.post(reverse("care:task_skip", args=[other.pk]), {"reason": "  "})
    done = client.post(reverse("care:task_done", args=[reminder.pk]), {"result": "已预约周六保养"})
    skipped = client.post(reverse("care:task_skip", args=[other.pk]), {"reason": "客户已在别处续保"})

    assert escape(zh(errors.SKIP_REASON_REQUIRED)) in blank.content.decode()
    assert done.status_code == 302 and done["Location"] == MINE
    assert skipped.status_code == 302
    reminder.refresh_from_db()
    other.refresh_from_db()
    assert (reminder.state, reminder.result, reminder.score) == ("done", "已预约周六保养", None)
    assert (other.state, other.result) == ("skipped", "客户已在别处续保")


def test_a_colleague_may_not_close_your_task_but_the_store_manager_may(
    client_for: Callable[[User], Client], owner: User, advisor: User, service: User, make_customer: Any
) -> None:
    mine = task(make_customer(), advisor, 0)

    refused = client_for(service).post(reverse("care:task_done", args=[mine.pk]), {"result": "帮同事打了"})
    assert refused.status_code == 200
    assert escape(zh(errors.NOT_YOUR_TASK)) in refused.content.decode()
    mine.refresh_from_db()
    assert mine.state == CareTask.State.OPEN

    client_for(owner).post(reverse("care:task_skip", args=[mine.pk]), {"reason": "顾问休假，店长处理"})
    mine.refresh_from_db()
    assert (mine.state, mine.closed_by) == ("skipped", owner)


def test_closing_a_closed_task_again_says_so(
    client_for: Callable[[User], Client], advisor: User, make_customer: Any
) -> None:
    reminder = task(make_customer(), advisor, 0)
    client = client_for(advisor)
    client.post(reverse("care:task_done", args=[reminder.pk]), {"result": "已联系"})

    again = client.post(reverse("care:task_skip", args=[reminder.pk]), {"reason": "重复"})

    assert again.status_code == 200
    assert escape(zh(errors.TASK_CLOSED)) in again.content.decode()
    reminder.refresh_from_db()
    assert (reminder.state, reminder.result) == ("done", "已联系")


def test_the_next_address_must_be_on_this_site(
    client_for: Callable[[User], Client], advisor: User, make_customer: Any
) -> None:
    reminder = task(make_customer(), advisor, 0)
    response = client_for(advisor).post(
        reverse("care:task_done", args=[reminder.pk]), {"result": "已联系", "next": "https://evil.example/"}
    )
    assert response["Location"] == MINE


def test_closing_needs_a_post(client_for: Callable[[User], Client], advisor: User, make_customer: Any) -> None:
    reminder = task(make_customer(), advisor, 0)
    assert client_for(advisor).get(reverse("care:task_done", args=[reminder.pk])).status_code == 405
