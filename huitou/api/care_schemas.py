"""Schemas of the care API: care tasks, closing them, and a vehicle's outlook.

The score and the answers travel as the caller sends them (an integer, an
object) so that a wrong value is refused by the care service with its own
message on the field, as on the page; the document states what the service
accepts.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, WithJsonSchema

from huitou.api.base import Schema
from huitou.api.lifecycle_schemas import Page, PageFilters
from huitou.api.schemas import OwnerOut, VehicleDetailOut, trimmed
from huitou.api.service_schemas import IdIn

# The values of the models' choices, spelt out for the OpenAPI document (tests check them against the models).
CARE_KINDS: list[Any] = [
    "callback",
    "maintenance",
    "insurance",
    "inspection",
    "warranty",
    "birthday",
    "festival",
    "declined_work",
    "winback",
    "coupon_expiring",
    "card_expiring",
]
CARE_STATES: list[Any] = ["open", "done", "skipped"]
DUE_BY: list[Any] = ["date", "km"]

CareKindText = Literal[
    "callback",
    "maintenance",
    "insurance",
    "inspection",
    "warranty",
    "birthday",
    "festival",
    "declined_work",
    "winback",
    "coupon_expiring",
    "card_expiring",
]

# An answer: a rating (an integer from 1 to 5) or words (at most 500 characters), by question id.
AnswerValue = Annotated[
    StrictInt | str | None,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 5},
                {"type": "string", "maxLength": 500},
                {"type": "null"},
            ]
        }
    ),
]
QuestionId = Annotated[str, WithJsonSchema({"type": "string", "pattern": r"^[1-9][0-9]{0,18}$"})]


class CareTaskOut(Schema):
    id: int
    kind: str = Field(json_schema_extra={"enum": CARE_KINDS})
    customer_id: int
    vehicle_id: int | None
    order_id: int | None = Field(description="The paid order a callback follows")
    due_on: dt.date
    due_at: dt.datetime | None = Field(description="A callback's deadline: 48 hours after the payment")
    owner: OwnerOut
    reason: str = Field(description="Why, in words, in the shop's language")
    script: str = Field(description="What to say, filled with the customer's facts")
    state: str = Field(json_schema_extra={"enum": CARE_STATES})
    result: str = Field(description="What came of it (done) or why it was skipped")
    score: int | None = Field(description="A callback's satisfaction, 1 to 5")
    answers: dict[str, int | str] = Field(description="A callback's questionnaire answers by question id")
    closed_at: dt.datetime | None


class CareTaskPage(Page):
    items: list[CareTaskOut]


class CareTaskFilters(PageFilters):
    owner: str = Field(
        default="",
        description="Staff id or username (default: the caller); another's needs the team permission, "
        '"all" lists everyone\'s',
    )
    kind: Literal["", CareKindText] = Field(default="", description="Every kind when empty")
    customer_id: IdIn | None = None
    state: Literal["open", "done", "skipped"] = "open"
    due: Literal["", "today", "overdue", "week"] = Field(
        default="",
        description="today; overdue (before today); week (after today, within seven days); any day when empty",
    )


class CareDoneIn(Schema):
    result: Annotated[str, trimmed(required=True)] = Field(description="What came of it; trimmed, then cut to 200")
    score: StrictInt | None = Field(
        default=None,
        json_schema_extra={"minimum": 1, "maximum": 5},
        description="The customer's satisfaction from 1 to 5: required for a callback, refused for other kinds. "
        "2 or less opens a complaint",
    )
    answers: dict[QuestionId, AnswerValue] = Field(
        default_factory=dict,
        description="A callback's questionnaire answers by question id (GET the questions on the page): a rating "
        "from 1 to 5 or words; a required question must be answered. Refused for other kinds",
    )


class CareSkipIn(Schema):
    reason: Annotated[str, trimmed(required=True)] = Field(description="Why it is skipped; trimmed, then cut to 200")


class NextMaintenanceOut(Schema):
    service: str
    due_on: dt.date = Field(description="Whichever comes first: the date interval or the day the mileage is reached")
    due_km: int | None = Field(description="The odometer reading it is due at (a service with a distance interval)")
    due_by: str = Field(json_schema_extra={"enum": DUE_BY}, description="Which of the two comes first")


class VehicleOutlookOut(VehicleDetailOut):
    estimated_mileage: int | None = Field(
        description="The odometer today, km, estimated from the readings since the last odometer replacement "
        "(null without a reading)"
    )
    next_maintenance: NextMaintenanceOut | None = Field(
        description="The earliest maintenance due, from the catalog's intervals and the car's last service of it"
    )
