"""/api/v1 lifecycle routes: prospects, follow-ups and tasks, stages, merging, reassignment."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from huitou.api.lifecycle_schemas import CHANNELS, GRADES, STAGES
from huitou.api.routers.lifecycle import STAFF_UNKNOWN
from huitou.api.tests.conftest import ApiClient
from huitou.customers import errors as customer_errors
from huitou.customers.models import Customer, IntentGrade, Stage, Vehicle
from huitou.customers.services import customer_delete
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUp, FollowUpChannel, FollowUpPlan, FollowUpTask
from huitou.lifecycle.services.followups import followup_record
from huitou.lifecycle.services.ownership import rotation_set
from huitou.service.models import PaymentMethod
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User
from huitou.web import paging

Make = Callable[..., Any]
ApiFor = Callable[[User], ApiClient]


@pytest.fixture
def api(advisor: User, api_for: ApiFor) -> ApiClient:
    return api_for(advisor)


@pytest.fixture
def as_owner(owner: User, api_for: ApiFor) -> ApiClient:
    return api_for(owner)


@pytest.fixture
def as_tech(tech: User, api_for: ApiFor) -> ApiClient:
    return api_for(tech)


@pytest.fixture
def foreign_customer(make_customer: Make, other_org: Organization, outsider: User) -> Customer:
    return make_customer(organization=other_org, by=outsider, name="隔壁客户")


def refused(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    return response.json()["errors"]


def queries_of(client: ApiClient, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def paid_order_for(customer: Customer, make_order: Make, make_vehicle: Make, make_part: Make, by: User) -> None:
    order = make_order(vehicle=make_vehicle(customer))
    order_add_line(order=order, by=by, part=make_part(), quantity="1")
    order_complete(order=order, by=by)
    order_pay(order=order, by=by, method=PaymentMethod.WECHAT, amount="100.00")


# --- capturing prospects --------------------------------------------------------------------


def test_a_prospect_is_captured_with_its_need_source_referrer_and_car(
    api: ApiClient, advisor: User, make_customer: Make
) -> None:
    friend = make_customer(name="老客户")

    r = api.post_json(
        "/api/v1/prospects",
        {
            "name": "张三",
            "phone": "13812341234",
            "source": "referral",
            "need": "镀晶",
            "referrer_id": friend.pk,
            "plate": "粤B12345",
            "brand": "丰田",
            "model": "凯美瑞",
        },
    )

    assert r.status_code == 201, r.content
    doc = r.json()
    assert (doc["name"], doc["stage"], doc["source"], doc["need"]) == ("张三", "prospect", "referral", "镀晶")
    assert (doc["referrer_id"], doc["intent_grade"], doc["converted_at"]) == (friend.pk, "", None)
    assert doc["owner"]["id"] == advisor.pk
    vehicle = Vehicle.objects.for_org(advisor.organization_id).get(customer_id=doc["id"])
    assert (vehicle.plate, vehicle.brand, vehicle.model) == ("粤B12345", "丰田", "凯美瑞")


def test_a_prospect_with_only_a_wechat_id_is_captured(api: ApiClient) -> None:
    r = api.post_json("/api/v1/prospects", {"source": "walk_in", "name": "微信客户", "wechat": "wx_zhang"})
    assert r.status_code == 201
    assert (r.json()["wechat"], r.json()["phone"]) == ("wx_zhang", "")


def test_a_prospect_goes_to_the_owner_chosen(api: ApiClient, owner: User) -> None:
    r = api.post_json(
        "/api/v1/prospects", {"source": "walk_in", "name": "张三", "phone": "13812341234", "owner_id": owner.pk}
    )
    assert r.status_code == 201
    assert r.json()["owner"]["id"] == owner.pk


def test_round_robin_gives_prospects_to_the_rotation_in_turn(
    api: ApiClient, org: Organization, advisor: User, service: User
) -> None:
    rotation_set(organization=org, member_ids=[advisor.pk, service.pk])

    owners = [
        api.post_json(
            "/api/v1/prospects", {"source": "walk_in", "name": f"客户{n}", "phone": f"1381234000{n}", "owner": "auto"}
        ).json()["owner"]["id"]
        for n in range(3)
    ]

    assert owners == [advisor.pk, service.pk, advisor.pk]


def test_round_robin_without_a_rotation_is_refused_on_the_owner(api: ApiClient) -> None:
    r = api.post_json(
        "/api/v1/prospects", {"source": "walk_in", "name": "张三", "phone": "13812341234", "owner": "auto"}
    )
    assert refused(r) == {"owner": [str(errors.ROTATION_EMPTY)]}


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": "张三"}, "phone", customer_errors.CONTACT_REQUIRED),
        ({"name": " ", "phone": "13812341234"}, "name", customer_errors.NAME_REQUIRED),
        ({"name": "张三", "phone": "12345"}, "phone", customer_errors.PHONE_INVALID),
        ({"name": "张三", "phone": "13812341234", "source": ""}, "source", errors.SOURCE_REQUIRED),
        ({"name": "张三", "phone": "13812341234", "source": "nowhere"}, "source", customer_errors.SOURCE_INVALID),
        ({"name": "张三", "phone": "13812341234", "owner": "boss"}, "owner", errors.OWNER_MODE_INVALID),
        ({"name": "张三", "phone": "13812341234", "plate": "abc"}, "plate", customer_errors.PLATE_INVALID),
    ],
)
def test_a_capture_is_refused_per_field_and_nothing_is_saved(
    api: ApiClient, payload: dict[str, Any], field: str, message: Any, org: Organization
) -> None:
    errs = refused(api.post_json("/api/v1/prospects", {"source": "walk_in", **payload}))

    assert errs[field] == [str(message)]
    assert not Customer.objects.for_org(org).exists()


def test_a_capture_names_the_owner_and_referrer_fields_it_refuses(
    api: ApiClient, owner: User, outsider: User, foreign_customer: Customer
) -> None:
    base = {"name": "张三", "phone": "13812341234", "source": "walk_in"}

    foreign_owner = refused(api.post_json("/api/v1/prospects", {**base, "owner_id": outsider.pk}))
    foreign_referrer = refused(api.post_json("/api/v1/prospects", {**base, "referrer_id": foreign_customer.pk}))
    both = refused(api.post_json("/api/v1/prospects", {**base, "owner_id": owner.pk, "owner": "auto"}))

    assert foreign_owner == {"owner_id": [str(customer_errors.OWNER_INVALID)]}
    assert foreign_referrer == {"referrer_id": [str(customer_errors.REFERRER_INVALID)]}
    assert both == {"owner": [str(errors.OWNER_MODE_INVALID)]}


def test_a_phone_or_plate_on_file_is_refused_naming_the_existing_files(
    api: ApiClient, make_customer: Make, make_vehicle: Make, org: Organization
) -> None:
    li = make_customer(name="李四", phone="13812341234")
    wang = make_customer(name="王五")
    make_vehicle(wang, plate="粤B12345")

    r = api.post_json(
        "/api/v1/prospects", {"source": "walk_in", "name": "张三", "phone": "+86 138 1234 1234", "plate": "粤b12345"}
    )

    assert r.status_code == 422
    doc = r.json()
    assert doc["errors"] == {
        "phone": [errors.DUPLICATE_PHONE % {"name": "李四"}],
        "plate": [errors.DUPLICATE_PLATE % {"plate": "粤B12345", "name": "王五"}],
    }
    assert doc["duplicates"] == [{"id": li.pk, "name": "李四"}, {"id": wang.pk, "name": "王五"}]
    assert doc["detail"] == doc["errors"]["phone"][0]
    assert Customer.objects.for_org(org).count() == 2


def test_a_duplicate_of_another_organization_is_not_a_duplicate(api: ApiClient, foreign_customer: Customer) -> None:
    r = api.post_json("/api/v1/prospects", {"source": "walk_in", "name": "张三", "phone": foreign_customer.phone})
    assert r.status_code == 201
    assert "duplicates" not in r.json()


def test_a_technician_cannot_capture_prospects(as_tech: ApiClient, org: Organization) -> None:
    r = as_tech.post_json("/api/v1/prospects", {"source": "walk_in", "name": "张三", "phone": "13812341234"})
    assert r.status_code == 403
    assert not Customer.objects.for_org(org).exists()


# --- listing prospects ----------------------------------------------------------------------


def test_the_prospect_list_holds_prospects_and_intent_customers_newest_first(
    api: ApiClient, make_customer: Make, foreign_customer: Customer
) -> None:
    first = make_customer(name="潜客")
    second = make_customer(name="意向", stage=Stage.INTENT)
    make_customer(name="成交", stage=Stage.CUSTOMER)
    make_customer(name="会员", stage=Stage.MEMBER)
    customer_delete(customer=make_customer(name="已删除"), by=None)

    doc = api.get("/api/v1/prospects").json()

    assert [c["id"] for c in doc["items"]] == [second.pk, first.pk]
    assert (doc["count"], doc["page"], doc["page_size"]) == (2, 1, 20)


def test_the_prospect_count_stops_one_past_the_cap(api: ApiClient, make_customer: Make, monkeypatch: Any) -> None:
    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    for i in range(4):
        make_customer(name=f"潜客{i}")

    doc = api.get("/api/v1/prospects").json()

    assert (doc["count"], len(doc["items"])) == (3, 4)


def test_the_prospect_list_filters_by_stage_source_owner_and_grade(
    api: ApiClient, make_customer: Make, owner: User, advisor: User
) -> None:
    make_customer(name="张三", source="walk_in")
    make_customer(name="李四", source="flyer", owner=owner.pk)
    graded = make_customer(name="王五", source="flyer")
    followup_record(customer=graded, by=advisor, channel="phone", content="想做保养", grade="H")

    def names(**params: Any) -> list[str]:
        r = api.get("/api/v1/prospects", params)
        assert r.status_code == 200, r.content
        return sorted(c["name"] for c in r.json()["items"])

    assert names(stage="prospect") == ["张三", "李四"]
    assert names(stage="intent") == ["王五"]
    assert names(source="flyer") == ["李四", "王五"]
    assert names(owner=owner.pk) == ["李四"]
    assert names(grade="H") == ["王五"]
    assert names(grade="A") == []
    assert names(source="nowhere") == []


@pytest.mark.parametrize("params", [{"stage": "customer"}, {"grade": "Z"}, {"page": 0}, {"owner": "x"}])
def test_the_prospect_list_refuses_a_bad_filter(api: ApiClient, params: dict[str, Any]) -> None:
    assert set(refused(api.get("/api/v1/prospects", params))) == set(params)


def test_the_prospect_list_runs_the_same_queries_for_2_and_20(api: ApiClient, make_customer: Make) -> None:
    api.get("/api/v1/prospects")  # the token's first use stamps last_used_at
    counts = []
    for n in (2, 18):
        for _ in range(n):
            make_customer(tags=["VIP"])
        counts.append(queries_of(api, "/api/v1/prospects"))
    # 1 token with user and organization, 2 count, 3 page with owner, source, RFM score and tag names
    assert counts == [3, 3]
    assert {tuple(c["tags"]) for c in api.get("/api/v1/prospects").json()["items"]} == {("VIP",)}


# --- follow-ups of a customer ---------------------------------------------------------------


def test_a_follow_up_is_recorded_and_listed_newest_first(api: ApiClient, advisor: User, make_customer: Make) -> None:
    customer = make_customer(name="张三")

    first = api.post_json(f"/api/v1/customers/{customer.pk}/followups", {"channel": "phone", "content": "了解需求"})
    second = api.post_json(
        f"/api/v1/customers/{customer.pk}/followups",
        {"channel": "wechat", "content": "发了案例照片", "result": "感兴趣"},
    )

    assert first.status_code == second.status_code == 201
    doc = second.json()
    assert (doc["customer_id"], doc["channel"], doc["content"], doc["result"]) == (
        customer.pk,
        "wechat",
        "发了案例照片",
        "感兴趣",
    )
    assert doc["staff"] == {"id": advisor.pk, "username": "advisor", "name": "李顾问"}
    listed = api.get(f"/api/v1/customers/{customer.pk}/followups").json()
    assert [f["id"] for f in listed["items"]] == [second.json()["id"], first.json()["id"]]
    assert listed["count"] == 2
    page2 = api.get(f"/api/v1/customers/{customer.pk}/followups?page_size=1&page=2").json()
    assert [f["id"] for f in page2["items"]] == [first.json()["id"]]


def test_a_graded_follow_up_makes_a_prospect_an_intent_customer(api: ApiClient, make_customer: Make) -> None:
    customer = make_customer(name="张三")

    api.post_json(f"/api/v1/customers/{customer.pk}/followups", {"channel": "phone", "content": "下周来", "grade": "a"})

    doc = api.get(f"/api/v1/customers/{customer.pk}").json()
    assert (doc["stage"], doc["intent_grade"]) == ("intent", "A")
    history = api.get(f"/api/v1/customers/{customer.pk}/stage").json()["history"]
    assert history[-1] | {"at": None} == {
        "from": "prospect",
        "to": "intent",
        "reason": "followup_intent",
        "note": "",
        "by": "advisor",
        "at": None,
    }


def test_a_next_due_date_schedules_the_next_step_for_the_owner(
    as_owner: ApiClient, api: ApiClient, make_customer: Make
) -> None:
    customer = make_customer(name="张三")  # owned by the advisor
    due = timezone.localdate() + dt.timedelta(days=30)

    r = as_owner.post_json(
        f"/api/v1/customers/{customer.pk}/followups",
        {"channel": "phone", "content": "要等发工资", "next_due": due.isoformat(), "next_step": "再约到店"},
    )

    assert r.status_code == 201
    assert (r.json()["next_due"], r.json()["next_step"]) == (due.isoformat(), "再约到店")
    upcoming = api.get("/api/v1/followups?due=upcoming").json()["items"]
    assert [(t["due_on"], t["action"], t["origin"]) for t in upcoming][-1] == (due.isoformat(), "再约到店", "next_step")


def test_a_follow_up_answers_the_task_it_names(api: ApiClient, make_customer: Make) -> None:
    customer = make_customer(name="张三")
    later = FollowUpTask.objects.filter(customer=customer).order_by("-due_on").first()
    assert later is not None

    r = api.post_json(
        f"/api/v1/customers/{customer.pk}/followups", {"channel": "phone", "content": "提前联系", "task_id": later.pk}
    )

    assert r.json()["task_id"] == later.pk
    later.refresh_from_db()
    assert later.closed_as == FollowUpTask.Closed.DONE


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"channel": "pigeon"}, "channel", errors.CHANNEL_INVALID),
        ({"channel": ""}, "channel", errors.CHANNEL_INVALID),
        ({"content": "  "}, "content", errors.CONTENT_REQUIRED),
        ({"grade": "Z"}, "grade", errors.GRADE_INVALID),
        ({"next_due": "next week"}, "next_due", errors.NEXT_DUE_INVALID),
        ({"next_due": "2001-01-01"}, "next_due", errors.NEXT_DUE_PAST),
        ({"task_id": 999999}, "task_id", errors.TASK_INVALID),
    ],
)
def test_a_follow_up_is_refused_per_field_and_nothing_is_written(
    api: ApiClient, make_customer: Make, fields: dict[str, Any], field: str, message: Any, org: Organization
) -> None:
    customer = make_customer(name="张三")

    errs = refused(
        api.post_json(f"/api/v1/customers/{customer.pk}/followups", {"channel": "phone", "content": "电话", **fields})
    )

    assert errs == {field: [str(message)]}
    assert not FollowUp.objects.for_org(org).exists()


def test_a_task_of_another_customer_cannot_be_answered(api: ApiClient, make_customer: Make) -> None:
    customer, other = make_customer(), make_customer()
    task = FollowUpTask.objects.filter(customer=other).first()
    assert task is not None

    r = api.post_json(
        f"/api/v1/customers/{customer.pk}/followups", {"channel": "phone", "content": "电话", "task_id": task.pk}
    )

    assert refused(r) == {"task_id": [str(errors.TASK_INVALID)]}


def test_follow_ups_of_another_organizations_customer_are_404(
    api: ApiClient, foreign_customer: Customer, outsider: User
) -> None:
    followup_record(customer=foreign_customer, by=outsider, channel="phone", content="隔壁的跟进")
    url = f"/api/v1/customers/{foreign_customer.pk}/followups"

    assert api.get(url).status_code == 404
    assert api.post_json(url, {"channel": "phone", "content": "越界"}).status_code == 404
    assert api.get("/api/v1/customers/999999/followups").status_code == 404
    assert FollowUp.objects.for_org(foreign_customer.organization_id).count() == 1


def test_a_technician_reads_follow_ups_but_cannot_record_them(as_tech: ApiClient, make_customer: Make) -> None:
    customer = make_customer()
    url = f"/api/v1/customers/{customer.pk}/followups"

    assert as_tech.get(url).status_code == 200
    assert as_tech.post_json(url, {"channel": "phone", "content": "电话"}).status_code == 403


def test_the_follow_up_list_runs_the_same_queries_for_2_and_20(
    api: ApiClient, advisor: User, make_customer: Make
) -> None:
    customer = make_customer()
    url = f"/api/v1/customers/{customer.pk}/followups"
    api.get(url)
    counts = []
    for n in (2, 18):
        for _ in range(n):
            followup_record(customer=customer, by=advisor, channel="phone", content="电话")
        counts.append(queries_of(api, url))
    # 1 token with user and organization, 2 the customer, 3 count, 4 page with who made them
    assert counts == [4, 4]


# --- the work list of follow-up tasks -------------------------------------------------------


def _tasks(client: ApiClient, **params: Any) -> list[tuple[str, str]]:
    r = client.get("/api/v1/followups", params)
    assert r.status_code == 200, r.content
    return [(t["customer"]["name"], t["due_on"]) for t in r.json()["items"]]


def test_the_work_list_holds_the_callers_tasks_due_today(
    api: ApiClient, advisor: User, owner: User, make_customer: Make
) -> None:
    mine = make_customer(name="张三")  # the standard plan: a call today, then day 2 and 7
    make_customer(name="李四", owner=owner.pk)
    today = timezone.localdate()

    r = api.get("/api/v1/followups")

    assert r.status_code == 200
    doc = r.json()
    assert doc["count"] == 1
    task = doc["items"][0]
    assert task["customer"] == {"id": mine.pk, "name": "张三", "phone": mine.phone_display}
    assert task["assignee"] == {"id": advisor.pk, "username": "advisor", "name": "李顾问"}
    assert (task["due_on"], task["channel"], task["origin"]) == (today.isoformat(), "phone", "plan")
    assert task["action"]


def test_the_work_list_shows_overdue_and_upcoming_tasks(api: ApiClient, make_customer: Make) -> None:
    customer = make_customer(name="张三")
    today = timezone.localdate()
    FollowUpTask.objects.filter(customer=customer, due_on=today).update(due_on=today - dt.timedelta(days=3))

    assert _tasks(api, due="overdue") == [("张三", (today - dt.timedelta(days=3)).isoformat())]
    assert _tasks(api, due="today") == []
    assert _tasks(api, due="upcoming") == [
        ("张三", (today + dt.timedelta(days=2)).isoformat()),
        ("张三", (today + dt.timedelta(days=7)).isoformat()),
    ]
    assert set(refused(api.get("/api/v1/followups?due=someday"))) == {"due"}


def test_the_work_list_leaves_out_deleted_customers(api: ApiClient, make_customer: Make, owner: User) -> None:
    customer_delete(customer=make_customer(name="张三"), by=owner)
    assert _tasks(api) == []


def test_an_advisor_reads_their_own_tasks_by_id_or_username_but_not_a_colleagues(
    api: ApiClient, advisor: User, owner: User, make_customer: Make
) -> None:
    make_customer(name="张三")

    assert _tasks(api, owner=advisor.pk) == _tasks(api, owner="advisor") == _tasks(api)
    assert api.get("/api/v1/followups", {"owner": owner.pk}).status_code == 403
    assert api.get("/api/v1/followups", {"owner": "all"}).status_code == 403
    assert api.get("/api/v1/followups", {"owner": "nobody"}).status_code == 403


def test_the_store_manager_reads_a_colleagues_tasks_and_everyones(
    as_owner: ApiClient, owner: User, make_customer: Make
) -> None:
    make_customer(name="张三")
    make_customer(name="李四", owner=owner.pk)

    assert [n for n, _ in _tasks(as_owner)] == ["李四"]
    assert [n for n, _ in _tasks(as_owner, owner="advisor")] == ["张三"]
    assert sorted(n for n, _ in _tasks(as_owner, owner="all")) == ["张三", "李四"]


@pytest.mark.parametrize("who", ["nobody", "outsider", "99999999", "99999999999999999999999"])
def test_a_staff_member_unknown_in_the_organization_is_refused_on_owner(
    as_owner: ApiClient, outsider: User, who: str
) -> None:
    assert refused(as_owner.get("/api/v1/followups", {"owner": who})) == {"owner": [str(STAFF_UNKNOWN)]}
    assert refused(as_owner.get("/api/v1/followups", {"owner": outsider.pk})) == {"owner": [str(STAFF_UNKNOWN)]}


def test_a_technician_has_no_work_list(as_tech: ApiClient) -> None:
    assert as_tech.get("/api/v1/followups").status_code == 403


def test_the_work_list_runs_the_same_queries_for_2_and_20(as_owner: ApiClient, make_customer: Make) -> None:
    as_owner.get("/api/v1/followups")
    counts = []
    for n in (2, 18):
        for _ in range(n):
            make_customer()
        counts.append(queries_of(as_owner, "/api/v1/followups?owner=all&due=upcoming&page_size=50"))
    # 1 token with user and organization, 2 count, 3 page of tasks with customer and assignee
    assert counts == [3, 3]
    # plus 4: the staff member named by ``owner``
    assert queries_of(as_owner, "/api/v1/followups?owner=advisor") == 4


# --- stages ---------------------------------------------------------------------------------


def test_the_stage_is_changed_by_hand_with_a_reason_and_shows_in_the_history(
    api: ApiClient, make_customer: Make
) -> None:
    customer = make_customer(name="张三")

    r = api.post_json(f"/api/v1/customers/{customer.pk}/stage", {"stage": "lost", "reason": "已买新车"})

    assert r.status_code == 200
    assert r.json()["stage"] == "lost"
    doc = api.get(f"/api/v1/customers/{customer.pk}/stage").json()
    assert doc["stage"] == "lost"
    assert [(h["from"], h["to"], h["reason"], h["note"], h["by"]) for h in doc["history"]] == [
        ("prospect", "prospect", "created", "", "advisor"),
        ("prospect", "lost", "manual", "已买新车", "advisor"),
    ]


def test_a_paid_order_makes_a_customer_visible_through_the_api(
    api: ApiClient, advisor: User, make_customer: Make, make_order: Make, make_vehicle: Make, make_part: Make
) -> None:
    customer = make_customer(name="张三")

    paid_order_for(customer, make_order, make_vehicle, make_part, advisor)

    doc = api.get(f"/api/v1/customers/{customer.pk}").json()
    assert doc["stage"] == "customer"
    assert doc["converted_at"] is not None
    assert api.get(f"/api/v1/customers/{customer.pk}/stage").json()["history"][-1]["reason"] == "first_paid_order"
    assert api.get("/api/v1/prospects").json()["count"] == 0


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"stage": "vip", "reason": "x"}, "stage", errors.STAGE_INVALID),
        ({"stage": "member", "reason": "x"}, "stage", errors.STAGE_NOT_BY_HAND),
        ({"stage": "dormant", "reason": "x"}, "stage", errors.STAGE_NOT_BY_HAND),
        ({"stage": "intent", "reason": "  "}, "reason", errors.STAGE_REASON_REQUIRED),
        ({"stage": "prospect", "reason": "x"}, "stage", errors.STAGE_SAME),
        ({"stage": "customer", "reason": "x"}, "stage", errors.STAGE_NOT_CONVERTED),
    ],
)
def test_a_stage_change_is_refused_per_field(
    api: ApiClient, make_customer: Make, payload: dict[str, Any], field: str, message: Any
) -> None:
    customer = make_customer()

    assert refused(api.post_json(f"/api/v1/customers/{customer.pk}/stage", payload)) == {field: [str(message)]}
    assert Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).stage == Stage.PROSPECT


def test_a_converted_customer_cannot_go_back_to_prospect(
    api: ApiClient, advisor: User, make_customer: Make, make_order: Make, make_vehicle: Make, make_part: Make
) -> None:
    customer = make_customer()
    paid_order_for(customer, make_order, make_vehicle, make_part, advisor)

    r = api.post_json(f"/api/v1/customers/{customer.pk}/stage", {"stage": "intent", "reason": "x"})

    assert refused(r) == {"stage": [str(errors.STAGE_ALREADY_CONVERTED)]}


def test_the_stage_of_another_organizations_customer_is_404(api: ApiClient, foreign_customer: Customer) -> None:
    url = f"/api/v1/customers/{foreign_customer.pk}/stage"

    assert api.get(url).status_code == 404
    assert api.post_json(url, {"stage": "lost", "reason": "x"}).status_code == 404
    assert (
        Customer.objects.for_org(foreign_customer.organization_id).get(pk=foreign_customer.pk).stage == Stage.PROSPECT
    )


def test_a_technician_reads_the_stage_but_cannot_change_it(as_tech: ApiClient, make_customer: Make) -> None:
    customer = make_customer()
    url = f"/api/v1/customers/{customer.pk}/stage"

    assert as_tech.get(url).status_code == 200
    assert as_tech.post_json(url, {"stage": "lost", "reason": "x"}).status_code == 403


def test_the_stage_history_runs_the_same_queries_for_2_and_20_moves(api: ApiClient, make_customer: Make) -> None:
    customer = make_customer()
    url = f"/api/v1/customers/{customer.pk}/stage"
    api.get(url)
    counts = []
    for n in (1, 18):
        for i in range(n):
            stage = (
                "lost"
                if Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).stage != "lost"
                else "intent"
            )
            api.post_json(url, {"stage": stage, "reason": f"第{i}次"})
        counts.append(queries_of(api, url))
    # 1 token with user and organization, 2 the customer, 3 the moves with who made them
    assert counts == [3, 3]


# --- customers: the lifecycle fields and the grade filter -----------------------------------


def test_the_customer_list_filters_by_intent_grade(api: ApiClient, advisor: User, make_customer: Make) -> None:
    hot = make_customer(name="张三")
    make_customer(name="李四")
    followup_record(customer=hot, by=advisor, channel="phone", content="本周来", grade="H")

    assert [c["name"] for c in api.get("/api/v1/customers?grade=H").json()["items"]] == ["张三"]
    assert [c["name"] for c in api.get("/api/v1/customers?grade=H&q=zs").json()["items"]] == ["张三"]
    assert set(refused(api.get("/api/v1/customers?grade=X"))) == {"grade"}


def test_the_stage_is_not_changed_through_the_customer_file(api: ApiClient, make_customer: Make) -> None:
    customer = make_customer()

    r = api.patch_json(f"/api/v1/customers/{customer.pk}", {"stage": "lost"})

    assert refused(r) == {"stage": [str(customer_errors.STAGE_NOT_HERE)]}


# --- merging --------------------------------------------------------------------------------


def test_a_merge_keeps_the_vehicles_and_follow_ups_of_both_files(
    api: ApiClient, advisor: User, make_customer: Make, make_vehicle: Make
) -> None:
    keep = make_customer(name="张三", phone="13812341234")
    other = make_customer(name="张三", phone="", wechat="zhangsan_wx")
    make_vehicle(keep, plate="粤B11111")
    make_vehicle(other, plate="粤B22222")
    followup_record(customer=other, by=advisor, channel="wechat", content="微信上问过价格", grade="B")

    r = api.post_json("/api/v1/customers/merge", {"keep_id": keep.pk, "other_id": other.pk})

    assert r.status_code == 200, r.content
    doc = r.json()
    assert (doc["id"], doc["wechat"], doc["stage"], doc["intent_grade"]) == (keep.pk, "zhangsan_wx", "intent", "B")
    assert api.get(f"/api/v1/customers/{other.pk}").status_code == 404
    plates = sorted(v["plate"] for v in api.get(f"/api/v1/customers/{keep.pk}/vehicles").json())
    assert plates == ["粤B11111", "粤B22222"]
    followups = api.get(f"/api/v1/customers/{keep.pk}/followups").json()["items"]
    assert [f["content"] for f in followups] == ["微信上问过价格"]
    assert Customer.objects.for_org(other.organization_id).get(pk=other.pk).merged_into_id == keep.pk


def test_a_file_cannot_be_merged_with_itself(api: ApiClient, make_customer: Make) -> None:
    customer = make_customer()
    r = api.post_json("/api/v1/customers/merge", {"keep_id": customer.pk, "other_id": customer.pk})
    assert refused(r) == {"other_id": [str(errors.MERGE_SAME)]}


def test_a_merge_with_another_organizations_or_a_deleted_file_is_404(
    api: ApiClient, make_customer: Make, foreign_customer: Customer, owner: User
) -> None:
    mine = make_customer()
    gone = make_customer()
    customer_delete(customer=gone, by=owner)

    for keep, other in ((mine.pk, foreign_customer.pk), (foreign_customer.pk, mine.pk), (mine.pk, gone.pk)):
        assert api.post_json("/api/v1/customers/merge", {"keep_id": keep, "other_id": other}).status_code == 404
    assert Customer.objects.for_org(owner.organization_id).filter(merged_into__isnull=False).count() == 0
    assert Customer.objects.for_org(foreign_customer.organization_id).get(pk=foreign_customer.pk).deleted_at is None


def test_a_merge_needs_both_ids(api: ApiClient, make_customer: Make) -> None:
    assert set(refused(api.post_json("/api/v1/customers/merge", {}))) == {"keep_id", "other_id"}


def test_customer_service_cannot_merge(service: User, api_for: ApiFor, make_customer: Make) -> None:
    a, b = make_customer(), make_customer()
    r = api_for(service).post_json("/api/v1/customers/merge", {"keep_id": a.pk, "other_id": b.pk})
    assert r.status_code == 403
    assert Customer.objects.for_org(b.organization_id).get(pk=b.pk).deleted_at is None


# --- reassignment ---------------------------------------------------------------------------


def test_a_staff_members_customers_and_tasks_go_to_others_in_turn(
    as_owner: ApiClient, advisor: User, owner: User, service: User, make_customer: Make
) -> None:
    made = [make_customer() for _ in range(4)]

    r = as_owner.post_json(f"/api/v1/staff/{advisor.pk}/reassign", {"to": [owner.pk, service.pk]})

    assert r.status_code == 200
    assert r.json() == {"moved": 4, "deactivated": False}
    owners = [Customer.objects.for_org(c.organization_id).get(pk=c.pk).owner_id for c in made]
    assert owners == [owner.pk, service.pk, owner.pk, service.pk]
    assert not FollowUpTask.objects.for_org(advisor.organization_id).filter(assignee=advisor, closed_at=None).exists()
    advisor.refresh_from_db()
    assert advisor.is_active


def test_only_the_customers_named_are_handed_over(
    as_owner: ApiClient, advisor: User, service: User, make_customer: Make
) -> None:
    a, b = make_customer(), make_customer()

    r = as_owner.post_json(f"/api/v1/staff/{advisor.pk}/reassign", {"to": [service.pk], "customer_ids": [b.pk]})

    assert r.json() == {"moved": 1, "deactivated": False}
    assert (
        Customer.objects.for_org(a.organization_id).get(pk=a.pk).owner_id,
        Customer.objects.for_org(b.organization_id).get(pk=b.pk).owner_id,
    ) == (advisor.pk, service.pk)


def test_a_staff_member_who_leaves_owns_no_customer_and_cannot_sign_in(
    as_owner: ApiClient, advisor: User, service: User, make_customer: Make, api_for: ApiFor
) -> None:
    for _ in range(3):
        make_customer()
    as_advisor = api_for(advisor)

    r = as_owner.post_json(f"/api/v1/staff/{advisor.pk}/reassign", {"to": [service.pk], "deactivate": True})

    assert r.status_code == 200
    assert r.json() == {"moved": 3, "deactivated": True}
    assert not Customer.objects.for_org(advisor.organization_id).filter(owner=advisor).exists()
    assert not FollowUpTask.objects.for_org(advisor.organization_id).filter(assignee=advisor, closed_at=None).exists()
    assert as_advisor.get("/api/v1/customers").status_code == 401


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"to": []}, "to", errors.REASSIGN_TARGET_REQUIRED),
        ({"to": ["advisor"]}, "to", errors.REASSIGN_TO_SELF),
        ({"to": ["service", "outsider"]}, "to", errors.REASSIGN_TARGET_REQUIRED),
        ({"to": ["service"], "deactivate": True, "customer_ids": []}, "customer_ids", errors.REASSIGN_ALL_ON_LEAVING),
        ({"to": ["service"], "customer_ids": ["foreign"]}, "customer_ids", customer_errors.CUSTOMER_NOT_FOUND),
    ],
)
def test_a_reassignment_is_refused_per_field_and_nothing_moves(
    as_owner: ApiClient,
    make_customer: Make,
    foreign_customer: Customer,
    advisor: User,
    service: User,
    outsider: User,
    payload: dict[str, Any],
    field: str,
    message: Any,
) -> None:
    make_customer()
    ids = {"advisor": advisor.pk, "service": service.pk, "outsider": outsider.pk, "foreign": foreign_customer.pk}
    payload = {k: [ids[i] for i in v] if isinstance(v, list) else v for k, v in payload.items()}

    r = as_owner.post_json(f"/api/v1/staff/{advisor.pk}/reassign", payload)

    assert refused(r) == {field: [str(message)]}
    assert Customer.objects.for_org(advisor.organization_id).filter(owner=advisor).count() == 1
    advisor.refresh_from_db()
    assert advisor.is_active


def test_the_store_manager_cannot_deactivate_themselves(as_owner: ApiClient, owner: User, service: User) -> None:
    r = as_owner.post_json(f"/api/v1/staff/{owner.pk}/reassign", {"to": [service.pk], "deactivate": True})
    assert refused(r) == {"staff_id": [str(errors.DEACTIVATE_SELF)]}


def test_a_staff_member_of_another_organization_is_404(
    as_owner: ApiClient, outsider: User, service: User, foreign_customer: Customer
) -> None:
    r = as_owner.post_json(f"/api/v1/staff/{outsider.pk}/reassign", {"to": [service.pk], "deactivate": True})

    assert r.status_code == 404
    outsider.refresh_from_db()
    assert outsider.is_active
    assert (
        Customer.objects.for_org(foreign_customer.organization_id).get(pk=foreign_customer.pk).owner_id == outsider.pk
    )


def test_an_advisor_cannot_reassign_customers(
    api: ApiClient, advisor: User, service: User, make_customer: Make
) -> None:
    make_customer()
    r = api.post_json(f"/api/v1/staff/{advisor.pk}/reassign", {"to": [service.pk]})
    assert r.status_code == 403
    assert Customer.objects.for_org(advisor.organization_id).filter(owner=advisor).count() == 1


# --- follow-up plans -----------------------------------------------------------------------


def test_the_plans_are_listed_with_their_steps(as_owner: ApiClient) -> None:
    r = as_owner.get("/api/v1/followup-plans")

    assert r.status_code == 200
    plans = {p["stage"]: p for p in r.json()}
    prospect = plans["prospect"]
    assert (prospect["source"], prospect["is_active"]) == (None, True)
    assert [(s["day_offset"], s["channel"]) for s in prospect["steps"]] == [(0, "phone"), (2, "wechat"), (7, "phone")]


def test_a_plan_for_a_source_schedules_its_steps_for_new_prospects_of_that_source(
    as_owner: ApiClient, api: ApiClient, org: Organization
) -> None:
    steps = [
        {"day_offset": 1, "channel": "wechat", "action": "发活动海报"},
        {"day_offset": 0, "channel": "phone", "action": "致电"},
    ]
    r = as_owner.post_json("/api/v1/followup-plans", {"name": "活动潜客", "source": "event", "steps": steps})

    assert r.status_code == 201, r.content
    assert [s["day_offset"] for s in r.json()["steps"]] == [0, 1]
    created = api.post_json("/api/v1/prospects", {"name": "张三", "phone": "13812341234", "source": "event"}).json()
    actions = (
        FollowUpTask.objects.for_org(org)
        .filter(customer_id=created["id"])
        .order_by("due_on")
        .values_list("action", flat=True)
    )
    assert list(actions) == ["致电", "发活动海报"]


def test_a_plan_is_replaced_with_its_steps(as_owner: ApiClient, org: Organization) -> None:
    plan = as_owner.get("/api/v1/followup-plans").json()[0]
    payload = {
        "name": "新流程",
        "stage": plan["stage"],
        "steps": [{"day_offset": 3, "channel": "sms", "action": "短信"}],
    }

    r = as_owner.generic(
        "PUT", f"/api/v1/followup-plans/{plan['id']}", json.dumps(payload), content_type="application/json"
    )

    assert r.status_code == 200
    assert (r.json()["id"], r.json()["name"], r.json()["steps"]) == (plan["id"], "新流程", payload["steps"])


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": " "}, "name", errors.PLAN_NAME_REQUIRED),
        ({"steps": []}, "steps", errors.PLAN_STEPS_REQUIRED),
        ({"steps": [{"day_offset": 400, "channel": "phone", "action": "x"}]}, "steps", errors.PLAN_STEP_DAY_INVALID),
        ({"steps": [{"day_offset": 1, "channel": "fax", "action": "x"}]}, "steps", errors.CHANNEL_INVALID),
        ({"steps": [{"day_offset": 1, "channel": "phone", "action": " "}]}, "steps", errors.PLAN_STEP_ACTION_REQUIRED),
        ({"stage": "vip"}, "stage", errors.STAGE_INVALID),
        ({"source": "nowhere"}, "source", customer_errors.SOURCE_INVALID),
        ({"stage": "prospect"}, "source", errors.PLAN_DUPLICATE),
    ],
)
def test_a_plan_is_refused_per_field(as_owner: ApiClient, payload: dict[str, Any], field: str, message: Any) -> None:
    base = {"name": "流程", "stage": "intent", "steps": [{"day_offset": 1, "channel": "phone", "action": "致电"}]}

    assert refused(as_owner.post_json("/api/v1/followup-plans", {**base, **payload})) == {field: [str(message)]}


def test_a_plan_of_another_organization_is_404(as_owner: ApiClient, other_org: Organization) -> None:
    foreign = FollowUpPlan.objects.for_org(other_org).first()
    assert foreign is not None
    payload = {"name": "越界", "stage": "prospect", "steps": [{"day_offset": 0, "channel": "phone", "action": "x"}]}

    r = as_owner.generic(
        "PUT", f"/api/v1/followup-plans/{foreign.pk}", json.dumps(payload), content_type="application/json"
    )

    assert r.status_code == 404
    foreign.refresh_from_db()
    assert foreign.name != "越界"
    assert all(p["id"] != foreign.pk for p in as_owner.get("/api/v1/followup-plans").json())


def test_only_the_store_manager_reads_and_writes_plans(api: ApiClient) -> None:
    assert api.get("/api/v1/followup-plans").status_code == 403
    assert api.post_json("/api/v1/followup-plans", {"name": "x"}).status_code == 403


def test_the_plan_list_runs_the_same_queries_for_2_and_20_plans(as_owner: ApiClient) -> None:
    as_owner.get("/api/v1/followup-plans")
    counts = []
    for n in range(20):
        step = {"day_offset": n, "channel": "phone", "action": "致电"}
        plan = {"name": f"流程{n}", "stage": "lost", "is_active": False, "steps": [step, step]}
        assert as_owner.post_json("/api/v1/followup-plans", plan).status_code == 201
        if n in (0, 19):  # with the two standard plans: 3 plans, then 22
            counts.append(queries_of(as_owner, "/api/v1/followup-plans"))
    # 1 token with user and organization, 2 plans with their source, 3 steps
    assert counts == [3, 3]


# --- the API describes the routes -----------------------------------------------------------


def test_openapi_lists_the_lifecycle_routes(api: ApiClient) -> None:
    doc = api.get("/api/v1/openapi.json").json()
    routes = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}

    assert routes >= {
        ("POST", "/api/v1/prospects"),
        ("GET", "/api/v1/prospects"),
        ("GET", "/api/v1/customers/{customer_id}/followups"),
        ("POST", "/api/v1/customers/{customer_id}/followups"),
        ("GET", "/api/v1/followups"),
        ("GET", "/api/v1/customers/{customer_id}/stage"),
        ("POST", "/api/v1/customers/{customer_id}/stage"),
        ("POST", "/api/v1/customers/merge"),
        ("POST", "/api/v1/staff/{staff_id}/reassign"),
        ("GET", "/api/v1/followup-plans"),
        ("POST", "/api/v1/followup-plans"),
        ("PUT", "/api/v1/followup-plans/{plan_id}"),
    }
    history = doc["components"]["schemas"]["StageChangeOut"]["properties"]
    assert {"from", "to"} <= set(history)


def test_the_documented_choices_match_the_models() -> None:
    assert (Stage.values, FollowUpChannel.values, IntentGrade.values) == (STAGES, CHANNELS, GRADES)
