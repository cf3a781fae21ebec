"""Forms of the referral pages: thin, the services check every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.loyalty.models import CouponTemplate, ReferralPolicy, ReferrerType


class ReferralPolicyForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=30)
    name = forms.CharField(label=_("Policy name"), max_length=60)
    kind = forms.ChoiceField(label=_("What it gives"), choices=ReferralPolicy.Kind.choices)
    percent = forms.DecimalField(
        label=_("Percent of the first bill"), required=False, max_digits=5, decimal_places=2, min_value=0
    )
    milestone = forms.IntegerField(label=_("At the n-th converted referral"), required=False, min_value=1)
    template = forms.ChoiceField(label=_("Coupon"), required=False)
    both_sides = forms.BooleanField(label=_("The referee gets the coupon too"), required=False)
    is_active = forms.BooleanField(label=_("In use"), required=False)

    def __init__(self, *args: Any, templates: list[CouponTemplate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [("", "—"), *((t.code, t.name) for t in templates)]  # type: ignore[attr-defined]


class ReferrerTypeForm(forms.Form):
    referrer_type = forms.ChoiceField(
        label=_("Referrer type"), required=False, choices=[("", "—"), *ReferrerType.choices]
    )
