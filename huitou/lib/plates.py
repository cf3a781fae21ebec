"""Chinese licence plates (机动车号牌): normalisation and validation.

Covers the ordinary blue/yellow plates (7 characters: province, issuing
authority letter, five serial characters), the 8-character new-energy plates
(small: D/F-type letter then five; large: five digits then the D/F-type
letter), the common special suffixes (学 coach, 挂 trailer, 警 police) and the
plates of foreign missions and cross-border cars:

- consulate (领馆汽车号牌): province, authority letter, four digits, 领
  (沪A1234领);
- embassy (使馆汽车号牌): 使, the mission's three-digit number and a
  three-digit serial (使224009; printed 使224·009);
- Hong Kong and Macau cross-border (港澳入出境车号牌): issued in Guangdong
  under 粤Z, a letter or digit and three digits, then 港 or 澳 (粤ZF023港).

Letters I and O never appear on a plate.
"""

from __future__ import annotations

import re
import unicodedata

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
EMBASSY = "使"
# What a plate can start with: a province, or 使 for an embassy's car.
PLATE_STARTS = PROVINCES + EMBASSY
# What a plate can end with after its Latin letters and digits.
SUFFIXES = "学挂警港澳领"
_LETTER = "A-HJ-NP-Z"
_ALNUM = "A-HJ-NP-Z0-9"
_NEV = "ABCDEFGHJK"  # new-energy type letters: D/A/B/C/E electric, F/G/H/J/K hybrid

_PATTERNS = [
    # 7 characters, ordinary
    re.compile(rf"^[{PROVINCES}][{_LETTER}][{_ALNUM}]{{5}}$"),
    # 7 characters with a special suffix
    re.compile(rf"^[{PROVINCES}][{_LETTER}][{_ALNUM}]{{4}}[学挂警]$"),
    # 8 characters, small new-energy vehicle
    re.compile(rf"^[{PROVINCES}][{_LETTER}][{_NEV}][{_ALNUM}][0-9]{{4}}$"),
    # 8 characters, large new-energy vehicle
    re.compile(rf"^[{PROVINCES}][{_LETTER}][0-9]{{5}}[{_NEV}]$"),
    # consulate
    re.compile(rf"^[{PROVINCES}][{_LETTER}][0-9]{{4}}领$"),
    # embassy
    re.compile(rf"^{EMBASSY}[0-9]{{6}}$"),
    # Hong Kong and Macau cross-border
    re.compile(rf"^粤Z[{_ALNUM}][0-9]{{3}}[港澳]$"),
]

_SEPARATORS = re.compile(r"[\s·•\-_.。・]+")
_PLATE_START = re.compile(rf"^[{PLATE_STARTS}][A-Z0-9]+[{SUFFIXES}]?$")


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


def plate_start(text: str) -> str:
    """The normalised text when it can be the beginning of a plate from its
    first character (粤B1, 沪A1234领, 使224), else ``""``."""
    plate = normalize_plate_text(text)
    return plate if _PLATE_START.match(plate) else ""


def is_plate_like(text: str) -> bool:
    """True when a search query looks like (part of) a plate."""
    t = normalize_plate_text(text)
    return bool(t) and (t[0] in PLATE_STARTS or any(c.isdigit() for c in t)) and t.isalnum()
