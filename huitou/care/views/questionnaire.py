"""The callback questionnaire (客户意见卡): the store manager's questions, in order."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from huitou.care.forms_complaints import QuestionForm
from huitou.care.models import CallbackQuestion
from huitou.care.services.questionnaire import callback_question_save, callback_questions
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors


def _data(form: QuestionForm) -> dict[str, object]:
    data = dict(form.cleaned_data)
    if data.get("position") is None:
        data.pop("position", None)
    return data


@staff_required(Perm.MANAGE_SETTINGS)
def questions(request: StaffRequest) -> HttpResponse:
    """Every question (asked ones first in order, then those switched off) and a form to add one.

    Queries: session, user (+organization), the questions, the user's shops (switcher).
    """
    org = request.organization
    form = QuestionForm(request.POST or None, initial={"kind": "rating", "is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            callback_question_save(organization=org, data=_data(form))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Question added."))
            return redirect("questionnaire:questions")
    rows = callback_questions(organization=org, asked_only=False)
    rows.sort(key=lambda q: (not q.is_active, q.position, q.pk))
    return render(request, "care/questionnaire.html", {"questions": rows, "form": form})


@staff_required(Perm.MANAGE_SETTINGS)
def question_edit(request: StaffRequest, question_id: int) -> HttpResponse:
    question = get_scoped_or_404(CallbackQuestion.objects.all(), request.organization, pk=question_id)
    initial = {
        "text": question.text,
        "kind": question.kind,
        "position": question.position,
        "required": question.required,
        "is_active": question.is_active,
    }
    form = QuestionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            callback_question_save(organization=request.organization, data=_data(form), question=question)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Question saved."))
            return redirect("questionnaire:questions")
    return render(request, "care/question_form.html", {"form": form, "question": question})
