"""Every paid order owes a callback within 48 hours; care tasks end done (with a score) or skipped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.care import errors
from huitou.care.models import CareKind, CareRule, CareTask
from huitou.care.services.tasks import callback_for_order, care_task_done, care_task_skip
from huitou.service.errors import StateConflict
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db

PAID_AT = timezone.make_aware(dt.datetime(2026, 12, 5, 16, 30))


@pytest.fixture
def paid_order(
    make_order: Callable[..., ServiceOrder], make_service_item: Callable[..., ServiceItem], advisor: User
) -> ServiceOrder:
    order = make_order(now=PAID_AT - dt.timedelta(hours=3))
    order_add_line(order=order, by=advisor, service=make_service_item(name="精致洗车"))
    order_complete(order=order, by=advisor, now=PAID_AT)
    order_pay(order=order, by=advisor, method="cash", amount=order.total, now=PAID_AT)
    return order


def callback(org: Organization) -> CareTask:
    return CareTask.objects.for_org(org).get(kind=CareKind.CALLBACK)


def test_a_paid_order_makes_one_callback_due_within_48_hours(
    paid_order: ServiceOrder, advisor: User, org: Organization
) -> None:
    task = callback(org)
    assert (task.customer_id, task.vehicle_id, task.order_id) == (
        paid_order.customer_id,
        paid_order.vehicle_id,
        paid_order.pk,
    )
    assert task.due_at == PAID_AT + dt.timedelta(hours=48)
    assert task.due_on == dt.date(2026, 12, 7)
    assert task.owner_id == advisor.pk  # the order's service advisor by default
    assert task.reason == f"回访：工单 {paid_order.number}（精致洗车）"
    assert task.state == CareTask.State.OPEN
    # Asked again for the same order (a retried job): still one.
    assert callback_for_order(order=paid_order) == task
    assert CareTask.objects.for_org(org).filter(kind=CareKind.CALLBACK).count() == 1


def test_callbacks_can_be_turned_off(
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., ServiceItem],
    advisor: User,
    org: Organization,
) -> None:
    CareRule.objects.create(organization=org, kind=CareKind.CALLBACK, is_active=False)
    order = make_order()
    order_add_line(order=order, by=advisor, service=make_service_item())
    order_complete(order=order, by=advisor)
    order_pay(order=order, by=advisor, method="cash", amount=order.total)
    assert not CareTask.objects.for_org(org).filter(kind=CareKind.CALLBACK).exists()


def test_a_callback_is_done_with_a_score_from_1_to_5(
    paid_order: ServiceOrder, service: User, org: Organization
) -> None:
    task = callback(org)
    for score in (None, 0, 6, "4", True):
        with pytest.raises(ValidationError) as exc:
            care_task_done(task=task, by=service, result="满意", score=score)
        assert exc.value.message_dict["score"] == [errors.SCORE_REQUIRED]
    with pytest.raises(ValidationError) as exc:
        care_task_done(task=task, by=service, result=" ", score=4)
    assert exc.value.message_dict["result"] == [errors.RESULT_REQUIRED]
    done = care_task_done(task=task, by=service, result="很满意，下次还来", score=5)  # answers: test_questionnaire
    assert (done.state, done.score, done.answers, done.closed_by_id) == ("done", 5, {}, service.pk)
    with pytest.raises(StateConflict):
        care_task_done(task=task, by=service, result="again", score=3)
    with pytest.raises(StateConflict):
        care_task_skip(task=task, by=service, reason="again")


def test_a_skipped_task_says_why(paid_order: ServiceOrder, service: User, org: Organization) -> None:
    task = callback(org)
    with pytest.raises(ValidationError) as exc:
        care_task_skip(task=task, by=service, reason="")
    assert exc.value.message_dict["reason"] == [errors.SKIP_REASON_REQUIRED]
    skipped = care_task_skip(task=task, by=service, reason="电话三次未接通")
    assert (skipped.state, skipped.result, skipped.score) == ("skipped", "电话三次未接通", None)


def test_only_a_callback_records_a_score(paid_order: ServiceOrder, service: User, org: Organization) -> None:
    reminder = CareTask.objects.create(
        organization=org,
        kind=CareKind.MAINTENANCE,
        key="maintenance:test",
        customer_id=paid_order.customer_id,
        owner=service,
        due_on=dt.date(2026, 12, 9),
        reason="小保养",
        created_at=PAID_AT,
    )
    with pytest.raises(ValidationError) as exc:
        care_task_done(task=reminder, by=service, result="已预约", score=5)
    assert exc.value.message_dict["score"] == [errors.SCORE_ONLY_FOR_CALLBACKS]
    assert care_task_done(task=reminder, by=service, result="已预约 12月8日").score is None
