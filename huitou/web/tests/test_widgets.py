"""Selects drawn in Python give the HTML Django's templates give: the same options, the same choice."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django import forms
from django.template import Context, Template

from huitou.web.widgets import QuickSelect, options_html, plain_choices

CHOICES: list[tuple[Any, Any]] = [
    ("", "—"),
    (1, "孙<技师> · 技师"),
    (10, 'say "hi" & go'),
    ("组", [(2, "a"), (3, "b&c")]),
]


class _Parts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[tuple[str, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(("<", tag, *sorted(f"{k}={v}" for k, v in attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(("/", tag))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.parts.append(("text", data))


def _flat(html: Any) -> list[tuple[str, ...]]:
    """What a browser reads: tags, their attributes in any order, text (Django's option templates
    put whitespace between tags, and the bound field adds ``required`` after or before ``id``)."""
    parser = _Parts()
    parser.feed(str(html))
    return parser.parts


@pytest.mark.parametrize("value", [None, "", 1, "1", 3, 10, 99])
@pytest.mark.parametrize("required", [True, False])
def test_the_quick_select_renders_what_django_renders(value: Any, required: bool) -> None:
    class Plain(forms.Form):
        who = forms.TypedChoiceField(coerce=int, required=required, choices=CHOICES, widget=forms.Select)

    class Quick(forms.Form):
        who = forms.TypedChoiceField(coerce=int, required=required, choices=CHOICES, widget=QuickSelect)

    assert _flat(Quick(initial={"who": value})["who"]) == _flat(Plain(initial={"who": value})["who"])
    # A form sent back (bound) keeps the value chosen.
    assert _flat(Quick({"who": value})["who"]) == _flat(Plain({"who": value})["who"])


def test_the_quick_select_keeps_its_attributes_and_escapes_everything() -> None:
    widget = QuickSelect(attrs={"class": "pick", "data-x": '"quoted"'}, choices=CHOICES)
    html = widget.render('who"', 10, attrs={"id": "id_who"})
    assert html.startswith('<select name="who&quot;" class="pick" data-x="&quot;quoted&quot;" id="id_who">')
    assert '<option value="1">孙&lt;技师&gt; · 技师</option>' in html
    assert '<option value="10" selected>say &quot;hi&quot; &amp; go</option>' in html
    assert '<optgroup label="组"><option value="2">a</option><option value="3">b&amp;c</option></optgroup>' in html
    assert html.count(" selected") == 1


def test_only_the_first_match_is_selected_unless_multiple() -> None:
    twice = [(1, "a"), ("1", "b")]
    assert options_html(twice, [1]).count("selected") == 1
    assert options_html(twice, [1], multiple=True).count("selected") == 2
    assert "selected" not in options_html(twice, [])


def test_the_options_tag_marks_the_chosen_owner() -> None:
    template = Template("{% load huitou_tags %}{% options owners chosen %}")
    owners = [(7, "李<顾问>"), (8, "王顾问")]
    html = template.render(Context({"owners": owners, "chosen": 8}))
    assert html == '<option value="7">李&lt;顾问&gt;</option><option value="8" selected>王顾问</option>'
    assert "selected" not in template.render(Context({"owners": owners, "chosen": None}))


def test_a_field_given_plain_choices_checks_them_as_with_the_setter() -> None:
    class Pick(forms.Form):
        who = forms.TypedChoiceField(coerce=int, widget=QuickSelect)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            plain_choices(self.fields["who"], [(1, "甲"), (2, "乙")])

    chosen = Pick({"who": "2"})
    assert chosen.is_valid() and chosen.cleaned_data["who"] == 2
    refused = Pick({"who": "3"})
    assert not refused.is_valid() and refused.errors["who"][0] == "选择一个有效的选项。 3 不在可用的选项中。"
    assert 'value="2" selected' in str(Pick(initial={"who": 2})["who"])
    # Each form has its own list: another form's choices do not leak in.
    assert Pick().fields["who"].choices is not Pick.base_fields["who"].choices


def test_plain_choices_are_not_normalised_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.forms import fields, widgets

    def refuse(value: Any) -> Any:
        raise AssertionError("normalised")

    field = forms.TypedChoiceField(coerce=int, widget=QuickSelect)
    monkeypatch.setattr(fields, "normalize_choices", refuse)
    monkeypatch.setattr(widgets, "normalize_choices", refuse)
    plain_choices(field, [(1, "甲")])
    assert field.choices == field.widget.choices == [(1, "甲")]
