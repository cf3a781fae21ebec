"""Stage transitions: by hand, by follow-ups, by paid orders and by the daily visit check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.customers.models import Customer, Stage
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUpTask, StageChange, StageReason
from huitou.lifecycle.services.followups import followup_record
from huitou.lifecycle.services.stages import stage_change, stages_mark_inactive
from huitou.lifecycle.tasks import mark_inactive_daily
from huitou.service.services.orders import order_void
from huitou.service.tests.support import paid

pytestmark = pytest.mark.django_db


def moves(customer: Customer) -> list[tuple[str, str, str]]:
    return list(
        StageChange.objects.filter(customer=customer)
        .order_by("at", "pk")
        .values_list("from_stage", "to_stage", "reason")
    )


def fresh(customer: Customer) -> Customer:
    return Customer.objects.for_org(customer.organization_id).get(pk=customer.pk)


def test_a_new_file_starts_as_a_prospect_and_its_creation_is_recorded(make_customer, advisor):
    customer = make_customer(name="张三", by=advisor)
    assert customer.stage == Stage.PROSPECT
    assert moves(customer) == [(Stage.PROSPECT, Stage.PROSPECT, StageReason.CREATED)]
    change = StageChange.objects.get(customer=customer)
    assert change.by == advisor


def test_the_first_graded_follow_up_makes_a_prospect_an_intent_customer(make_customer, advisor):
    customer = make_customer(name="张三", by=advisor)
    followup_record(customer=customer, by=advisor, channel="phone", content="问了保养价格")
    assert fresh(customer).stage == Stage.PROSPECT  # no grade: still a prospect
    followup_record(customer=customer, by=advisor, channel="wechat", content="约了周六", grade="a")
    customer = fresh(customer)
    assert customer.stage == Stage.INTENT
    assert customer.intent_grade == "A"
    assert customer.intent_at is not None
    assert moves(customer)[-1] == (Stage.PROSPECT, Stage.INTENT, StageReason.FOLLOWUP_INTENT)
    # A later grade changes the grade, not the stage again.
    followup_record(customer=customer, by=advisor, channel="phone", content="推迟到下月", grade="B")
    assert fresh(customer).intent_grade == "B"
    assert len(moves(customer)) == 2


def test_the_first_paid_order_makes_a_customer_and_cancels_the_prospect_plan(
    make_customer, make_vehicle, make_order, make_service_item, advisor
):
    customer = make_customer(name="张三", by=advisor)
    planned = FollowUpTask.objects.for_org(advisor.organization_id).filter(customer=customer, closed_at=None).count()
    assert planned == 3  # the standard prospect plan: day 0, 2 and 7
    vehicle = make_vehicle(customer, plate="粤B12345")
    order = make_order(vehicle)
    paid(order, make_service_item(), advisor, Decimal("300.00"))
    customer = fresh(customer)
    assert customer.stage == Stage.CUSTOMER
    assert customer.converted_at == order.paid_at or customer.converted_at is not None
    assert customer.intent_at == customer.converted_at  # skipped intent: reached it when paying
    assert moves(customer)[-1] == (Stage.PROSPECT, Stage.CUSTOMER, StageReason.FIRST_PAID_ORDER)
    assert FollowUpTask.objects.for_org(advisor.organization_id).filter(customer=customer, closed_at=None).count() == 0
    assert (
        FollowUpTask.objects.for_org(advisor.organization_id)
        .filter(customer=customer, closed_as=FollowUpTask.Closed.CANCELLED)
        .count()
        == 3
    )


def test_a_second_paid_order_moves_nothing(make_customer, make_vehicle, make_order, make_service_item, advisor):
    customer = make_customer(name="张三", by=advisor)
    vehicle = make_vehicle(customer, plate="粤B12345")
    item = make_service_item()
    paid(make_order(vehicle), item, advisor, Decimal("100"))
    first = fresh(customer).converted_at
    paid(make_order(vehicle), item, advisor, Decimal("100"))
    assert fresh(customer).converted_at == first
    assert [m[2] for m in moves(customer)] == [StageReason.CREATED, StageReason.FIRST_PAID_ORDER]


def test_a_dormant_customer_who_pays_again_is_a_customer_again(
    make_customer, make_vehicle, make_order, make_service_item, advisor, org
):
    customer = make_customer(name="张三", by=advisor)
    vehicle = make_vehicle(customer, plate="粤B12345")
    item = make_service_item()
    paid(make_order(vehicle), item, advisor, Decimal("100"))
    Customer.objects.for_org(customer.organization_id).filter(pk=customer.pk).update(
        last_visit_at=timezone.now() - dt.timedelta(days=200)
    )
    stages_mark_inactive(organization=org)
    assert fresh(customer).stage == Stage.DORMANT
    paid(make_order(vehicle), item, advisor, Decimal("100"))
    assert fresh(customer).stage == Stage.CUSTOMER
    assert moves(customer)[-1] == (Stage.DORMANT, Stage.CUSTOMER, StageReason.RETURNED)


def test_the_daily_check_moves_buyers_to_dormant_then_lost_by_the_organizations_days(make_customer, advisor, org):
    org.dormant_after_days, org.lost_after_days = 90, 300
    org.save()
    now = timezone.now()
    recent, sleepy, gone, prospect = (make_customer(name=n, by=advisor) for n in ("近来", "沉睡", "流失", "潜客"))
    Customer.objects.for_org(org).filter(pk__in=[recent.pk, sleepy.pk, gone.pk]).update(stage=Stage.CUSTOMER)
    Customer.objects.for_org(recent.organization_id).filter(pk=recent.pk).update(
        last_visit_at=now - dt.timedelta(days=30)
    )
    Customer.objects.for_org(sleepy.organization_id).filter(pk=sleepy.pk).update(
        last_visit_at=now - dt.timedelta(days=120)
    )
    Customer.objects.for_org(gone.organization_id).filter(pk=gone.pk).update(last_visit_at=now - dt.timedelta(days=400))
    Customer.objects.for_org(prospect.organization_id).filter(pk=prospect.pk).update(last_visit_at=None)

    assert stages_mark_inactive(organization=org) == {"dormant": 1, "lost": 1}
    assert fresh(recent).stage == Stage.CUSTOMER
    assert fresh(sleepy).stage == Stage.DORMANT
    assert fresh(gone).stage == Stage.LOST
    assert fresh(prospect).stage == Stage.PROSPECT
    assert moves(sleepy)[-1] == (Stage.CUSTOMER, Stage.DORMANT, StageReason.NO_VISIT)
    # The win-back plan is scheduled for the newly dormant.
    assert FollowUpTask.objects.for_org(org).filter(customer=sleepy, stage=Stage.DORMANT, closed_at=None).count() == 2
    # Running again the same day moves nobody.
    assert stages_mark_inactive(organization=org) == {"dormant": 0, "lost": 0}
    assert len(moves(sleepy)) == 2


def test_the_periodic_job_checks_every_organization(make_customer, advisor, org, other_org, outsider):
    mine = make_customer(name="本店", by=advisor)
    theirs = make_customer(name="隔壁", by=outsider, organization=other_org)
    long_ago = timezone.now() - dt.timedelta(days=250)
    Customer.objects.filter(organization__in=[org, other_org], pk__in=[mine.pk, theirs.pk]).update(
        stage=Stage.MEMBER, last_visit_at=long_ago
    )
    mark_inactive_daily.call_local()
    assert fresh(mine).stage == Stage.DORMANT
    assert fresh(theirs).stage == Stage.DORMANT


def test_a_person_changes_the_stage_with_a_reason(make_customer, advisor):
    customer = make_customer(name="张三", by=advisor)
    with pytest.raises(ValidationError) as exc:
        stage_change(customer=customer, to_stage=Stage.INTENT, reason=" ", by=advisor)
    assert exc.value.message_dict["reason"] == [errors.STAGE_REASON_REQUIRED]
    stage_change(customer=customer, to_stage=Stage.INTENT, reason="到店看过报价", by=advisor)
    change = StageChange.objects.filter(customer=customer).latest("at")
    assert (change.to_stage, change.reason, change.note, change.by) == (
        Stage.INTENT,
        StageReason.MANUAL,
        "到店看过报价",
        advisor,
    )
    stage_change(customer=customer, to_stage=Stage.LOST, reason="搬去外地", by=advisor)
    assert fresh(customer).stage == Stage.LOST


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (Stage.MEMBER, errors.STAGE_NOT_BY_HAND),
        (Stage.DORMANT, errors.STAGE_NOT_BY_HAND),
        (Stage.CUSTOMER, errors.STAGE_NOT_CONVERTED),
        (Stage.PROSPECT, errors.STAGE_SAME),
        ("vip", errors.STAGE_INVALID),
    ],
)
def test_stages_that_follow_from_facts_are_not_set_by_hand(make_customer, advisor, target, message):
    customer = make_customer(name="张三", by=advisor)
    with pytest.raises(ValidationError) as exc:
        stage_change(customer=customer, to_stage=target, reason="试试", by=advisor)
    assert exc.value.message_dict["stage"] == [message]
    assert fresh(customer).stage == Stage.PROSPECT


def test_a_customer_who_paid_cannot_go_back_to_prospect(
    make_customer, make_vehicle, make_order, make_service_item, advisor
):
    customer = make_customer(name="张三", by=advisor)
    paid(make_order(make_vehicle(customer, plate="粤B12345")), make_service_item(), advisor, Decimal("1"))
    with pytest.raises(ValidationError) as exc:
        stage_change(customer=customer, to_stage=Stage.PROSPECT, reason="重新开发", by=advisor)
    assert exc.value.message_dict["stage"] == [errors.STAGE_ALREADY_CONVERTED]
    stage_change(customer=customer, to_stage=Stage.LOST, reason="投诉后不再来", by=advisor)
    stage_change(customer=customer, to_stage=Stage.CUSTOMER, reason="误判", by=advisor)
    assert fresh(customer).stage == Stage.CUSTOMER


def test_a_voided_order_does_not_convert(make_customer, make_vehicle, make_order, advisor):
    customer = make_customer(name="张三", by=advisor)
    order = make_order(make_vehicle(customer, plate="粤B12345"))
    order_void(order=order, by=advisor, reason="客户取消")
    assert fresh(customer).stage == Stage.PROSPECT
    assert fresh(customer).converted_at is None
