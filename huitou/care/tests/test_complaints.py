"""Complaints: nine steps in order, each with a deadline; late steps escalate once; close after feedback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.care import errors
from huitou.care.models import (
    STEP_ORDER,
    CareKind,
    CareTask,
    Complaint,
    ComplaintEvent,
    ComplaintNotice,
    ComplaintStep,
    ComplaintStepKind,
)
from huitou.care.services.complaints import (
    complaint_close,
    complaint_deadlines,
    complaint_deadlines_set,
    complaint_notices_read,
    complaint_open,
    complaint_reopen,
    complaint_step_record,
    complaints_escalate,
)
from huitou.care.services.tasks import care_task_done
from huitou.customers.models import Customer, Vehicle
from huitou.loyalty.models import Coupon, CouponEntry, LoyaltyAccount, StoredValueEntry
from huitou.loyalty.services.coupons import coupon_template_save
from huitou.service.errors import RoleRefused, StateConflict
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(dt.datetime(2026, 12, 7, 9, 0))
NOTES = {
    "listen": "耐心听客户讲完，客户说换机油后发动机有异响",
    "vent": "客户情绪激动，让他说完",
    "apologise": "真诚道歉，给您添麻烦了",
    "confirm": "复述：保养后异响，怀疑机滤没装好",
    "explain": "解释：机滤密封圈可能错位",
    "propose": "提出免费复检并重装机滤",
    "compensate": "送一次免费洗车",
    "outcome": "复检后异响消除",
    "feedback": "客户表示满意，谢谢关心",
}


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


@pytest.fixture
def customer(make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(name="王建国", phone="13812340000")


@pytest.fixture
def complaint(customer: Customer, service: User) -> Complaint:
    return complaint_open(customer=customer, summary="保养后发动机异响", by=service, now=T0)


def record_steps(complaint: Complaint, by: User, steps: tuple[str, ...], start: dt.datetime) -> dt.datetime:
    """Record ``steps`` an hour apart from ``start``; the time of the last."""
    at = start
    for step in steps:
        complaint_step_record(complaint=complaint, step=step, note=NOTES[step], by=by, now=at)
        at += hours(1)
    return at - hours(1)


# --- opening ------------------------------------------------------------------------------------


def test_opening_a_complaint_by_hand_starts_the_first_step_clock(complaint: Complaint, service: User) -> None:
    assert complaint.state == Complaint.State.OPEN
    assert (complaint.source, complaint.owner, complaint.opened_by) == ("manual", service, service)
    assert complaint.next_step == ComplaintStepKind.LISTEN
    assert complaint.due_at == T0 + hours(2)  # first response within 2 hours
    events = ComplaintEvent.objects.for_org(complaint.organization_id).filter(complaint=complaint)
    assert [e.kind for e in events] == ["opened"]
    # Opened by hand: nobody needs telling.
    assert not ComplaintNotice.objects.for_org(complaint.organization_id).exists()


def test_a_complaint_needs_its_subject_and_a_staff_member_of_the_organization(
    customer: Customer,
    service: User,
    outsider: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> None:
    someone_else = make_vehicle(make_customer(name="李四", phone="13900001111"))
    with pytest.raises(ValidationError) as exc:
        complaint_open(customer=customer, summary="  ", by=service, owner=outsider, vehicle=someone_else)
    assert exc.value.message_dict == {
        "summary": [errors.COMPLAINT_SUMMARY_REQUIRED],
        "owner": [errors.COMPLAINT_OWNER_UNKNOWN],
        "vehicle": [errors.COMPLAINT_VEHICLE_NOT_THEIRS],
    }


# --- the steps in order -------------------------------------------------------------------------


def test_the_nine_steps_are_recorded_in_order_with_time_owner_and_note(
    complaint: Complaint, service: User, owner: User
) -> None:
    last = record_steps(complaint, service, STEP_ORDER[:4], T0 + hours(1))
    record_steps(complaint, owner, STEP_ORDER[4:], last + hours(1))

    steps = list(ComplaintStep.objects.for_org(complaint.organization_id).filter(complaint=complaint).order_by("at"))
    assert [s.step for s in steps] == list(STEP_ORDER)
    assert [s.by for s in steps] == [service] * 4 + [owner] * 5
    assert [s.note for s in steps] == [NOTES[s] for s in STEP_ORDER]
    assert [s.at for s in steps] == [T0 + hours(i) for i in range(1, 10)]
    assert not any(s.late for s in steps)
    complaint.refresh_from_db()
    assert (complaint.steps_done, complaint.due_at, complaint.next_step) == (9, None, None)


def test_a_step_cannot_be_skipped_or_recorded_twice(complaint: Complaint, service: User) -> None:
    with pytest.raises(StateConflict) as exc:
        complaint_step_record(complaint=complaint, step="apologise", note="对不起", by=service, now=T0)
    assert exc.value.message == zh(errors.STEP_OUT_OF_ORDER, next=zh(ComplaintStepKind.LISTEN.label))

    complaint_step_record(complaint=complaint, step="listen", note=NOTES["listen"], by=service, now=T0)
    with pytest.raises(StateConflict):
        complaint_step_record(complaint=complaint, step="listen", note="again", by=service, now=T0)
    assert ComplaintStep.objects.for_org(complaint.organization_id).count() == 1


def test_a_step_needs_a_note_and_a_known_step(complaint: Complaint, service: User) -> None:
    with pytest.raises(ValidationError) as exc:
        complaint_step_record(complaint=complaint, step="shout", note=" ", by=service)
    assert exc.value.message_dict == {"step": [errors.STEP_UNKNOWN], "note": [errors.STEP_NOTE_REQUIRED]}


# --- deadlines and escalation -------------------------------------------------------------------


def test_each_step_is_due_after_the_one_before_it(complaint: Complaint, service: User, org: Organization) -> None:
    complaint_deadlines_set(organization=org, hours={"vent": 1, "confirm": 8})
    assert complaint_deadlines(organization=org)["vent"] == 1

    complaint_step_record(complaint=complaint, step="listen", note=NOTES["listen"], by=service, now=T0 + hours(1))
    assert complaint.due_at == T0 + hours(2)  # vent: 1 hour after listening
    complaint_step_record(complaint=complaint, step="vent", note=NOTES["vent"], by=service, now=T0 + hours(3))
    vent = ComplaintStep.objects.for_org(org).get(step="vent")
    assert (vent.due_at, vent.late) == (T0 + hours(2), True)
    assert complaint.due_at == T0 + hours(5)  # apologise: the default 2 hours


def test_deadlines_are_1_to_720_hours_of_known_steps(org: Organization) -> None:
    with pytest.raises(ValidationError) as exc:
        complaint_deadlines_set(organization=org, hours={"listen": 0, "vent": "999", "sing": 2, "apologise": 1.5})
    assert exc.value.message_dict == {
        "listen": [errors.DEADLINE_HOURS],
        "vent": [errors.DEADLINE_HOURS],
        "sing": [errors.STEP_UNKNOWN],
        "apologise": [errors.DEADLINE_HOURS],
    }
    assert complaint_deadlines(organization=org)["listen"] == 2


def test_a_late_step_escalates_to_the_store_managers_once(
    complaint: Complaint, service: User, owner: User, org: Organization
) -> None:
    assert complaints_escalate(organization=org, now=T0 + hours(1)) == 0  # not late yet

    assert complaints_escalate(organization=org, now=T0 + hours(3)) == 1
    assert complaints_escalate(organization=org, now=T0 + hours(4)) == 0  # run again: nothing twice
    complaint.refresh_from_db()
    assert complaint.escalated_at == T0 + hours(3)
    escalated = ComplaintEvent.objects.for_org(org).filter(kind="escalated")
    assert [(e.step, e.round, e.at) for e in escalated] == [("listen", 1, T0 + hours(3))]
    notices = ComplaintNotice.objects.for_org(org)
    assert [(n.recipient, n.kind, n.step) for n in notices] == [(owner, "late", "listen")]

    # The late step recorded, the next one has its own deadline and escalates in its turn.
    complaint_step_record(complaint=complaint, step="listen", note=NOTES["listen"], by=service, now=T0 + hours(5))
    assert ComplaintStep.objects.for_org(org).get().late
    assert complaints_escalate(organization=org, now=T0 + hours(6)) == 0
    assert complaints_escalate(organization=org, now=T0 + hours(8)) == 1
    assert [e.step for e in ComplaintEvent.objects.for_org(org).filter(kind="escalated").order_by("at")] == [
        "listen",
        "vent",
    ]
    assert ComplaintNotice.objects.for_org(org).count() == 2


def test_a_closed_complaint_never_escalates(complaint: Complaint, service: User, org: Organization) -> None:
    record_steps(complaint, service, STEP_ORDER, T0)
    complaint_close(complaint=complaint, by=service, now=T0 + hours(9))
    assert complaints_escalate(organization=org, now=T0 + hours(900)) == 0


def test_escalation_is_confined_to_its_organization(
    complaint: Complaint, other_org: Organization, org: Organization
) -> None:
    assert complaints_escalate(organization=other_org, now=T0 + hours(30)) == 0
    assert complaints_escalate(organization=org, now=T0 + hours(30)) == 1


def test_the_periodic_job_escalates_every_organization(customer: Customer, service: User, org: Organization) -> None:
    from huitou.care.tasks import complaints_escalate_all

    complaint_open(customer=customer, summary="等了三个小时", by=service, now=timezone.now() - hours(3))
    complaints_escalate_all.call_local()
    complaints_escalate_all.call_local()
    assert Complaint.objects.for_org(org).get().escalated_at is not None
    assert ComplaintEvent.objects.for_org(org).filter(kind="escalated").count() == 1


def test_a_manager_marks_notices_read(complaint: Complaint, owner: User, org: Organization) -> None:
    complaints_escalate(organization=org, now=T0 + hours(3))
    assert complaint_notices_read(user=owner) == 1
    assert complaint_notices_read(user=owner) == 0


# --- closing and reopening ----------------------------------------------------------------------


def test_a_complaint_closes_only_after_the_customers_feedback(complaint: Complaint, service: User) -> None:
    record_steps(complaint, service, STEP_ORDER[:8], T0)
    with pytest.raises(StateConflict) as exc:
        complaint_close(complaint=complaint, by=service)
    assert exc.value.message == errors.FEEDBACK_REQUIRED

    complaint_step_record(complaint=complaint, step="feedback", note=NOTES["feedback"], by=service, now=T0 + hours(9))
    closed = complaint_close(complaint=complaint, by=service, now=T0 + hours(10))
    assert (closed.state, closed.closed_at, closed.closed_by) == ("closed", T0 + hours(10), service)
    with pytest.raises(StateConflict) as again:
        complaint_close(complaint=complaint, by=service)
    assert again.value.message == errors.COMPLAINT_CLOSED
    with pytest.raises(StateConflict):
        complaint_step_record(complaint=complaint, step="feedback", note="x", by=service)


def test_reopening_is_logged_and_starts_a_new_round(complaint: Complaint, service: User, owner: User) -> None:
    with pytest.raises(StateConflict) as still_open:
        complaint_reopen(complaint=complaint, by=owner, reason="客户又来电")
    assert still_open.value.message == errors.COMPLAINT_NOT_CLOSED
    record_steps(complaint, service, STEP_ORDER, T0)
    complaint_close(complaint=complaint, by=service, now=T0 + hours(9))
    with pytest.raises(ValidationError) as exc:
        complaint_reopen(complaint=complaint, by=owner, reason=" ")
    assert exc.value.message_dict == {"reason": [errors.REOPEN_REASON_REQUIRED]}

    reopened = complaint_reopen(complaint=complaint, by=owner, reason="一周后异响又出现", now=T0 + hours(48))

    assert (reopened.state, reopened.round, reopened.steps_done, reopened.closed_at) == ("open", 2, 0, None)
    assert reopened.due_at == T0 + hours(50)
    log = ComplaintEvent.objects.for_org(complaint.organization_id).filter(complaint=complaint).order_by("at")
    assert [(e.kind, e.round, e.note, e.by) for e in log] == [
        ("opened", 1, "", service),
        ("closed", 1, "", service),
        ("reopened", 2, "一周后异响又出现", owner),
    ]
    # The first round's steps stay; the new round records its own.
    complaint_step_record(complaint=reopened, step="listen", note="再次倾听", by=owner, now=T0 + hours(49))
    rounds = ComplaintStep.objects.for_org(complaint.organization_id).values_list("round", "step")
    assert sorted(rounds)[-2:] == [(1, "vent"), (2, "listen")]


# --- compensation through the membership ledgers ------------------------------------------------


def _at_compensation(complaint: Complaint, by: User) -> None:
    record_steps(complaint, by, STEP_ORDER[:6], T0)


def test_compensation_issues_a_coupon_through_the_coupon_ledger(
    complaint: Complaint, service: User, advisor: User, org: Organization
) -> None:
    template = coupon_template_save(
        organization=org, data={"code": "wash", "name": "免费洗车券", "kind": "amount", "value": "30"}
    )
    _at_compensation(complaint, service)
    step = complaint_step_record(
        complaint=complaint, step="compensate", note="送洗车券", by=advisor, coupon_template=template, now=T0 + hours(7)
    )
    coupon = Coupon.objects.for_org(org).get()
    assert step.coupon == coupon
    assert (coupon.customer_id, coupon.source, coupon.state, coupon.issued_by) == (
        complaint.customer_id,
        "compensation",
        "issued",
        advisor,
    )
    assert [e.kind for e in CouponEntry.objects.for_org(org).filter(coupon=coupon)] == ["issue"]


def test_compensation_credits_stored_value_through_its_ledger(
    complaint: Complaint, service: User, advisor: User, org: Organization
) -> None:
    _at_compensation(complaint, service)
    step = complaint_step_record(
        complaint=complaint, step="compensate", note="赠送储值", by=advisor, stored_value="50", now=T0 + hours(7)
    )
    entry = StoredValueEntry.objects.for_org(org).get()
    assert step.stored_value_entry == entry
    assert (entry.kind, entry.principal, entry.bonus, entry.customer_id) == (
        "reward",
        Decimal("0.00"),
        Decimal("50.00"),
        complaint.customer_id,
    )
    account = LoyaltyAccount.objects.for_org(org).get(customer_id=complaint.customer_id)
    assert account.stored_bonus == Decimal("50.00")


def test_compensation_is_refused_off_its_step_or_out_of_range(
    complaint: Complaint, service: User, advisor: User, org: Organization
) -> None:
    template = coupon_template_save(
        organization=org, data={"code": "wash", "name": "免费洗车券", "kind": "amount", "value": "30"}
    )
    with pytest.raises(ValidationError) as early:
        complaint_step_record(complaint=complaint, step="listen", note="x", by=service, stored_value="10")
    assert early.value.message_dict == {"compensation": [errors.COMPENSATION_ONLY_AT_STEP]}
    _at_compensation(complaint, service)
    for kwargs, field, message in (
        ({"stored_value": "0"}, "stored_value", errors.COMPENSATION_AMOUNT),
        ({"stored_value": "10.005"}, "stored_value", errors.COMPENSATION_AMOUNT),
        ({"stored_value": "10001"}, "stored_value", errors.COMPENSATION_AMOUNT),
        ({"stored_value": "5", "coupon_template": template}, "compensation", errors.COMPENSATION_ONE),
    ):
        with pytest.raises(ValidationError) as exc:
            complaint_step_record(complaint=complaint, step="compensate", note="补偿", by=advisor, **kwargs)
        assert exc.value.message_dict == {field: [message]}
    assert not StoredValueEntry.objects.for_org(org).exists()
    assert not ComplaintStep.objects.for_org(org).filter(step="compensate").exists()


# --- a low callback score opens a complaint -----------------------------------------------------


@pytest.fixture
def callback(
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., ServiceItem],
    advisor: User,
    org: Organization,
) -> CareTask:
    order = make_order(now=T0 - hours(30))
    order_add_line(order=order, by=advisor, service=make_service_item(name="小保养"))
    order_complete(order=order, by=advisor, now=T0 - hours(28))
    order_pay(order=order, by=advisor, method="cash", amount=order.total, now=T0 - hours(28))
    return CareTask.objects.for_org(org).get(kind=CareKind.CALLBACK)


@pytest.mark.parametrize("score", [1, 2])
def test_a_callback_scored_2_or_less_opens_a_complaint_and_tells_the_store_manager(
    score: int, callback: CareTask, service: User, owner: User, org: Organization
) -> None:
    care_task_done(task=callback, by=service, result="客户说异响没修好", score=score, now=T0)

    complaint = Complaint.objects.for_org(org).get()
    assert (complaint.source, complaint.callback_id, complaint.customer_id) == (
        "callback",
        callback.pk,
        callback.customer_id,
    )
    assert (complaint.order_id, complaint.vehicle_id, complaint.owner) == (
        callback.order_id,
        callback.vehicle_id,
        service,
    )
    assert complaint.summary == f"回访评分 {score}/5：客户说异响没修好"
    assert (complaint.opened_at, complaint.due_at) == (T0, T0 + hours(2))
    assert [(n.recipient, n.kind) for n in ComplaintNotice.objects.for_org(org)] == [(owner, "opened")]


def test_a_callback_scored_3_opens_no_complaint(callback: CareTask, service: User, org: Organization) -> None:
    care_task_done(task=callback, by=service, result="一般", score=3, now=T0)
    assert not Complaint.objects.for_org(org).exists()


def test_a_complaint_that_cannot_open_keeps_the_callback_open(
    callback: CareTask, service: User, org: Organization
) -> None:
    """The complaint opens in the callback's transaction: one fails, both fail."""
    User.objects.for_org(org).filter(pk__in=[service.pk, callback.owner_id]).update(is_active=False)
    service.refresh_from_db()
    with pytest.raises(ValidationError):
        care_task_done(task=callback, by=service, result="很差", score=1, now=T0)
    callback.refresh_from_db()
    assert callback.state == CareTask.State.OPEN
    assert not Complaint.objects.for_org(org).exists()


def test_only_those_who_issue_coupons_and_stored_value_compensate(
    complaint: Complaint, service: User, advisor: User, org: Organization
) -> None:
    _at_compensation(complaint, service)
    with pytest.raises(RoleRefused) as exc:
        complaint_step_record(complaint=complaint, step="compensate", note="赠送储值", by=service, stored_value="20")
    assert exc.value.message == errors.COMPENSATION_ROLE
    # Customer service records the step itself (no compensation given); an advisor may give it.
    complaint_step_record(complaint=complaint, step="compensate", note="致歉礼品", by=service, now=T0 + hours(7))
    assert not StoredValueEntry.objects.for_org(org).exists()
