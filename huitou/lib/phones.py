"""Phone numbers, parsed and normalised with ``phonenumbers`` (region CN)."""

from __future__ import annotations

import phonenumbers

# "+86" and the 11 digits of a mainland mobile (1xx xxxx xxxx).
MOBILE_E164_LENGTH = 14


class PhoneError(ValueError):
    pass


def normalize_phone(raw: str, region: str = "CN") -> str:
    """Return the number in E.164 (``+8613812345678``) or raise PhoneError."""
    text = (raw or "").strip()
    if not text:
        raise PhoneError("empty")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(text) from exc
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """The number as a Chinese user writes it: ``13812345678`` for +86 mobiles,
    ``01012345678`` for landlines (with the trunk 0 of the area code)."""
    if not e164:
        return ""
    if len(e164) == MOBILE_E164_LENGTH and e164.startswith("+861") and e164[1:].isdigit():
        return e164[3:]  # a mobile is written as its 11 digits: no parse (0.15 ms each, 20 on every list page)
    if e164.startswith("+86"):
        try:
            number = phonenumbers.parse(e164)
        except phonenumbers.NumberParseException:
            return e164[3:]
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return "".join(ch for ch in national if ch.isdigit())
    return e164


def last4(e164: str) -> str:
    return national_digits(e164)[-4:] if e164 else ""


def mask_phone(e164: str) -> str:
    """``138****5678``: first three and last four digits visible."""
    digits = national_digits(e164)
    if len(digits) <= 7:
        return "*" * max(len(digits) - 4, 0) + digits[-4:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
