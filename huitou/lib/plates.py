"""Chinese licence plates (机动车号牌): normalisation and validation.

Covers the ordinary blue/yellow plates (7 characters: province, issuing
authority letter, five serial characters), the 8-character new-energy plates
(small: D/F-type letter then five; large: five digits then the D/F-type
letter) and the common special suffixes (学 coach, 挂 trailer, 警 police,
港/澳 cross-border). Letters I and O never appear on a plate.
"""

from __future__ import annotations

import re
import unicodedata

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Z"
_ALNUM = "A-HJ-NP-Z0-9"
_NEV = "ABCDEFGHJK"  # new-energy type letters: D/A/B/C/E electric, F/G/H/J/K hybrid

_PATTERNS = [
    # 7 characters, ordinary
    re.compile(rf"^[{PROVINCES}][{_LETTER}][{_ALNUM}]{{5}}$"),
    # 7 characters with a special suffix
    re.compile(rf"^[{PROVINCES}][{_LETTER}][{_ALNUM}]{{4}}[学挂警港澳]$"),
    # 8 characters, small new-energy vehicle
    re.compile(rf"^[{PROVINCES}][{_LETTER}][{_NEV}][{_ALNUM}][0-9]{{4}}$"),
    # 8 characters, large new-energy vehicle
    re.compile(rf"^[{PROVINCES}][{_LETTER}][0-9]{{5}}[{_NEV}]$"),
]

_SEPARATORS = re.compile(r"[\s·•\-_.。・]+")


class PlateError(ValueError):
    pass


def normalize_plate_text(raw: str) -> str:
    """Upper-case, half-width, without spaces or separators (also for search)."""
    text = unicodedata.normalize("NFKC", raw or "")
    return _SEPARATORS.sub("", text).upper()


def normalize_plate(raw: str) -> str:
    """Return the canonical plate (e.g. ``粤B12345``) or raise PlateError."""
    plate = normalize_plate_text(raw)
    if not plate:
        raise PlateError("empty")
    if not any(p.match(plate) for p in _PATTERNS):
        raise PlateError(plate)
    return plate


def is_plate_like(text: str) -> bool:
    """True when a search query looks like (part of) a plate."""
    t = normalize_plate_text(text)
    return bool(t) and (t[0] in PROVINCES or any(c.isdigit() for c in t)) and t.isalnum()
