"""Phone numbers: parsed with phonenumbers (region CN), stored in E.164, shown masked."""

from __future__ import annotations

import pytest

from huitou.lib.phones import PhoneError, last4, mask_phone, national_digits, normalize_phone


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        " 13812345678 ",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "008613812345678",
    ],
)
def test_it_normalises_a_mobile_number_to_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+8613812345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("010-12345678", "+861012345678"),
        ("01012345678", "+861012345678"),
        ("+86 10 1234 5678", "+861012345678"),
        ("020 1234 5678", "+862012345678"),
        ("0755-88888888", "+8675588888888"),
    ],
)
def test_it_normalises_a_landline_with_its_area_code(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", "12345", "1381234567", "138123456789", "abc", "0001234567", "138-1234-567x"]
)
def test_it_refuses_an_invalid_number(raw: str) -> None:
    with pytest.raises(PhoneError):
        normalize_phone(raw)


def test_it_masks_a_mobile_number_keeping_the_first_three_and_last_four_digits() -> None:
    assert mask_phone("+8613812341234") == "138****1234"


def test_it_masks_a_landline_keeping_its_area_code_prefix_and_last_four_digits() -> None:
    assert mask_phone("+861012345678") == "010****5678"


def test_it_gives_the_last_four_digits() -> None:
    assert last4("+8613812341234") == "1234"
    assert last4("+861012345678") == "5678"
    assert last4("") == ""


def test_it_writes_the_number_as_a_chinese_user_does() -> None:
    assert national_digits("+8613812345678") == "13812345678"
    assert national_digits("+861012345678") == "01012345678"
    assert national_digits("") == ""


def test_the_displayed_landline_parses_back_to_the_same_number() -> None:
    assert normalize_phone(national_digits("+8675588888888")) == "+8675588888888"


def test_a_mobile_is_written_as_phonenumbers_would_without_parsing_it() -> None:
    import phonenumbers

    def by_phonenumbers(e164: str) -> str:
        national = phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)
        return "".join(ch for ch in national if ch.isdigit())

    for prefix in ("130", "138", "145", "166", "175", "188", "191", "199"):
        e164 = normalize_phone(f"{prefix}12345678")
        assert national_digits(e164) == by_phonenumbers(e164) == f"{prefix}12345678"
    # Landlines (Beijing's 010 too, which also starts +861) still take their trunk 0 from phonenumbers.
    for e164 in ("+861012345678", "+862161234567", "+8675588888888"):
        assert national_digits(e164) == by_phonenumbers(e164)
        assert national_digits(e164).startswith("0")
