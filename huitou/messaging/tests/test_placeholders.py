"""Placeholders: known ones filled, unknown ones and stray braces refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from huitou.messaging import errors
from huitou.messaging.placeholders import body_check, known_list, missing_values, params_of, placeholders_in, render
from huitou.testing.text import zh


def test_it_lists_placeholders_in_the_order_they_first_appear() -> None:
    assert placeholders_in("{name}您好，{plate}…{name}，{shop}") == ["name", "plate", "shop"]


def test_it_fills_each_placeholder_and_leaves_the_rest_of_the_text() -> None:
    text = render("{name}您好，{plate}的{service}到期了", {"name": "张三", "plate": "粤B12345", "service": "小保养"})
    assert text == "张三您好，粤B12345的小保养到期了"


def test_it_refuses_an_unknown_placeholder_and_names_it() -> None:
    with pytest.raises(ValidationError) as caught:
        body_check("{name}您好，{nickname}和{plat}")
    message = caught.value.message_dict["body"][0]
    assert message == zh(errors.PLACEHOLDER_UNKNOWN, names="{nickname}、{plat}", known=known_list())


@pytest.mark.parametrize("text", ["{name}您好 {", "您好}", "{{name}}", "{name.__class__}", "{0}"])
def test_it_refuses_braces_that_are_not_a_placeholder(text: str) -> None:
    with pytest.raises(ValidationError):
        body_check(text)


def test_it_refuses_a_blank_or_overlong_text() -> None:
    for text in ("", "   "):
        with pytest.raises(ValidationError) as caught:
            body_check(text)
        assert caught.value.message_dict["body"] == [zh(errors.BODY_REQUIRED)]
    with pytest.raises(ValidationError):
        body_check("字" * 501)


def test_it_never_reaches_python_attributes() -> None:
    """Filling is plain substitution: format specs and attribute paths never run."""
    assert render("{name}", {"name": "{shop.__class__}"}) == "{shop.__class__}"


def test_sms_params_follow_the_text_and_name_what_is_missing() -> None:
    values = {"plate": "粤B12345", "name": "张三"}
    assert params_of("{name}，{plate}，{name}", values) == [["name", "张三"], ["plate", "粤B12345"]]
    assert missing_values("{name}{service}{due_date}", values) == ["service", "due_date"]
