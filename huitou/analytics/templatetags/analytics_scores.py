"""Filters of the customer list: a customer's score row as shown (``{{ c|score_panel }}``)."""

from __future__ import annotations

from typing import Any

from django import template

from huitou.analytics.models import Grade
from huitou.analytics.panel import ScorePanel
from huitou.analytics.panel import score_panel as _score_panel

register = template.Library()


@register.filter
def score_panel(customer: Any) -> ScorePanel | None:
    return _score_panel(customer)


@register.simple_tag
def grade_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Grade.choices]
