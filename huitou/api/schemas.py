"""Schemas of the customer and vehicle API, and the text types every schema uses.

The schema states the rules the services apply (the services stay their only
home: a value outside them is refused by the service, with its own message on
the field). A text the service trims is bounded by a pattern on its trimmed
length, since ``maxLength`` would refuse surrounding spaces the service accepts.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema

from huitou.api.base import Schema
from huitou.api.service_schemas import IdIn, MomentIn
from huitou.customers.models import AgeBracket, BirthdayCalendar, Channel, ConsentRecord, Gender
from huitou.lib import plates, vin

# The highest odometer reading the mileage service takes, km.
MAX_KM = 5_000_000
# The highest page number a list takes: a larger one would overflow the database's
# OFFSET (a 500 on PostgreSQL), and no list is that long.
MAX_PAGE = 1_000_000


def trimmed(max_length: int | None = None, *, required: bool = False, **extra: Any) -> WithJsonSchema:
    """The schema of a text the service strips of surrounding spaces, then wants non-blank
    (``required``) and at most ``max_length`` characters long: the pattern bounds what is left
    after trimming. Use as ``Annotated[str, trimmed(50)]``."""
    if required:
        middle = r"\S" if max_length is None else rf"\S[\s\S]{{0,{max_length - 1}}}"
    else:
        middle = r"[\s\S]*" if max_length is None else rf"[\s\S]{{0,{max_length}}}"
    pattern = r"\S" if required and max_length is None else rf"^\s*{middle}\s*$"
    return WithJsonSchema({"type": "string", "pattern": pattern, **extra})


def choice(values: Any, *, blank: bool = False) -> WithJsonSchema:
    """The schema of one of a model's choices (``blank``: also the empty string, which means the
    default). Use as ``Annotated[str, choice(Gender.values)]``."""
    found = [str(v) for v in values]
    return WithJsonSchema({"type": "string", "enum": [*found, *([""] if blank and "" not in found else [])]})


def _loose(ascii_class: str) -> str:
    """A class of capital letters and digits as typed: lower case and full-width (NFKC) forms too."""
    wide = "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in ascii_class)
    return f"[{ascii_class}{ascii_class.lower()}{wide}{wide.lower()}]"


def _as_typed(rule: re.Pattern[str]) -> str:
    """One of lib/plates.py's rules (``^`` classes, literals and ``{n}`` ``$``) as a plate may be typed:
    each character in any case or width, with the separators the normaliser drops after it."""
    atoms: list[str] = []
    for cls, literal, count in re.findall(r"\[([^\]]+)\]|([^\[\]{}^$])|\{(\d+)\}", rule.pattern):
        if count:
            atoms.extend([atoms[-1]] * (int(count) - 1))
        else:
            atoms.append(_loose(cls or literal) if (cls or literal.isascii()) else literal)
    return "".join(f"{atom}{_SEP}" for atom in atoms)


_SEP = r"[\s·•\-_.。・]*"
# Every plate lib/plates.py accepts, as typed: lower case, full-width letters and digits, and spaces,
# dots, dashes and middle dots anywhere (the normaliser drops them), derived from its rules.
PLATE_PATTERN = f"^{_SEP}(?:{'|'.join(_as_typed(rule) for rule in plates._PATTERNS)})$"
PlateText = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": PLATE_PATTERN,
            "examples": ["粤B12345", "粤B D12345", "沪A1234领", "使224·009"],
            "description": "A Chinese licence plate; upper case, half-width and without separators once saved. "
            "Other Unicode compatibility forms (NFKC) of these letters and digits are accepted too.",
        }
    ),
]
# Blank clears the VIN; else 17 characters of the VIN alphabet (no I, O, Q), spaces and case ignored.
_VIN_CHAR = _loose("A-HJ-NPR-Z0-9")
VinText = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": rf"^\s*(?:(?:{_VIN_CHAR}\s*){{17}})?$",
            "examples": ["LSVAU2180N2183294"],
            "description": "17 characters, no I, O or Q; blank clears it. A check digit (9th character) that "
            "does not match is refused unless vin_confirmed is true. " + str(vin.__doc__ or "").split("\n")[0],
        }
    ),
]
# A phone number is checked by libphonenumber (region CN): no regular expression says exactly what it takes,
# so the schema bounds its length (libphonenumber reads at most 250 characters).
PhoneText = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*[\s\S]{0,250}\s*$",
            "examples": ["13600001234", "+86 136 0000 1234", "010-12345678"],
        }
    ),
]
NameText = Annotated[str, trimmed(50, required=True)]
WechatText = Annotated[str, trimmed(64)]
EmailText = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^\s*[\s\S]{0,254}\s*$", "examples": ["wang@example.com"]})
]
TagText = Annotated[str, trimmed(30)]


class OwnerOut(Schema):
    id: int
    username: str
    name: str


class RfmOut(Schema):
    r: int = Field(description="Recency score 1-5 within the organization (5: most recent)")
    f: int = Field(description="Frequency score 1-5 (5: most paid orders in the window)")
    m: int = Field(description="Monetary score 1-5 (5: most money received in the window)")
    segment: str = Field(description="RFM segment code, e.g. important_value (重要价值)")


class ChurnRiskOut(Schema):
    level: Literal["low", "medium", "high"]
    reason: str = Field(description="In words, e.g. 平均 62 天来一次，已 150 天未到店")
    interval_days: int = Field(description="The customer's rhythm: mean days between paid visits (or the shop's)")
    gap_days: int = Field(description="Days since the last paid visit")


class CustomerOut(Schema):
    id: int
    name: str
    gender: str
    phone: str = Field(description="Full number, or masked (138****1234) for roles that may not see it")
    wechat: str
    email: str
    address: str
    birth_year: int | None
    birth_month: int | None
    birth_day: int | None
    birthday_calendar: str
    age_bracket: str
    source: str | None = Field(description="Source code, e.g. walk_in")
    stage: str = Field(description="Changed by POST /customers/{id}/stage or by follow-ups and orders")
    need: str = Field(description="What the prospect came for")
    referrer_id: int | None = Field(description="The customer who referred them")
    intent_grade: str = Field(description="Latest intent grade of a follow-up: H, A, B, C or empty")
    converted_at: dt.datetime | None = Field(description="First paid order")
    owner: OwnerOut
    tags: list[str]
    consents: dict[str, bool]
    preferred_channel: str
    preferred_time: str
    occupation: str
    family: str
    personality: str
    habits: str
    hobbies: str
    lifestyle: str
    values: str
    notes: str
    completeness: int
    household_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    rfm: RfmOut | None = Field(description="Null without a paid order in the RFM window (worked out nightly)")
    grade: Literal["A", "B", "C"] | None = Field(
        description="A/B/C by the grade rules, or set by hand; null if never graded"
    )
    churn_risk: ChurnRiskOut | None = Field(description="Null without a paid visit")


class CustomerPage(Schema):
    items: list[CustomerOut]
    count: int
    page: int
    page_size: int


class CustomerPatch(Schema):
    name: NameText | None = Field(default=None, description="Not blank; null is refused")
    gender: Annotated[str, choice(Gender.values, blank=True)] | None = None
    phone: PhoneText | None = Field(
        default=None, description="A mobile or landline number (checked with libphonenumber); blank clears it"
    )
    wechat: WechatText | None = None
    email: EmailText | None = Field(default=None, description="An email address, or blank")
    address: Annotated[str, trimmed(200)] | None = None
    birth_year: int | None = Field(default=None, json_schema_extra={"minimum": 1900}, description="1900 to this year")
    birth_month: int | None = Field(
        default=None, json_schema_extra={"minimum": 0, "maximum": 12}, description="With birth_day, or neither"
    )
    birth_day: int | None = Field(
        default=None,
        json_schema_extra={"minimum": 0, "maximum": 31},
        description="A day of birth_month in birthday_calendar (lunar months have 30 days at most)",
    )
    birthday_calendar: Annotated[str, choice(BirthdayCalendar.values, blank=True)] | None = None
    age_bracket: Annotated[str, choice(AgeBracket.values, blank=True)] | None = None
    source: str | None = Field(default=None, description="Source code, e.g. walk_in; blank for none")
    stage: str | None = Field(
        default=None,
        json_schema_extra={"not": {}},
        description="Refused here: change it with POST /customers/{customer_id}/stage",
    )
    owner: IdIn | None = Field(default=None, description="Staff id of the owner")
    tags: list[TagText] | None = Field(default=None, description="Tag names, 30 characters at most")
    need: Annotated[str, trimmed(200)] | None = Field(
        default=None, description="What the prospect came for: service, budget, timing"
    )
    referrer_id: IdIn | None = Field(default=None, description="The customer who referred them")
    preferred_channel: Annotated[str, choice(Channel.values, blank=True)] | None = None
    preferred_time: Annotated[str, trimmed(50)] | None = None
    occupation: Annotated[str, trimmed(100)] | None = None
    family: Annotated[str, trimmed(200)] | None = None
    personality: Annotated[str, trimmed(200)] | None = None
    habits: Annotated[str, trimmed(200)] | None = None
    hobbies: Annotated[str, trimmed(200)] | None = None
    lifestyle: Annotated[str, trimmed(200)] | None = None
    values: Annotated[str, trimmed(200)] | None = None
    notes: str | None = None


class CustomerIn(CustomerPatch):
    name: NameText
    consents: dict[Annotated[str, choice(Channel.values)], bool] | None = Field(
        default=None, description='e.g. {"sms": true, "wechat": true}'
    )
    consent_method: Annotated[str, choice(ConsentRecord.Method.values)] = "verbal"
    consent_purpose: str = ""


class ConsentIn(Schema):
    channel: Annotated[str, choice(Channel.values)]
    granted: bool
    method: Annotated[str, choice(ConsentRecord.Method.values)]
    purpose: Annotated[str, trimmed(200, required=True)]


class HouseholdIn(Schema):
    other_id: IdIn


class ChangeOut(Schema):
    at: dt.datetime
    subject_type: str
    subject_id: int
    action: str
    changes: dict
    note: str
    actor: str | None


class ReadingOut(Schema):
    id: int
    km: int
    read_at: dt.datetime
    odometer_replaced: bool
    source: str


class VehicleOut(Schema):
    id: int
    customer_id: int
    plate: str
    vin: str
    vin_check_failed: bool
    brand: str
    model: str
    year: int | None
    colour: str
    purchase_date: dt.date | None
    insurance_expiry: dt.date | None
    inspection_due: dt.date | None
    mileage_km: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class VehicleDetailOut(VehicleOut):
    readings: list[ReadingOut]


class VehiclePatch(Schema):
    plate: PlateText | None = None
    vin: VinText | None = None
    vin_confirmed: bool = Field(default=False, description="Accept a VIN whose check digit does not match")
    brand: Annotated[str, trimmed(30)] | None = None
    model: Annotated[str, trimmed(50)] | None = None
    year: int | None = Field(default=None, json_schema_extra={"minimum": 1950}, description="1950 to next year")
    colour: Annotated[str, trimmed(20)] | None = None
    purchase_date: dt.date | None = None
    insurance_expiry: dt.date | None = None
    inspection_due: dt.date | None = None


class VehicleIn(VehiclePatch):
    plate: PlateText
    mileage: int | None = Field(
        default=None,
        json_schema_extra={"minimum": 0, "maximum": MAX_KM},
        description="Odometer reading at registration, km",
    )


class MileageIn(Schema):
    km: int = Field(json_schema_extra={"minimum": 0, "maximum": MAX_KM})
    read_at: MomentIn | None = Field(default=None, description="Not in the future (five minutes' grace)")
    odometer_replaced: bool = False


class TransferIn(Schema):
    customer_id: IdIn
