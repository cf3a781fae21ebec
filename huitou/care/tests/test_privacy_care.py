"""Care's personal data: the copy holds the care tasks and the complaints with their steps; erasure drops
what the person said and what was written about them, keeps the counted work, and stops open work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from huitou.care.models import CallbackQuestion, CareKind, CareTask, Complaint, ComplaintEvent, ComplaintStep
from huitou.care.services.complaints import complaint_open, complaint_step_record
from huitou.care.services.questionnaire import questionnaire_seed
from huitou.care.services.tasks import care_task_done
from huitou.customers.models import Customer
from huitou.privacy.services import customer_erase, personal_data_copy
from huitou.service.models import ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User

Make = Callable[..., Any]
NAME, PHONE = "诸葛青云", "13855556666"


def paid_order(order: ServiceOrder, by: User, item: Any) -> ServiceOrder:
    order_add_line(order=order, by=by, service=item)
    order_complete(order=order, by=by)
    order_pay(order=order, by=by, method="cash", amount=order.amount_due)
    return order


@pytest.fixture
def customer(
    org: Organization,
    advisor: User,
    owner: User,
    make_customer: Make,
    make_vehicle: Make,
    make_order: Make,
    make_service_item: Make,
) -> Customer:
    """Two visits: one callback done with the questionnaire, one still open; a complaint two steps in."""
    questionnaire_seed(organization=org)
    item = make_service_item(name="四轮定位", labour_price="200.00")
    customer = make_customer(name=NAME, phone=PHONE)
    car = make_vehicle(customer)
    first = paid_order(make_order(car), advisor, item)
    paid_order(make_order(car), advisor, item)
    callback = CareTask.objects.for_org(org).get(kind=CareKind.CALLBACK, order=first)
    text = CallbackQuestion.objects.for_org(org).filter(kind=CallbackQuestion.Kind.TEXT).first()
    assert text is not None
    care_task_done(
        task=callback,
        by=advisor,
        result="方向盘还是有点偏，客户说下周再来看看",
        score=4,
        answers={str(text.pk): "师傅很耐心"},
    )
    complaint = complaint_open(customer=customer, summary=f"{NAME}说定位后方向跑偏", by=owner)
    complaint_step_record(complaint=complaint, step="listen", note="客户很生气，说白花了钱", by=owner)
    complaint_step_record(complaint=complaint, step="vent", note="让客户把话说完", by=owner)
    return customer


def test_the_copy_holds_the_care_tasks_and_the_complaints_with_their_steps(customer: Customer, owner: User) -> None:
    kinds = personal_data_copy(customer=customer, by=owner)["kinds"]

    tasks = kinds["care_tasks"]
    assert sorted(t["state"] for t in tasks) == ["done", "open"]
    done = next(t for t in tasks if t["state"] == "done")
    assert (done["kind"], done["score"], done["result"]) == ("callback", 4, "方向盘还是有点偏，客户说下周再来看看")
    assert list(done["answers"].values()) == ["师傅很耐心"]
    assert all(NAME in t["script"] for t in tasks)  # the suggested script greets them by name
    [complaint] = kinds["complaints"]
    assert complaint["summary"] == f"{NAME}说定位后方向跑偏" and complaint["steps_done"] == 2
    assert [s["step"] for s in complaint["steps"]] == ["listen", "vent"]
    assert complaint["log"] and complaint["log"][0]["kind"] == "opened"


def test_erasure_drops_what_was_said_keeps_the_counted_work_and_stops_the_open_work(
    customer: Customer, org: Organization, owner: User
) -> None:
    tasks = CareTask.objects.for_org(org).filter(customer=customer)
    counted = list(tasks.order_by("pk").values_list("kind", "owner_id", "due_on", "score"))

    customer_erase(customer=customer, by=owner, reason="本人要求")

    assert list(tasks.order_by("pk").values_list("kind", "owner_id", "due_on", "score")) == counted
    assert sorted(tasks.values_list("state", flat=True)) == ["done", "skipped"]  # no one calls an erased customer
    assert set(tasks.values_list("result", "script")) == {("", "")}
    assert all(answers == {} for answers in tasks.values_list("answers", flat=True))
    assert tasks.get(state="skipped").closed_at is not None
    complaint = Complaint.objects.for_org(org).get(customer=customer)
    assert (complaint.summary, complaint.steps_done, complaint.state) == ("***", 2, "open")
    assert complaint.due_at is None  # not escalated any more
    steps = ComplaintStep.objects.for_org(org).filter(complaint=complaint)
    assert steps.count() == 2 and set(steps.values_list("note", flat=True)) == {""}
    events = ComplaintEvent.objects.for_org(org).filter(complaint=complaint)
    assert events.exists() and set(events.values_list("note", flat=True)) == {""}
