"""Staff performance pages (员工考核): the ranking the store manager sorts, and each person's own page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from huitou.analytics.forms import quick_ranges
from huitou.analytics.staff import (
    DEFAULT_SORT,
    SORT_KEYS,
    StaffPerformance,
    complaints_against,
    converted_files,
    sort_key,
    staff_check,
    staff_performance,
    staff_period,
)
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.models import Shop, User
from huitou.tenancy.roles import Perm
from huitou.web.forms import apply_errors

# The rows behind a figure shown on a person's page, at most.
BEHIND = 20
# People per page of the ranking: a chain's two thousand advisors are forty pages, not one.
RANKING_PAGE = 50

COLUMN_LABELS = {
    "name": _("Staff"),
    "followups_done": _("Follow-ups done"),
    "followups_late": _("Late"),
    "care_done": _("Care done"),
    "callbacks_done": _("Callbacks"),
    "old_customer_contacts": _("Existing customers contacted"),
    "conversions": _("Conversions"),
    "satisfaction": _("Satisfaction"),
    "complaints": _("Complaints"),
    "file_completeness": _("File completeness"),
}
# Whether a column's first click sorts the highest first (late follow-ups and complaints: the fewest first).
HIGH_FIRST = {k: k not in ("name", "followups_late", "complaints") for k in SORT_KEYS}


def sort_choices() -> list[tuple[str, Any]]:
    """Every sort, the useful way round first: "Conversions ↓" is the most conversions first."""
    choices = []
    for key in SORT_KEYS:
        first, second = (f"-{key}", key) if HIGH_FIRST[key] else (key, f"-{key}")
        for value in (first, second):
            arrow = "↓" if value.startswith("-") else "↑"
            choices.append((value, format_lazy("{} {}", COLUMN_LABELS[key], arrow)))
    return choices


class StaffForm(forms.Form):
    """The query of the staff pages: ``?from=&to=&shop=&sort=``, every part optional."""

    PARAMS = {"date_from": "from", "date_to": "to"}

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    shop = forms.TypedChoiceField(label=_("Shop"), coerce=int, required=False, empty_value=None)
    sort = forms.CharField(required=False)

    def __init__(self, *args: Any, shops: list[Shop], with_shop: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_shop:
            self.fields["shop"].choices = [("", _("All shops")), *((s.pk, s.name) for s in shops)]  # type: ignore[attr-defined]
            self.fields["sort"] = forms.ChoiceField(label=_("Sort by"), choices=sort_choices(), required=False)
        else:
            del self.fields["shop"]
            del self.fields["sort"]

    def add_prefix(self, field_name: str) -> str:
        return super().add_prefix(self.PARAMS.get(field_name, field_name))


def _query(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _period(form: StaffForm, today: dt.date) -> tuple[dt.date, dt.date]:
    return staff_period(date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"], today=today)


def _columns(result: StaffPerformance, sort: str) -> list[dict[str, Any]]:
    """The table's sortable headers: each links to the ranking sorted by it (again: the other way)."""
    column, descending = sort_key(sort)
    shop = result.shop.pk if result.shop else None
    columns = []
    for key, label in COLUMN_LABELS.items():
        # The active column turns round; another starts the useful way round.
        first = f"-{key}" if HIGH_FIRST[key] else key
        next_sort = (key if descending else f"-{key}") if key == column else first
        columns.append(
            {
                "key": key,
                "label": label,
                "active": key == column,
                "descending": descending,
                "query": _query(
                    **{"from": result.date_from.isoformat(), "to": result.date_to.isoformat(), "shop": shop},
                    sort=next_sort,
                ),
            }
        )
    return columns


