"""Typed readers for settings from the environment fail loudly."""

from __future__ import annotations

import pytest

from huitou.lib.env import ConfigError, env_bool, env_int, env_list, env_str


def test_it_reads_booleans(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUITOU_X", "yes")
    assert env_bool("HUITOU_X") is True
    monkeypatch.setenv("HUITOU_X", "0")
    assert env_bool("HUITOU_X", default=True) is False
    monkeypatch.delenv("HUITOU_X")
    assert env_bool("HUITOU_X", default=True) is True


def test_it_refuses_a_boolean_it_cannot_understand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUITOU_X", "maybe")
    with pytest.raises(ConfigError):
        env_bool("HUITOU_X")


def test_it_refuses_an_integer_it_cannot_understand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUITOU_X", "ten")
    with pytest.raises(ConfigError):
        env_int("HUITOU_X", 1)


def test_it_reads_integers_lists_and_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUITOU_X", "42")
    assert env_int("HUITOU_X", 1) == 42
    monkeypatch.setenv("HUITOU_X", " a, b ,,c ")
    assert env_list("HUITOU_X", []) == ["a", "b", "c"]
    monkeypatch.delenv("HUITOU_X")
    assert env_list("HUITOU_X", ["d"]) == ["d"]
    assert env_str("HUITOU_X", "e") == "e"
