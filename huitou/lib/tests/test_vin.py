"""VINs (ISO 3779 / GB 16735): alphabet, length and the check digit in position 9."""

from __future__ import annotations

import pytest

from huitou.lib.vin import VinFormatError, check_digit, check_digit_ok, normalize_vin


@pytest.mark.parametrize(
    ("vin", "digit"),
    [
        # The classic textbook example: the check digit is X (remainder 10).
        ("1M8GDM9AXKP042788", "X"),
        # A 2003 Honda Accord, the example used by Wikipedia's VIN article.
        ("1HGCM82633A004352", "3"),
        # The all-ones VIN is famously self-consistent.
        ("11111111111111111", "1"),
        # Worked by hand: L3*8 + S2*7 + V5*6 + N5*5 + V5*4 + 2*3 + 1*2 + 8*10 + E5*9 + 2*8 + 1*7 + 1*2
        # = 24+14+30+25+20+6+2+80+45+16+7+2 = 271; 271 mod 11 = 7.
        ("LSVNV2187E2100001", "7"),
    ],
)
def test_it_computes_the_check_digit_of_real_world_vins(vin: str, digit: str) -> None:
    assert check_digit(vin) == digit
    assert check_digit_ok(vin)


@pytest.mark.parametrize("vin", ["1M8GDM9A1KP042788", "1HGCM82643A004352", "LSVNV2182E2100001", "11111111X11111111"])
def test_it_detects_a_wrong_check_digit(vin: str) -> None:
    assert not check_digit_ok(normalize_vin(vin))


def test_a_changed_character_elsewhere_breaks_the_check_digit() -> None:
    assert not check_digit_ok("1M8GDM9AXKP042789")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1m8gdm9axkp042788", "1M8GDM9AXKP042788"),
        (" 1M8G DM9A XKP0 42788 ", "1M8GDM9AXKP042788"),
        ("１Ｍ８ＧＤＭ９ＡＸＫＰ０４２７８８", "1M8GDM9AXKP042788"),
    ],
)
def test_it_normalises_case_spaces_and_full_width(raw: str, expected: str) -> None:
    assert normalize_vin(raw) == expected


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", "", "1M8GDM9AXKP04278-"])
def test_it_refuses_a_vin_that_is_not_17_characters(vin: str) -> None:
    with pytest.raises(VinFormatError):
        normalize_vin(vin)


@pytest.mark.parametrize("letter", ["I", "O", "Q", "i", "o", "q"])
def test_it_refuses_a_vin_with_the_letters_i_o_q(letter: str) -> None:
    with pytest.raises(VinFormatError):
        normalize_vin("1M8GDM9AXKP04278" + letter)


def test_it_refuses_a_vin_with_chinese_characters() -> None:
    with pytest.raises(VinFormatError):
        normalize_vin("粤M8GDM9AXKP042788")
