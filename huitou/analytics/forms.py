"""The funnel page's query (``?from=YYYY-MM-DD&to=YYYY-MM-DD&by=source|staff``) and its quick ranges."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from huitou.analytics.funnel import BY_SOURCE, BY_STAFF, funnel_period

BY_LABELS = ((BY_SOURCE, _("By source")), (BY_STAFF, _("By staff")))


class FunnelForm(forms.Form):
    """Converts the query; ``funnel`` decides what range is allowed.

    Every parameter may be left out: ``period`` fills in the default range
    (``funnel.funnel_period``) and grouping by source. The fields are named
    after ``funnel``'s arguments, so its refusals land on them, and sent as
    the API's parameter names ``from`` and ``to``.
    """

    PARAMS = {"date_from": "from", "date_to": "to"}

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    by = forms.ChoiceField(label=_("Group by"), choices=BY_LABELS, required=False, widget=forms.RadioSelect)

    def add_prefix(self, field_name: str) -> str:
        return super().add_prefix(self.PARAMS.get(field_name, field_name))

    def period(self, today: dt.date) -> tuple[dt.date, dt.date, str]:
        """The range and grouping asked for, defaults filled in (the form must be valid)."""
        data = self.cleaned_data
        date_from, date_to = funnel_period(date_from=data["date_from"], date_to=data["date_to"], today=today)
        return date_from, date_to, data["by"] or BY_SOURCE

    @classmethod
    def filled(cls, date_from: dt.date, date_to: dt.date, by: str) -> FunnelForm:
        """The form showing the range actually used (the defaults written out)."""
        form = cls({"from": date_from.isoformat(), "to": date_to.isoformat(), "by": by})
        form.is_valid()
        return form


@dataclass(frozen=True)
class QuickRange:
    label: Any
    date_from: dt.date
    date_to: dt.date

    def url_query(self, by: str) -> str:
        return urlencode({"from": self.date_from.isoformat(), "to": self.date_to.isoformat(), "by": by})


def quick_ranges(today: dt.date) -> list[QuickRange]:
    """This month and last month (calendar months, local dates), then the last 30, 90 and 365 days."""
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - dt.timedelta(days=1)
    ranges = [
        QuickRange(_("This month"), first_of_month, today),
        QuickRange(_("Last month"), last_month_end.replace(day=1), last_month_end),
    ]
    for days, label in ((30, _("Last 30 days")), (90, _("Last 90 days")), (365, _("Last 365 days"))):
        ranges.append(QuickRange(label, today - dt.timedelta(days=days - 1), today))
    return ranges
