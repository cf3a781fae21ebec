"""Chinese licence plates: what is accepted, how it is normalised, what is refused."""

from __future__ import annotations

import pytest

from huitou.lib.plates import PlateError, is_plate_like, normalize_plate, normalize_plate_text, plate_start


@pytest.mark.parametrize("plate", ["粤B12345", "京A8K2F9", "沪C0A1B2", "川Z99999", "新A00001"])
def test_it_accepts_an_ordinary_seven_character_plate(plate: str) -> None:
    assert normalize_plate(plate) == plate


@pytest.mark.parametrize("plate", ["粤AD12345", "沪AF01234", "京BDA1234", "浙AK51234"])
def test_it_accepts_an_eight_character_small_new_energy_plate(plate: str) -> None:
    assert normalize_plate(plate) == plate


@pytest.mark.parametrize("plate", ["粤B12345D", "沪A01234F", "苏E54321D"])
def test_it_accepts_an_eight_character_large_new_energy_plate(plate: str) -> None:
    assert normalize_plate(plate) == plate


@pytest.mark.parametrize("plate", ["粤A1234学", "粤A1234挂", "粤A0123警", "川AA001警", "京BF123挂"])
def test_it_accepts_a_plate_with_a_special_suffix(plate: str) -> None:
    assert normalize_plate(plate) == plate


@pytest.mark.parametrize("plate", ["沪A1234领", "粤A0023领", "川A0101领", "闽D0001领", "蒙H1234领"])
def test_it_accepts_a_consulate_plate(plate: str) -> None:
    assert normalize_plate(plate) == plate


@pytest.mark.parametrize(
    "plate",
    [
        "沪AB123领",  # the serial is four digits
        "沪A12345领",  # five digits
        "沪A123领",  # three digits
        "沪1234领",  # no authority letter
        "沪O1234领",  # no letter O
        "使A1234领",  # 使 is no province
        "领A1234",  # 领 stands last
        "沪A1234领挂",
    ],
)
def test_it_refuses_a_malformed_consulate_plate(plate: str) -> None:
    with pytest.raises(PlateError):
        normalize_plate(plate)


@pytest.mark.parametrize("plate", ["使224009", "使196013", "使001001"])
def test_it_accepts_an_embassy_plate(plate: str) -> None:
    assert normalize_plate(plate) == plate


@pytest.mark.parametrize(
    "plate",
    [
        "使22400",  # five digits
        "使2240091",  # seven digits
        "使A24009",  # digits only
        "使A12345",  # no authority letter after 使
        "粤224009",  # a province is no embassy
        "224009使",  # 使 stands first
    ],
)
def test_it_refuses_a_malformed_embassy_plate(plate: str) -> None:
    with pytest.raises(PlateError):
        normalize_plate(plate)


@pytest.mark.parametrize("plate", ["粤Z1234港", "粤Z1234澳", "粤ZF023港", "粤ZR057澳"])
def test_it_accepts_a_hong_kong_or_macau_cross_border_plate(plate: str) -> None:
    assert normalize_plate(plate) == plate


@pytest.mark.parametrize(
    "plate",
    [
        "粤B1234港",  # cross-border plates are 粤Z
        "京Z1234港",  # issued in Guangdong only
        "粤ZAB12澳",  # a letter or digit, then three digits
        "粤ZO123港",  # no letter O
        "粤Z12345港",  # five characters
        "粤Z123港",  # three characters
        "粤Z1234台",
    ],
)
def test_it_refuses_a_malformed_cross_border_plate(plate: str) -> None:
    with pytest.raises(PlateError):
        normalize_plate(plate)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("沪a·1234领", "沪A1234领"),
        ("沪Ａ １２３４ 领", "沪A1234领"),
        ("使224·009", "使224009"),
        ("使 224-009", "使224009"),
        ("粤z·f023港", "粤ZF023港"),
    ],
)
def test_it_normalises_mission_and_cross_border_plates(raw: str, expected: str) -> None:
    assert normalize_plate(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("粤b12345", "粤B12345"),
        ("粤b 123 45", "粤B12345"),
        (" 粤B12345 ", "粤B12345"),
        ("京A·12345", "京A12345"),
        ("京a·d12345", "京AD12345"),
        ("粤B.12345", "粤B12345"),
        ("粤B-12345", "粤B12345"),
        ("粤b12345d", "粤B12345D"),
    ],
)
def test_it_normalises_lower_case_spaces_and_dots(raw: str, expected: str) -> None:
    assert normalize_plate(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("粤Ｂ１２３４５", "粤B12345"), ("京ＡＤ１２３４５", "京AD12345"), ("粤ｂ　１２３４５", "粤B12345")],
)
def test_it_normalises_full_width_characters(raw: str, expected: str) -> None:
    assert normalize_plate(raw) == expected


@pytest.mark.parametrize("plate", ["粤B12O45", "粤BO1234", "粤b12o45", "粤O12345", "粤ＢＯ1234"])
def test_it_refuses_a_plate_with_the_letter_o(plate: str) -> None:
    with pytest.raises(PlateError):
        normalize_plate(plate)


@pytest.mark.parametrize("plate", ["粤B1I345", "粤I12345", "粤b1i345"])
def test_it_refuses_a_plate_with_the_letter_i(plate: str) -> None:
    with pytest.raises(PlateError):
        normalize_plate(plate)


@pytest.mark.parametrize("plate", ["哈B12345", "港B12345", "AB12345", "BB12345", "1B12345"])
def test_it_refuses_a_plate_with_an_unknown_province(plate: str) -> None:
    with pytest.raises(PlateError):
        normalize_plate(plate)


@pytest.mark.parametrize(
    "plate",
    [
        "",
        "   ",
        "粤B1234",  # too short
        "粤B123456789",  # too long
        "粤112345",  # authority must be a letter
        "粤B1234D5",  # new-energy letter in the wrong place
        "粤BZ12345",  # Z is no new-energy type letter
        "粤BD1234A",  # small new-energy: the last four are digits
        "粤A12345学",  # special suffix on an 8-character plate
        "粤A123学4",  # suffix not at the end
        "粤B1234!",
    ],
)
def test_it_refuses_a_malformed_plate(plate: str) -> None:
    with pytest.raises(PlateError):
        normalize_plate(plate)


def test_search_text_is_normalised_like_a_plate_without_validation() -> None:
    assert normalize_plate_text("粤ｂ ·12") == "粤B12"


@pytest.mark.parametrize(("text", "expected"), [("粤B", True), ("b123", True), ("2345", True), ("zhang", False)])
def test_it_tells_whether_a_query_looks_like_a_plate(text: str, expected: bool) -> None:
    assert is_plate_like(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("粤b 1", "粤B1"),
        ("粤B", "粤B"),
        ("沪a1234领", "沪A1234领"),
        ("粤Z1234港", "粤Z1234港"),
        ("粤A1234学", "粤A1234学"),
        ("使224", "使224"),
        ("使 224·009", "使224009"),
        ("粤", ""),  # the province alone starts every plate of a province
        ("张三", ""),
        ("B123", ""),  # no province: a part of a plate, not its start
        ("粤B领1", ""),  # 领 only ends a plate
        ("哈B1", ""),
    ],
)
def test_it_tells_the_start_of_a_plate(text: str, expected: str) -> None:
    assert plate_start(text) == expected
