"""The callback questionnaire (客户意见卡): the store manager's questions; a callback's answers checked.

Answers are kept on the callback as ``{"<question id>": value}``: a rating
1–5 or words. Questions are switched off rather than deleted, so past answers
keep naming a question that exists. The satisfaction score (1–5) is the
callback's own field, not a question.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from huitou.care import errors
from huitou.care.models import CallbackQuestion
from huitou.tenancy.models import Organization

MAX_TEXT_ANSWER = 500

# The starter questionnaire of a new organization (text, kind), editable afterwards.
STARTER_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("服务顾问的接待和解释是否清楚？", CallbackQuestion.Kind.RATING),
    ("车辆是否按约定的时间交付？", CallbackQuestion.Kind.RATING),
    ("维修保养的质量是否满意，问题是否已解决？", CallbackQuestion.Kind.RATING),
    ("收费是否透明、与报价一致？", CallbackQuestion.Kind.RATING),
    ("店内环境和休息区是否舒适？", CallbackQuestion.Kind.RATING),
    ("您还有什么意见或建议？", CallbackQuestion.Kind.TEXT),
)


def questionnaire_seed(*, organization: Organization) -> int:
    """Give an organization without questions the starter questionnaire; the number added (0: it has some)."""
    with transaction.atomic():
        if CallbackQuestion.objects.for_org(organization).exists():
            return 0
        CallbackQuestion.objects.bulk_create(
            CallbackQuestion(organization=organization, position=i, text=text, kind=kind)
            for i, (text, kind) in enumerate(STARTER_QUESTIONS, start=1)
        )
    return len(STARTER_QUESTIONS)


def callback_question_save(
    *, organization: Organization, data: dict[str, Any], question: CallbackQuestion | None = None
) -> CallbackQuestion:
    """Add a question (at the end unless ``position`` is given) or change one: text, kind, required, asked."""
    row = question or CallbackQuestion(organization=organization)
    problems: dict[str, list[Any]] = {}
    if "text" in data or question is None:
        text = str(data.get("text") or "").strip()[:200]
        if not text:
            problems["text"] = [errors.QUESTION_TEXT_REQUIRED]
        row.text = text
    if "kind" in data or question is None:
        kind = data.get("kind") or CallbackQuestion.Kind.RATING
        if kind not in CallbackQuestion.Kind.values:
            problems["kind"] = [errors.QUESTION_KIND_UNKNOWN]
        row.kind = kind
    for flag in ("required", "is_active"):
        if flag in data:
            setattr(row, flag, bool(data[flag]))
    if problems:
        raise ValidationError(problems)
    if data.get("position") is not None:
        row.position = int(data["position"])
    elif question is None:
        last = CallbackQuestion.objects.for_org(organization).aggregate(last=Max("position"))["last"]
        row.position = (last or 0) + 1
    row.save()
    return row


def callback_questions(*, organization: Organization | int, asked_only: bool = True) -> list[CallbackQuestion]:
    """The questionnaire in order (one query): the questions asked, or all of them."""
    rows = CallbackQuestion.objects.for_org(organization)
    if asked_only:
        rows = rows.filter(is_active=True)
    return list(rows.order_by("position", "pk"))


def answers_clean(*, organization: Organization | int, answers: dict[str, Any] | None) -> dict[str, Any]:
    """The answers as kept (``{"<id>": 1..5 or words}``), checked against the questions asked (one query).

    Unknown questions, a rating outside 1–5, words too long or a required
    question left out are refused on ``answers``; empty answers are dropped.
    """
    answers = answers or {}
    if not isinstance(answers, dict):
        raise ValidationError({"answers": [errors.ANSWER_UNKNOWN_QUESTION]})
    questions = {str(q.pk): q for q in callback_questions(organization=organization)}
    problems: list[Any] = []
    kept: dict[str, Any] = {}
    refused: set[str] = set()
    for key, value in answers.items():
        question = questions.get(str(key))
        if question is None:
            problems.append(errors.ANSWER_UNKNOWN_QUESTION)
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if question.kind == CallbackQuestion.Kind.RATING:
            rating = value
            if isinstance(value, str) and value.strip().isdigit():
                rating = int(value.strip())
            if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
                problems.append(errors.ANSWER_RATING % {"question": question.text})
                refused.add(str(question.pk))
                continue
            kept[str(question.pk)] = rating
        else:
            text = str(value).strip() if isinstance(value, str) else None
            if text is None or len(text) > MAX_TEXT_ANSWER:
                problems.append(errors.ANSWER_TEXT % {"question": question.text})
                refused.add(str(question.pk))
                continue
            kept[str(question.pk)] = text
    for key, question in questions.items():
        if question.required and key not in kept and key not in refused:
            problems.append(errors.ANSWER_REQUIRED % {"question": question.text})
    if problems:
        raise ValidationError({"answers": problems})
    return kept


def answers_shown(*, organization: Organization | int, answers: dict[str, Any]) -> list[tuple[str, Any]]:
    """A callback's answers beside their questions, in the questionnaire's order (one query)."""
    if not answers:
        return []
    questions = callback_questions(organization=organization, asked_only=False)
    return [(q.text, answers[str(q.pk)]) for q in questions if str(q.pk) in answers]
