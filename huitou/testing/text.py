"""Messages as the Chinese console shows them, for tests that compare wording."""

from __future__ import annotations

from django.utils import translation
from django.utils.functional import Promise


def zh(message: str | Promise, **params: object) -> str:
    """``message`` in Chinese (the default), whatever the catalogue holds today, ``%``-filled with ``params``.

    A plain string is looked up in the catalogue; a lazy message (``gettext_lazy``,
    a choice's label) is rendered. Without ``params`` no ``%`` substitution is done.
    HTML-escape the result where the page escapes it.
    """
    with translation.override("zh-hans"):
        text = translation.gettext(message) if isinstance(message, str) else str(message)
        return text % params if params else text
