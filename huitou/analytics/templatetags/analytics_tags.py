from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(rate: float | None) -> str:
    """A rate from 0 to 1 as a percentage with one decimal: 0.3333 → "33.3%"."""
    if rate is None:
        return "—"
    return f"{rate * 100:.1f}%"
