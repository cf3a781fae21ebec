"""Long selects drawn in Python: a chain's 2,000 staff in a select cost 150 ms through Django's
templates (one template per option) and 2 ms as one string.

``QuickSelect`` is a ``forms.Select`` with the same HTML and behaviour (attributes, the
selected option, option groups) whose ``render`` joins the options itself;
``options_html`` draws the options alone, for a select written in a template.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import SafeData, SafeString, mark_safe


def _text(value: Any) -> str:
    """Escaped as Django's ``escape`` does, without its per-call check for lazy arguments (a label
    that is already safe HTML is kept)."""
    if isinstance(value, SafeData):
        return str(value)
    return html.escape(str(value))


def _option(value: str, label: Any, selected: bool) -> str:
    chosen = " selected" if selected else ""
    return f'<option value="{_text(value)}"{chosen}>{_text(label)}</option>'


def options_html(
    choices: Iterable[tuple[Any, Any]], selected: Iterable[Any] = (), *, multiple: bool = False
) -> SafeString:
    """``<option>``s of ``(value, label)`` pairs (a label that is a list of pairs: an ``<optgroup>``).

    Values compare as text; without ``multiple`` only the first match is selected, as a browser would.
    """
    wanted = {"" if v is None else str(v) for v in selected}
    parts: list[str] = []
    found = False

    def one(value: Any, label: Any) -> str:
        nonlocal found
        text = "" if value is None else str(value)
        is_selected = text in wanted and (multiple or not found)
        found = found or is_selected
        return _option(text, label, is_selected)

    for value, label in choices:
        if isinstance(label, (list, tuple)):
            inner = "".join(one(v, lbl) for v, lbl in label)
            parts.append(f'<optgroup label="{_text(value)}">{inner}</optgroup>')
        else:
            parts.append(one(value, label))
    return mark_safe("".join(parts))  # noqa: S308 - every value and label escaped above


class QuickSelect(forms.Select):
    """A select whose options are joined in Python (module docstring); the rendered HTML is Django's."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final["multiple"] = True
        options = options_html(self.choices, self.format_value(value), multiple=self.allow_multiple_selected)
        return mark_safe(f'<select name="{_text(name)}"{flatatt(final)}>{options}</select>')  # noqa: S308


def plain_choices(field: forms.Field, choices: list[tuple[Any, str]]) -> None:
    """Give a choice field ``(value, label)`` pairs as they are.

    The ``choices`` setter normalises every pair again (a few function calls and
    checks each: 7 ms for a chain's 2,000 staff in one select); pairs of a value
    and a text label are already what it would make.
    """
    # Both setters normalise (the field's and, since Django 5.0, the widget's): set what they keep.
    field._choices = field.widget._choices = choices  # type: ignore[attr-defined]
