"""Forms of the membership pages: thin, the services check every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.loyalty.models import Tier, TierEntryRule
from huitou.service.models import ServiceItem


class ProgramForm(forms.Form):
    points_per_yuan = forms.DecimalField(label=_("Points per yuan"), max_digits=6, decimal_places=2, min_value=0)
    point_value = forms.DecimalField(label=_("Value of a point (yuan)"), max_digits=6, decimal_places=4, min_value=0)
    birthday_multiplier = forms.DecimalField(
        label=_("Birthday-month multiplier"), max_digits=4, decimal_places=2, min_value=1
    )
    points_expire_after_years = forms.IntegerField(
        label=_("Points expire at the end of the year, after (years)"), min_value=1, max_value=10
    )
    max_points_share = forms.DecimalField(
        label=_("Largest share of a bill paid by points (0–1)"), max_digits=3, decimal_places=2, min_value=0
    )
    tier_review_months = forms.IntegerField(label=_("Tier review every (months)"), min_value=1, max_value=60)


class TierForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=30)
    name = forms.CharField(label=_("Name"), max_length=30)
    rank = forms.IntegerField(label=_("Rank (0: the entry tier)"), min_value=0, max_value=100)
    entry_rule = forms.ChoiceField(label=_("Entry rule"), choices=TierEntryRule.choices)
    entry_threshold = forms.DecimalField(
        label=_("Reached at (yuan or visits in 12 months)"), max_digits=12, decimal_places=2, min_value=0
    )
    price = forms.DecimalField(
        label=_("Price (bought outright)"), required=False, max_digits=12, decimal_places=2, min_value=0
    )
    keep_threshold = forms.DecimalField(
        label=_("Kept at (the same measure, 12 months before the review)"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
    )
    labour_discount_percent = forms.DecimalField(
        label=_("Labour discount (%)"), max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    parts_discount_percent = forms.DecimalField(
        label=_("Parts discount (%)"), max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    points_multiplier = forms.DecimalField(label=_("Points multiplier"), max_digits=4, decimal_places=2, min_value=0)
    free_service = forms.ChoiceField(label=_("Free service"), required=False)
    free_services_per_year = forms.IntegerField(label=_("Free services a year"), min_value=0, max_value=366)
    benefits_note = forms.CharField(label=_("Other benefits"), required=False, max_length=200)
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args: Any, services: list[ServiceItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["free_service"].choices = [("", "—"), *((s.code, s.name) for s in services)]  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(tier: Tier) -> dict[str, Any]:
        return {
            "code": tier.code,
            "name": tier.name,
            "rank": tier.rank,
            "entry_rule": tier.entry_rule,
            "entry_threshold": tier.entry_threshold,
            "price": tier.price,
            "keep_threshold": tier.keep_threshold,
            "labour_discount_percent": tier.labour_discount_percent,
            "parts_discount_percent": tier.parts_discount_percent,
            "points_multiplier": tier.points_multiplier,
            "free_service": tier.free_service.code if tier.free_service else "",
            "free_services_per_year": tier.free_services_per_year,
            "benefits_note": tier.benefits_note,
            "is_active": tier.is_active,
        }
