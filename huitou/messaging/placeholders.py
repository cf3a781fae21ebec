"""Placeholders in message texts: ``{name}`` and friends, checked and filled.

Plain text substitution (never ``str.format``: a template is typed by staff and
must not reach attributes of Python objects). A brace is always part of a
placeholder; ``{{`` and ``}}`` are not supported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError

from huitou.messaging import errors
from huitou.messaging.models import PLACEHOLDERS

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_BODY = 500


def placeholders_in(body: str) -> list[str]:
    """The placeholders a text uses, in the order each first appears."""
    return list(dict.fromkeys(PLACEHOLDER.findall(body)))


def body_check(body: str, *, field: str = "body") -> str:
    """The text trimmed, or a ValidationError naming unknown placeholders or stray braces."""
    text = (body or "").strip()
    if not text:
        raise ValidationError({field: [errors.BODY_REQUIRED]})
    if len(text) > MAX_BODY:
        raise ValidationError({field: [errors.BODY_TOO_LONG % {"max": MAX_BODY}]})
    unknown = [n for n in placeholders_in(text) if n not in PLACEHOLDERS]
    if unknown:
        raise ValidationError(
            {
                field: [
                    errors.PLACEHOLDER_UNKNOWN
                    % {"names": "、".join(f"{{{n}}}" for n in unknown), "known": known_list()}
                ]
            }
        )
    if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
        raise ValidationError({field: [errors.BRACES_UNPAIRED]})
    return text


def known_list(names: Iterable[str] | None = None) -> str:
    return " ".join(f"{{{n}}}" for n in (names if names is not None else PLACEHOLDERS))


def missing_values(body: str, values: Mapping[str, str]) -> list[str]:
    """Placeholders of ``body`` without a non-blank value."""
    return [n for n in placeholders_in(body) if not str(values.get(n) or "").strip()]


def render(body: str, values: Mapping[str, str], *, blank: str = "") -> str:
    """``body`` with each placeholder replaced by its value (``blank`` where it has none)."""
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1)) or blank), body)


def params_of(body: str, values: Mapping[str, str]) -> list[list[str]]:
    """The values an SMS template takes, in the order the text first uses them: ``[[name, value], ...]``."""
    return [[n, str(values.get(n) or "")] for n in placeholders_in(body)]
