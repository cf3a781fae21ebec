"""File completeness: hard facts weigh 20%, the soft profile 80%."""

from __future__ import annotations

from huitou.lib.completeness import HARD_FIELDS, SOFT_FIELDS, completeness, missing

ALL_HARD = {f: "x" for f in HARD_FIELDS}
ALL_SOFT = {f: "x" for f in SOFT_FIELDS}


def test_all_hard_facts_and_nothing_soft_scores_20() -> None:
    assert completeness(ALL_HARD) == 20


def test_all_soft_facts_and_nothing_hard_scores_80() -> None:
    assert completeness(ALL_SOFT) == 80


def test_everything_scores_100_and_nothing_scores_0() -> None:
    assert completeness({**ALL_HARD, **ALL_SOFT}) == 100
    assert completeness({}) == 0


def test_half_of_the_soft_profile_scores_40() -> None:
    half = dict(list(ALL_SOFT.items())[: len(SOFT_FIELDS) // 2])
    assert completeness(half) == 40


def test_one_soft_field_weighs_more_than_one_hard_field() -> None:
    assert completeness({SOFT_FIELDS[0]: "x"}) > completeness({HARD_FIELDS[0]: "x"})


def test_blank_false_and_none_values_do_not_count() -> None:
    assert completeness({"name": "   ", "vehicle": False, "email": None, "occupation": ""}) == 0


def test_missing_lists_soft_fields_first() -> None:
    gaps = missing({"name": "张三", "occupation": "教师"})
    assert "name" not in gaps and "occupation" not in gaps
    assert gaps.index(SOFT_FIELDS[1]) < gaps.index(HARD_FIELDS[1])
