"""Conditions an index serves whether or not the planner knows the value.

The hot reads run as prepared statements with a generic plan on PostgreSQL
(``huitou.lib.postgresql``): the plan is made once, before any value is
known. Two of Django's own conditions cannot be served from an index then:

* ``LIKE 'prefix%'`` is turned into an index range only when the pattern is
  in the statement's text; ``PrefixRange`` writes that range itself (the
  ``text_pattern_ops`` operators on PostgreSQL, the byte order SQLite's
  default collation compares in), so a bound value still walks the index.
* ``NOT (phone = %s)`` with an empty string bound cannot prove a partial
  index's ``NOT (phone = '')``: ``NotEmpty`` writes the empty string into
  the text, as the index's condition does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import BooleanField, Expression, F, Q

# Characters whose successor is no character a database stores (a surrogate, or past the last one).
_NO_SUCCESSOR = frozenset("\ud7ff\U0010ffff")


def has_successor(text: str) -> bool:
    """Whether ``text``'s last character has a successor any text can hold (``PrefixRange``'s end)."""
    return bool(text) and text[-1] not in _NO_SUCCESSOR and not any("\ud800" <= c <= "\udfff" for c in text)


def successor(text: str) -> str:
    """``text`` with its last character's successor: the end of the range of strings starting with ``text``."""
    return text[:-1] + chr(ord(text[-1]) + 1)


class _FieldCondition(Expression):
    """A condition on one field (a column or an alias), compiled where the query puts that field."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, field: str) -> None:
        super().__init__()
        self.column: Any = F(field)

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs


class NotEmpty(_FieldCondition):
    """``NOT (field = '')``, the empty string in the text as a partial index's condition has it."""

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.column)
        return f"NOT ({sql} = '')", tuple(params)


class PrefixRange(_FieldCondition):
    """``field`` starts with ``prefix``, as the index range from ``prefix`` to its ``successor``.

    PostgreSQL compares with the ``text_pattern_ops`` operators (byte by byte,
    the search indexes' operator class); SQLite's default collation compares
    bytes. Both hold text as UTF-8 (a PostgreSQL database for Huitou must be
    ``UTF8``, README), where byte order is code point order, the order
    ``successor`` counts in. ``prefix`` must have a successor
    (``has_successor``).
    """

    def __init__(self, field: str, prefix: str) -> None:
        if not has_successor(prefix):
            raise ValueError(f"no range holds the strings starting with {prefix!r}")
        super().__init__(field)
        self.prefix = prefix

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.column)
        low, high = ("~>=~", "~<~") if connection.vendor == "postgresql" else (">=", "<")
        return f"({sql} {low} %s AND {sql} {high} %s)", (*params, self.prefix, *params, successor(self.prefix))


def starts_with(field: str, prefix: str) -> Q:
    """``field`` starts with ``prefix`` (not empty), as an index range (``PrefixRange``); a prefix
    without a successor, which no one types, as Django's ``startswith``."""
    if has_successor(prefix):
        return Q(PrefixRange(field, prefix))
    return Q(**{f"{field}__startswith": prefix})
