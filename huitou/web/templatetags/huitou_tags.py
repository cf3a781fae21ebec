from __future__ import annotations

from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from huitou.customers.models import ConsentRecord, Customer, Vehicle
from huitou.lib.phones import national_digits
from huitou.web.widgets import options_html

register = template.Library()

_EXTRA_LABELS = {
    "birthday": lambda: _("Birthday"),
    "vehicle": lambda: _("Vehicle"),
    "consent": lambda: _("Consent to messages"),
    "tags": lambda: _("Tags"),
    "vehicles": lambda: _("Vehicles"),
    "household": lambda: _("Family"),
    "customer": lambda: _("Car owner"),
    "km": lambda: _("Mileage (km)"),
    "method": lambda: _("How"),
    "purpose": lambda: _("For what purpose"),
    "grade": lambda: _("Customer grade"),
}


@register.filter
def field_label(name: str) -> str:
    """The translated label of a customer or vehicle field, for history and hints."""
    if name in _EXTRA_LABELS:
        return _EXTRA_LABELS[name]()
    for model in (Customer, Vehicle):
        try:
            return str(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            continue
    return name


@register.filter
def has_value(value: Any) -> bool:
    return value not in (None, "", [], {})


def _choice_label(field: str, value: Any) -> str | None:
    for model in (Customer, Vehicle, ConsentRecord):
        try:
            choices = dict(model._meta.get_field(field).flatchoices)
        except FieldDoesNotExist:
            continue
        if value in choices:
            return str(choices[value])
    return None


@register.filter
def history_value(value: Any, field: str = "") -> str:
    """A value from the change history, with choice codes shown as their labels."""
    if field == "phone" and isinstance(value, str) and value.startswith("+"):
        return national_digits(value)
    if field and isinstance(value, str):
        label = _choice_label(field, value)
        if label:
            return label
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


@register.simple_tag
def options(choices: Any, selected: Any = None) -> str:
    """``<option>``s of ``(value, label)`` pairs with ``selected`` chosen, joined in Python (``web.widgets``):
    a select of a chain's staff is one string, not a loop of 2,000 template nodes."""
    return options_html(choices, [] if selected is None else [selected])


@register.simple_tag(takes_context=True)
def field_row(context: template.Context, field: Any = None, wide_fields: Any = None) -> str:
    """A form field as the forms show it: label (a star if required), widget, help, errors.

    ``field`` defaults to the ``field`` of the loop around it and ``wide_fields`` (names that take
    the whole row) to the context's. Drawn in Python: a template included per field cost more
    than the widget itself.
    """
    if field is None:
        field = context.get("field")
    if wide_fields is None:
        wide_fields = context.get("wide_fields") or ()
    widget = field.field.widget
    errors = field.errors
    checkbox = getattr(widget, "input_type", None) == "checkbox"
    single_box = checkbox and not getattr(widget, "allow_multiple_selected", False)
    classes = "field"
    if errors:
        classes += " has-error"
    if checkbox:
        classes += " check" if single_box else " choices"
    if field.name in wide_fields:
        classes += " wide"
    label = conditional_escape(field.label)
    if single_box:
        body = f"<label>{field} {label}</label>"
    else:
        star = '<span class="req" aria-hidden="true">*</span>' if field.field.required else ""
        body = f'<label for="{conditional_escape(field.id_for_label)}">{label}{star}</label>\n  {field}'
    help_text = f'\n  <small class="help">{conditional_escape(field.help_text)}</small>' if field.help_text else ""
    shown = "".join(f'\n  <p class="error" role="alert">{conditional_escape(e)}</p>' for e in errors)
    return mark_safe(f'<div class="{classes}">\n  {body}{help_text}{shown}\n</div>')  # noqa: S308 - each part escaped
