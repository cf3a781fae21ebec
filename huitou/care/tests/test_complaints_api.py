"""/api/v1/complaints: the board, one complaint with its steps, the steps in order, close after feedback (409)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from huitou.api.services import token_create
from huitou.api.tests.conftest import ApiClient
from huitou.care import errors
from huitou.care.models import STEP_ORDER, Complaint
from huitou.care.services.complaints import complaint_close, complaint_open, complaint_step_record
from huitou.customers.models import Customer, Vehicle
from huitou.loyalty.models import Coupon, StoredValueEntry
from huitou.loyalty.services.coupons import coupon_template_save
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

URL = "/api/v1/complaints"


@pytest.fixture
def api_for() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        _, raw = token_create(user=user, name="tests")
        return ApiClient(raw)

    return make


def _open(customer: Customer, by: User, hours_ago: float = 1, **kw: Any) -> Complaint:
    return complaint_open(
        customer=customer, summary="保养后异响", by=by, now=timezone.now() - dt.timedelta(hours=hours_ago), **kw
    )


def test_the_list_filters_by_state_and_customer(
    api_for: Callable[[User], ApiClient], service: User, make_customer: Callable[..., Customer]
) -> None:
    wang, li = make_customer(name="王先生"), make_customer(name="李女士")
    late = _open(wang, service, 30)
    fresh = _open(li, service, 1)
    done = _open(li, service, 60)
    for step in STEP_ORDER:
        complaint_step_record(complaint=done, step=step, note="记录", by=service)
    complaint_close(complaint=done, by=service)
    api = api_for(service)

    every = api.get(URL).json()
    open_ = api.get(URL, {"state": "open"}).json()
    lates = api.get(URL, {"state": "late"}).json()
    closed = api.get(URL, {"state": "closed"}).json()
    lis = api.get(URL, {"customer_id": li.pk}).json()

    assert (every["count"], [i["id"] for i in every["items"]]) == (3, [late.pk, fresh.pk, done.pk])
    assert [i["id"] for i in open_["items"]] == [late.pk, fresh.pk]
    assert [(i["id"], i["late"], i["next_step"]) for i in lates["items"]] == [(late.pk, True, "listen")]
    assert [(i["id"], i["state"], i["steps_done"], i["next_step"]) for i in closed["items"]] == [
        (done.pk, "closed", 9, None)
    ]
    assert {i["id"] for i in lis["items"]} == {fresh.pk, done.pk}
    assert every["items"][0]["customer"] == "王先生"
    assert api.get(URL, {"state": "shouting"}).status_code == 422


def test_a_complaint_goes_through_the_nine_steps_and_closes_after_feedback(
    api_for: Callable[[User], ApiClient],
    service: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> None:
    customer = make_customer(name="王先生")
    car = make_vehicle(customer)
    api = api_for(service)
    created = api.post_json(URL, {"customer_id": customer.pk, "summary": " 洗车划痕 ", "vehicle_id": car.pk})
    assert created.status_code == 201, created.content
    doc = created.json()
    assert (doc["summary"], doc["vehicle_id"], doc["owner"], doc["source"], doc["next_step"]) == (
        "洗车划痕",
        car.pk,
        service.pk,
        "manual",
        "listen",
    )
    one = f"{URL}/{doc['id']}"

    out_of_order = api.post_json(f"{one}/steps", {"step": "apologise", "note": "对不起"})
    assert out_of_order.status_code == 409
    assert out_of_order.json()["detail"] == zh(errors.STEP_OUT_OF_ORDER, next=zh("Listen"))
    for step in STEP_ORDER[:8]:
        assert api.post_json(f"{one}/steps", {"step": step, "note": f"{step} 记录"}).status_code == 201
    early = api.post_json(f"{one}/close")
    assert (early.status_code, early.json()["detail"]) == (409, zh(errors.FEEDBACK_REQUIRED))
    api.post_json(f"{one}/steps", {"step": "feedback", "note": "客户满意"})
    closed = api.post_json(f"{one}/close")
    assert closed.status_code == 200
    assert (closed.json()["state"], closed.json()["next_step"]) == ("closed", None)

    detail = api.get(one).json()
    assert [(s["step"], s["round"], s["by"]) for s in detail["steps"]] == [(s, 1, service.pk) for s in STEP_ORDER]
    assert [e["kind"] for e in detail["events"]] == ["opened", "closed"]
    again = api.post_json(f"{one}/close")
    assert (again.status_code, again.json()["detail"]) == (409, zh(errors.COMPLAINT_CLOSED))

    reopened = api.post_json(f"{one}/reopen", {"reason": "异响又出现"})
    assert reopened.status_code == 200
    assert (reopened.json()["round"], reopened.json()["next_step"]) == (2, "listen")
    assert reopened.json()["events"][-1] == {
        "kind": "reopened",
        "round": 2,
        "step": "",
        "note": "异响又出现",
        "by": service.pk,
        "at": reopened.json()["events"][-1]["at"],
    }
    assert api.post_json(f"{one}/reopen", {"reason": "再开"}).status_code == 409


def test_input_is_refused_with_the_field_that_carried_it(
    api_for: Callable[[User], ApiClient],
    service: User,
    tech: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> None:
    customer = make_customer(name="王先生")
    stranger_car = make_vehicle(make_customer(name="李四", phone="13900001111"))
    api = api_for(service)
    cases = [
        ({"customer_id": customer.pk, "summary": "  "}, "summary"),
        ({"customer_id": 10**9, "summary": "x"}, "customer_id"),
        ({"customer_id": customer.pk, "summary": "x", "vehicle_id": stranger_car.pk}, "vehicle_id"),
        ({"customer_id": customer.pk, "summary": "x", "owner": tech.pk}, "owner"),
    ]
    for payload, field in cases:
        response = api.post_json(URL, payload)
        assert response.status_code == 422, payload
        assert set(response.json()["errors"]) == {field}, (payload, response.json())
    complaint = _open(customer, service)
    blank = api.post_json(f"{URL}/{complaint.pk}/steps", {"step": "listen", "note": " "})
    unknown = api.post_json(f"{URL}/{complaint.pk}/steps", {"step": "shout", "note": "x"})
    assert (blank.status_code, unknown.status_code) == (422, 422)
    assert api.post_json(f"{URL}/{complaint.pk}/reopen", {"reason": ""}).status_code == 422


def test_compensation_through_the_api(
    api_for: Callable[[User], ApiClient],
    service: User,
    advisor: User,
    org: Organization,
    make_customer: Callable[..., Customer],
) -> None:
    coupon_template_save(organization=org, data={"code": "wash", "name": "免费洗车券", "kind": "amount", "value": "30"})
    complaint = _open(make_customer(name="王先生"), service)
    for step in STEP_ORDER[:6]:
        complaint_step_record(complaint=complaint, step=step, note="记录", by=service)
    steps = f"{URL}/{complaint.pk}/steps"

    refused = api_for(service).post_json(steps, {"step": "compensate", "note": "送券", "coupon_template": "wash"})
    assert (refused.status_code, refused.json()["detail"]) == (403, zh(errors.COMPENSATION_ROLE))
    unknown = api_for(advisor).post_json(steps, {"step": "compensate", "note": "送券", "coupon_template": "nope"})
    assert set(unknown.json()["errors"]) == {"coupon_template"}
    given = api_for(advisor).post_json(steps, {"step": "compensate", "note": "送券", "coupon_template": "wash"})
    assert given.status_code == 201
    coupon = Coupon.objects.for_org(org).get()
    assert given.json()["steps"][-1]["coupon_id"] == coupon.pk
    assert coupon.source == "compensation"
    assert not StoredValueEntry.objects.for_org(org).exists()


def test_technicians_may_not_use_the_complaint_routes(
    api_for: Callable[[User], ApiClient], tech: User, service: User, make_customer: Callable[..., Customer]
) -> None:
    complaint = _open(make_customer(), service)
    api = api_for(tech)
    assert api.get(URL).status_code == 403
    assert api.get(f"{URL}/{complaint.pk}").status_code == 403
    assert api.post_json(f"{URL}/{complaint.pk}/steps", {"step": "listen", "note": "x"}).status_code == 403


def test_the_detail_runs_a_fixed_number_of_queries(
    api_for: Callable[[User], ApiClient],
    service: User,
    make_customer: Callable[..., Customer],
    django_assert_num_queries: Any,
) -> None:
    complaint = _open(make_customer(), service)
    for step in STEP_ORDER[:4]:
        complaint_step_record(complaint=complaint, step=step, note="记录", by=service)
    api = api_for(service)
    # 1 the token (+user, organization), 2 last-used stamp, 3 the complaint (+customer, vehicle,
    # order, owner, callback, closer), 4 its steps (+who, coupon, entry), 5 its log, 6 the deadlines.
    with django_assert_num_queries(6) as queries:
        api.get(f"{URL}/{complaint.pk}")
    assert len(queries.captured_queries) == 6


def test_ids_of_another_organization_in_the_body_are_refused(
    api_for: Callable[[User], ApiClient],
    service: User,
    outsider: User,
    org: Organization,
    other_org: Organization,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> None:
    """B's staff naming A's customer, car or staff member get a 422 on that field, and A's data is untouched."""
    a_customer = make_customer(name="甲店客户")
    a_car = make_vehicle(a_customer)
    b_customer = make_customer(organization=other_org, by=outsider, name="乙店客户", phone="13600001111")
    coupon_template_save(organization=org, data={"code": "wash", "name": "免费洗车券", "kind": "amount", "value": "30"})
    api = api_for(outsider)
    cases = [
        ({"customer_id": a_customer.pk, "summary": "x"}, "customer_id"),
        ({"customer_id": b_customer.pk, "summary": "x", "vehicle_id": a_car.pk}, "vehicle_id"),
        ({"customer_id": b_customer.pk, "summary": "x", "owner": service.pk}, "owner"),
    ]
    for payload, field in cases:
        response = api.post_json(URL, payload)
        assert (response.status_code, set(response.json()["errors"])) == (422, {field})
    b_complaint = _open(b_customer, outsider)
    for step in STEP_ORDER[:6]:
        complaint_step_record(complaint=b_complaint, step=step, note="记录", by=outsider)
    a_template = api.post_json(
        f"{URL}/{b_complaint.pk}/steps", {"step": "compensate", "note": "送券", "coupon_template": "wash"}
    )
    assert (a_template.status_code, set(a_template.json()["errors"])) == (422, {"coupon_template"})
    assert api.get(URL, {"customer_id": a_customer.pk}).json() == {"items": [], "count": 0}
    assert not Complaint.objects.for_org(org).exists()
