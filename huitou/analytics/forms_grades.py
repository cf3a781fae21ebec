"""The grade rules form and the manual grade form of the customer file."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.analytics.models import Grade, GradeRules, RfmSegment
from huitou.loyalty.models import Tier


class GradeRulesForm(forms.Form):
    """A and B each: any one condition met gives the grade (A first); the rest are C."""

    a_segments = forms.MultipleChoiceField(
        label=_("A: RFM segment is one of"),
        choices=RfmSegment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    a_min_referrals = forms.IntegerField(label=_("A: or referrals brought at least"), required=False, min_value=1)
    a_min_tier = forms.ModelChoiceField(
        label=_("A: or membership tier at least"), queryset=Tier.objects.none(), required=False
    )
    b_segments = forms.MultipleChoiceField(
        label=_("B: RFM segment is one of"),
        choices=RfmSegment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    b_min_referrals = forms.IntegerField(label=_("B: or referrals brought at least"), required=False, min_value=1)
    b_min_tier = forms.ModelChoiceField(
        label=_("B: or membership tier at least"), queryset=Tier.objects.none(), required=False
    )
    window_months = forms.IntegerField(label=_("RFM window (months)"), min_value=1, max_value=60)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tiers = Tier.objects.for_org(organization_id).filter(is_active=True).order_by("rank")
        for name in ("a_min_tier", "b_min_tier"):
            self.fields[name].queryset = tiers  # type: ignore[attr-defined]

    @classmethod
    def initial_from(cls, rules: GradeRules) -> dict[str, Any]:
        return {
            "a_segments": rules.a_segments,
            "a_min_referrals": rules.a_min_referrals,
            "a_min_tier": rules.a_min_tier_id,
            "b_segments": rules.b_segments,
            "b_min_referrals": rules.b_min_referrals,
            "b_min_tier": rules.b_min_tier_id,
            "window_months": rules.window_months,
        }


class GradeOverrideForm(forms.Form):
    grade = forms.ChoiceField(label=_("Grade"), choices=[("", "—"), *Grade.choices], required=False)
    reason = forms.CharField(label=_("Why"), max_length=200, required=False)
