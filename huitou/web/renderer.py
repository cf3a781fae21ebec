"""The form renderer: Django's, with the common widgets drawn in Python.

Every ``{{ field }}`` goes through the form renderer, which draws the
widget's template: an input is three templates (its type's, ``input.html``,
``attrs.html``), a select one more per option. On a page of a few forms
(the order page: the new line, payment, adjustment, recommendation and
void forms, a warranty form per line) that was some 8 of the page's 42 ms.
``QuickRenderer`` draws inputs, text areas and selects of Django's own
templates in Python, with the same HTML, character for character (a test
compares them over the widgets the product uses); any other template goes
to Django's renderer as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape

WIDGETS = "django/forms/widgets/"
OPTION_TEMPLATE = WIDGETS + "select_option.html"
# The templates that are ``{% include "django/forms/widgets/input.html" %}`` and nothing else.
INPUT_TEMPLATES = frozenset(
    WIDGETS + name
    for name in (
        "input.html",
        "text.html",
        "number.html",
        "email.html",
        "url.html",
        "password.html",
        "hidden.html",
        "date.html",
        "datetime.html",
        "time.html",
        "search.html",
        "tel.html",
        "color.html",
        "checkbox.html",
    )
)


def _text(value: Any) -> str:
    """``{{ value }}`` with autoescaping: safe HTML kept, anything else escaped."""
    return str(conditional_escape(value))


def _attrs(attrs: dict[str, Any]) -> str:
    """``attrs.html``: `` name="value"`` each, a True value as the bare name, a False one left out."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_format(value)}"')
    return "".join(parts)


def _format(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: the text of the value, escaped unless it is safe HTML."""
    return _text(value if hasattr(value, "__html__") else str(value))


def _input(widget: dict[str, Any]) -> str | None:
    value = "" if widget["value"] is None else f' value="{_format(widget["value"])}"'
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _textarea(widget: dict[str, Any]) -> str | None:
    body = _text(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n{body}</textarea>'


def _select(widget: dict[str, Any]) -> str | None:
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION_TEMPLATE:
                return None  # an option of its own template: the whole select through the templates
            value, attrs, label = _format(option["value"]), _attrs(option["attrs"]), _text(option["label"])
            parts.append(f'\n  <option value="{value}"{attrs}>{label}</option>\n')
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


DRAWN: dict[str, Callable[[dict[str, Any]], str | None]] = {
    **dict.fromkeys(INPUT_TEMPLATES, _input),
    WIDGETS + "textarea.html": _textarea,
    WIDGETS + "select.html": _select,
}


class QuickRenderer(DjangoTemplates):
    """Django's template form renderer; inputs, text areas and selects drawn in Python (module docstring)."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        draw = DRAWN.get(template_name)
        widget = context.get("widget")
        if draw is not None and isinstance(widget, dict):
            html = draw(widget)
            if html is not None:
                return html
        return super().render(template_name, context, request=request)
