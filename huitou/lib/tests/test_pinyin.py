"""Pinyin search keys: full pinyin and initials, with surname readings."""

from __future__ import annotations

import pytest

from huitou.lib.pinyin import pinyin_keys


def test_it_gives_full_pinyin_and_initials() -> None:
    assert pinyin_keys("张三") == ("zhangsan", "zs")


def test_it_reads_the_compound_surname_ouyang() -> None:
    assert pinyin_keys("欧阳娜娜") == ("ouyangnana", "oynn")


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("曾小贤", ("zengxiaoxian", "zxx")),  # not "ceng"
        ("单田芳", ("shantianfang", "stf")),  # not "dan"
        ("解小东", ("xiexiaodong", "xxd")),  # not "jie"
        ("仇小红", ("qiuxiaohong", "qxh")),  # not "chou"
    ],
)
def test_it_reads_a_polyphonic_character_as_a_surname(name: str, keys: tuple[str, str]) -> None:
    assert pinyin_keys(name) == keys


def test_it_reads_zeng_only_in_the_surname_position() -> None:
    full, _initials = pinyin_keys("王曾")
    assert full.startswith("wang")


def test_it_ignores_spaces_and_separators() -> None:
    assert pinyin_keys(" 王 小 明 ") == ("wangxiaoming", "wxm")
    assert pinyin_keys("李·娜") == ("lina", "ln")


def test_it_lower_cases_latin_letters() -> None:
    assert pinyin_keys("Tom")[0] == "tom"


def test_an_empty_name_has_empty_keys() -> None:
    assert pinyin_keys("") == ("", "")
    assert pinyin_keys("   ") == ("", "")
