"""Forms of the messaging pages: they convert input; the services decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.analytics.models import Segment
from huitou.customers.models import Stage
from huitou.messaging.models import PLACEHOLDERS, Channel, MessageTemplate, Purpose, State
from huitou.messaging.placeholders import known_list


def _placeholder_help() -> str:
    return str(_("Placeholders: %(list)s")) % {"list": known_list()}


class TemplateForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        help_text=_("Letters and digits; care finds its texts by kind, e.g. maintenance"),
    )
    name = forms.CharField(label=_("Name"), max_length=60)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    body = forms.CharField(label=_("Text"), max_length=500, widget=forms.Textarea(attrs={"rows": 5, "maxlength": 500}))
    sms_template_id = forms.CharField(
        label=_("SMS template ID at the provider"),
        max_length=40,
        required=False,
        help_text=_("SMS providers send only texts they approved: the ID they gave this text."),
    )
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = _placeholder_help()


class SendForm(forms.Form):
    """One message to one customer: a template, or the staff member's own text."""

    template = forms.ChoiceField(label=_("Template"), required=False)
    body = forms.CharField(
        label=_("Or your own text"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 500}),
    )
    channel = forms.ChoiceField(label=_("Send by"), choices=Channel.choices, initial=Channel.MANUAL)
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        required=False,
        choices=[("", _("As the template says")), *Purpose.choices],
    )
    service = forms.CharField(label=PLACEHOLDERS["service"], max_length=100, required=False)
    due_date = forms.CharField(label=PLACEHOLDERS["due_date"], max_length=100, required=False)
    coupon = forms.CharField(label=PLACEHOLDERS["coupon"], max_length=100, required=False)
    subject = forms.CharField(label=_("Email subject"), max_length=100, required=False)

    VALUES = ("service", "due_date", "coupon")

    def __init__(self, *args: Any, templates: list[MessageTemplate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.templates = {str(t.pk): t for t in templates}
        self.fields["template"].choices = [  # type: ignore[attr-defined]
            ("", _("— my own text —")),
            *[(str(t.pk), f"{t.name}（{t.get_purpose_display()}）") for t in templates],
        ]
        self.fields["body"].help_text = _placeholder_help()

    def service_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "template": self.templates.get(data.get("template") or ""),
            "body": data.get("body") or None,
            "channel": data["channel"],
            "purpose": data.get("purpose") or None,
            "values": {k: data[k] for k in self.VALUES if data.get(k)},
            "subject": data.get("subject") or "",
        }


class SettingsForm(forms.Form):
    quiet_start = forms.TimeField(label=_("Quiet hours start"), widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_end = forms.TimeField(label=_("Quiet hours end"), widget=forms.TimeInput(attrs={"type": "time"}))
    weekly_marketing_cap = forms.IntegerField(label=_("Marketing messages per customer in 7 days"))
    sms_sign = forms.CharField(
        label=_("SMS signature"),
        max_length=20,
        required=False,
        help_text=_("The shop name registered with the SMS provider, e.g. 老王汽修"),
    )

    def clean_quiet_start(self) -> dt.time:
        return self.cleaned_data["quiet_start"].replace(second=0, microsecond=0)

    def clean_quiet_end(self) -> dt.time:
        return self.cleaned_data["quiet_end"].replace(second=0, microsecond=0)


class BulkForm(forms.Form):
    template = forms.ChoiceField(label=_("Template"))
    channel = forms.ChoiceField(label=_("Send by"), choices=Channel.choices, initial=Channel.MANUAL)
    segment = forms.ChoiceField(
        label=_("Saved segment"),
        required=False,
        help_text=_("Its customers as it stands when the send starts; a stage or tag narrows it further."),
    )
    stage = forms.ChoiceField(label=_("Stage"), required=False, choices=[("", _("Every stage")), *Stage.choices])
    tag = forms.CharField(label=_("Tag"), max_length=30, required=False)
    service = forms.CharField(label=PLACEHOLDERS["service"], max_length=100, required=False)
    due_date = forms.CharField(label=PLACEHOLDERS["due_date"], max_length=100, required=False)
    coupon = forms.CharField(label=PLACEHOLDERS["coupon"], max_length=100, required=False)

    def __init__(
        self, *args: Any, templates: list[MessageTemplate], segments: list[Segment] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.templates = {str(t.pk): t for t in templates}
        self.fields["template"].choices = [  # type: ignore[attr-defined]
            (str(t.pk), f"{t.name}（{t.get_purpose_display()}）") for t in templates
        ]
        self.segments = {str(s.pk): s for s in segments or []}
        self.fields["segment"].choices = [  # type: ignore[attr-defined]
            ("", _("No segment: every customer")),
            *((key, s.name) for key, s in self.segments.items()),
        ]


class OutboxFilters(forms.Form):
    state = forms.ChoiceField(required=False, choices=[("", _("Every state")), *State.choices])
    channel = forms.ChoiceField(required=False, choices=[("", _("Every channel")), *Channel.choices])
    purpose = forms.ChoiceField(required=False, choices=[("", _("Every purpose")), *Purpose.choices])
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
