"""The callback questionnaire (客户意见卡): the store manager's questions; a callback's answers checked against them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from huitou.care import errors
from huitou.care.models import CallbackQuestion, CareKind, CareTask
from huitou.care.services.questionnaire import (
    STARTER_QUESTIONS,
    answers_clean,
    answers_shown,
    callback_question_save,
    callback_questions,
    questionnaire_seed,
)
from huitou.care.services.tasks import care_task_done
from huitou.customers.models import Customer
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def questions(org: Organization) -> list[CallbackQuestion]:
    questionnaire_seed(organization=org)
    return callback_questions(organization=org)


@pytest.fixture
def callback(
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., ServiceItem],
    advisor: User,
    org: Organization,
) -> CareTask:
    order = make_order()
    order_add_line(order=order, by=advisor, service=make_service_item(name="小保养"))
    order_complete(order=order, by=advisor)
    order_pay(order=order, by=advisor, method="cash", amount=order.total)
    return CareTask.objects.for_org(org).get(kind=CareKind.CALLBACK)


def test_a_new_organization_gets_the_starter_questionnaire_once(org: Organization) -> None:
    assert questionnaire_seed(organization=org) == len(STARTER_QUESTIONS)
    assert questionnaire_seed(organization=org) == 0
    rows = callback_questions(organization=org)
    assert [(q.position, q.text, q.kind) for q in rows][:1] == [(1, "服务顾问的接待和解释是否清楚？", "rating")]
    assert rows[-1].kind == "text"
    assert not any(q.required for q in rows)


def test_createorg_seeds_the_questionnaire(db: object) -> None:
    call_command("createorg", "新店", owner="boss", password="s3cret-pass-word")
    org = Organization.objects.get(name="新店")
    assert len(callback_questions(organization=org)) == len(STARTER_QUESTIONS)


def test_the_store_manager_adds_changes_and_switches_off_questions(
    org: Organization, questions: list[CallbackQuestion]
) -> None:
    added = callback_question_save(organization=org, data={"text": " 是否会推荐朋友来？ ", "kind": "rating"})
    assert (added.text, added.position) == ("是否会推荐朋友来？", len(questions) + 1)
    callback_question_save(organization=org, data={"is_active": False}, question=questions[0])
    assert questions[0].pk not in [q.pk for q in callback_questions(organization=org)]
    assert len(callback_questions(organization=org, asked_only=False)) == len(questions) + 1
    with pytest.raises(ValidationError) as exc:
        callback_question_save(organization=org, data={"text": "", "kind": "essay"})
    assert exc.value.message_dict == {"text": [errors.QUESTION_TEXT_REQUIRED], "kind": [errors.QUESTION_KIND_UNKNOWN]}


def test_answers_are_checked_against_the_questions_asked(
    org: Organization, other_org: Organization, questions: list[CallbackQuestion]
) -> None:
    rating, words = questions[0], questions[-1]
    assert answers_clean(organization=org, answers={str(rating.pk): "4", words.pk: " 很好 ", questions[1].pk: ""}) == {
        str(rating.pk): 4,
        str(words.pk): "很好",
    }
    questionnaire_seed(organization=other_org)
    foreign = callback_questions(organization=other_org)[0]
    for answers, message in (
        ({rating.pk: 6}, errors.ANSWER_RATING % {"question": rating.text}),
        ({rating.pk: True}, errors.ANSWER_RATING % {"question": rating.text}),
        ({words.pk: "字" * 501}, errors.ANSWER_TEXT % {"question": words.text}),
        ({words.pk: 5}, errors.ANSWER_TEXT % {"question": words.text}),
        ({foreign.pk: 5}, errors.ANSWER_UNKNOWN_QUESTION),
        ({"not-a-question": 5}, errors.ANSWER_UNKNOWN_QUESTION),
    ):
        with pytest.raises(ValidationError) as exc:
            answers_clean(organization=org, answers=answers)
        assert exc.value.message_dict == {"answers": [str(message)]}


def test_a_required_question_must_be_answered(org: Organization, questions: list[CallbackQuestion]) -> None:
    callback_question_save(organization=org, data={"required": True}, question=questions[2])
    with pytest.raises(ValidationError) as exc:
        answers_clean(organization=org, answers={questions[0].pk: 5})
    assert exc.value.message_dict == {"answers": [errors.ANSWER_REQUIRED % {"question": questions[2].text}]}
    # A question switched off is not asked, required or not.
    callback_question_save(organization=org, data={"is_active": False}, question=questions[2])
    assert answers_clean(organization=org, answers={}) == {}


def test_a_callback_keeps_its_score_and_answers(
    callback: CareTask, service: User, org: Organization, questions: list[CallbackQuestion]
) -> None:
    done = care_task_done(
        task=callback, by=service, result="满意", score=5, answers={str(questions[0].pk): 5, questions[-1].pk: "不错"}
    )
    callback.refresh_from_db()
    assert (callback.score, callback.answers) == (5, {str(questions[0].pk): 5, str(questions[-1].pk): "不错"})
    assert done.answers == callback.answers
    assert answers_shown(organization=org, answers=callback.answers) == [
        (questions[0].text, 5),
        (questions[-1].text, "不错"),
    ]


def test_a_callback_with_wrong_answers_stays_open(
    callback: CareTask, service: User, questions: list[CallbackQuestion]
) -> None:
    with pytest.raises(ValidationError) as exc:
        care_task_done(task=callback, by=service, result="满意", score=5, answers={questions[0].pk: 9})
    assert set(exc.value.message_dict) == {"answers"}
    callback.refresh_from_db()
    assert callback.state == CareTask.State.OPEN


def test_only_a_callback_records_answers(
    org: Organization, service: User, make_customer: Callable[..., Customer], questions: list[CallbackQuestion]
) -> None:
    from django.utils import timezone

    task = CareTask.objects.create(
        organization=org,
        kind=CareKind.BIRTHDAY,
        key="birthday:1:2026",
        customer=make_customer(),
        owner=service,
        due_on=timezone.localdate(),
        reason="生日",
        created_at=timezone.now(),
    )
    with pytest.raises(ValidationError) as exc:
        care_task_done(task=task, by=service, result="已祝福", answers={questions[0].pk: 5})
    assert exc.value.message_dict == {"answers": [errors.ANSWERS_ONLY_FOR_CALLBACKS]}
    assert care_task_done(task=task, by=service, result="已祝福", answers={}).state == "done"