@staff_required(Perm.VIEW_STAFF_PERFORMANCE)
def staff_ranking(request: StaffRequest) -> HttpResponse:
    """Everyone's figures for a period, sorted on the server by any column (``?sort=column`` or ``-column``).

    Without parameters: the last 90 days, all shops, most conversions first,
    ``RANKING_PAGE`` people a page (``?page=``; htmx asks for the table alone).
    Queries: session, user with organization, the shops (the filter), the
    shop asked for (with ``shop``), then ``staff_performance``'s six.
    """
    today = timezone.localdate()
    shops = list(Shop.objects.for_org(request.organization).order_by("name", "pk"))
    form = StaffForm(request.GET, shops=shops)
    result = None
    sort = request.GET.get("sort") or DEFAULT_SORT
    if sort.lstrip("-") not in SORT_KEYS:
        sort = DEFAULT_SORT
    if form.is_valid():
        try:
            date_from, date_to = _period(form, today)
            shop = staff_check(
                organization=request.organization,
                date_from=date_from,
                date_to=date_to,
                shop_id=form.cleaned_data["shop"],
            )
            result = staff_performance(
                organization=request.organization, date_from=date_from, date_to=date_to, shop=shop, sort=sort
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            form = StaffForm(
                {
                    "from": date_from.isoformat(),
                    "to": date_to.isoformat(),
                    "shop": shop.pk if shop else "",
                    "sort": sort,
                },
                shops=shops,
            )
            form.is_valid()
    shop_id = result.shop.pk if result and result.shop else None
    page = Paginator(result.rows if result else [], RANKING_PAGE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "form": form,
        "result": result,
        "page": page,
        "query": _query(
            **{"from": result.date_from.isoformat(), "to": result.date_to.isoformat(), "shop": shop_id}, sort=sort
        )
        if result
        else "",
        "sort": sort,
        "columns": _columns(result, sort) if result else [],
        "quick_ranges": _quick(today, result, shop=shop_id, sort=sort),
        "period_query": _query(**{"from": result.date_from.isoformat(), "to": result.date_to.isoformat()})
        if result
        else "",
    }
    template = "analytics/_staff_table.html" if request.htmx else "analytics/staff.html"
    return render(request, template, context)


def _quick(today: dt.date, result: StaffPerformance | None, **keep: Any) -> list[dict[str, Any]]:
    return [
        {
            "label": r.label,
            "query": _query(**{"from": r.date_from.isoformat(), "to": r.date_to.isoformat()}, **keep),
            "active": result is not None and (r.date_from, r.date_to) == (result.date_from, result.date_to),
        }
        for r in quick_ranges(today)
    ]


@staff_required()
def staff_member(request: StaffRequest, user_id: int) -> HttpResponse:
    """One person's figures for a period, with the files and complaints behind them.

    Everyone may see their own page; the store manager sees everyone's.
    Queries: session, user with organization, the person, then
    ``staff_performance``'s six, the converted files and the complaints.
    """
    user = request.user
    if user.pk != user_id and not user.has_role_perm(Perm.VIEW_STAFF_PERFORMANCE):
        raise PermissionDenied
    person = User.objects.for_org(request.organization).filter(pk=user_id).first()
    if person is None:
        raise Http404
    today = timezone.localdate()
    form = StaffForm(request.GET, shops=[], with_shop=False)
    row = None
    converted: list[Any] = []
    complaints: list[Any] = []
    period = None
    if form.is_valid():
        try:
            date_from, date_to = _period(form, today)
            staff_check(organization=request.organization, date_from=date_from, date_to=date_to)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            result = staff_performance(
                organization=request.organization, date_from=date_from, date_to=date_to, staff_id=person.pk
            )
            row = result.rows[0] if result.rows else None
            kwargs = {"organization": request.organization, "user": person, "date_from": date_from, "date_to": date_to}
            converted = list(converted_files(**kwargs)[:BEHIND]) if row and row.conversions else []
            complaints = list(complaints_against(**kwargs)[:BEHIND]) if row and row.complaints else []
            period = {"from": date_from.isoformat(), "to": date_to.isoformat()}
            form = StaffForm(period, shops=[], with_shop=False)
            form.is_valid()
    context = {
        "form": form,
        "person": person,
        "row": row,
        "converted": converted,
        "complaints": complaints,
        "behind": BEHIND,
        "is_self": person.pk == user.pk,
        "may_rank": user.has_role_perm(Perm.VIEW_STAFF_PERFORMANCE),
        "period_query": _query(**period) if period else "",
        "quick_ranges": _quick(today, None if period is None else _as_result(period)),
    }
    return render(request, "analytics/staff_member.html", context)


def _as_result(period: dict[str, str]) -> StaffPerformance:
    return StaffPerformance(
        date_from=dt.date.fromisoformat(period["from"]), date_to=dt.date.fromisoformat(period["to"]), shop=None, rows=[]
    )
