"""Forms of the complaint pages and the questionnaire: they convert input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.care.models import STEP_ORDER, CallbackQuestion, ComplaintStepKind


class ComplaintOpenForm(forms.Form):
    summary = forms.CharField(
        label=_("What it is about"),
        required=False,  # the service says what is missing, as the API does
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("In the customer's words")}),
    )
    vehicle = forms.TypedChoiceField(label=_("Vehicle"), required=False, coerce=int, empty_value=None)
    order = forms.TypedChoiceField(label=_("Service order"), required=False, coerce=int, empty_value=None)
    owner = forms.TypedChoiceField(label=_("Handled by"), coerce=int)

    def __init__(
        self,
        *args: Any,
        vehicles: list[tuple[int, str]],
        orders: list[tuple[int, str]],
        staff: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        none = [("", "—")]
        self.fields["vehicle"].choices = none + vehicles  # type: ignore[attr-defined]
        self.fields["order"].choices = none + orders  # type: ignore[attr-defined]
        self.fields["owner"].choices = staff  # type: ignore[attr-defined]


class StepForm(forms.Form):
    step = forms.ChoiceField(choices=ComplaintStepKind.choices, widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("What was said or done"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    coupon_template = forms.TypedChoiceField(label=_("Give a coupon"), required=False, coerce=int, empty_value=None)
    stored_value = forms.CharField(
        label=_("Or give stored value (yuan)"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "50"}),
    )

    def __init__(self, *args: Any, templates: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coupon_template"].choices = [("", "—"), *(templates or [])]  # type: ignore[attr-defined]


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is reopened"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class DeadlinesForm(forms.Form):
    """Each step's hours after the one before it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code in STEP_ORDER:
            self.fields[code] = forms.IntegerField(
                label=ComplaintStepKind(code).label, min_value=1, max_value=720, widget=forms.NumberInput()
            )


class QuestionForm(forms.Form):
    text = forms.CharField(label=_("Question"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Answer"), choices=CallbackQuestion.Kind.choices)
    position = forms.IntegerField(label=_("Position in the questionnaire"), min_value=0, max_value=999, required=False)
    required = forms.BooleanField(label=_("Must be answered"), required=False)
    is_active = forms.BooleanField(label=_("Asked at callbacks"), required=False, initial=True)
