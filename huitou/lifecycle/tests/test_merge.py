"""Merging duplicate files: everything of the other file moves to the kept one, nothing is lost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.customers.models import ConsentRecord, Customer, CustomerTag, Stage, Vehicle, VehicleOwnership
from huitou.customers.services import consent_set, customer_delete
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUp, FollowUpTask, StageChange, StageReason
from huitou.lifecycle.services.followups import followup_record
from huitou.lifecycle.services.merge import customer_merge
from huitou.service.models import Appointment, ServiceOrder
from huitou.service.services.appointments import appointment_book
from huitou.service.tests.support import next_monday, paid
from huitou.testing.fixtures import first_shop

pytestmark = pytest.mark.django_db


def fresh(customer: Customer) -> Customer:
    return Customer.objects.for_org(customer.organization_id).get(pk=customer.pk)


def tag_names(customer: Customer) -> list[str]:
    return sorted(CustomerTag.objects.filter(customer=customer).values_list("tag__name", flat=True))


@pytest.fixture
def pair(make_customer, advisor):
    """The file kept (张三, registered first by phone) and a duplicate made later at the counter."""
    keep = make_customer(name="张三", phone="13800001111", tags=["VIP", "洗车"])
    other = make_customer(name="张三（重复）", phone="13900002222", tags=["VIP", "镀晶"], occupation="教师")
    return keep, other


def test_merging_moves_every_record_of_the_other_file_to_the_kept_one(
    pair, org, advisor, owner, make_vehicle, make_order, make_service_item, make_opening_hours
):
    keep, other = pair
    own_car = make_vehicle(keep, plate="粤B11111")
    their_cars = [make_vehicle(other, plate="粤B22222"), make_vehicle(other, plate="粤B33333")]
    open_order = make_order(their_cars[0])
    make_opening_hours()
    booking = appointment_book(
        shop=first_shop(org), customer=other, day=next_monday(), slot=dt.time(9), by=advisor, vehicle=their_cars[1]
    )
    followup = followup_record(customer=other, by=advisor, channel="phone", content="问了镀晶", next_due=next_monday())
    consent = consent_set(
        customer=other, channel="sms", granted=True, method="paper_form", purpose="保养提醒", by=advisor
    )
    other_tasks = set(FollowUpTask.objects.filter(customer=other).values_list("pk", flat=True))
    other_changes = set(StageChange.objects.filter(customer=other).values_list("pk", flat=True))
    other_history = set(ChangeEntry.objects.for_org(org).filter(customer_id=other.pk).values_list("pk", flat=True))
    keep_history = set(ChangeEntry.objects.for_org(org).filter(customer_id=keep.pk).values_list("pk", flat=True))
    assert other_tasks and other_changes and other_history

    merged = customer_merge(keep=keep, other=other, by=owner)

    assert merged.pk == keep.pk
    assert set(Vehicle.objects.filter(customer=keep).values_list("pk", flat=True)) == {
        own_car.pk,
        *(v.pk for v in their_cars),
    }
    assert set(VehicleOwnership.objects.filter(customer=keep).values_list("vehicle_id", flat=True)) >= {
        v.pk for v in their_cars
    }
    assert ServiceOrder.objects.for_org(open_order.organization_id).get(pk=open_order.pk).customer_id == keep.pk
    assert Appointment.objects.for_org(booking.organization_id).get(pk=booking.pk).customer_id == keep.pk
    assert FollowUp.objects.for_org(followup.organization_id).get(pk=followup.pk).customer_id == keep.pk
    assert set(FollowUpTask.objects.filter(customer=keep).values_list("pk", flat=True)) >= other_tasks
    assert set(StageChange.objects.filter(customer=keep).values_list("pk", flat=True)) >= other_changes
    assert ConsentRecord.objects.for_org(consent.organization_id).get(pk=consent.pk).customer_id == keep.pk
    assert set(ChangeEntry.objects.for_org(org).filter(customer_id=keep.pk).values_list("pk", flat=True)) >= (
        other_history | keep_history
    )
    assert tag_names(keep) == ["VIP", "洗车", "镀晶"]  # the tag both had, once
    for model in (Vehicle, ServiceOrder, Appointment, FollowUp, FollowUpTask, StageChange, ConsentRecord, CustomerTag):
        assert not model.objects.filter(customer=other).exists(), model.__name__
    assert fresh(keep).consent_sms is True  # the consent record that moved counts


def test_the_other_file_is_closed_pointing_at_the_kept_one_and_both_record_the_merge(pair, owner):
    keep, other = pair
    customer_merge(keep=keep, other=other, by=owner)

    closed = fresh(other)
    assert closed.deleted_at is not None and closed.deleted_by == owner and closed.merged_into_id == keep.pk
    assert not Customer.objects.for_org(owner.organization_id).active().filter(pk=other.pk).exists()
    kept_entry = ChangeEntry.objects.for_org(owner.organization_id).get(
        customer_id=keep.pk, action=ChangeEntry.Action.MERGED
    )
    other_entry = ChangeEntry.objects.for_org(owner.organization_id).get(
        customer_id=other.pk, action=ChangeEntry.Action.MERGED
    )
    assert kept_entry.changes["merged"] == other_entry.changes["merged"] == [other.pk, keep.pk]
    assert (kept_entry.note, other_entry.note, kept_entry.actor) == ("张三（重复）", "张三", owner)


def test_paid_orders_that_move_are_counted_again_in_the_visits(
    pair, advisor, owner, make_vehicle, make_order, make_service_item
):
    keep, other = pair
    item = make_service_item()
    paid(make_order(make_vehicle(keep)), item, advisor, Decimal("100.00"))
    their_car = make_vehicle(other)
    paid(make_order(their_car), item, advisor, Decimal("250.00"))
    paid(make_order(their_car), item, advisor, Decimal("50.00"))

    customer_merge(keep=keep, other=other, by=owner)

    kept = fresh(keep)
    assert (kept.visit_count, kept.lifetime_spend) == (3, Decimal("400.00"))
    orders = ServiceOrder.objects.filter(customer=keep)
    assert kept.first_visit_at == min(o.paid_at for o in orders)
    assert kept.last_visit_at == max(o.paid_at for o in orders)


def test_the_kept_file_keeps_its_facts_and_takes_the_others_where_it_has_none(make_customer, owner, org):
    keep = make_customer(name="李四", phone="13800003333", wechat="lisi_keep", occupation="")
    other = make_customer(
        name="李四重复",
        phone="13900004444",
        wechat="lisi_other",
        occupation="出租车司机",
        hobbies="钓鱼",
        source="referral",
    )

    customer_merge(keep=keep, other=other, by=owner)

    kept = fresh(keep)
    assert (kept.name, kept.phone, kept.wechat) == ("李四", "+8613800003333", "lisi_keep")
    assert (kept.occupation, kept.hobbies, kept.source.code) == ("出租车司机", "钓鱼", "referral")
    entry = ChangeEntry.objects.for_org(org).get(
        customer_id=keep.pk, action=ChangeEntry.Action.MERGED, subject_id=keep.pk
    )
    assert {"occupation", "hobbies", "source"} <= set(entry.changes)
    assert kept.completeness > fresh(other).completeness or kept.completeness > 0


def test_the_phone_of_the_other_file_moves_when_the_kept_one_has_none(make_customer, owner):
    keep = make_customer(name="王五", phone="", wechat="wangwu")
    other = make_customer(name="王五", phone="13900005555")

    customer_merge(keep=keep, other=other, by=owner)

    kept = fresh(keep)
    assert (kept.phone, kept.phone_last4) == ("+8613900005555", "5555")


@pytest.mark.parametrize(
    ("keep_stage", "other_stage", "after"),
    [
        (Stage.PROSPECT, Stage.INTENT, Stage.INTENT),
        (Stage.INTENT, Stage.PROSPECT, Stage.INTENT),
        (Stage.DORMANT, Stage.MEMBER, Stage.MEMBER),
        (Stage.CUSTOMER, Stage.LOST, Stage.CUSTOMER),
    ],
)
def test_the_merged_file_takes_the_further_stage(make_customer, owner, keep_stage, other_stage, after):
    keep, other = make_customer(stage=keep_stage), make_customer(stage=other_stage)

    customer_merge(keep=keep, other=other, by=owner)

    assert fresh(keep).stage == after
    last = StageChange.objects.filter(customer=keep).order_by("at", "pk").last()
    if after != keep_stage:
        assert (last.from_stage, last.to_stage, last.reason, last.by) == (keep_stage, after, StageReason.MERGED, owner)


def test_a_prospect_merged_with_a_paying_customer_gets_no_more_prospect_calls(
    make_customer, owner, advisor, make_vehicle, make_order, make_service_item
):
    keep = make_customer(name="新登记的")
    assert (
        FollowUpTask.objects.for_org(advisor.organization_id).filter(customer=keep, closed_at=None).count() == 3
    )  # the prospect plan
    other = make_customer(name="老客户")
    paid(make_order(make_vehicle(other)), make_service_item(), advisor, Decimal("300.00"))

    customer_merge(keep=keep, other=other, by=owner)

    kept = fresh(keep)
    assert kept.stage == Stage.CUSTOMER and kept.converted_at is not None
    assert not FollowUpTask.objects.for_org(advisor.organization_id).filter(
        customer=keep, closed_at=None, stage__in=[Stage.PROSPECT, Stage.INTENT]
    )


def test_the_earliest_first_contact_intent_and_conversion_count(make_customer, owner):
    keep, other = make_customer(), make_customer()
    early, late = timezone.now() - dt.timedelta(days=400), timezone.now() - dt.timedelta(days=30)
    Customer.objects.for_org(keep.organization_id).filter(pk=keep.pk).update(
        created_at=late, converted_at=late, intent_at=None
    )
    Customer.objects.for_org(other.organization_id).filter(pk=other.pk).update(
        created_at=early, converted_at=early + dt.timedelta(days=3), intent_at=early
    )

    customer_merge(keep=fresh(keep), other=fresh(other), by=owner)

    kept = fresh(keep)
    assert (kept.created_at, kept.converted_at, kept.intent_at) == (early, early + dt.timedelta(days=3), early)


def test_customers_referred_by_the_other_file_are_referred_by_the_kept_one(make_customer, owner):
    keep, other = make_customer(name="甲"), make_customer(name="乙")
    friend = make_customer(name="朋友", referrer=other.pk)
    referred_keep = Customer.objects.for_org(keep.organization_id).filter(pk=keep.pk)
    referred_keep.update(referrer=other)  # the duplicate once referred the kept file: that link ends

    customer_merge(keep=fresh(keep), other=other, by=owner)

    assert fresh(friend).referrer_id == keep.pk
    assert fresh(keep).referrer_id is None


def test_merging_a_file_with_itself_is_refused(pair, owner):
    keep, _other = pair
    with pytest.raises(ValidationError) as exc:
        customer_merge(keep=keep, other=keep, by=owner)
    assert exc.value.message_dict["other"] == [errors.MERGE_SAME]


def test_a_deleted_file_cannot_be_merged_either_way(pair, owner):
    keep, other = pair
    customer_delete(customer=other, by=owner)
    for a, b in ((keep, fresh(other)), (fresh(other), keep)):
        with pytest.raises(ValidationError) as exc:
            customer_merge(keep=a, other=b, by=owner)
        assert exc.value.message_dict["other"] == [errors.MERGE_DELETED]
    assert fresh(other).merged_into_id is None


def test_a_file_of_another_organization_is_refused(make_customer, owner, outsider, other_org):
    mine = make_customer()
    theirs = make_customer(organization=other_org, by=outsider)
    with pytest.raises(ValidationError):
        customer_merge(keep=mine, other=theirs, by=owner)
    with pytest.raises(ValidationError):
        customer_merge(keep=theirs, other=mine, by=owner)
    assert fresh(theirs).deleted_at is None and fresh(mine).deleted_at is None


def test_open_follow_ups_of_the_other_file_go_to_the_kept_files_owner(make_customer, advisor, service, owner):
    keep = make_customer(name="张三", phone="13800001111", by=advisor)
    other = make_customer(name="张三（重复）", phone="13900002222", by=service)
    assert (
        FollowUpTask.objects.for_org(advisor.organization_id)
        .filter(customer=other, closed_at=None, assignee=service)
        .exists()
    )
    customer_merge(keep=keep, other=other, by=owner)
    open_tasks = FollowUpTask.objects.for_org(advisor.organization_id).filter(customer=keep, closed_at=None)
    # Both ran the prospect plan (day 0, 2 and 7): its steps are not doubled.
    assert sorted(open_tasks.values_list("plan_step__day_offset", flat=True)) == [0, 2, 7]
    assert set(open_tasks.values_list("assignee_id", flat=True)) == {advisor.pk}
