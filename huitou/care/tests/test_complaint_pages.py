"""The complaint board and one complaint's page: by state and age, the nine steps in order, close after feedback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from huitou.care import errors
from huitou.care.models import STEP_ORDER, CallbackQuestion, Complaint, ComplaintDeadline, ComplaintStep
from huitou.care.services.complaints import (
    complaint_close,
    complaint_open,
    complaint_step_record,
    complaints_escalate,
)
from huitou.care.services.questionnaire import questionnaire_seed
from huitou.customers.models import Customer, Vehicle
from huitou.loyalty.services.coupons import coupon_template_save
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

BOARD = reverse("complaints:board")


def _open(customer: Customer, by: User, hours_ago: float, summary: str = "保养后异响", **kw: Any) -> Complaint:
    return complaint_open(
        customer=customer, summary=summary, by=by, now=timezone.now() - dt.timedelta(hours=hours_ago), **kw
    )


def _record(complaint: Complaint, by: User, steps: tuple[str, ...]) -> None:
    for step in steps:
        complaint_step_record(complaint=complaint, step=step, note=f"{step} 记录", by=by)


def test_the_board_shows_open_complaints_oldest_first_with_their_age(
    client_for: Callable[[User], Client], service: User, make_customer: Callable[..., Customer]
) -> None:
    newer = _open(make_customer(name="新投诉"), service, 1)
    older = _open(make_customer(name="老投诉"), service, 50)
    done = _open(make_customer(name="已结案"), service, 100)
    _record(done, service, STEP_ORDER)
    complaint_close(complaint=done, by=service)

    client = client_for(service)
    board = client.get(BOARD)
    late = client.get(BOARD + "?state=late")
    closed = client.get(BOARD + "?state=closed")

    assert [c["complaint"].pk for c in board.context["cards"]] == [older.pk, newer.pk]
    assert [(c["age_days"], c["late"]) for c in board.context["cards"]] == [(2, True), (0, False)]
    assert [c["complaint"].pk for c in late.context["cards"]] == [older.pk]
    assert [c["complaint"].pk for c in closed.context["cards"]] == [done.pk]
    assert [(s, n) for s, _label, n in board.context["tabs"]] == [("open", 2), ("late", 1), ("closed", 1), ("all", 3)]
    assert "老投诉" in board.content.decode() and "2 天" in board.content.decode()


def test_only_mine_filters_the_board(
    client_for: Callable[[User], Client], service: User, advisor: User, make_customer: Callable[..., Customer]
) -> None:
    _open(make_customer(name="客服的"), service, 1)
    theirs = _open(make_customer(name="顾问的"), service, 2, owner=advisor)
    cards = client_for(advisor).get(BOARD + "?mine=1").context["cards"]
    assert [c["complaint"].pk for c in cards] == [theirs.pk]


def test_technicians_do_not_handle_complaints(client_for: Callable[[User], Client], tech: User) -> None:
    assert client_for(tech).get(BOARD).status_code == 403


def test_the_store_manager_sees_and_clears_the_notices(
    client_for: Callable[[User], Client],
    owner: User,
    service: User,
    org: Organization,
    make_customer: Callable[..., Customer],
) -> None:
    complaint = _open(make_customer(name="迟到的"), service, 5)
    complaints_escalate(organization=org)
    client = client_for(owner)
    page = client.get(BOARD).content.decode()
    assert "迟到的" in page and escape(zh("“%(step)s” is late") % {"step": zh("Listen")}) in page

    client.post(reverse("complaints:notices_read"))
    assert client.get(BOARD).context["notices"] == []
    assert client_for(service).get(BOARD).context["notices"] == []  # staff get no inbox
    assert complaint.pk


def test_the_board_runs_the_same_queries_for_one_complaint_or_a_full_page(
    client_for: Callable[[User], Client],
    owner: User,
    service: User,
    org: Organization,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    django_assert_num_queries: Any,
) -> None:
    first = make_customer(name="第一位")
    _open(first, service, 3, vehicle=make_vehicle(first))
    complaints_escalate(organization=org)
    client = client_for(owner)
    with django_assert_num_queries(7) as one:
        client.get(BOARD)
    for i in range(60):
        customer = make_customer(name=f"客户{i}")
        _open(customer, service, i, vehicle=make_vehicle(customer), owner=owner if i % 2 else service)
    complaints_escalate(organization=org)

    # 1 session, 2 user + organization, 3 the state counts, 4 the page count, 5 one page of
    # complaints + customers, vehicles and owners, 6 the manager's notices + complaints and
    # customers, 7 the user's shops (switcher).
    with django_assert_num_queries(7):
        response = client.get(BOARD)
    assert len(response.context["cards"]) == 50
    assert len(one.captured_queries) == 7


def test_the_detail_runs_a_fixed_number_of_queries(
    client_for: Callable[[User], Client],
    service: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    django_assert_num_queries: Any,
) -> None:
    customer = make_customer(name="张先生")
    complaint = _open(customer, service, 3, vehicle=make_vehicle(customer))
    client = client_for(service)
    url = reverse("complaints:detail", args=[complaint.pk])
    with django_assert_num_queries(7) as fresh:
        client.get(url)
    _record(complaint, service, STEP_ORDER[:5])

    # 1 session, 2 user + organization, 3 the complaint + customer, vehicle, order, owner, callback,
    # closer, 4 its steps + who, coupon, stored-value entry, 5 its log + who, 6 the deadlines,
    # 7 the user's shops (switcher).
    with django_assert_num_queries(7):
        response = client.get(url)
    assert [s.recorded is not None for s in response.context["view"].steps] == [True] * 5 + [False] * 4
    assert len(fresh.captured_queries) == 7


def test_the_nine_steps_are_recorded_on_the_page_in_order_and_it_closes_after_feedback(
    client_for: Callable[[User], Client], service: User, make_customer: Callable[..., Customer]
) -> None:
    complaint = _open(make_customer(name="张先生"), service, 1)
    client = client_for(service)
    url = reverse("complaints:detail", args=[complaint.pk])
    steps_url = reverse("complaints:step_add", args=[complaint.pk])
    close_url = reverse("complaints:close", args=[complaint.pk])

    skipped = client.post(steps_url, {"step": "apologise", "note": "对不起"})
    assert escape(zh(errors.STEP_OUT_OF_ORDER, next=zh("Listen"))) in skipped.content.decode()
    empty = client.post(steps_url, {"step": "listen", "note": ""})
    assert escape(zh(errors.STEP_NOTE_REQUIRED)) in empty.content.decode() or "这个字段是必填项" in (
        empty.content.decode()
    )

    for step in STEP_ORDER[:8]:
        assert client.post(steps_url, {"step": step, "note": f"{step} 的记录"}).status_code == 302
    early = client.post(close_url)
    assert escape(zh(errors.FEEDBACK_REQUIRED)) in early.content.decode()
    client.post(steps_url, {"step": "feedback", "note": "客户满意"})
    assert client.post(close_url).status_code == 302

    complaint.refresh_from_db()
    assert complaint.state == "closed"
    page = client.get(url).content.decode()
    assert "客户满意" in page and zh("Reopen the complaint") in page


def test_reopening_on_the_page_needs_a_reason(
    client_for: Callable[[User], Client], service: User, owner: User, make_customer: Callable[..., Customer]
) -> None:
    complaint = _open(make_customer(name="张先生"), service, 1)
    _record(complaint, service, STEP_ORDER)
    complaint_close(complaint=complaint, by=service)
    client = client_for(owner)
    reopen = reverse("complaints:reopen", args=[complaint.pk])

    refused = client.post(reopen, {"reason": ""})
    assert escape(zh(errors.REOPEN_REASON_REQUIRED)) in refused.content.decode()
    assert client.post(reopen, {"reason": "异响又出现"}).status_code == 302
    complaint.refresh_from_db()
    assert (complaint.state, complaint.round) == ("open", 2)
    assert "异响又出现" in client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()


def test_compensation_on_the_page_issues_the_chosen_coupon(
    client_for: Callable[[User], Client], advisor: User, org: Organization, make_customer: Callable[..., Customer]
) -> None:
    template = coupon_template_save(
        organization=org, data={"code": "wash", "name": "免费洗车券", "kind": "amount", "value": "30"}
    )
    complaint = _open(make_customer(name="张先生"), advisor, 1)
    _record(complaint, advisor, STEP_ORDER[:6])
    client = client_for(advisor)
    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert "免费洗车券" in page

    client.post(
        reverse("complaints:step_add", args=[complaint.pk]),
        {"step": "compensate", "note": "送洗车券", "coupon_template": template.pk},
    )
    step = ComplaintStep.objects.for_org(org).get(step="compensate")
    assert step.coupon is not None and step.coupon.template_id == template.pk


def test_a_complaint_is_opened_by_hand_from_the_customers_file(
    client_for: Callable[[User], Client],
    service: User,
    advisor: User,
    org: Organization,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> None:
    customer = make_customer(name="张先生")
    car = make_vehicle(customer, plate="粤B12345")
    client = client_for(service)
    file = client.get(customer.get_absolute_url()).content.decode()
    new_url = f"{reverse('complaints:new')}?customer={customer.pk}"
    assert escape(new_url) in file or new_url.replace("&", "&amp;") in file

    refused = client.post(new_url, {"summary": "", "owner": advisor.pk})
    assert refused.status_code == 200
    response = client.post(new_url, {"summary": "前台态度不好", "owner": advisor.pk, "vehicle": car.pk})
    complaint = Complaint.objects.for_org(org).get()
    assert response["Location"] == reverse("complaints:detail", args=[complaint.pk])
    assert (complaint.summary, complaint.owner, complaint.vehicle, complaint.source) == (
        "前台态度不好",
        advisor,
        car,
        "manual",
    )


def test_the_store_manager_sets_the_step_deadlines(
    client_for: Callable[[User], Client], owner: User, advisor: User, org: Organization
) -> None:
    url = reverse("complaints:deadlines")
    assert client_for(advisor).get(url).status_code == 403
    client = client_for(owner)
    data = {step: "24" for step in STEP_ORDER} | {"listen": "1"}
    assert client.post(url, data).status_code == 302
    assert ComplaintDeadline.objects.for_org(org).get(step="listen").hours == 1
    refused = client.post(url, data | {"vent": "0"})
    assert refused.status_code == 200 and ComplaintDeadline.objects.for_org(org).get(step="vent").hours == 24


def test_the_store_manager_edits_the_questionnaire(
    client_for: Callable[[User], Client], owner: User, service: User, org: Organization
) -> None:
    questionnaire_seed(organization=org)
    url = reverse("questionnaire:questions")
    assert client_for(service).get(url).status_code == 403
    client = client_for(owner)
    assert "收费是否透明" in client.get(url).content.decode()
    client.post(url, {"text": "会推荐朋友来吗？", "kind": "rating", "is_active": "on"})
    added = CallbackQuestion.objects.for_org(org).get(text="会推荐朋友来吗？")
    edit = reverse("questionnaire:question_edit", args=[added.pk])
    client.post(edit, {"text": "会推荐亲友来吗？", "kind": "rating", "position": "1", "required": "on"})
    added.refresh_from_db()
    assert (added.text, added.position, added.required, added.is_active) == ("会推荐亲友来吗？", 1, True, False)
