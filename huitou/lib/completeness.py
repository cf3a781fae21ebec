"""Profile completeness (档案完整度): hard facts weigh 20%, soft profile 80%.

The source material values a customer's "software" (who they are, how they
live, how they want to be treated) at about 80% of the file and the
"hardware" (contact facts) at about 20%; the score mirrors that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HARD_FIELDS = (
    "name",
    "gender",
    "phone",
    "wechat",
    "email",
    "address",
    "birthday",
    "age_bracket",
    "vehicle",
)
SOFT_FIELDS = (
    "occupation",
    "family",
    "personality",
    "habits",
    "hobbies",
    "lifestyle",
    "values",
    "preferred_channel",
    "preferred_time",
    "consent",
)
HARD_WEIGHT = 20
SOFT_WEIGHT = 80


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return bool(value)


def completeness(facts: Mapping[str, Any]) -> int:
    """Score 0..100 from a mapping of the field names above to their values."""
    hard = sum(_filled(facts.get(f)) for f in HARD_FIELDS) / len(HARD_FIELDS)
    soft = sum(_filled(facts.get(f)) for f in SOFT_FIELDS) / len(SOFT_FIELDS)
    return round(HARD_WEIGHT * hard + SOFT_WEIGHT * soft)


def missing(facts: Mapping[str, Any]) -> list[str]:
    """Names of the fields still empty, soft profile first (they weigh more)."""
    return [f for f in SOFT_FIELDS + HARD_FIELDS if not _filled(facts.get(f))]
