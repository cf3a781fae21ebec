"""The complaint pages and /api/v1/complaints agree: the same input stores the same rows, or is refused
with the same message (the pattern of huitou/api/tests/test_page_api_agreement.py)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from huitou.api.services import token_create
from huitou.api.tests.conftest import ApiClient
from huitou.api.tests.test_page_api_agreement import Write, _api_messages, _run, said
from huitou.care import errors
from huitou.care.models import STEP_ORDER, Complaint, ComplaintEvent, ComplaintStep
from huitou.care.services.complaints import complaint_close, complaint_open, complaint_step_record
from huitou.customers.models import Customer, Vehicle
from huitou.loyalty.models import Coupon, StoredValueEntry
from huitou.loyalty.services.coupons import coupon_template_save
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db


def _name(user: User | None) -> str:
    return user.username if user is not None else ""


def stored(org: Organization) -> dict[str, list[tuple[Any, ...]]]:
    """The organization's complaint rows by natural keys, and what compensation gave."""
    rows: dict[str, list[tuple[Any, ...]]] = {
        "complaints": [
            (c.customer.name, c.summary, c.source, _name(c.owner), c.state, c.round, c.steps_done)
            + (c.vehicle.plate if c.vehicle else "", c.due_at is None, c.closed_at is None, _name(c.closed_by))
            for c in Complaint.objects.for_org(org).select_related("customer", "owner", "vehicle", "closed_by")
        ],
        "steps": [
            (s.complaint.summary, s.round, s.step, s.note, _name(s.by), s.late)
            + (s.coupon.name if s.coupon else "", s.stored_value_entry.bonus if s.stored_value_entry else None)
            for s in ComplaintStep.objects.for_org(org).select_related(
                "complaint", "by", "coupon", "stored_value_entry"
            )
        ],
        "events": [
            (e.complaint.summary, e.kind, e.round, e.step, e.note, _name(e.by))
            for e in ComplaintEvent.objects.for_org(org).select_related("complaint", "by")
        ],
        "coupons": [
            (c.customer.name, c.name, c.source, _name(c.issued_by))
            for c in Coupon.objects.for_org(org).select_related("customer", "issued_by")
        ],
        "stored_value": [
            (e.customer.name, e.kind, e.principal, e.bonus, e.reason, _name(e.by))
            for e in StoredValueEntry.objects.for_org(org).select_related("customer", "by")
        ],
    }
    return {table: sorted(found, key=repr) for table, found in rows.items()}


def _opened(w: SimpleNamespace, steps: int = 0) -> None:
    w.complaint = complaint_open(customer=w.customer, summary="保养后异响", by=w.service)
    for step in STEP_ORDER[:steps]:
        complaint_step_record(complaint=w.complaint, step=step, note=f"{step} 记录", by=w.service)


def _closed(w: SimpleNamespace) -> None:
    _opened(w, 9)
    complaint_close(complaint=w.complaint, by=w.service)


def _page(name: str) -> Callable[[SimpleNamespace], str]:
    return lambda w: reverse(f"complaints:{name}", args=[w.complaint.pk])


def _api(tail: str) -> Callable[[SimpleNamespace], str]:
    return lambda w: f"/api/v1/complaints/{w.complaint.pk}{tail}"


def _step(step: str, note: str, **extra: Any) -> tuple[Any, Any]:
    page = lambda w: (_page("step_add")(w), {"step": step, "note": note, **extra})  # noqa: E731
    api = lambda w: ("POST", _api("/steps")(w), {"step": step, "note": note, **extra})  # noqa: E731
    return page, api


def _new_page(w: SimpleNamespace, **data: Any) -> tuple[str, dict[str, Any]]:
    return f"{reverse('complaints:new')}?customer={w.customer.pk}", {"owner": w.service.pk, **data}


