"""What the backup and restore commands print, in the language of the terminal.

Commands run outside a request, so no middleware picks a language: the
standard locale variables (LANGUAGE, LC_ALL, LC_MESSAGES, LANG) do, as for
any command-line tool; Chinese when they name no language we have.
"""

from __future__ import annotations

import os
import unicodedata

from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext as _

from huitou.backup.figures import Comparison


def command_language() -> str:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").split(":")[0].split(".")[0].strip().lower()
        if value.startswith("zh"):
            return "zh-hans"
        if value.startswith("en"):
            return "en"
        if value and value not in {"c", "posix"}:
            break
    return str(settings.LANGUAGE_CODE)


def figure_label(key: str) -> str:
    if key == "customers":
        return _("Customers")
    if key == "orders":
        return _("Service orders")
    if key == "order_totals":
        return _("Order totals")
    if key == "order_amount_paid":
        return _("Amounts paid")
    if key.startswith("balance:"):
        label, _dot, name = key.removeprefix("balance:").rpartition(".")
        try:
            meta = apps.get_model(label)._meta
            return _("Balance: %(model)s, %(field)s") % {
                "model": meta.verbose_name_plural,
                "field": meta.get_field(name).verbose_name,
            }
        except LookupError:
            return _("Balance: %(field)s") % {"field": f"{label}.{name}"}
    if key.startswith("sum:"):
        return _("Sum of %(column)s") % {"column": key.removeprefix("sum:")}
    return _("Rows in %(table)s") % {"table": key.removeprefix("rows:")}


def _width(text: str) -> int:
    """Columns a terminal gives ``text``: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _left(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def _right(text: str, width: int) -> str:
    return " " * max(width - _width(text), 0) + text


def comparison_lines(comparisons: list[Comparison]) -> list[str]:
    """The headline figures always, table row counts and money sums only where they differ, then a verdict."""
    shown = [c for c in comparisons if not c.key.startswith(("rows:", "sum:")) or not c.equal]
    width = max([_width(figure_label(c.key)) for c in shown] + [12])
    figure, recorded, restored = _("Figure"), _("In the backup"), _("Restored")
    lines = [f"{_left(figure, width)}  {_right(recorded, 16)}  {_right(restored, 16)}"]
    for c in shown:
        mark = "✓" if c.equal else "✗"
        found = "—" if c.found is None else str(c.found)
        lines.append(f"{_left(figure_label(c.key), width)}  {_right(str(c.recorded), 16)}  {_right(found, 16)}  {mark}")
    tables = [c for c in comparisons if c.key.startswith("rows:")]
    sums = [c for c in comparisons if c.key.startswith("sum:")]
    lines.append(
        _("Row counts equal in %(equal)s of %(tables)s tables; money column sums equal in %(sums_equal)s of %(sums)s.")
        % {
            "equal": sum(1 for c in tables if c.equal),
            "tables": len(tables),
            "sums_equal": sum(1 for c in sums if c.equal),
            "sums": len(sums),
        }
    )
    return lines
