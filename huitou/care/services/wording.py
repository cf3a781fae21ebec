"""How care tasks put days and scripts into words."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django.utils import dateformat
from django.utils.translation import get_language, gettext_lazy

DAY_FORMAT = gettext_lazy("M j")  # "12月9日" in Chinese (the catalog's msgstr is "n月j日")


def day_words(day: dt.date) -> str:
    # A sweep words the same few hundred days over and over (twice a task): each is formatted once per language.
    return _day_words(day, get_language())


@lru_cache(maxsize=4096)
def _day_words(day: dt.date, language: str | None) -> str:
    return dateformat.format(day, str(DAY_FORMAT))


class _Filling(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(script: str, **values: Any) -> str:
    """The script with its placeholders ({name}, {plate}, ...) filled; unknown ones stay as written."""
    return script.format_map(_Filling(values))
