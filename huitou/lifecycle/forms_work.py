"""Forms of the work pages: follow-up plans, handing customers over, the prospect rotation.

They only convert types; the lifecycle services decide. Field names follow
the keys the services use in their ValidationErrors (``name``, ``source``,
``to``, ``members``), so ``apply_errors`` puts every refusal on its field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Source, Stage
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUpChannel
from huitou.tenancy.models import User

# Empty step rows under the filled ones: room to add steps without JavaScript.
EMPTY_STEP_ROWS = 3
STEP_FIELDS = ("day_offset", "channel", "action")


def staff_label(user: User) -> str:
    return f"{user} · {user.get_role_display()}"


class PlanForm(forms.Form):
    name = forms.CharField(label=_("Plan name"), max_length=100, error_messages={"required": errors.PLAN_NAME_REQUIRED})
    stage = forms.ChoiceField(
        label=_("When a customer enters"),
        choices=Stage.choices,
        error_messages={"invalid_choice": errors.STAGE_INVALID, "required": errors.STAGE_INVALID},
    )
    source = forms.ChoiceField(
        label=_("Only for customers from"),
        required=False,
        help_text=_("Leave empty for every source without a plan of its own."),
    )
    is_active = forms.BooleanField(label=_("In use"), required=False)

    def __init__(self, *args: Any, sources: Iterable[Source], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", _("Every source")), *((s.code, s.label) for s in sources)]  # type: ignore[attr-defined]

    def raw_values(self) -> dict[str, Any]:
        """What was typed, to show again unchanged (adding step rows saves nothing)."""
        return {name: self[name].value() for name in self.fields}


class StepForm(forms.Form):
    """One step of a plan. An untouched empty row is skipped; a touched one must be complete."""

    day_offset = forms.IntegerField(
        label=_("On day"),
        min_value=0,
        max_value=365,
        error_messages={
            "required": errors.PLAN_STEP_DAY_INVALID,
            "invalid": errors.PLAN_STEP_DAY_INVALID,
            "min_value": errors.PLAN_STEP_DAY_INVALID,
            "max_value": errors.PLAN_STEP_DAY_INVALID,
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 365}),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[("", "—"), *FollowUpChannel.choices],
        error_messages={"required": errors.CHANNEL_INVALID, "invalid_choice": errors.CHANNEL_INVALID},
    )
    action = forms.CharField(
        label=_("What to do"), max_length=200, error_messages={"required": errors.PLAN_STEP_ACTION_REQUIRED}
    )


class BaseStepFormSet(BaseFormSet):
    """Every row counts as new: an emptied row is simply left out, like a removed one."""

    def initial_form_count(self) -> int:
        return 0

    def steps(self) -> list[dict[str, Any]]:
        """The kept, filled rows of a valid formset, for ``plan_save``."""
        return [
            {name: form.cleaned_data[name] for name in STEP_FIELDS}
            for form in self.forms
            if form.has_changed() and not form.cleaned_data.get("DELETE")
        ]

    def raw_rows(self) -> list[dict[str, Any]]:
        """The rows as typed, without the removed and the empty ones."""
        rows = []
        for form in self.forms:
            row = {name: form[name].value() for name in STEP_FIELDS}
            if form["DELETE"].value() or not any(v not in (None, "") for v in row.values()):
                continue
            rows.append(row)
        return rows


def step_formset(
    data: Mapping[str, Any] | None = None, *, rows: Sequence[Mapping[str, Any]] = (), empty: int = EMPTY_STEP_ROWS
) -> BaseStepFormSet:
    """The steps of a plan: bound to a POST, or showing ``rows`` and ``empty`` blank rows under them."""
    formset_class = formset_factory(
        StepForm, formset=BaseStepFormSet, extra=len(rows) + empty, can_delete=True, max_num=100
    )
    formset = formset_class(data, prefix="steps") if data is not None else formset_class(initial=rows, prefix="steps")
    return cast("BaseStepFormSet", formset)


class StaffChoiceField(forms.TypedMultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class HandOverForm(forms.Form):
    """Who takes a staff member's customers, in turn."""

    to = StaffChoiceField(
        label=_("Hand the customers to"),
        help_text=_("The customers are shared out evenly, in turn, among those chosen."),
        error_messages={"invalid_choice": errors.REASSIGN_TARGET_REQUIRED},
    )

    def __init__(self, *args: Any, staff: Iterable[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(u.pk, staff_label(u)) for u in staff]  # type: ignore[attr-defined]


class RotationForm(forms.Form):
    members = StaffChoiceField(
        label=_("Staff who take new prospects in turn"),
        help_text=_("A prospect registered with the owner “in turn” goes to the next of them."),
        error_messages={"invalid_choice": errors.REASSIGN_TARGET_REQUIRED},
    )

    def __init__(self, *args: Any, staff: Iterable[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = [(u.pk, staff_label(u)) for u in staff]  # type: ignore[attr-defined]
