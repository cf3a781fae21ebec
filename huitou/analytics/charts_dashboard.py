"""The dashboard as plotly figures (data, layout, config), drawn in the page by ``static/analytics/dashboard.js``.

Plain dictionaries in plotly.js's JSON format, as the funnel's (``charts.py``):
the page loads plotly.min.js from the installed wheel. Each figure has the
table it is drawn from next to it on the page.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.translation import gettext as _

from huitou.analytics.charts import CONFIG, _layout
from huitou.analytics.dashboard import GRAIN_DAY, GRAIN_MONTH, Dashboard, Point

PRIMARY, ACCENT, MUTED = "#0f6e6e", "#d9822b", "#9fb3c8"
GRID = "#eef1f4"


def point_label(point: Point, grain: str) -> str:
    if grain == GRAIN_DAY:
        return point.date_from.strftime("%m-%d")
    if grain == GRAIN_MONTH:
        return point.date_from.strftime("%Y-%m")
    return f"{point.date_from:%m-%d}~{point.date_to:%m-%d}"


def _axis(**extra: Any) -> dict[str, Any]:
    return {"fixedrange": True, "gridcolor": GRID, "zeroline": False, "automargin": True, **extra}


def money_figure(result: Dashboard) -> dict[str, Any]:
    labels = [point_label(p, result.grain) for p in result.series]
    most_orders = max((p.orders for p in result.series), default=0)
    return {
        "data": [
            {
                "type": "bar",
                "name": _("Revenue"),
                "x": labels,
                "y": [float(p.revenue) for p in result.series],
                "marker": {"color": PRIMARY},
                "hovertemplate": f"%{{x}}<br>{escape(_('Revenue'))}: ¥%{{y:,.2f}}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": _("Paid orders"),
                "x": labels,
                "y": [p.orders for p in result.series],
                "yaxis": "y2",
                "line": {"color": ACCENT, "width": 2},
                "marker": {"size": 5},
                "hovertemplate": f"%{{x}}<br>{escape(_('Paid orders'))}: %{{y}}<extra></extra>",
            },
        ],
        "layout": _layout(
            300,
            margin={"l": 8, "r": 8, "t": 36, "b": 8},
            legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom"},
            bargap=0.3,
            xaxis=_axis(type="category", tickangle=0, nticks=8, showgrid=False),
            yaxis=_axis(rangemode="tozero", tickprefix="¥"),
            yaxis2=_axis(
                overlaying="y",
                side="right",
                rangemode="tozero",
                showgrid=False,
                **({"dtick": 1} if most_orders <= 6 else {}),
            ),
        ),
        "config": CONFIG,
    }


def sources_figure(result: Dashboard) -> dict[str, Any]:
    rows = result.new_by_source
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [escape(r.label) for r in rows],
                "x": [r.count for r in rows],
                "marker": {"color": PRIMARY},
                "text": [r.count for r in rows],
                "textposition": "auto",
                "hovertemplate": "%{y}: %{x}<extra></extra>",
            }
        ],
        "layout": _layout(
            72 + 36 * max(len(rows), 1),
            margin={"l": 8, "r": 8, "t": 8, "b": 24},
            showlegend=False,
            yaxis=_axis(autorange="reversed", ticksuffix=" ", showgrid=False),
            xaxis=_axis(rangemode="tozero", **({"dtick": 1} if max((r.count for r in rows), default=0) <= 6 else {})),
        ),
        "config": CONFIG,
    }


def returns_figure(result: Dashboard) -> dict[str, Any]:
    rates = result.return_rates
    labels = [_("%(days)s days") % {"days": r.days} for r in rates]
    return {
        "data": [
            {
                "type": "bar",
                "x": labels,
                "y": [r.rate for r in rates],
                "customdata": [[r.returned, r.measured] for r in rates],
                "text": [f"{r.rate:.0%}" for r in rates],
                "textposition": "auto",
                "marker": {"color": [MUTED, ACCENT, PRIMARY]},
                "hovertemplate": "%{x}: %{y:.1%} (%{customdata[0]} / %{customdata[1]})<extra></extra>",
            }
        ],
        "layout": _layout(
            220,
            margin={"l": 8, "r": 8, "t": 8, "b": 24},
            showlegend=False,
            xaxis=_axis(type="category", showgrid=False),
            yaxis=_axis(range=[0, 1], tickformat=".0%"),
        ),
        "config": CONFIG,
    }


def cohorts_figure(result: Dashboard) -> dict[str, Any]:
    cohorts = result.cohorts
    months = [str(k) for k in range(1, 13)]
    return {
        "data": [
            {
                "type": "heatmap",
                "x": months,
                "y": [c.month.strftime("%Y-%m") for c in cohorts],
                "z": [c.shares() for c in cohorts],
                "customdata": [[[n, c.size] for n in c.returned] for c in cohorts],
                "zmin": 0,
                "zmax": 1,
                "colorscale": [[0, "#f4f7f9"], [0.5, "#5fa8a8"], [1, PRIMARY]],
                "showscale": False,
                "xgap": 2,
                "ygap": 2,
                "hovertemplate": _("%(month)s, month %(k)s") % {"month": "%{y}", "k": "%{x}"}
                + ": %{z:.0%} (%{customdata[0]} / %{customdata[1]})<extra></extra>",
            }
        ],
        "layout": _layout(
            80 + 28 * max(len(cohorts), 1),
            margin={"l": 8, "r": 8, "t": 8, "b": 28},
            xaxis=_axis(type="category", showgrid=False),
            yaxis=_axis(type="category", autorange="reversed", showgrid=False, ticksuffix=" "),
        ),
        "config": CONFIG,
    }


def top_figure(result: Dashboard) -> dict[str, Any]:
    data = []
    for name, items, color in (
        (_("Services"), result.top_services, PRIMARY),
        (_("Parts"), result.top_parts, ACCENT),
    ):
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": name,
                "y": [escape(i.name) for i in items],
                "x": [float(i.revenue) for i in items],
                "marker": {"color": color},
                "hovertemplate": "%{y}: ¥%{x:,.2f}<extra></extra>",
            }
        )
    count = len(result.top_services) + len(result.top_parts)
    return {
        "data": data,
        "layout": _layout(
            72 + 26 * max(count, 1),
            margin={"l": 8, "r": 8, "t": 36, "b": 24},
            legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom"},
            yaxis=_axis(type="category", autorange="reversed", showgrid=False, ticksuffix=" "),
            xaxis=_axis(rangemode="tozero", tickprefix="¥"),
        ),
        "config": CONFIG,
    }


def dashboard_charts(result: Dashboard) -> dict[str, dict[str, Any]]:
    """Every figure by the id of the element it is drawn in (a figure without data is left out)."""
    charts = {"dash-chart-money": money_figure(result), "dash-chart-returns": returns_figure(result)}
    if result.new_by_source:
        charts["dash-chart-sources"] = sources_figure(result)
    if result.cohorts:
        charts["dash-chart-cohorts"] = cohorts_figure(result)
    if result.top_services or result.top_parts:
        charts["dash-chart-top"] = top_figure(result)
    return charts
