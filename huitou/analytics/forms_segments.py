"""The saved segment form: a name and the customer list's conditions. It converts; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.analytics.models import Grade, RfmSegment, Segment
from huitou.analytics.segments import AGE_MAX, DAYS_MAX, NAME_MAX, SEGMENT_FILTERS
from huitou.customers.models import Stage
from huitou.loyalty.models import Tier
from huitou.tenancy.models import Shop
from huitou.tenancy.selectors import staff_for_org

ANY = [("", "—")]


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Segment name"), max_length=NAME_MAX, required=False)
    stage = forms.ChoiceField(label=_("Stage"), choices=[*ANY, *Stage.choices], required=False)
    customer_grade = forms.ChoiceField(label=_("Customer grade"), choices=[*ANY, *Grade.choices], required=False)
    segment = forms.ChoiceField(label=_("RFM segment"), choices=[*ANY, *RfmSegment.choices], required=False)
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Any of these tags; separate them with commas, e.g. VIP, 传播型")
    )
    tier_id = forms.TypedChoiceField(label=_("Membership tier"), coerce=int, required=False, empty_value=None)
    owner_id = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False, empty_value=None)
    shop_id = forms.TypedChoiceField(
        label=_("Shop"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Customers whose owner works at this shop"),
    )
    last_visit_before_days = forms.IntegerField(
        label=_("Last visit more than … days ago"), min_value=1, max_value=DAYS_MAX, required=False
    )
    last_visit_within_days = forms.IntegerField(
        label=_("Last visit within … days"), min_value=1, max_value=DAYS_MAX, required=False
    )
    spend_min = forms.DecimalField(label=_("Lifetime spend from (¥)"), min_value=0, decimal_places=2, required=False)
    spend_max = forms.DecimalField(label=_("Lifetime spend up to (¥)"), min_value=0, decimal_places=2, required=False)
    brand = forms.CharField(label=_("Car brand"), max_length=30, required=False)
    vehicle_age_min = forms.IntegerField(
        label=_("Car age from (years)"), min_value=0, max_value=AGE_MAX, required=False
    )
    vehicle_age_max = forms.IntegerField(
        label=_("Car age up to (years)"), min_value=0, max_value=AGE_MAX, required=False
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kept = dict(self.initial)
        tiers = Tier.objects.for_org(organization_id).order_by("rank", "pk")
        staff = staff_for_org(organization_id, active_only=False)
        shops = Shop.objects.for_org(organization_id).order_by("pk")
        # Retired options stay listed only for a segment that already names them.
        for name, rows, active in (
            ("tier_id", tiers, lambda t: t.is_active),
            ("owner_id", staff, lambda u: u.is_active),
            ("shop_id", shops, lambda s: s.is_active),
        ):
            choices = [(row.pk, str(row)) for row in rows if active(row) or kept.get(name) == row.pk]
            self.fields[name].choices = [*ANY, *choices]  # type: ignore[attr-defined]

    @staticmethod
    def initial_from(filters: dict[str, Any], name: str = "") -> dict[str, Any]:
        """A segment's conditions as the form's initial values."""
        initial = {k: v for k, v in filters.items() if k in SEGMENT_FILTERS}
        if "tags" in initial:
            initial["tags"] = ", ".join(initial["tags"])
        return {"name": name, **initial}

    @classmethod
    def for_segment(cls, segment: Segment, *args: Any, **kwargs: Any) -> SegmentForm:
        initial = cls.initial_from(segment.filters, segment.name)
        return cls(*args, organization_id=segment.organization_id, initial=initial, **kwargs)

    def filters(self) -> dict[str, Any]:
        """The conditions as typed, for ``segment_create``/``segment_update`` to check."""
        return {k: self.cleaned_data.get(k) for k in SEGMENT_FILTERS}

    groups = (
        (_("Who they are"), ("stage", "customer_grade", "segment", "tags", "tier_id", "owner_id", "shop_id")),
        (_("Visits and spend"), ("last_visit_before_days", "last_visit_within_days", "spend_min", "spend_max")),
        (_("Their car"), ("brand", "vehicle_age_min", "vehicle_age_max")),
    )

    def grouped(self) -> list[tuple[Any, list[Any]]]:
        return [(title, [self[name] for name in names]) for title, names in self.groups]
