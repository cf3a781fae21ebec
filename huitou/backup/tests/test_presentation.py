"""What the commands print: the terminal's language, and the comparison table."""

from __future__ import annotations

import pytest
from django.utils import translation

from huitou.backup.figures import Comparison
from huitou.backup.presentation import _width, command_language, comparison_lines


@pytest.mark.parametrize(
    ("env", "language"),
    [
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh-hans"),
        ({"LANG": "C.UTF-8"}, "zh-hans"),  # names no language: the site's
        ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_TW.UTF-8"}, "zh-hans"),
        ({"LANGUAGE": "en:zh", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "zh-hans"),
    ],
)
def test_the_language_follows_the_terminal(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], language: str) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert command_language() == language


def test_the_table_shows_headlines_always_and_other_figures_only_when_they_differ() -> None:
    comparisons = [
        Comparison("customers", 8, 8),
        Comparison("order_totals", "12000.00", "11990.00"),
        Comparison("rows:customers_vehicle", 10, 10),
        Comparison("rows:service_payment", 39, 38),
        Comparison("sum:service_payment.amount", "11370.00", "11370.00"),
    ]
    with translation.override("en"):
        lines = comparison_lines(comparisons)
    assert lines[0].split() == ["Figure", "In", "the", "backup", "Restored"]
    assert lines[1].split() == ["Customers", "8", "8", "✓"]
    assert lines[2].split() == ["Order", "totals", "12000.00", "11990.00", "✗"]
    assert lines[3].split() == ["Rows", "in", "service_payment", "39", "38", "✗"]
    assert lines[4] == "Row counts equal in 1 of 2 tables; money column sums equal in 1 of 1."
    with translation.override("zh-hans"):
        chinese = comparison_lines(comparisons)
    assert chinese[1].split() == ["客户", "8", "8", "✓"]
    # Chinese labels take two columns each: the numbers still end in the same column.
    ends = [
        _width(line[: line.index(value) + len(value)]) for line, value in ((chinese[1], "8"), (chinese[2], "12000.00"))
    ]
    assert ends[0] == ends[1]
