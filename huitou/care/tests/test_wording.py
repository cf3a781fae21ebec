"""Days in words: the sweep's cached formatting follows the active language."""

from __future__ import annotations

import datetime as dt

from django.utils import translation

from huitou.care.services.wording import day_words


def test_day_words_follow_the_language_after_being_cached() -> None:
    day = dt.date(2026, 12, 9)
    with translation.override("zh-hans"):
        assert day_words(day) == "12月9日"
        assert day_words(day) == "12月9日"
    with translation.override("en"):
        assert day_words(day) == "Dec 9"
    with translation.override("zh-hans"):
        assert day_words(day + dt.timedelta(days=1)) == "12月10日"
