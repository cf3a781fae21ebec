"""The lifecycle panel of the customer file: stage, history, tasks and follow-ups shown; the
follow-up and stage forms saving through the services, as plain posts and as htmx partials."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from huitou.customers.models import Customer, Stage
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUp, FollowUpTask, StageChange, StageReason, TaskOrigin
from huitou.lifecycle.services.followups import followup_record
from huitou.lifecycle.services.stages import stage_change
from huitou.service.tests.support import paid
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def followup_url(customer: Customer) -> str:
    return reverse("lifecycle:followup_new", args=[customer.pk])


def stage_url(customer: Customer) -> str:
    return reverse("lifecycle:stage_change", args=[customer.pk])


def panel_of(body: str) -> str:
    start = body.index('id="lifecycle"')
    return body[start : body.index("</section>", start)]


def fresh(customer: Customer) -> Customer:
    return Customer.objects.for_org(customer.organization_id).get(pk=customer.pk)


# --- what the panel shows --------------------------------------------------------------------


def test_the_file_shows_the_stage_with_its_grade_history_open_tasks_and_follow_ups(client_for, advisor, make_customer):
    customer = make_customer(name="张三", need="全车镀晶，预算三千")
    followup_record(customer=customer, by=advisor, channel="wechat", content="发了案例照片", grade="A")
    FollowUpTask.objects.for_org(advisor.organization_id).filter(
        customer=customer, due_on__gt=timezone.localdate()
    ).update(due_on=timezone.localdate() - dt.timedelta(days=2))
    body = client_for(advisor).get(customer.get_absolute_url()).content.decode()
    panel = panel_of(body)

    assert 'data-stage="intent"' in panel and 'data-grade="A"' in panel
    assert 'id="file-stage" data-stage="intent"' in body  # the head's badge
    assert "全车镀晶，预算三千" in panel
    history = panel[panel.index('class="timeline stage-history"') :]
    assert history.count("<li") == 2
    assert escape(zh(StageReason.FOLLOWUP_INTENT.label)) in history and advisor.display_name in history
    assert "发了案例照片" in panel
    tasks = panel[panel.index('class="tasks"') :]
    assert tasks.count('class="task overdue"') == 2  # the plan's day 2 and 7 calls, now late
    assert 'name="content"' in panel and 'name="reason"' in panel


def test_a_system_move_is_shown_as_made_by_the_system(
    client_for, advisor, make_customer, make_vehicle, make_order, make_service_item
):
    customer = make_customer(name="张三")
    paid(make_order(make_vehicle(customer)), make_service_item(), advisor, Decimal("300.00"))
    StageChange.objects.for_org(advisor.organization_id).filter(
        customer=customer, reason=StageReason.FIRST_PAID_ORDER
    ).update(by=None)
    panel = panel_of(client_for(advisor).get(customer.get_absolute_url()).content.decode())
    assert 'data-stage="customer"' in panel
    last = panel[panel.rindex('<li data-to="customer"') :]
    assert escape(zh(StageReason.FIRST_PAID_ORDER.label)) in last and escape(zh("the system")) in last


# --- recording a follow-up -------------------------------------------------------------------


def test_a_graded_follow_up_with_a_next_step_makes_an_intent_customer_and_a_task(client_for, advisor, make_customer):
    customer = make_customer(name="张三")
    due = timezone.localdate() + dt.timedelta(days=3)
    client = client_for(advisor)
    response = client.post(
        followup_url(customer),
        {
            "channel": "phone",
            "content": "问了镀晶价格，想周末来看看",
            "result": "有兴趣",
            "grade": "A",
            "next_step": "周六上午电话确认到店",
            "next_due": due.isoformat(),
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{customer.get_absolute_url()}#lifecycle"
    followup = FollowUp.objects.get(customer=customer)
    assert (followup.staff, followup.grade, followup.result) == (advisor, "A", "有兴趣")
    customer = fresh(customer)
    assert (customer.stage, customer.intent_grade) == (Stage.INTENT, "A")
    task = FollowUpTask.objects.for_org(advisor.organization_id).get(customer=customer, origin=TaskOrigin.NEXT_STEP)
    assert (task.due_on, task.action, task.assignee) == (due, "周六上午电话确认到店", advisor)
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]]
    assert "周六上午电话确认到店" in panel_of(page.content.decode())


def test_the_follow_up_form_explains_each_problem_in_chinese(client_for, advisor, make_customer):
    customer = make_customer(name="张三")
    client = client_for(advisor)
    yesterday = timezone.localdate() - dt.timedelta(days=1)

    response = client.post(followup_url(customer), {"channel": "phone", "content": "  "})
    assert response.status_code == 200
    assert escape(zh(errors.CONTENT_REQUIRED)) in response.content.decode()

    response = client.post(followup_url(customer), {"channel": "fax", "content": "你好"})
    assert escape(zh(errors.CHANNEL_INVALID)) in response.content.decode()

    response = client.post(followup_url(customer), {"channel": "phone", "content": "你好", "next_due": "明天"})
    assert escape(zh(errors.NEXT_DUE_INVALID)) in response.content.decode()

    response = client.post(
        followup_url(customer), {"channel": "phone", "content": "你好", "next_due": yesterday.isoformat()}
    )
    body = response.content.decode()
    assert escape(zh(errors.NEXT_DUE_PAST)) in body
    assert "你好" in body  # what was written stays
    assert not FollowUp.objects.filter(customer=customer).exists()


def test_a_follow_up_opened_from_a_task_answers_that_task_only(client_for, advisor, make_customer):
    customer = make_customer(name="张三")
    tasks = list(FollowUpTask.objects.filter(customer=customer).order_by("due_on"))
    later = tasks[-1]  # the plan's day-7 invitation
    client = client_for(advisor)

    form = client.get(followup_url(customer), {"task": later.pk})
    body = form.content.decode()
    assert form.status_code == 200 and "<html" in body  # its own page without htmx
    assert f'name="task_id" value="{later.pk}"' in body and later.action in body
    partial = client.get(followup_url(customer), {"task": later.pk}, headers=HTMX).content.decode()
    assert "<html" not in partial and 'id="followup-form"' in partial and " open" in partial

    client.post(followup_url(customer), {"channel": "phone", "content": "邀请到店，答应周六来", "task_id": later.pk})
    later.refresh_from_db()
    assert later.closed_as == FollowUpTask.Closed.DONE
    assert FollowUp.objects.get(customer=customer).task == later
    assert (
        FollowUpTask.objects.for_org(advisor.organization_id).filter(customer=customer, closed_at=None).count()
        == len(tasks) - 1
    )


def test_a_task_of_another_customer_is_refused(client_for, advisor, make_customer):
    customer = make_customer(name="张三")
    other_task = (
        FollowUpTask.objects.for_org(advisor.organization_id).filter(customer=make_customer(name="李四")).first()
    )
    response = client_for(advisor).post(
        followup_url(customer), {"channel": "phone", "content": "你好", "task_id": other_task.pk}
    )
    assert response.status_code == 200
    assert escape(zh(errors.TASK_INVALID)) in response.content.decode()
    assert not FollowUp.objects.for_org(advisor.organization_id).exists()


def test_with_htmx_the_answer_is_the_panel_and_the_heads_badge_out_of_band(client_for, advisor, make_customer):
    customer = make_customer(name="张三")
    client = client_for(advisor)

    refused = client.post(followup_url(customer), {"channel": "phone", "content": ""}, headers=HTMX)
    body = refused.content.decode()
    assert refused.status_code == 200 and "<html" not in body
    assert 'id="lifecycle"' in body and escape(zh(errors.CONTENT_REQUIRED)) in body
    assert '<details class="inline-form followup-form" id="followup-form" open>' in body

    saved = client.post(followup_url(customer), {"channel": "visit", "content": "到店看车", "grade": "H"}, headers=HTMX)
    body = saved.content.decode()
    assert saved.status_code == 200 and "<html" not in body
    assert 'id="lifecycle" data-stage="intent"' in body
    assert 'id="file-stage" hx-swap-oob="true"' in body and 'data-stage="intent"' in body
    assert "到店看车" in body and 'class="msg msg-success"' in body
    assert fresh(customer).stage == Stage.INTENT


# --- changing the stage by hand --------------------------------------------------------------


def test_the_stage_changes_by_hand_with_a_reason(client_for, advisor, make_customer):
    customer = make_customer(name="张三")
    client = client_for(advisor)

    response = client.post(stage_url(customer), {"stage": "intent", "reason": ""})
    assert response.status_code == 200
    assert escape(zh(errors.STAGE_REASON_REQUIRED)) in response.content.decode()

    response = client.post(stage_url(customer), {"stage": "member", "reason": "办了卡"})
    assert escape(zh(errors.STAGE_NOT_BY_HAND)) in response.content.decode()

    response = client.post(stage_url(customer), {"stage": "customer", "reason": "说是老客户"})
    assert escape(zh(errors.STAGE_NOT_CONVERTED)) in response.content.decode()
    assert fresh(customer).stage == Stage.PROSPECT

    response = client.post(stage_url(customer), {"stage": "intent", "reason": "到店看过报价"})
    assert response.status_code == 302 and response["Location"].endswith("#lifecycle")
    change = StageChange.objects.filter(customer=customer).latest("at")
    assert (change.to_stage, change.reason, change.note, change.by) == (
        Stage.INTENT,
        StageReason.MANUAL,
        "到店看过报价",
        advisor,
    )
    panel = panel_of(client.get(customer.get_absolute_url()).content.decode())
    assert "到店看过报价" in panel and 'data-stage="intent"' in panel


def test_the_stage_form_offers_only_the_stages_set_by_hand_other_than_the_current(client_for, advisor, make_customer):
    customer = make_customer(name="张三")
    stage_change(customer=customer, to_stage=Stage.INTENT, reason="到店", by=advisor)
    form = client_for(advisor).get(stage_url(customer)).context["form"]
    assert [v for v, _label in form.fields["stage"].choices] == ["", "prospect", "customer", "lost"]


def test_with_htmx_a_stage_change_answers_with_the_panel(client_for, advisor, make_customer):
    customer = make_customer(name="张三")
    response = client_for(advisor).post(stage_url(customer), {"stage": "lost", "reason": "已搬走"}, headers=HTMX)
    body = response.content.decode()
    assert "<html" not in body and 'id="lifecycle" data-stage="lost"' in body
    assert 'hx-swap-oob="true"' in body and "已搬走" in body


# --- roles and organizations -----------------------------------------------------------------


def test_a_technician_sees_the_panel_without_forms_and_may_not_post(client_for, tech, advisor, make_customer):
    customer = make_customer(name="张三")
    followup_record(customer=customer, by=advisor, channel="phone", content="问了价格")
    client = client_for(tech)
    panel = panel_of(client.get(customer.get_absolute_url()).content.decode())
    assert "问了价格" in panel and 'data-stage="prospect"' in panel
    assert 'name="content"' not in panel and 'name="reason"' not in panel and "record-task" not in panel
    assert client.get(followup_url(customer)).status_code == 403
    assert client.post(followup_url(customer), {"channel": "phone", "content": "你好"}).status_code == 403
    assert client.post(stage_url(customer), {"stage": "lost", "reason": "搬走"}).status_code == 403
    assert FollowUp.objects.for_org(advisor.organization_id).count() == 1 and fresh(customer).stage == Stage.PROSPECT


def test_another_organizations_customer_is_not_found(client_for, outsider, make_customer, org):
    customer = make_customer(name="张三")
    client = client_for(outsider)
    for url in (followup_url(customer), stage_url(customer)):
        assert client.get(url).status_code == 404
    assert client.post(followup_url(customer), {"channel": "phone", "content": "你好"}).status_code == 404
    assert client.post(stage_url(customer), {"stage": "lost", "reason": "搬走"}).status_code == 404
    assert not FollowUp.objects.for_org(org).exists() and fresh(customer).stage == Stage.PROSPECT


# --- query count -----------------------------------------------------------------------------


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_panel_costs_the_same_queries_for_a_new_file_or_a_long_followed_one(
    client_for, advisor, service, make_customer, django_assert_num_queries
):
    new = make_customer(name="新潜客")
    long = make_customer(name="老跟进")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    for i in range(15):
        followup_record(
            customer=long,
            by=advisor if i % 2 else service,
            channel="phone",
            content=f"第{i}次跟进",
            grade="ABC"[i % 3],
            next_step=f"下一步{i}",
            next_due=tomorrow,
        )
    stage_change(customer=long, to_stage=Stage.LOST, reason="已搬走", by=advisor)
    stage_change(customer=long, to_stage=Stage.INTENT, reason="又回来了", by=advisor)
    client = client_for(advisor)

    # The file's queries (huitou/customers/tests/test_pages.py; no readings or household
    # here): 1 session, 2 user + organization, 3 customer + owner/source/creator and its tag
    # names, 4 vehicles, 5 the last orders, 6 history, 7 consent records, 8 declined
    # recommendations; the panel's 9 stage history + who moved it, 10 open tasks +
    # assignees, 11 follow-ups + staff; the member panel's (not a member) 12 account, 13 tiers,
    # 14 package cards, 15 coupons, 16 referees, 17 referral rewards; 18 the user's shops (switcher).
    with django_assert_num_queries(18):
        response = client.get(long.get_absolute_url())
    assert len(response.context["panel"].followups) == 15
    assert _queries(client, new.get_absolute_url()) == _queries(client, long.get_absolute_url())
