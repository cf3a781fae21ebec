"""The page and the API agree on closing a care task: done (a callback with its score and answers)
or skipped, the same input through either leaves the same rows, or is refused with the same message.

The pattern of ``huitou/api/tests/test_page_api_agreement.py`` (its ``stored`` gives the domain's
rows; the care tasks and the complaints a low score opens are added here). Each row arranges a
starting state once; the page and then the API run from it, each in a savepoint rolled back
afterwards, and what they leave behind is compared.
"""

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
from huitou.api.tests.test_page_api_agreement import Write, _api_messages, stored
from huitou.care import errors
from huitou.care.models import CallbackQuestion, CareKind, CareTask, Complaint
from huitou.care.tests.test_work_pages import task
from huitou.customers.models import Customer, Vehicle
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh


def _name(user: User | None) -> str:
    return user.username if user is not None else ""


def care_stored(org: Organization) -> dict[str, list[tuple[Any, ...]]]:
    """``stored`` with the care tasks and the complaints (by natural keys, sorted)."""
    rows = stored(org)
    rows["care_tasks"] = sorted(
        (
            (t.kind, t.customer.name, _name(t.owner), t.due_on, t.state, t.result, t.score)
            + (tuple(sorted(t.answers.items())), _name(t.closed_by), t.closed_at is not None)
            for t in CareTask.objects.for_org(org).select_related("customer", "owner", "closed_by")
        ),
        key=repr,
    )
    rows["complaints"] = sorted(
        (
            (c.customer.name, c.source, c.summary, _name(c.owner), c.state, c.steps_done, c.callback_id is not None)
            for c in Complaint.objects.for_org(org).select_related("customer", "owner")
        ),
        key=repr,
    )
    return rows


def _done(which: str, page: Any, api: Any) -> tuple[Any, Any]:
    return (
        lambda w: (reverse("care:task_done", args=[getattr(w, which).pk]), page(w) if callable(page) else page),
        lambda w: ("POST", f"/api/v1/care/tasks/{getattr(w, which).pk}/done", api(w) if callable(api) else api),
    )


def _skip(which: str, reason: str) -> tuple[Any, Any]:
    return (
        lambda w: (reverse("care:task_skip", args=[getattr(w, which).pk]), {"reason": reason}),
        lambda w: ("POST", f"/api/v1/care/tasks/{getattr(w, which).pk}/skip", {"reason": reason}),
    )


def _closed(w: SimpleNamespace) -> None:
    CareTask.objects.for_org(w.org).filter(pk=w.reminder.pk).update(state=CareTask.State.DONE, result="已联系")


def _write(name: str, pair: tuple[Any, Any], **kwargs: Any) -> Write:
    page, api = pair
    return Write(name, page=page, api=api, **kwargs)


