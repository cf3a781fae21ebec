"""Recording follow-ups, the tasks they close and schedule, and the work lists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.customers.services import customer_delete, customer_restore
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUp, FollowUpTask, TaskOrigin
from huitou.lifecycle.selectors import (
    DUE_OVERDUE,
    DUE_TODAY,
    DUE_UPCOMING,
    backlog_by_staff,
    followups_for_customer,
    tasks_due,
)
from huitou.lifecycle.services.followups import followup_record
from huitou.lifecycle.services.ownership import staff_deactivate

pytestmark = pytest.mark.django_db


def open_tasks(customer: Customer) -> list[FollowUpTask]:
    return list(
        FollowUpTask.objects.for_org(customer.organization_id)
        .filter(customer=customer, closed_at=None)
        .order_by("due_on", "pk")
    )


def test_a_follow_up_records_channel_content_result_grade_and_who(make_customer, advisor, service):
    customer = make_customer(name="张三", by=advisor)
    followup = followup_record(
        customer=customer,
        by=service,
        channel="wechat",
        content="发了同款车型的镀晶照片",
        result="很感兴趣，问价格",
        grade="H",
    )
    stored = FollowUp.objects.for_org(followup.organization_id).get(pk=followup.pk)
    assert (stored.channel, stored.content, stored.result, stored.grade, stored.staff) == (
        "wechat",
        "发了同款车型的镀晶照片",
        "很感兴趣，问价格",
        "H",
        service,
    )
    assert followups_for_customer(customer=customer) == [stored]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"channel": "pigeon"}, "channel", errors.CHANNEL_INVALID),
        ({"content": "  "}, "content", errors.CONTENT_REQUIRED),
        ({"grade": "Z"}, "grade", errors.GRADE_INVALID),
        ({"next_due": "next week"}, "next_due", errors.NEXT_DUE_INVALID),
        ({"next_due": "2001-01-01"}, "next_due", errors.NEXT_DUE_PAST),
    ],
)
def test_bad_input_is_refused_per_field_and_nothing_is_written(make_customer, advisor, fields, field, message):
    customer = make_customer(name="张三", by=advisor)
    tasks_before = len(open_tasks(customer))
    data = {"channel": "phone", "content": "电话沟通", **fields}
    with pytest.raises(ValidationError) as exc:
        followup_record(customer=customer, by=advisor, **data)
    assert exc.value.message_dict[field] == [message]
    assert not FollowUp.objects.filter(customer=customer).exists()
    assert len(open_tasks(customer)) == tasks_before


def test_a_follow_up_closes_the_tasks_due_by_today_and_leaves_later_ones(make_customer, advisor):
    customer = make_customer(name="张三", by=advisor)
    today = timezone.localdate()
    # The standard plan: day 0 (today), day 2 and day 7.
    assert [t.due_on - today for t in open_tasks(customer)] == [dt.timedelta(days=d) for d in (0, 2, 7)]
    followup_record(customer=customer, by=advisor, channel="phone", content="了解需求")
    assert [t.due_on - today for t in open_tasks(customer)] == [dt.timedelta(days=d) for d in (2, 7)]
    done = FollowUpTask.objects.for_org(advisor.organization_id).get(
        customer=customer, closed_as=FollowUpTask.Closed.DONE
    )
    assert done.due_on == today


def test_a_follow_up_for_a_given_task_closes_only_that_task(make_customer, advisor):
    customer = make_customer(name="张三", by=advisor)
    day_seven = open_tasks(customer)[-1]
    followup = followup_record(customer=customer, by=advisor, channel="phone", content="提前邀约", task_id=day_seven.pk)
    assert followup.task == day_seven
    assert day_seven.pk not in {t.pk for t in open_tasks(customer)}
    assert len(open_tasks(customer)) == 2


def test_a_task_of_another_customer_is_refused(make_customer, advisor):
    customer, other = make_customer(name="张三", by=advisor), make_customer(name="李四", by=advisor)
    with pytest.raises(ValidationError) as exc:
        followup_record(customer=customer, by=advisor, channel="phone", content="…", task_id=open_tasks(other)[0].pk)
    assert exc.value.message_dict["task_id"] == [errors.TASK_INVALID]
    assert not FollowUp.objects.for_org(advisor.organization_id).exists()


def test_the_next_step_becomes_a_task_for_the_customers_owner(make_customer, advisor, service):
    customer = make_customer(name="张三", by=advisor)
    due = timezone.localdate() + dt.timedelta(days=3)
    followup_record(
        customer=customer,
        by=service,
        channel="phone",
        content="客户周末有空",
        next_step="周六上午邀约到店检测",
        next_due=due.isoformat(),
    )
    task = FollowUpTask.objects.for_org(advisor.organization_id).get(customer=customer, origin=TaskOrigin.NEXT_STEP)
    assert (task.assignee, task.due_on, task.action, task.channel) == (advisor, due, "周六上午邀约到店检测", "phone")


def test_a_next_step_given_as_a_date_and_time_is_due_on_its_local_day(make_customer, advisor):
    customer = make_customer(name="张三", by=advisor)
    # 2 days ahead at 23:30 in China is the next UTC day's 15:30: the task is due on the local day.
    local = timezone.localtime() + dt.timedelta(days=2)
    when = local.replace(hour=23, minute=30)
    followup_record(customer=customer, by=advisor, channel="phone", content="约时间", next_due=when)
    task = FollowUpTask.objects.for_org(advisor.organization_id).get(customer=customer, origin=TaskOrigin.NEXT_STEP)
    assert task.due_on == when.date()


def test_a_next_date_without_words_still_schedules_a_task(make_customer, advisor):
    customer = make_customer(name="张三", by=advisor)
    followup_record(customer=customer, by=advisor, channel="sms", content="短信提醒", next_due=timezone.localdate())
    task = FollowUpTask.objects.for_org(advisor.organization_id).get(customer=customer, origin=TaskOrigin.NEXT_STEP)
    assert task.action == str(errors.NEXT_STEP_DEFAULT)


def test_work_lists_split_today_overdue_and_upcoming_for_each_staff_member(make_customer, advisor, service, org):
    today = timezone.localdate()
    mine = make_customer(name="张三", by=advisor)
    theirs = make_customer(name="李四", by=service)
    FollowUpTask.objects.filter(customer=mine, due_on=today).update(due_on=today - dt.timedelta(days=4))

    overdue = list(tasks_due(organization=org, due=DUE_OVERDUE, assignee_id=advisor.pk, today=today))
    assert [(t.customer, t.due_on) for t in overdue] == [(mine, today - dt.timedelta(days=4))]
    assert list(tasks_due(organization=org, due=DUE_TODAY, assignee_id=advisor.pk, today=today)) == []
    assert [t.customer for t in tasks_due(organization=org, due=DUE_TODAY, assignee_id=service.pk, today=today)] == [
        theirs
    ]
    upcoming = tasks_due(organization=org, due=DUE_UPCOMING, assignee_id=advisor.pk, today=today)
    assert [t.due_on - today for t in upcoming] == [dt.timedelta(days=2), dt.timedelta(days=7)]

    backlog = {b.staff: (b.overdue, b.today, b.oldest_due) for b in backlog_by_staff(organization=org, today=today)}
    assert backlog == {advisor: (1, 0, today - dt.timedelta(days=4)), service: (0, 1, None)}


def test_work_lists_never_show_another_organizations_tasks(make_customer, advisor, org, other_org, outsider):
    make_customer(name="隔壁客户", by=outsider, organization=other_org)
    make_customer(name="本店客户", by=advisor)
    assert {t.customer.name for t in tasks_due(organization=org, due=DUE_TODAY)} == {"本店客户"}
    assert [b.staff for b in backlog_by_staff(organization=org)] == [advisor]


def test_deleting_a_file_puts_its_open_tasks_on_hold_and_restoring_it_opens_them_again(
    make_customer, advisor, owner, org
):
    today = timezone.localdate()
    gone = make_customer(name="张三", by=advisor)
    kept = make_customer(name="李四", by=advisor)
    followup_record(customer=gone, by=advisor, channel="phone", content="已联系")  # closes today's step as done
    waiting = sorted(t.pk for t in open_tasks(gone))
    assert len(waiting) == 2

    customer_delete(customer=gone, by=owner)

    assert open_tasks(gone) == []
    held = FollowUpTask.objects.for_org(org).filter(customer=gone, closed_as=FollowUpTask.Closed.ON_HOLD)
    assert sorted(t.pk for t in held) == waiting
    assert {t.closed_at for t in held} == {Customer.objects.for_org(gone.organization_id).get(pk=gone.pk).deleted_at}
    assert FollowUpTask.objects.for_org(org).filter(customer=gone, closed_as=FollowUpTask.Closed.DONE).count() == 1
    upcoming = tasks_due(organization=org, due=DUE_UPCOMING, assignee_id=advisor.pk, today=today)
    assert {t.customer for t in upcoming} == {kept}
    assert [(b.today, b.overdue) for b in backlog_by_staff(organization=org, today=today)] == [(1, 0)]

    customer_restore(customer=Customer.objects.for_org(gone.organization_id).get(pk=gone.pk), by=owner)

    assert sorted(t.pk for t in open_tasks(gone)) == waiting
    assert FollowUpTask.objects.for_org(org).filter(customer=gone, closed_as=FollowUpTask.Closed.DONE).count() == 1
    upcoming = tasks_due(organization=org, due=DUE_UPCOMING, assignee_id=advisor.pk, today=today)
    assert {t.customer for t in upcoming} == {kept, gone}


def test_a_restored_files_tasks_go_to_its_owner_when_their_assignee_has_left(
    make_customer, advisor, service, owner, org
):
    customer = make_customer(name="张三", by=advisor)
    customer_delete(customer=customer, by=owner)
    staff_deactivate(user=advisor, to_user_ids=[service.pk], by=owner)

    customer_restore(customer=Customer.objects.for_org(customer.organization_id).get(pk=customer.pk), by=owner)

    assert Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).owner == service
    assert [t.assignee for t in open_tasks(customer)] == [service, service, service]


def test_the_work_list_runs_the_same_queries_for_few_and_many_tasks(
    make_customer, advisor, org, django_assert_num_queries
):
    for i in range(3):
        make_customer(name=f"客户{i}", by=advisor)
    # One query: open tasks with their customers and assignees joined.
    with django_assert_num_queries(1):
        few = [(t.customer.name, t.assignee.username) for t in tasks_due(organization=org, assignee_id=advisor.pk)]
    for i in range(3, 30):
        make_customer(name=f"客户{i}", by=advisor)
    with django_assert_num_queries(1):
        many = [(t.customer.name, t.assignee.username) for t in tasks_due(organization=org, assignee_id=advisor.pk)]
    assert (len(few), len(many)) == (3, 30)
