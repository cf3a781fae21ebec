"""Forms of the care pages: closing a task (done or skipped), a kind of care's rule.

They only convert types; the care services decide. Field names follow the keys
the services use in their ValidationErrors (``result``, ``score``, ``answers``,
``reason``, ``lead_days``, ``owner_mode``, ``owner``, ``script``, ``grades``, ``tags``), so
``apply_errors`` puts every refusal on its field, and type errors carry the
services' own messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.analytics.models import Grade
from huitou.care import errors
from huitou.care.models import CallbackQuestion, CareKind, CareTask, OwnerMode
from huitou.care.services.rule_settings import (
    FROM_AN_ORDER,
    MAX_LEAD_DAYS,
    MAX_SCRIPT,
    WITHOUT_AUDIENCE,
    WITHOUT_LEAD_DAYS,
)
from huitou.customers.models import Tag
from huitou.tenancy.models import User

SCORES = [(n, str(n)) for n in range(1, 6)]
# What the days mean where they are not "days ahead of the date".
LEAD_DAYS_MEANING: dict[str, tuple[Any, Any]] = {
    CareKind.DECLINED_WORK: (_("Days after"), _("The task comes this many days after the work was declined.")),
    CareKind.WINBACK: (_("Days to do it"), _("Due this many days after the customer is found dormant.")),
}
ANSWER_PREFIX = "answer_"


class CareDoneForm(forms.Form):
    """What came of a task; a callback adds the satisfaction and the questionnaire's answers."""

    result = forms.CharField(
        label=_("What came of it"),
        error_messages={"required": errors.RESULT_REQUIRED},
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 200}),
    )

    def __init__(self, *args: Any, task: CareTask, questions: Iterable[CallbackQuestion] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.task = task
        self.questions = list(questions) if task.kind == CareKind.CALLBACK else []
        if task.kind == CareKind.CALLBACK:
            self.fields["score"] = forms.TypedChoiceField(
                label=_("Satisfaction"),
                choices=SCORES,
                coerce=int,
                required=False,
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "score-pick"}),
                error_messages={"invalid_choice": errors.SCORE_REQUIRED},
            )
        for question in self.questions:
            name = f"{ANSWER_PREFIX}{question.pk}"
            if question.kind == CallbackQuestion.Kind.RATING:
                field: forms.Field = forms.CharField(
                    label=question.text, required=False, widget=forms.RadioSelect(choices=SCORES)
                )
            else:
                field = forms.CharField(
                    label=question.text, required=False, widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500})
                )
            self.fields[name] = field

    def answer_fields(self) -> list[forms.BoundField]:
        return [self[f"{ANSWER_PREFIX}{q.pk}"] for q in self.questions]

    def service_args(self) -> dict[str, Any]:
        """The keyword arguments of ``care_task_done`` (a valid form)."""
        data = self.cleaned_data
        args: dict[str, Any] = {"result": data["result"], "score": data.get("score")}
        answers = {str(q.pk): data.get(f"{ANSWER_PREFIX}{q.pk}") for q in self.questions}
        args["answers"] = {k: v for k, v in answers.items() if v not in (None, "")}
        return args


class CareSkipForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is skipped"),
        error_messages={"required": errors.SKIP_REASON_REQUIRED},
        widget=forms.TextInput(attrs={"maxlength": 200}),
    )


def staff_label(user: User) -> str:
    return f"{user} · {user.get_role_display()}"


class CareRuleForm(forms.Form):
    """One kind of care's rule. A callback has no days ahead (it is due within 48 hours of the visit) and
    reaches every customer (no grades or tags)."""

    is_active = forms.BooleanField(label=_("On"), required=False)
    lead_days = forms.IntegerField(
        label=_("Days ahead"),
        help_text=_("The task comes this many days before the date."),
        min_value=0,
        max_value=MAX_LEAD_DAYS,
        error_messages={
            "required": errors.RULE_LEAD_DAYS,
            "invalid": errors.RULE_LEAD_DAYS,
            "min_value": errors.RULE_LEAD_DAYS,
            "max_value": errors.RULE_LEAD_DAYS,
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": MAX_LEAD_DAYS}),
    )
    owner_mode = forms.ChoiceField(
        label=_("Who does it"), error_messages={"invalid_choice": errors.RULE_OWNER_MODE}, widget=forms.RadioSelect
    )
    owner = forms.TypedChoiceField(
        label=_("Staff member"),
        help_text=_("For “One staff member”: who does every task of this kind."),
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": errors.RULE_OWNER_REQUIRED},
    )
    script = forms.CharField(
        label=_("Suggested script"),
        required=False,
        max_length=MAX_SCRIPT,
        error_messages={"max_length": errors.RULE_SCRIPT_TOO_LONG},
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    grades = forms.MultipleChoiceField(
        label=_("Grades"),
        help_text=_("None ticked: every grade. A customer not graded yet is in no grade."),
        choices=Grade.choices,
        required=False,
        error_messages={"invalid_choice": errors.RULE_GRADE_UNKNOWN},
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.TypedMultipleChoiceField(
        label=_("Tags"),
        help_text=_("None ticked: every customer. Several: a customer with any of them. With grades: both."),
        coerce=int,
        required=False,
        error_messages={"invalid_choice": errors.RULE_TAG_UNKNOWN},
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, kind: str, staff: Iterable[User], tags: Iterable[Tag] = (), **kwargs: Any) -> None:
        kwargs.setdefault("prefix", kind)
        super().__init__(*args, **kwargs)
        self.kind = kind
        modes = [(value, label) for value, label in OwnerMode.choices]
        if kind not in FROM_AN_ORDER:
            modes = [(value, label) for value, label in modes if value != OwnerMode.ADVISOR]
        self.fields["owner_mode"].choices = modes  # type: ignore[attr-defined]
        self.fields["owner"].choices = [("", "—"), *((u.pk, staff_label(u)) for u in staff)]  # type: ignore[attr-defined]
        self.fields["tags"].choices = [(t.pk, t.name) for t in tags]  # type: ignore[attr-defined]
        if kind in WITHOUT_AUDIENCE:
            del self.fields["grades"], self.fields["tags"]
        if kind in WITHOUT_LEAD_DAYS:
            del self.fields["lead_days"]
        elif kind in LEAD_DAYS_MEANING:
            self.fields["lead_days"].label, self.fields["lead_days"].help_text = LEAD_DAYS_MEANING[kind]

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields}
