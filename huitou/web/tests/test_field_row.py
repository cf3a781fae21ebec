"""``{% field_row %}`` draws a form field as the forms show it: the same HTML the field template drew."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.template import Context, Template

from huitou.web.tests.test_widgets import _flat

# The field as it was drawn by an included template: the reference the tag must match.
REFERENCE = Template(
    '{% load i18n %}<div class="field{% if field.errors %} has-error{% endif %}'
    "{% if field.field.widget.input_type == 'checkbox' %}{% if field.field.widget.allow_multiple_selected %} choices"
    '{% else %} check{% endif %}{% endif %}{% if field.name in wide_fields %} wide{% endif %}">'
    "{% if field.field.widget.input_type == 'checkbox' and not field.field.widget.allow_multiple_selected %}"
    "<label>{{ field }} {{ field.label }}</label>"
    '{% else %}<label for="{{ field.id_for_label }}">{{ field.label }}{% if field.field.required %}'
    '<span class="req" aria-hidden="true">*</span>{% endif %}</label>{{ field }}{% endif %}'
    '{% if field.help_text %}<small class="help">{{ field.help_text }}</small>{% endif %}'
    '{% for error in field.errors %}<p class="error" role="alert">{{ error }}</p>{% endfor %}</div>'
)


class Sample(forms.Form):
    name = forms.CharField(label="姓名 <必填>", help_text="as on the <ID> card", max_length=3)
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea)
    agree = forms.BooleanField(label="同意", required=False)
    days = forms.MultipleChoiceField(
        label="日子", choices=[("1", "一"), ("2", "二")], widget=forms.CheckboxSelectMultiple, required=False
    )
    kind = forms.ChoiceField(label="类别", choices=[("a", "A & B")])


@pytest.mark.parametrize("data", [None, {"name": "太长的名字", "kind": "z", "days": ["3"]}])
@pytest.mark.parametrize("wide", [None, "note", ("name", "kind")])
def test_each_field_is_drawn_as_the_template_drew_it(data: Any, wide: Any) -> None:
    form = Sample(data)
    tag = Template("{% load huitou_tags %}{% for field in form %}{% field_row %}{% endfor %}")
    reference = Template("{% for field in form %}{% include ref %}{% endfor %}")
    context = {"form": form, "ref": REFERENCE, **({"wide_fields": wide} if wide is not None else {})}
    drawn = tag.render(Context(context))
    assert _flat(drawn) == _flat(reference.render(Context(context)))
    assert ("has-error" in drawn) == bool(data)


def test_the_tag_takes_the_field_and_the_wide_names_as_arguments() -> None:
    form = Sample({"name": "", "kind": "a"})
    html = Template('{% load huitou_tags %}{% field_row field=form.name wide_fields="name" %}').render(
        Context({"form": form})
    )
    assert html.startswith('<div class="field has-error wide">')
    assert '<label for="id_name">姓名 &lt;必填&gt;<span class="req" aria-hidden="true">*</span></label>' in html
    assert '<small class="help">as on the &lt;ID&gt; card</small>' in html
    assert '<p class="error" role="alert">这个字段是必填项。</p>' in html
    box = Template("{% load huitou_tags %}{% field_row field=form.agree %}").render(Context({"form": form}))
    assert box.startswith('<div class="field check">\n  <label><input type="checkbox" name="agree"')
