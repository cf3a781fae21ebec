"""/api/v1/care/tasks: the care work list, closing a task, and the vehicle's odometer estimate and next service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from huitou.api.services import token_create
from huitou.api.tests.conftest import ApiClient
from huitou.care import errors
from huitou.care.models import CallbackQuestion, CareKind, CareTask
from huitou.care.tests.test_work_pages import TODAY, task
from huitou.customers.services import mileage_record
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/care/tasks"
Make = Callable[..., Any]


@pytest.fixture
def api_for() -> Callable[[User], ApiClient]:
    return lambda user: ApiClient(token_create(user=user, name="tests")[1])


@pytest.fixture
def api(advisor: User, api_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_for(advisor)


def test_it_lists_my_open_tasks_with_what_the_work_list_shows(
    api: ApiClient, advisor: User, service: User, make_customer: Make, make_vehicle: Make
) -> None:
    zhang = make_customer(name="张三")
    car = make_vehicle(zhang)
    due = task(zhang, advisor, 0, vehicle=car)
    task(make_customer(), service, 0)

    r = api.get(TASKS)

    assert r.status_code == 200
    doc = r.json()
    assert doc["count"] == 1 and (doc["page"], doc["page_size"]) == (1, 20)
    item = doc["items"][0]
    assert {k: item[k] for k in ("id", "kind", "customer_id", "vehicle_id", "due_on", "reason", "state")} == {
        "id": due.pk,
        "kind": "maintenance",
        "customer_id": zhang.pk,
        "vehicle_id": car.pk,
        "due_on": TODAY.isoformat(),
        "reason": due.reason,
        "state": "open",
    }
    assert item["owner"] == {"id": advisor.pk, "username": advisor.username, "name": str(advisor)}
    assert item["script"] == due.script and item["score"] is None and item["answers"] == {}


def test_it_filters_by_kind_customer_state_and_due_date(api: ApiClient, advisor: User, make_customer: Make) -> None:
    wang = make_customer(name="王五")
    today = task(wang, advisor, 0)
    late = task(wang, advisor, -3, kind=CareKind.INSURANCE)
    coming = task(make_customer(), advisor, 4, kind=CareKind.CALLBACK)
    closed = task(wang, advisor, -1, kind=CareKind.INSPECTION)
    CareTask.objects.for_org(wang.organization_id).filter(pk=closed.pk).update(
        state=CareTask.State.SKIPPED, closed_at=timezone.now()
    )

    def ids(**query: Any) -> list[int]:
        r = api.get(TASKS, query)
        assert r.status_code == 200, r.content
        return [i["id"] for i in r.json()["items"]]

    assert ids() == [late.pk, today.pk, coming.pk]
    assert ids(due="today") == [today.pk]
    assert ids(due="overdue") == [late.pk]
    assert ids(due="week") == [coming.pk]
    assert ids(kind="callback") == [coming.pk]
    assert ids(customer_id=wang.pk) == [late.pk, today.pk]
    assert ids(state="skipped") == [closed.pk]
    assert ids(state="done") == []
    assert api.get(TASKS, {"state": "closed"}).status_code == 422
    assert api.get(TASKS, {"kind": "party"}).status_code == 422


def test_a_colleagues_or_everyones_tasks_need_the_team_permission(
    api: ApiClient,
    api_for: Callable[[User], ApiClient],
    owner: User,
    advisor: User,
    service: User,
    make_customer: Make,
) -> None:
    theirs = task(make_customer(), service, 0)
    mine = task(make_customer(), advisor, 0)
    manager = api_for(owner)

    assert api.get(TASKS, {"owner": service.username}).status_code == 403
    assert api.get(TASKS, {"owner": "all"}).status_code == 403
    assert [i["id"] for i in manager.get(TASKS, {"owner": service.pk}).json()["items"]] == [theirs.pk]
    assert [i["id"] for i in manager.get(TASKS, {"owner": "all"}).json()["items"]] == [theirs.pk, mine.pk]
    unknown = manager.get(TASKS, {"owner": "nobody"})
    assert unknown.status_code == 422 and list(unknown.json()["errors"]) == ["owner"]
    assert api_for(service).get(TASKS).json()["count"] == 1


def test_technicians_have_no_care_list(api_for: Callable[[User], ApiClient], tech: User) -> None:
    assert api_for(tech).get(TASKS).status_code == 403


def test_the_list_runs_the_same_queries_whatever_the_page(
    api: ApiClient, advisor: User, make_customer: Make, django_assert_num_queries: Any
) -> None:
    api.get(TASKS)  # the token's first use also stamps last_used_at
    for n in (1, 25):
        for _ in range(n):
            task(make_customer(), advisor, 0)
        # 1 token with its user and organization, 2 the count, 3 the page of tasks + owners
        with django_assert_num_queries(3):
            r = api.get(TASKS)
    assert len(r.json()["items"]) == 20 and r.json()["count"] == 26


# --- closing ---------------------------------------------------------------------------------


@pytest.fixture
def paid_callback(
    make_order: Callable[..., ServiceOrder], make_service_item: Callable[..., ServiceItem], advisor: User
) -> CareTask:
    order = make_order()
    order_add_line(order=order, by=advisor, service=make_service_item(name="精致洗车"))
    order_complete(order=order, by=advisor)
    order_pay(order=order, by=advisor, method="cash", amount=order.total)
    return CareTask.objects.for_org(order.organization_id).get(kind=CareKind.CALLBACK, order=order)


def test_a_callback_is_done_with_a_score_and_answers(
    api: ApiClient, advisor: User, paid_callback: CareTask, org: Organization
) -> None:
    question = CallbackQuestion.objects.create(organization=org, position=1, text="交车是否准时？")

    r = api.post_json(
        f"{TASKS}/{paid_callback.pk}/done",
        {"result": " 客户很满意 ", "score": 5, "answers": {str(question.pk): 4}},
    )

    assert r.status_code == 200, r.content
    doc = r.json()
    assert (doc["state"], doc["result"], doc["score"], doc["answers"]) == (
        "done",
        "客户很满意",
        5,
        {str(question.pk): 4},
    )
    assert doc["order_id"] == paid_callback.order_id and doc["closed_at"]
    paid_callback.refresh_from_db()
    assert (paid_callback.state, paid_callback.closed_by) == ("done", advisor)


@pytest.mark.parametrize("score", [None, 0, 6, "4", True, 4.5])
def test_a_callback_needs_a_score_from_1_to_5(api: ApiClient, paid_callback: CareTask, score: Any) -> None:
    body: dict[str, Any] = {"result": "联系上了"}
    if score is not None:
        body["score"] = score
    r = api.post_json(f"{TASKS}/{paid_callback.pk}/done", body)

    assert r.status_code == 422
    assert "score" in r.json()["errors"]
    if score in (None, 0, 6):  # an integer: the service's own message
        assert r.json()["errors"]["score"] == [zh(errors.SCORE_REQUIRED)]
    paid_callback.refresh_from_db()
    assert paid_callback.state == CareTask.State.OPEN


def test_a_reminder_takes_no_score_nor_answers(api: ApiClient, advisor: User, make_customer: Make) -> None:
    reminder = task(make_customer(), advisor, 0)

    scored = api.post_json(f"{TASKS}/{reminder.pk}/done", {"result": "已预约", "score": 4})
    answered = api.post_json(f"{TASKS}/{reminder.pk}/done", {"result": "已预约", "answers": {"1": 4}})
    done = api.post_json(f"{TASKS}/{reminder.pk}/done", {"result": "已预约"})

    assert scored.status_code == 422 and scored.json()["errors"]["score"] == [zh(errors.SCORE_ONLY_FOR_CALLBACKS)]
    assert answered.status_code == 422 and "answers" in answered.json()["errors"]
    assert done.status_code == 200 and done.json()["score"] is None


def test_answers_must_be_an_object(api: ApiClient, paid_callback: CareTask) -> None:
    r = api.post_json(f"{TASKS}/{paid_callback.pk}/done", {"result": "好", "score": 4, "answers": ["很好"]})
    assert r.status_code == 422 and "answers" in r.json()["errors"]


def test_a_task_is_skipped_with_a_reason_once(api: ApiClient, advisor: User, make_customer: Make) -> None:
    reminder = task(make_customer(), advisor, 0, kind=CareKind.INSURANCE)

    blank = api.post_json(f"{TASKS}/{reminder.pk}/skip", {"reason": "   "})
    skipped = api.post_json(f"{TASKS}/{reminder.pk}/skip", {"reason": "已在别家续保"})
    again = api.post_json(f"{TASKS}/{reminder.pk}/skip", {"reason": "再跳过"})
    done = api.post_json(f"{TASKS}/{reminder.pk}/done", {"result": "补记"})

    assert blank.status_code == 422
    assert skipped.status_code == 200 and (skipped.json()["state"], skipped.json()["result"]) == (
        "skipped",
        "已在别家续保",
    )
    assert again.status_code == 409 and again.json()["detail"] == zh(errors.TASK_CLOSED)
    assert done.status_code == 409


def test_a_colleagues_task_is_refused_but_the_store_manager_may_close_it(
    api_for: Callable[[User], ApiClient], owner: User, advisor: User, service: User, make_customer: Make
) -> None:
    mine = task(make_customer(), advisor, 0)

    refused = api_for(service).post_json(f"{TASKS}/{mine.pk}/done", {"result": "帮同事打了"})
    closed = api_for(owner).post_json(f"{TASKS}/{mine.pk}/skip", {"reason": "顾问休假"})

    assert refused.status_code == 403 and refused.json()["detail"] == zh(errors.NOT_YOUR_TASK)
    assert closed.status_code == 200 and closed.json()["state"] == "skipped"


def test_one_task_reads_and_unknown_ids_are_404(api: ApiClient, advisor: User, make_customer: Make) -> None:
    reminder = task(make_customer(), advisor, 0)
    assert api.get(f"{TASKS}/{reminder.pk}").json()["id"] == reminder.pk
    assert api.get(f"{TASKS}/999999").status_code == 404
    assert api.post_json(f"{TASKS}/999999/done", {"result": "x"}).status_code == 404
    assert api.post_json(f"{TASKS}/999999/skip", {"reason": "x"}).status_code == 404


def test_another_organizations_task_is_404_and_its_customer_filters_to_nothing(
    api_for: Callable[[User], ApiClient], outsider: User, advisor: User, make_customer: Make
) -> None:
    customer = make_customer()
    theirs = task(customer, advisor, 0)
    b = api_for(outsider)

    assert b.get(f"{TASKS}/{theirs.pk}").status_code == 404
    assert b.post_json(f"{TASKS}/{theirs.pk}/done", {"result": "x"}).status_code == 404
    assert b.post_json(f"{TASKS}/{theirs.pk}/skip", {"reason": "x"}).status_code == 404
    assert b.get(TASKS, {"customer_id": customer.pk, "owner": "all"}).json() == {
        "items": [],
        "count": 0,
        "page": 1,
        "page_size": 20,
    }
    theirs.refresh_from_db()
    assert theirs.state == CareTask.State.OPEN


# --- the vehicle's outlook -------------------------------------------------------------------


def test_a_vehicle_reads_with_its_estimated_mileage_and_next_maintenance(
    api: ApiClient,
    advisor: User,
    make_customer: Make,
    make_vehicle: Make,
    make_order: Make,
    make_service_item: Make,
) -> None:
    car = make_vehicle(make_customer(), mileage_km=None)
    bare = api.get(f"/api/v1/vehicles/{car.pk}").json()
    assert (bare["estimated_mileage"], bare["next_maintenance"]) == (None, None)

    start = timezone.now() - dt.timedelta(days=100)
    mileage_record(vehicle=car, km=30_000, by=advisor, read_at=start)
    oil = make_service_item(name="小保养", interval_km=5000, interval_months=6)
    order = make_order(vehicle=car, mileage_km=34_000, now=start + dt.timedelta(days=80))
    order_add_line(order=order, by=advisor, service=oil, now=order.opened_at)
    order_complete(order=order, by=advisor, now=order.opened_at)
    order_pay(order=order, by=advisor, method="cash", amount=order.total, now=order.opened_at)

    doc = api.get(f"/api/v1/vehicles/{car.pk}").json()

    # 4,000 km in 80 days: 50 km a day; 20 days since the last reading.
    assert doc["estimated_mileage"] == 35_000
    paid_on = timezone.localdate(order.opened_at)
    assert doc["next_maintenance"] == {
        "service": "小保养",
        "due_on": (paid_on + dt.timedelta(days=100)).isoformat(),  # 39,000 km at 50 a day
        "due_km": 39_000,
        "due_by": "km",
    }
