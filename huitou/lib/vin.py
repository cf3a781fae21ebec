"""Vehicle identification numbers (ISO 3779 / GB 16735).

17 characters from the VIN alphabet (digits and capital letters except I, O
and Q). Position 9 is a check digit computed from the other sixteen;
GB 16735 requires it on Chinese-market vehicles, but some imported European
vehicles carry none, so a failed check is reported separately and may be
confirmed by the user.
"""

from __future__ import annotations

import re
import unicodedata

_VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


class VinFormatError(ValueError):
    pass


def normalize_vin_text(raw: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw or "")).upper()


def check_digit(vin: str) -> str:
    total = sum(_VALUES[ch] * w for ch, w in zip(vin, _WEIGHTS, strict=True))
    rest = total % 11
    return "X" if rest == 10 else str(rest)


def normalize_vin(raw: str) -> str:
    """Return the upper-case VIN or raise VinFormatError (length/alphabet)."""
    vin = normalize_vin_text(raw)
    if not _VIN_RE.match(vin):
        raise VinFormatError(vin)
    return vin


def check_digit_ok(vin: str) -> bool:
    return vin[8] == check_digit(vin)
