from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

# The highest page number a list takes: a larger one would overflow the database's
# OFFSET (a 500 on PostgreSQL), and no list is that long.
MAX_PAGE = 1_000_000


class OwnerOut(Schema):
    id: int
    username: str
    name: str


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


class CustomerPage(Schema):
    items: list[CustomerOut]
    count: int
    page: int
    page_size: int


class CustomerPatch(Schema):
    name: str | None = None
    gender: str | None = None
    phone: str | None = None
    wechat: str | None = None
    email: str | None = None
    address: str | None = None
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    birthday_calendar: str | None = None
    age_bracket: str | None = None
    source: str | None = None
    stage: str | None = None
    owner: int | None = Field(default=None, description="Staff id of the owner")
    tags: list[str] | None = None
    need: str | None = Field(default=None, description="What the prospect came for: service, budget, timing")
    referrer_id: int | None = Field(default=None, description="The customer who referred them")
    preferred_channel: str | None = None
    preferred_time: str | None = None
    occupation: str | None = None
    family: str | None = None
    personality: str | None = None
    habits: str | None = None
    hobbies: str | None = None
    lifestyle: str | None = None
    values: str | None = None
    notes: str | None = None


class CustomerIn(CustomerPatch):
    name: str  # type: ignore[assignment]
    consents: dict[str, bool] | None = Field(default=None, description='e.g. {"sms": true, "wechat": true}')
    consent_method: str = "verbal"
    consent_purpose: str = ""


class ConsentIn(Schema):
    channel: str
    granted: bool
    method: str
    purpose: str


class HouseholdIn(Schema):
    other_id: int


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
    plate: str | None = None
    vin: str | None = None
    vin_confirmed: bool = Field(default=False, description="Accept a VIN whose check digit does not match")
    brand: str | None = None
    model: str | None = None
    year: int | None = None
    colour: str | None = None
    purchase_date: dt.date | None = None
    insurance_expiry: dt.date | None = None
    inspection_due: dt.date | None = None


class VehicleIn(VehiclePatch):
    plate: str  # type: ignore[assignment]
    mileage: int | None = Field(default=None, description="Odometer reading at registration, km")


class MileageIn(Schema):
    km: int
    read_at: dt.datetime | None = None
    odometer_replaced: bool = False


class TransferIn(Schema):
    customer_id: int
