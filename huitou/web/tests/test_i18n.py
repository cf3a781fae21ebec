"""Translations: pages speak Chinese by default (the catalog itself: test_checkmessages.py)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation

from huitou.customers import errors

CJK = re.compile(r"[\u4e00-\u9fff]")


# -- the pages ------------------------------------------------------------


@pytest.mark.django_db
def test_pages_are_in_chinese_by_default() -> None:
    r = Client().get("/login/")

    html = r.content.decode()
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in html
    assert "登录" in html
    assert "回头客" in html
    assert "Sign in" not in html


@pytest.mark.django_db
def test_the_language_switch_turns_pages_english() -> None:
    client = Client()
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert r.status_code == 302

    html = client.get("/login/").content.decode()

    assert '<html lang="en">' in html
    assert "Sign in" in html
    assert "登录" not in html

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    assert "登录" in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_a_browser_asking_for_english_gets_english() -> None:
    html = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()

    assert "Sign in" in html
    assert "登录" not in html


def test_every_customer_error_message_reads_in_chinese() -> None:
    messages = {name: value for name, value in vars(errors).items() if name.isupper()}
    assert messages

    for name, message in messages.items():
        with translation.override("en"):
            english = str(message)
        with translation.override("zh-hans"):
            chinese = str(message)
        assert chinese != english, name
        assert CJK.search(chinese), f"{name}: {chinese!r}"
