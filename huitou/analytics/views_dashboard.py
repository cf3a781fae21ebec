"""The owner's dashboard page (经营看板)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode

from huitou.analytics.charts_dashboard import dashboard_charts, point_label
from huitou.analytics.dashboard import RETURN_WINDOWS, Dashboard, dashboard
from huitou.analytics.forms_dashboard import DashboardForm, range_links
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.models import Shop
from huitou.tenancy.roles import Perm
from huitou.web.forms import apply_errors


def figure_query(result: Dashboard) -> str:
    """The query the customer and order lists read to show what is behind a figure (add ``figure=...``)."""
    query: dict[str, Any] = {"from": result.date_from.isoformat(), "to": result.date_to.isoformat()}
    if result.shop_id:
        query["figure_shop"] = result.shop_id
    return urlencode(query)


@staff_required(Perm.VIEW_DASHBOARD)
def dashboard_page(request: StaffRequest) -> HttpResponse:
    """Money, customers and retention for a date range and a shop (or all), with the tables behind the charts.

    Without parameters: the last 90 days, all shops. An htmx request (the
    form, the quick ranges) gets the part below the title alone.

    Queries: session, user with organization, the organization's shops,
    then the dashboard's nine (``dashboard.dashboard``), however long the range.
    """
    org = request.organization
    today = timezone.localdate()
    shops = list(Shop.objects.for_org(org).order_by("pk"))
    form = DashboardForm(request.GET, shops=shops)
    result = None
    shop_id, grain = None, ""
    if form.is_valid():
        date_from, date_to, shop_id, grain = form.values(today)
        form = DashboardForm.filled(date_from, date_to, shop_id, grain, shops)
        try:
            result = dashboard(organization=org, date_from=date_from, date_to=date_to, shop_id=shop_id, grain=grain)
        except ValidationError as exc:
            apply_errors(form, exc)
    context: dict[str, Any] = {
        "form": form,
        "result": result,
        "quick_ranges": [
            {**r, "active": result is not None and r["range"] == (result.date_from, result.date_to)}
            for r in range_links(today, shop_id, grain)
        ],
        "shop_name": next((s.name for s in shops if s.pk == shop_id), ""),
    }
    if result is not None:
        context.update(
            charts=dashboard_charts(result),
            fq=figure_query(result),
            series=[(point_label(p, result.grain), p) for p in result.series],
            windows=RETURN_WINDOWS,
        )
    if request.htmx:
        return render(request, "analytics/_dashboard.html", context)
    return render(request, "analytics/dashboard.html", context)
