"""What the generator produces and the loaders write: plain values, no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ReadingSpec:
    km: int
    read_at: dt.datetime


@dataclass(slots=True)
class VehicleSpec:
    plate: str
    vin: str
    vin_check_failed: bool
    brand: str
    model: str
    year: int
    colour: str
    purchase_date: dt.date
    insurance_expiry: dt.date | None
    inspection_due: dt.date | None
    created_at: dt.datetime
    new_energy: bool
    readings: list[ReadingSpec] = field(default_factory=list)

    @property
    def mileage(self) -> ReadingSpec | None:
        return self.readings[-1] if self.readings else None

    def service_data(self) -> dict[str, Any]:
        """The vehicle as ``vehicle_create`` takes it."""
        return {
            "plate": self.plate,
            "vin": self.vin,
            "brand": self.brand,
            "model": self.model,
            "year": self.year,
            "colour": self.colour,
            "purchase_date": self.purchase_date,
            "insurance_expiry": self.insurance_expiry,
            "inspection_due": self.inspection_due,
        }


@dataclass(slots=True)
class FollowUpSpec:
    """A follow-up that happened, as ``followup_record`` takes it."""

    at: dt.datetime
    staff: str  # staff key
    channel: str
    content: str
    result: str = ""
    grade: str = ""
    next_step: str = ""
    next_due: dt.date | None = None


# What moves a file between stages in the story (besides a graded follow-up).
PAID = "paid"  # the first paid visit
MEMBERSHIP = "membership"  # joins membership
INACTIVE = "inactive"  # the daily visit check: dormant, then lost
GIVEN_UP = "given_up"  # a prospect set to lost by hand, with a reason


@dataclass(slots=True)
class StageEventSpec:
    at: dt.datetime
    kind: str  # PAID, MEMBERSHIP, INACTIVE or GIVEN_UP
    stage: str = ""  # where INACTIVE moves to
    staff: str = ""  # who, for MEMBERSHIP and GIVEN_UP
    note: str = ""  # the reason of GIVEN_UP


LifeEvent = FollowUpSpec | StageEventSpec


@dataclass(slots=True)
class CustomerSpec:
    index: int
    surname: str
    name: str
    gender: str
    phone: str  # E.164, as the services store it; "" when unknown
    wechat: str
    email: str
    address: str
    birth_year: int | None
    birth_month: int | None
    birth_day: int | None
    birthday_calendar: str
    age_bracket: str
    source: str  # source code
    stage: str
    owner: str  # staff key: "owner", "advisor" or "service"
    tags: list[str]
    consents: list[str]  # channels agreed to
    consent_method: str
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
    created_at: dt.datetime
    updated_at: dt.datetime
    vehicles: list[VehicleSpec]
    household: int | None = None  # index of the household's first member
    need: str = ""
    referrer: int | None = None  # index of the customer who referred them
    # The lifecycle after the file is created, in time order: follow-ups and stage events.
    lifecycle: list[LifeEvent] = field(default_factory=list)

    @property
    def first_paid_at(self) -> dt.datetime | None:
        """The first paid visit: when the file converted (None: never)."""
        return next((e.at for e in self.lifecycle if isinstance(e, StageEventSpec) and e.kind == PAID), None)

    def service_data(self) -> dict[str, Any]:
        """The customer as ``customer_create`` takes it (without owner, referrer and consents).

        No stage: a file starts as a prospect and the lifecycle moves it."""
        return {
            "name": self.name,
            "gender": self.gender,
            "phone": self.phone[3:] if self.phone.startswith("+86") else self.phone,
            "wechat": self.wechat,
            "email": self.email,
            "address": self.address,
            "birth_year": self.birth_year,
            "birth_month": self.birth_month,
            "birth_day": self.birth_day,
            "birthday_calendar": self.birthday_calendar,
            "age_bracket": self.age_bracket,
            "source": self.source,
            "need": self.need,
            "tags": self.tags,
            "preferred_channel": self.preferred_channel,
            "preferred_time": self.preferred_time,
            "occupation": self.occupation,
            "family": self.family,
            "personality": self.personality,
            "habits": self.habits,
            "hobbies": self.hobbies,
            "lifestyle": self.lifestyle,
            "values": self.values,
            "notes": self.notes,
        }
