"""The dashboard's query (``?from=YYYY-MM-DD&to=YYYY-MM-DD&shop=<id>&grain=day|week|month``) and quick ranges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from huitou.analytics.dashboard import GRAIN_DAY, GRAIN_MONTH, GRAIN_WEEK
from huitou.analytics.forms import quick_ranges
from huitou.analytics.funnel import FIRST_DATE, LAST_DATE, funnel_period
from huitou.tenancy.models import Shop

GRAIN_LABELS = (("", _("Auto")), (GRAIN_DAY, _("Day")), (GRAIN_WEEK, _("Week")), (GRAIN_MONTH, _("Month")))


class DashboardForm(forms.Form):
    """Converts the query; ``dashboard`` decides what range is allowed.

    Every parameter may be left out: the last 90 days up to today (as the
    funnel), all shops, the grain chosen by the range's length. The shop
    must be one of the organization's (``shops``).
    """

    PARAMS = {"date_from": "from", "date_to": "to"}

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    shop = forms.TypedChoiceField(label=_("Shop"), required=False, coerce=int, empty_value=None)
    grain = forms.ChoiceField(label=_("Show by"), choices=GRAIN_LABELS, required=False, widget=forms.RadioSelect)

    def __init__(self, *args: Any, shops: Sequence[Shop], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["shop"]).choices = [("", _("All shops")), *((s.pk, s.name) for s in shops)]

    def _in_bounds(self, name: str) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get(name)
        if day is not None and not FIRST_DATE <= day <= LAST_DATE:  # no arithmetic at the calendar's ends
            raise forms.ValidationError(forms.DateField.default_error_messages["invalid"], code="invalid")
        return day

    def clean_date_from(self) -> dt.date | None:
        return self._in_bounds("date_from")

    def clean_date_to(self) -> dt.date | None:
        return self._in_bounds("date_to")

    def add_prefix(self, field_name: str) -> str:
        return super().add_prefix(self.PARAMS.get(field_name, field_name))

    def values(self, today: dt.date) -> tuple[dt.date, dt.date, int | None, str]:
        """The range, shop and grain asked for, defaults filled in (the form must be valid)."""
        data = self.cleaned_data
        date_from, date_to = funnel_period(date_from=data["date_from"], date_to=data["date_to"], today=today)
        return date_from, date_to, data["shop"], data["grain"] or ""

    @classmethod
    def filled(
        cls, date_from: dt.date, date_to: dt.date, shop_id: int | None, grain: str, shops: Sequence[Shop]
    ) -> DashboardForm:
        """The form showing the range actually used (the defaults written out)."""
        form = cls(
            {"from": date_from.isoformat(), "to": date_to.isoformat(), "shop": shop_id or "", "grain": grain},
            shops=shops,
        )
        form.is_valid()
        return form


def range_links(today: dt.date, shop_id: int | None, grain: str) -> list[dict[str, Any]]:
    """The funnel's quick ranges (this month, last month, the last 30, 90 and 365 days) for the dashboard."""
    links = []
    for r in quick_ranges(today):
        query: dict[str, Any] = {"from": r.date_from.isoformat(), "to": r.date_to.isoformat()}
        if shop_id:
            query["shop"] = shop_id
        if grain:
            query["grain"] = grain
        links.append({"label": r.label, "query": urlencode(query), "range": (r.date_from, r.date_to)})
    return links
