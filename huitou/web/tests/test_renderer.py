"""The form renderer draws the common widgets in Python with Django's HTML, character for character."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from huitou.web.renderer import DRAWN, QuickRenderer

CHOICES: list[tuple[Any, Any]] = [
    ("", "—"),
    (1, "孙<技师> · 技师"),
    (10, 'say "hi" & go'),
    ("组<1>", [(2, "a"), (3, mark_safe("<b>b</b>"))]),
    (Decimal("2.50"), gettext_lazy("Payment method")),
]

WIDGETS: list[tuple[forms.Widget, Any]] = [
    (forms.TextInput(attrs={"placeholder": 'a "quote" & <tag>', "autofocus": True, "disabled": False}), "x<y>"),
    (forms.TextInput(), None),
    (forms.TextInput(), ""),
    (forms.TextInput(attrs={"placeholder": gettext_lazy("Shop price")}), mark_safe("<i>kept</i>")),
    (forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}), 12),
    (forms.NumberInput(), Decimal("12.50")),
    (forms.EmailInput(), "a@b.cn"),
    (forms.URLInput(), "https://x.cn/?a=1&b=2"),
    (forms.PasswordInput(render_value=True), "s'cret"),
    (forms.HiddenInput(), 5),
    (forms.DateInput(attrs={"type": "date"}), dt.date(2026, 12, 7)),
    (forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"), dt.datetime(2026, 12, 7, 9, 5)),
    (forms.TimeInput(), dt.time(9, 30)),
    (forms.CheckboxInput(), True),
    (forms.CheckboxInput(), False),
    (forms.CheckboxInput(attrs={"class": "c"}), "on"),
    (forms.Textarea(attrs={"rows": 3}), "第一行\n<第二行> & more"),
    (forms.Textarea(), ""),
    (forms.Textarea(), None),
    (forms.Select(choices=CHOICES), 10),
    (forms.Select(choices=CHOICES, attrs={"class": "pick", "required": True}), None),
    (forms.Select(choices=CHOICES), "2"),
    (forms.Select(choices=CHOICES), "2.50"),
    (forms.Select(choices=[]), None),
    (forms.NullBooleanSelect(), True),
    (forms.SelectMultiple(choices=CHOICES), ["1", "3"]),
]


@pytest.mark.parametrize(("widget", "value"), WIDGETS, ids=lambda x: type(x).__name__)
@pytest.mark.parametrize("attrs", [None, {"id": "id_f", "aria-describedby": "help"}])
def test_each_widget_is_drawn_as_its_template_draws_it(
    widget: forms.Widget, value: Any, attrs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert widget.template_name in DRAWN, "the widgets the product uses are drawn in Python"
    expected = widget.render("f<1>", value, attrs=attrs, renderer=DjangoTemplates())

    def no_template(self: Any, name: str) -> Any:
        raise AssertionError(f"{name} went through the templates")

    monkeypatch.setattr(QuickRenderer, "get_template", no_template)
    assert widget.render("f<1>", value, attrs=attrs, renderer=QuickRenderer()) == expected


def test_a_bound_form_draws_the_same_fields_and_errors() -> None:
    class Line(forms.Form):
        item = forms.ChoiceField(choices=CHOICES[:3])
        quantity = forms.DecimalField(max_digits=8, decimal_places=2)
        note = forms.CharField(widget=forms.Textarea, required=False)
        paid = forms.BooleanField(required=False)

    form = Line({"item": "7", "quantity": "x<", "note": "<b>", "paid": "on"})
    assert not form.is_valid()
    for name in form.fields:
        django_field = form[name].as_widget(attrs=None)
        form.renderer = QuickRenderer()
        quick_field = form[name].as_widget(attrs=None)
        form.renderer = DjangoTemplates()
        assert quick_field == django_field, name


def test_other_templates_go_to_django_and_the_product_uses_this_renderer() -> None:
    radio = forms.RadioSelect(choices=[(1, "a"), (2, "b")])
    assert radio.template_name not in DRAWN
    assert radio.render("r", 1, renderer=QuickRenderer()) == radio.render("r", 1, renderer=DjangoTemplates())
    assert isinstance(get_default_renderer(), QuickRenderer)


def test_an_option_of_its_own_template_sends_the_whole_select_to_the_templates() -> None:
    class Fancy(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    widget = Fancy(choices=[(1, "a")])
    assert widget.render("s", 1, renderer=QuickRenderer()) == widget.render("s", 1, renderer=DjangoTemplates())
