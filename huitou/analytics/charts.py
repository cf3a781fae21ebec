"""The funnel as plotly figures (data, layout, config), drawn in the page by ``static/analytics/funnel.js``.

Plain dictionaries in plotly.js's own JSON format: the page loads the
plotly.min.js of the installed plotly wheel (``views.plotly_js``), and the
server needs nothing but ``json``. Two figures: the funnel of the totals
(prospects → intent → converted, with the share of the prospects at each
step), and one group of three bars per source or staff member.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.translation import gettext as _

from huitou.analytics.funnel import Funnel, FunnelRow

COLORS = {"prospects": "#9fb3c8", "intent": "#d9822b", "converted": "#0f6e6e"}
FONT = {
    "family": '-apple-system, BlinkMacSystemFont, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"Noto Sans CJK SC", "Source Han Sans SC", "Segoe UI", Roboto, sans-serif',
    "size": 13,
    "color": "#1d2733",
}
# Interactive (hover, tap, legend), but no zooming or dragging: a finger on a phone scrolls the page.
CONFIG = {"displayModeBar": False, "responsive": True, "scrollZoom": False}


def _stages() -> list[tuple[str, str]]:
    return [("prospects", _("Prospects")), ("intent", _("Intent")), ("converted", _("Converted"))]


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    return {
        "height": height,
        "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "dragmode": False,
        "hoverlabel": {"font": FONT | {"color": "#fff"}},
        **extra,
    }


def _label(row: FunnelRow) -> str:
    # plotly reads a few HTML tags in texts: a label is shown as typed, never as markup.
    return escape(row.label or "—")


def total_figure(result: Funnel) -> dict[str, Any]:
    total = result.total
    stages = _stages()
    return {
        "data": [
            {
                "type": "funnel",
                "y": [label for _key, label in stages],
                "x": [getattr(total, key) for key, _label in stages],
                "textinfo": "value+percent initial",
                "marker": {"color": [COLORS[key] for key, _label in stages]},
                "connector": {"fillcolor": "#e8edf1", "line": {"color": "#e8edf1", "width": 0}},
                "hovertemplate": "%{y}: %{x}<br>%{percentInitial:.1%}<extra></extra>",
            }
        ],
        "layout": _layout(
            240,
            margin={"l": 64, "r": 16, "t": 8, "b": 8},
            yaxis={"fixedrange": True},
            xaxis={"fixedrange": True},
        ),
        "config": CONFIG,
    }


def groups_figure(result: Funnel) -> dict[str, Any]:
    rows = result.rows
    labels = [_label(r) for r in rows]
    rates = {"intent": [r.intent_rate for r in rows], "converted": [r.conversion_rate for r in rows]}
    data = []
    for key, name in _stages():
        trace: dict[str, Any] = {
            "type": "bar",
            "orientation": "h",
            "name": name,
            "y": labels,
            "x": [getattr(r, key) for r in rows],
            "marker": {"color": COLORS[key]},
            "hovertemplate": f"%{{y}}<br>{escape(name)}: %{{x}}<extra></extra>",
        }
        if key in rates:
            trace["customdata"] = rates[key]
            trace["hovertemplate"] = f"%{{y}}<br>{escape(name)}: %{{x}} (%{{customdata:.1%}})<extra></extra>"
        data.append(trace)
    most = max((r.prospects for r in rows), default=0)
    xaxis: dict[str, Any] = {"fixedrange": True, "rangemode": "tozero", "gridcolor": "#eef1f4", "zeroline": False}
    if most <= 8:
        xaxis["dtick"] = 1  # whole people: no 0.5 ticks on small numbers
    return {
        "data": data,
        "layout": _layout(
            96 + 54 * max(len(rows), 1),
            barmode="group",
            bargap=0.25,
            bargroupgap=0.05,
            margin={"l": 8, "r": 16, "t": 36, "b": 28},
            legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom", "traceorder": "normal"},
            yaxis={"autorange": "reversed", "automargin": True, "fixedrange": True, "ticksuffix": " "},
            xaxis=xaxis,
        ),
        "config": CONFIG,
    }


def funnel_charts(result: Funnel) -> dict[str, dict[str, Any]]:
    """Both figures by the id of the element each is drawn in."""
    return {"funnel-chart-total": total_figure(result), "funnel-chart-groups": groups_figure(result)}