WRITES: list[Write] = [
    Write(
        "open a complaint for a customer's car",
        page=lambda w: _new_page(w, summary=" 洗车后有划痕 ", vehicle=w.car.pk),
        api=lambda w: (
            "POST",
            "/api/v1/complaints",
            {"customer_id": w.customer.pk, "summary": " 洗车后有划痕 ", "vehicle_id": w.car.pk, "owner": w.service.pk},
        ),
        user="service",
    ),
    Write(
        "open a complaint without saying what about",
        page=lambda w: _new_page(w, summary="   "),
        api=lambda w: (
            "POST",
            "/api/v1/complaints",
            {"customer_id": w.customer.pk, "summary": "", "owner": w.service.pk},
        ),
        user="service",
        refused=errors.COMPLAINT_SUMMARY_REQUIRED,
    ),
    Write(
        "record the first step",
        arrange=_opened,
        page=_step("listen", "客户说保养后发动机异响")[0],
        api=_step("listen", "客户说保养后发动机异响")[1],
        user="service",
    ),
    Write(
        "record a step out of order",
        arrange=_opened,
        page=_step("apologise", "对不起")[0],
        api=_step("apologise", "对不起")[1],
        user="service",
        refused=said(errors.STEP_OUT_OF_ORDER, next=zh("Listen")),
        api_status=409,
    ),
    Write(
        "record a step without a note",
        arrange=_opened,
        page=_step("listen", "  ")[0],
        api=lambda w: ("POST", _api("/steps")(w), {"step": "listen", "note": "  "}),
        user="service",
        refused=errors.STEP_NOTE_REQUIRED,
    ),
    Write(
        "compensate with stored value",
        arrange=lambda w: _opened(w, 6),
        page=_step("compensate", "赠送储值 50 元", stored_value="50")[0],
        api=_step("compensate", "赠送储值 50 元", stored_value="50")[1],
        user="advisor",
    ),
    Write(
        "compensate with a coupon",
        arrange=lambda w: _opened(w, 6),
        page=lambda w: (_page("step_add")(w), {"step": "compensate", "note": "送洗车券", "coupon_template": w.wash.pk}),
        api=lambda w: (
            "POST",
            _api("/steps")(w),
            {"step": "compensate", "note": "送洗车券", "coupon_template": "wash"},
        ),
        user="advisor",
    ),
    Write(
        "compensate with too much stored value",
        arrange=lambda w: _opened(w, 6),
        page=_step("compensate", "赠送储值", stored_value="20000")[0],
        api=_step("compensate", "赠送储值", stored_value="20000")[1],
        user="advisor",
        refused=errors.COMPENSATION_AMOUNT,
    ),
    Write(
        "close after the customer's feedback",
        arrange=lambda w: _opened(w, 9),
        page=lambda w: (_page("close")(w), {}),
        api=lambda w: ("POST", _api("/close")(w), {}),
        user="service",
    ),
    Write(
        "close before the customer's feedback",
        arrange=lambda w: _opened(w, 8),
        page=lambda w: (_page("close")(w), {}),
        api=lambda w: ("POST", _api("/close")(w), {}),
        user="service",
        refused=errors.FEEDBACK_REQUIRED,
        api_status=409,
    ),
    Write(
        "reopen with a reason",
        arrange=_closed,
        page=lambda w: (_page("reopen")(w), {"reason": "一周后异响又出现"}),
        api=lambda w: ("POST", _api("/reopen")(w), {"reason": "一周后异响又出现"}),
        user="owner",
    ),
    Write(
        "reopen an open complaint",
        arrange=_opened,
        page=lambda w: (_page("reopen")(w), {"reason": "再开"}),
        api=lambda w: ("POST", _api("/reopen")(w), {"reason": "再开"}),
        user="owner",
        refused=errors.COMPLAINT_NOT_CLOSED,
        api_status=409,
    ),
]


@pytest.fixture
def world(
    org: Organization,
    owner: User,
    advisor: User,
    service: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> SimpleNamespace:
    customer = make_customer(name="张三丰", phone="13812345678")
    car = make_vehicle(customer, plate="粤B5K2M8")
    wash = coupon_template_save(
        organization=org, data={"code": "wash", "name": "免费洗车券", "kind": "amount", "value": "30"}
    )
    users = {"owner": owner, "advisor": advisor, "service": service}
    return SimpleNamespace(org=org, customer=customer, car=car, wash=wash, users=users, **users)


def _through(channel: str, write: Write, w: SimpleNamespace, client: Client) -> tuple[Any, dict[str, Any]]:
    with transaction.atomic():
        if channel == "page":
            url, data = write.page(w)
            response = _run(client, "POST", url, data, page=True)
        else:
            method, path, body = write.api(w)
            response = _run(client, method, path, body, page=False)
        after = stored(w.org)
        transaction.set_rollback(True)
    return response, after


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_the_complaint_page_and_the_api_agree(
    write: Write, world: SimpleNamespace, client_for: Callable[[User], Client]
) -> None:
    write.arrange(world)
    user = world.users[write.user]
    before = stored(world.org)
    _, raw = token_create(user=user, name="tests")

    page, by_page = _through("page", write, world, client_for(user))
    api, by_api = _through("api", write, world, ApiClient(raw))

    assert page.status_code == 200, page.content.decode()[:500]
    if write.refused is None:
        assert api.status_code in (200, 201), api.content.decode()
        assert by_page != before, "the page stored nothing"
    else:
        message = write.refused() if callable(write.refused) else zh(write.refused)
        assert api.status_code == (write.api_status or 422), api.content.decode()
        assert message in _api_messages(api)
        assert escape(message) in page.content.decode(), f"the page does not say: {message}"
        assert by_page == before
    assert by_page == by_api
