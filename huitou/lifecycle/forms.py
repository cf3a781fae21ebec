"""Forms of the lifecycle pages: quick capture, stage change, follow-up. They only convert types; the services decide.

Messages for missing or malformed input are the services' own, so a field
says the same thing whether the form or the service noticed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.customers import errors as customer_errors
from huitou.customers.models import IntentGrade
from huitou.customers.selectors import sources_for
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUpChannel
from huitou.lifecycle.services.prospects import ME, ROUND_ROBIN
from huitou.lifecycle.services.stages import MANUAL_STAGES
from huitou.tenancy.models import User
from huitou.tenancy.selectors import staff_for_org


class ProspectForm(forms.Form):
    """Who they are, how they came, what they need; their car if known; who follows them up."""

    name = forms.CharField(
        label=_("Name or nickname"),
        max_length=50,
        error_messages={"required": customer_errors.NAME_REQUIRED},
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 张先生"), "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    wechat = forms.CharField(label=_("WeChat ID"), max_length=64, required=False)
    source = forms.ChoiceField(
        label=_("Source"),
        error_messages={"required": customer_errors.SOURCE_INVALID, "invalid_choice": customer_errors.SOURCE_INVALID},
    )
    referrer_q = forms.CharField(
        label=_("Referred by"),
        max_length=50,
        required=False,
        help_text=_("An existing customer who sent them: search by name, phone or plate, then choose."),
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "placeholder": _("Name, phone or plate")}
        ),
    )
    referrer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    need = forms.CharField(
        label=_("Need"),
        max_length=200,
        required=False,
        help_text=_("What they are interested in, their budget and when."),
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("e.g. 全车贴膜，预算5000左右，下个月提车后做")}),
    )
    plate = forms.CharField(
        label=_("Plate"), max_length=20, required=False, widget=forms.TextInput(attrs={"placeholder": "粤B12345"})
    )
    brand = forms.CharField(label=_("Brand"), max_length=30, required=False)
    model = forms.CharField(label=_("Model"), max_length=50, required=False)
    # Any value goes to the service, which refuses what is neither me, in turn nor a staff member.
    owner = forms.CharField(label=_("Followed up by"), required=False, widget=forms.Select)

    WHO = ("name", "phone", "wechat")
    HOW = ("source", "need")
    CAR = ("plate", "brand", "model")

    def __init__(self, *args: Any, organization_id: int, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "—")] + [(s.code, s.label) for s in sources_for(organization_id)]  # type: ignore[attr-defined]
        staff = [(str(u.pk), str(u)) for u in staff_for_org(organization_id) if u.pk != user.pk]
        self.fields["owner"].widget.choices = [
            (ME, _("Me (%(name)s)") % {"name": user}),
            (ROUND_ROBIN, _("In turn (round robin)")),
            (_("Another staff member"), staff),
        ]

    def service_data(self) -> dict[str, Any]:
        """What ``prospect_capture`` takes: the fields as given, the referrer by id, the owner as chosen."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "referrer_q"}
        if data.get("referrer") is None:
            data.pop("referrer", None)
        return data


class StageForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("New stage"),
        error_messages={"required": errors.STAGE_INVALID, "invalid_choice": errors.STAGE_NOT_BY_HAND},
    )
    reason = forms.CharField(
        label=_("Why"),
        max_length=200,
        error_messages={"required": errors.STAGE_REASON_REQUIRED},
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 到店看过报价，约了下周施工")}),
    )

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (s.value, s.label) for s in MANUAL_STAGES if s != current
        ]


class FollowUpForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("How"),
        choices=FollowUpChannel.choices,
        initial=FollowUpChannel.PHONE,
        error_messages={"required": errors.CHANNEL_INVALID, "invalid_choice": errors.CHANNEL_INVALID},
    )
    content = forms.CharField(
        label=_("What was said"),
        error_messages={"required": errors.CONTENT_REQUIRED},
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("e.g. 问了镀晶价格，周末想来店里看看")}),
    )
    result = forms.CharField(label=_("Result"), max_length=200, required=False)
    grade = forms.ChoiceField(
        label=_("Intent grade"),
        choices=[("", _("Not graded"))] + list(IntentGrade.choices),
        required=False,
        error_messages={"invalid_choice": errors.GRADE_INVALID},
    )
    next_step = forms.CharField(
        label=_("Next step"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 周六上午再打电话确认到店时间")}),
    )
    next_due = forms.DateField(
        label=_("Next step on"),
        required=False,
        error_messages={"invalid": errors.NEXT_DUE_INVALID},
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    task_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
