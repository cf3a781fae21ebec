"""The follow-up plan pages: the store manager lists, creates and edits the standard processes."""

from __future__ import annotations

from html import escape

import pytest
from django.urls import reverse

from huitou.customers.models import Source, Stage
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUpPlan
from huitou.lifecycle.services.plans import plan_save
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

PLANS = reverse("followups:plans")
NEW = reverse("followups:plan_new")


def post_data(name: str = "转介绍客户跟进", stage: str = "prospect", source: str = "", active: bool = True, rows=()):
    """A plan form as the browser sends it: the rows given, then empty ones."""
    rows = list(rows) + [("", "", "")] * 3
    data = {
        "name": name,
        "stage": stage,
        "source": source,
        "steps-TOTAL_FORMS": str(len(rows)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "100",
    }
    if active:
        data["is_active"] = "on"
    for i, (day, channel, action) in enumerate(rows):
        data.update({f"steps-{i}-day_offset": day, f"steps-{i}-channel": channel, f"steps-{i}-action": action})
    return data


def steps_of(plan: FollowUpPlan) -> list[tuple[int, str, str]]:
    return list(plan.steps.order_by("day_offset", "pk").values_list("day_offset", "channel", "action"))


def test_the_list_shows_every_plan_with_its_steps_by_stage(client_for, owner, django_assert_num_queries):
    client = client_for(owner)
    # 1 session, 2 user + organization, 3 plans with their source, 4 their steps,
    # 5 the user's shops (switcher).
    with django_assert_num_queries(5):
        response = client.get(PLANS)
    body = response.content.decode()
    assert "新潜客标准跟进" in body and "沉睡客户唤醒" in body  # the seeded standard plans
    assert "邀请到店：免费检测或体验项目" in body
    assert [label for label, _plans in response.context["groups"]] == [
        zh(Stage.PROSPECT.label),
        zh(Stage.DORMANT.label),
    ]


def test_a_new_plan_for_one_source_is_saved_with_its_steps_in_day_order(client_for, owner, org):
    referral = Source.objects.for_org(org).get(code="referral")
    data = post_data(
        source="referral", rows=[("3", "wechat", "发送老客户的好评"), ("0", "phone", "感谢介绍人，联系新客户")]
    )

    response = client_for(owner).post(NEW, data)

    assert response.status_code == 302 and response["Location"] == PLANS
    plan = FollowUpPlan.objects.for_org(org).get(name="转介绍客户跟进")
    assert (plan.stage, plan.source, plan.is_active) == (Stage.PROSPECT, referral, True)
    assert steps_of(plan) == [(0, "phone", "感谢介绍人，联系新客户"), (3, "wechat", "发送老客户的好评")]


def test_the_edit_page_shows_the_steps_and_removes_and_adds_rows(client_for, owner, org):
    plan = FollowUpPlan.objects.for_org(org).get(stage=Stage.DORMANT)
    url = reverse("followups:plan_edit", args=[plan.pk])
    client = client_for(owner)
    page = client.get(url)
    assert page.context["form"]["name"].value() == "沉睡客户唤醒"
    assert [f["action"].value() for f in page.context["steps"]][:2] == [
        "电话问候：了解近况和用车情况，是否有不满意的地方",
        "微信发送回店关怀优惠",
    ]
    assert len(page.context["steps"].forms) == 2 + 3  # and three empty rows

    data = post_data(name="沉睡客户唤醒", stage="dormant", rows=[("0", "phone", "电话问候"), ("3", "wechat", "发优惠")])
    data["steps-0-DELETE"] = "on"
    data["steps-2-day_offset"], data["steps-2-channel"], data["steps-2-action"] = "10", "visit", "上门拜访"
    assert client.post(url, data).status_code == 302
    assert steps_of(plan) == [(3, "wechat", "发优惠"), (10, "visit", "上门拜访")]


def test_more_rows_keeps_what_was_typed_and_saves_nothing(client_for, owner, org):
    data = post_data(name="新计划", rows=[("1", "sms", "短信问候"), ("", "", "")])
    data["more_rows"] = "1"
    response = client_for(owner).post(NEW, data)
    assert response.status_code == 200
    steps = response.context["steps"]
    assert [f["action"].value() for f in steps][:1] == ["短信问候"]
    assert len(steps.forms) == 1 + 3
    assert response.context["form"]["name"].value() == "新计划"
    assert not response.context["form"].errors
    assert not FollowUpPlan.objects.for_org(org).filter(name="新计划").exists()


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (("400", "phone", "打电话"), "day_offset", errors.PLAN_STEP_DAY_INVALID),
        (("abc", "phone", "打电话"), "day_offset", errors.PLAN_STEP_DAY_INVALID),
        (("1", "pigeon", "飞鸽传书"), "channel", errors.CHANNEL_INVALID),
        (("1", "phone", ""), "action", errors.PLAN_STEP_ACTION_REQUIRED),
    ],
)
def test_a_wrong_step_is_marked_on_its_own_field_in_chinese(client_for, owner, org, row, field, message):
    response = client_for(owner).post(NEW, post_data(rows=[("0", "phone", "第一步"), row]))
    assert response.status_code == 200
    steps = response.context["steps"]
    assert steps.forms[1].errors[field] == [zh(message)]
    assert not steps.forms[0].errors
    assert escape(zh(message)) in response.content.decode()
    assert not FollowUpPlan.objects.for_org(org).filter(name="转介绍客户跟进").exists()


def test_a_plan_without_a_name_or_steps_is_refused_in_chinese(client_for, owner):
    response = client_for(owner).post(NEW, post_data(name=" ", rows=[]))
    form = response.context["form"]
    assert form.errors["name"] == [zh(errors.PLAN_NAME_REQUIRED)]
    response = client_for(owner).post(NEW, post_data(rows=[]))
    assert zh(errors.PLAN_STEPS_REQUIRED) in response.context["form"].non_field_errors()
    assert zh(errors.PLAN_STEPS_REQUIRED) in response.content.decode()


def test_a_second_active_plan_for_the_same_stage_and_source_is_refused_on_the_source(client_for, owner):
    response = client_for(owner).post(NEW, post_data(stage="prospect", rows=[("0", "phone", "打电话")]))
    assert response.context["form"].errors["source"] == [zh(errors.PLAN_DUPLICATE)]
    # Inactive, it may wait beside the one in use.
    assert client_for(owner).post(NEW, post_data(active=False, rows=[("0", "phone", "打电话")])).status_code == 302


def test_only_the_store_manager_manages_plans(client_for, advisor, service, org):
    plan = FollowUpPlan.objects.for_org(org).first()
    for user in (advisor, service):
        client = client_for(user)
        assert client.get(PLANS).status_code == 403
        assert client.get(NEW).status_code == 403
        assert client.post(reverse("followups:plan_edit", args=[plan.pk]), post_data()).status_code == 403


def test_a_plan_of_another_organization_is_not_found(client_for, owner, other_org):
    theirs = plan_save(
        organization=other_org,
        plan=None,
        data={"name": "隔壁的计划", "stage": "intent", "source": "", "is_active": True},
        steps=[{"day_offset": 0, "channel": "phone", "action": "隔壁的步骤"}],
    )
    url = reverse("followups:plan_edit", args=[theirs.pk])
    client = client_for(owner)
    assert client.get(url).status_code == 404
    assert client.post(url, post_data(stage="intent", rows=[("0", "phone", "改了")])).status_code == 404
    assert steps_of(theirs) == [(0, "phone", "隔壁的步骤")]
    assert "隔壁的计划" not in client.get(PLANS).content.decode()
