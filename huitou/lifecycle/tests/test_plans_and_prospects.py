"""Follow-up plans that schedule tasks, and the quick capture of prospects with its duplicate check."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.customers import errors as customer_errors
from huitou.customers.models import Customer, Stage, Vehicle
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUpPlan, FollowUpTask, StageChange, StageReason
from huitou.lifecycle.services.ownership import rotation_set
from huitou.lifecycle.services.plans import plan_save
from huitou.lifecycle.services.prospects import ROUND_ROBIN, DuplicateFound, prospect_capture

pytestmark = pytest.mark.django_db


def steps(customer: Customer) -> list[tuple[int, str, str]]:
    today = timezone.localdate()
    return [
        ((t.due_on - today).days, t.channel, t.action)
        for t in FollowUpTask.objects.filter(customer=customer, closed_at=None).order_by("due_on", "pk")
    ]


def test_every_new_organization_has_the_standard_plans(org):
    plans = {p.stage: p for p in FollowUpPlan.objects.for_org(org)}
    assert set(plans) == {Stage.PROSPECT, Stage.DORMANT}
    assert [s.day_offset for s in plans[Stage.PROSPECT].steps.all()] == [0, 2, 7]


def test_a_source_plan_replaces_the_stage_plan_for_prospects_from_that_source(org, advisor, make_customer):
    plan_save(
        organization=org,
        plan=None,
        data={"name": "老带新专属", "stage": Stage.PROSPECT, "source": "referral"},
        steps=[
            {"day_offset": 1, "channel": "phone", "action": "感谢推荐人并联系新客户"},
            {"day_offset": 0, "channel": "wechat", "action": "加微信发送到店礼"},
        ],
    )
    referred = make_customer(name="张三", by=advisor, source="referral")
    walk_in = make_customer(name="李四", by=advisor, source="walk_in")
    assert steps(referred) == [(0, "wechat", "加微信发送到店礼"), (1, "phone", "感谢推荐人并联系新客户")]
    assert [d for d, _c, _a in steps(walk_in)] == [0, 2, 7]
    assert {t.assignee_id for t in FollowUpTask.objects.filter(customer=referred)} == {advisor.pk}


def test_an_inactive_plan_schedules_nothing(org, advisor, make_customer):
    plan = FollowUpPlan.objects.for_org(org).get(stage=Stage.PROSPECT)
    plan_save(
        organization=org,
        plan=plan,
        data={"name": plan.name, "stage": plan.stage, "source": "", "is_active": False},
        steps=[{"day_offset": 0, "channel": "phone", "action": "打电话"}],
    )
    assert steps(make_customer(name="张三", by=advisor)) == []


def test_an_edited_plan_applies_to_new_prospects_and_leaves_scheduled_tasks(org, advisor, make_customer):
    before = make_customer(name="张三", by=advisor)
    plan = FollowUpPlan.objects.for_org(org).get(stage=Stage.PROSPECT)
    plan_save(
        organization=org,
        plan=plan,
        data={"name": "加快节奏", "stage": Stage.PROSPECT, "source": ""},
        steps=[{"day_offset": 1, "channel": "in_store", "action": "到店试驾体验"}],
    )
    after = make_customer(name="李四", by=advisor)
    assert [d for d, _c, _a in steps(before)] == [0, 2, 7]
    assert steps(after) == [(1, "in_store", "到店试驾体验")]


@pytest.mark.parametrize(
    ("data", "plan_steps", "field", "message"),
    [
        ({"name": " "}, [{"day_offset": 0, "channel": "phone", "action": "a"}], "name", errors.PLAN_NAME_REQUIRED),
        ({"name": "x"}, [], "steps", errors.PLAN_STEPS_REQUIRED),
        (
            {"name": "x"},
            [{"day_offset": 400, "channel": "phone", "action": "a"}],
            "steps",
            errors.PLAN_STEP_DAY_INVALID,
        ),
        ({"name": "x"}, [{"day_offset": 1, "channel": "fax", "action": "a"}], "steps", errors.CHANNEL_INVALID),
        (
            {"name": "x"},
            [{"day_offset": 1, "channel": "sms", "action": " "}],
            "steps",
            errors.PLAN_STEP_ACTION_REQUIRED,
        ),
        ({"name": "x", "source": "nowhere"}, [{"day_offset": 1, "channel": "sms", "action": "a"}], "source", None),
        (
            {"name": "x", "stage": "vip"},
            [{"day_offset": 1, "channel": "sms", "action": "a"}],
            "stage",
            errors.STAGE_INVALID,
        ),
        # A second active plan for new prospects of every source.
        ({"name": "x"}, [{"day_offset": 1, "channel": "sms", "action": "a"}], "source", errors.PLAN_DUPLICATE),
    ],
)
def test_a_plan_with_bad_input_is_refused_per_field(org, data, plan_steps, field, message):
    count = FollowUpPlan.objects.for_org(org).count()
    with pytest.raises(ValidationError) as exc:
        plan_save(organization=org, plan=None, data={"stage": Stage.PROSPECT, **data}, steps=plan_steps)
    expected = [message] if message is not None else [customer_errors.SOURCE_INVALID]
    assert exc.value.message_dict[field] == expected
    assert FollowUpPlan.objects.for_org(org).count() == count


def capture(org, by, **data):
    return prospect_capture(organization=org, by=by, data={"name": "张三", "source": "flyer", **data})


def test_a_captured_prospect_has_source_need_car_and_referrer(org, advisor, make_customer):
    referrer = make_customer(name="老客户王五", by=advisor)
    customer = capture(
        org,
        advisor,
        phone="13812345678",
        need="想做全车镀晶，预算3000左右，下个月",
        referrer=referrer.pk,
        plate="粤b12345",
        brand="大众",
        model="帕萨特",
    )
    assert (customer.stage, customer.source.code, customer.need, customer.referrer, customer.owner) == (
        Stage.PROSPECT,
        "flyer",
        "想做全车镀晶，预算3000左右，下个月",
        referrer,
        advisor,
    )
    vehicle = Vehicle.objects.get(customer=customer)
    assert (vehicle.plate, vehicle.brand) == ("粤B12345", "大众")
    assert StageChange.objects.get(customer=customer).reason == StageReason.CREATED
    assert len(steps(customer)) == 3


def test_a_prospect_needs_a_phone_or_a_wechat_id_and_a_source(org, advisor):
    with pytest.raises(ValidationError) as exc:
        capture(org, advisor, source="")
    assert exc.value.message_dict["phone"] == [customer_errors.CONTACT_REQUIRED]
    assert exc.value.message_dict["source"] == [errors.SOURCE_REQUIRED]
    assert capture(org, advisor, wechat="zhangsan_88").wechat == "zhangsan_88"


def test_a_phone_or_plate_on_file_is_caught_at_entry_naming_the_file(org, advisor, make_customer, make_vehicle):
    existing = make_customer(name="李四", phone="13900001111", by=advisor)
    make_vehicle(existing, plate="沪A88888")
    with pytest.raises(DuplicateFound) as exc:
        capture(org, advisor, phone="139 0000 1111", plate="沪a 88888")
    assert exc.value.duplicates == [existing]
    assert exc.value.message_dict["phone"] == [errors.DUPLICATE_PHONE % {"name": "李四"}]
    assert exc.value.message_dict["plate"] == [errors.DUPLICATE_PLATE % {"plate": "沪A88888", "name": "李四"}]
    assert Customer.objects.for_org(org).count() == 1


def test_a_bad_plate_leaves_no_prospect_behind(org, advisor):
    with pytest.raises(ValidationError) as exc:
        capture(org, advisor, phone="13812345678", plate="not a plate")
    assert "plate" in exc.value.message_dict
    assert not Customer.objects.for_org(org).exists()
    assert not FollowUpTask.objects.for_org(org).exists()


def test_round_robin_gives_new_prospects_to_the_chosen_staff_in_turn(org, owner, advisor, service):
    rotation_set(organization=org, member_ids=[advisor.pk, service.pk])
    owners = [capture(org, owner, phone=f"1381234000{i}", owner=ROUND_ROBIN).owner for i in range(5)]
    assert owners == [advisor, service, advisor, service, advisor]
    # The plan's tasks go to the prospect's owner, not to who typed it in.
    last = Customer.objects.for_org(org).latest("pk")
    assert {t.assignee_id for t in FollowUpTask.objects.filter(customer=last)} == {advisor.pk}


def test_round_robin_without_chosen_staff_is_refused(org, owner):
    with pytest.raises(ValidationError) as exc:
        capture(org, owner, phone="13812345678", owner=ROUND_ROBIN)
    assert exc.value.message_dict["owner"] == [errors.ROTATION_EMPTY]
    assert not Customer.objects.for_org(org).exists()


def test_a_prospect_can_be_given_to_a_colleague_but_not_to_staff_of_another_organization(org, owner, advisor, outsider):
    assert capture(org, owner, phone="13812345678", owner=advisor.pk).owner == advisor
    with pytest.raises(ValidationError) as exc:
        capture(org, owner, phone="13812345679", owner=outsider.pk)
    assert exc.value.message_dict["owner"] == [customer_errors.OWNER_INVALID]


def test_the_referrer_must_be_another_customer_of_the_organization(org, advisor, other_org, outsider, make_customer):
    stranger = make_customer(name="隔壁", by=outsider, organization=other_org)
    with pytest.raises(ValidationError) as exc:
        capture(org, advisor, phone="13812345678", referrer=stranger.pk)
    assert exc.value.message_dict["referrer"] == [customer_errors.REFERRER_INVALID]