WRITES: list[Write] = [
    _write(
        "mark a callback done with a score and the questionnaire's answers",
        _done(
            "callback",
            lambda w: {
                "result": "客户满意",
                "score": "4",
                f"answer_{w.rating.pk}": "5",
                f"answer_{w.words.pk}": "很好",
            },
            lambda w: {"result": "客户满意", "score": 4, "answers": {str(w.rating.pk): 5, str(w.words.pk): "很好"}},
        ),
    ),
    _write(
        "a callback scored 2 opens a complaint",
        _done("callback", {"result": "刹车还有异响", "score": "2"}, {"result": "刹车还有异响", "score": 2}),
    ),
    _write(
        "refuse a callback without a score",
        _done("callback", {"result": "客户没说"}, {"result": "客户没说"}),
        refused=errors.SCORE_REQUIRED,
    ),
    _write(
        "refuse a score of 6",
        _done("callback", {"result": "非常满意", "score": "6"}, {"result": "非常满意", "score": 6}),
        refused=errors.SCORE_REQUIRED,
    ),
    _write(
        "refuse a rating answer outside 1 to 5",
        _done(
            "callback",
            lambda w: {"result": "满意", "score": "5", f"answer_{w.rating.pk}": "9"},
            lambda w: {"result": "满意", "score": 5, "answers": {str(w.rating.pk): 9}},
        ),
        refused=lambda: zh(errors.ANSWER_RATING, question="交车是否准时？"),
    ),
    _write(
        "mark a maintenance reminder done",
        _done("reminder", {"result": "已预约周六保养"}, {"result": "已预约周六保养"}),
    ),
    _write(
        "refuse done without what came of it",
        _done("reminder", {"result": "  "}, {"result": "  "}),
        refused=errors.RESULT_REQUIRED,
    ),
    _write("skip a reminder with the reason", _skip("reminder", "客户已在别处保养")),
    _write("refuse a skip without a reason", _skip("reminder", ""), refused=errors.SKIP_REASON_REQUIRED),
    _write(
        "refuse closing a colleague's task",
        _skip("reminder", "帮同事处理"),
        user="service",
        refused=errors.NOT_YOUR_TASK,
        api_status=403,
    ),
    _write(
        "the store manager closes anyone's task",
        _done("reminder", {"result": "店长已电话联系"}, {"result": "店长已电话联系"}),
        user="owner",
    ),
    _write(
        "refuse closing a closed task",
        _skip("reminder", "重复"),
        arrange=_closed,
        refused=errors.TASK_CLOSED,
        api_status=409,
    ),
]


@pytest.fixture
def world(
    org: Organization,
    owner: User,
    advisor: User,
    tech: User,
    service: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., ServiceItem],
) -> SimpleNamespace:
    """The advisor's callback after a paid car wash (a questionnaire of a rating and words), and a
    maintenance reminder of the advisor's customer."""
    car = make_vehicle(make_customer(name="张三丰", phone="13812345678"), plate="粤B5K2M8", mileage_km=42_000)
    order = make_order(vehicle=car, mileage_km=42_500)
    order_add_line(order=order, by=advisor, service=make_service_item(name="精致洗车"))
    order_complete(order=order, by=advisor)
    order_pay(order=order, by=advisor, method="cash", amount=order.total)
    users = {"owner": owner, "advisor": advisor, "tech": tech, "service": service}
    return SimpleNamespace(
        org=org,
        callback=CareTask.objects.for_org(org).get(kind=CareKind.CALLBACK, order=order),
        reminder=task(car.customer, advisor, 0, vehicle=car),
        rating=CallbackQuestion.objects.create(organization=org, position=1, text="交车是否准时？"),
        words=CallbackQuestion.objects.create(
            organization=org, position=2, text="其他意见", kind=CallbackQuestion.Kind.TEXT
        ),
        users=users,
        **users,
    )


def _through(channel: str, write: Write, w: SimpleNamespace, client: Client) -> tuple[Any, dict[str, Any]]:
    with transaction.atomic():
        if channel == "page":
            url, data = write.page(w)
            response = client.post(url, data, follow=True)
        else:
            _method, path, body = write.api(w)
            response = client.post_json(path, body)  # type: ignore[attr-defined]
        after = care_stored(w.org)
        transaction.set_rollback(True)
    return response, after


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_the_page_and_the_api_agree_on_closing_care_tasks(
    write: Write, world: SimpleNamespace, client_for: Callable[[User], Client]
) -> None:
    write.arrange(world)
    user = world.users[write.user]
    before = care_stored(world.org)

    page, by_page = _through("page", write, world, client_for(user))
    api, by_api = _through("api", write, world, ApiClient(token_create(user=user, name="tests")[1]))

    assert page.status_code == 200, page.content.decode()[:500]
    if write.refused is None:
        assert api.status_code == 200, api.content.decode()
        assert by_page != before, "the page stored nothing"
    else:
        message = write.refused() if callable(write.refused) else zh(write.refused)
        assert api.status_code == (write.api_status or 422), api.content.decode()
        assert message in _api_messages(api)
        assert escape(message) in page.content.decode(), f"the page does not say: {message}"
        assert by_page == before
    assert by_page == by_api
