"""Forms of the points and coupon pages: thin, the services check every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.loyalty.models import CouponKind, CouponTemplate
from huitou.service.models import ServiceItem

RULE_TRIGGERS = [
    ("order_paid", _("After a paid order")),
    ("joined", _("On joining membership")),
    ("birthday", _("In the birthday month")),
]


class CouponTemplateForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=30)
    name = forms.CharField(label=_("Name"), max_length=60)
    kind = forms.ChoiceField(label=_("What it gives"), choices=CouponKind.choices)
    value = forms.CharField(
        label=_("Amount (yuan) or percent"), required=False, max_length=12, help_text=_("Not used for a free service")
    )
    free_service = forms.ChoiceField(label=_("Free service"), required=False)
    min_spend = forms.CharField(label=_("Minimum spend (yuan)"), required=False, max_length=12)
    days_valid = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=3650)
    services = forms.MultipleChoiceField(
        label=_("Services it takes money off (none: the whole order)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args: Any, services: list[ServiceItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(s.pk), f"{s.code} {s.name}") for s in services]
        self.fields["free_service"].choices = [("", "—"), *choices]  # type: ignore[attr-defined]
        self.fields["services"].choices = choices  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["free_service"] = int(data["free_service"]) if data.get("free_service") else None
        data["services"] = [int(pk) for pk in data.get("services") or []]
        data["value"] = data.get("value") or "0"
        data["min_spend"] = data.get("min_spend") or "0"
        return data


class CouponRuleForm(forms.Form):
    trigger = forms.ChoiceField(label=_("When"), choices=RULE_TRIGGERS)
    min_order_total = forms.CharField(label=_("Order total of at least (yuan)"), required=False, max_length=12)


class CouponIssueForm(forms.Form):
    template = forms.ChoiceField(label=_("Coupon"))

    def __init__(self, *args: Any, templates: list[CouponTemplate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(str(t.pk), t.name) for t in templates]  # type: ignore[attr-defined]
