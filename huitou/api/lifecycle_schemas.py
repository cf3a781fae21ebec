"""Schemas of the lifecycle API: prospects, follow-ups and their tasks, stages, merging, reassignment.

Choice fields (channel, grade, stage) travel as plain strings so that a wrong
value is refused by the service with its own message on the field; the
OpenAPI document still lists the values.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema

from huitou.api.base import Schema
from huitou.api.schemas import MAX_PAGE, PLATE_PATTERN, OwnerOut, PhoneText, WechatText, trimmed
from huitou.api.service_schemas import CustomerRef, IdIn
from huitou.lifecycle.services.stages import MANUAL_STAGES

# The values of the models' choices, spelt out for the OpenAPI document (tests check them against the models).
STAGES = ["prospect", "intent", "customer", "member", "dormant", "lost"]
CHANNELS = ["phone", "wechat", "sms", "visit", "in_store"]
GRADES = ["H", "A", "B", "C"]

ChannelText = Annotated[str, WithJsonSchema({"type": "string", "enum": CHANNELS})]
# The service trims the grade and takes it in either case ("a" is A).
GradeText = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": rf"^\s*[{''.join(GRADES)}{''.join(GRADES).lower()}]?\s*$"})
]
StageText = Annotated[str, WithJsonSchema({"type": "string", "enum": STAGES})]
# The stages a person may set by hand (the service refuses the others with its own message).
ManualStageText = Annotated[str, WithJsonSchema({"type": "string", "enum": [str(s) for s in MANUAL_STAGES]})]
DateText = Annotated[str, WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-12-01"]})]


class Page(Schema):
    count: int
    page: int
    page_size: int


class PageFilters(Schema):
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=20, ge=1, le=100)


# --- prospects ------------------------------------------------------------------------------


# A prospect's car is optional: a blank plate, or a plate as lib/plates.py takes it.
PlateOrBlank = Annotated[str, WithJsonSchema({"type": "string", "pattern": rf"^\s*$|{PLATE_PATTERN}"})]


class ProspectIn(Schema):
    name: Annotated[str, trimmed(50)] = Field(default="", description="Required")
    phone: PhoneText = Field(default="", description="A phone number or a WeChat ID is needed")
    wechat: WechatText = ""
    source: str = Field(default="", description="Source code, e.g. walk_in (required)")
    need: Annotated[str, trimmed(200)] = Field(default="", description="What the prospect came for")
    referrer_id: IdIn | None = Field(default=None, description="The customer who referred them")
    owner_id: IdIn | None = Field(default=None, description="Staff id of the owner (default: the caller)")
    owner: str | None = Field(
        default=None,
        description='"auto": the next staff member of the rotation (round robin); "me": the caller',
        json_schema_extra={"enum": ["auto", "me"]},
    )
    plate: PlateOrBlank = Field(default="", description="Needed when brand or model is given")
    brand: Annotated[str, trimmed(30)] = ""
    model: Annotated[str, trimmed(50)] = ""


class DuplicateOut(Schema):
    id: int
    name: str


class DuplicatesRefused(Schema):
    detail: str
    errors: dict[str, list[str]]
    duplicates: list[DuplicateOut] = Field(
        default_factory=list,
        description="The existing files with this phone or plate; empty when the refusal is about something else",
    )


class ProspectFilters(PageFilters):
    stage: Literal["", "prospect", "intent"] = Field(default="", description="Both when empty")
    source: str = Field(default="", description="Source code")
    owner: IdIn | None = Field(default=None, description="Staff id of the owner")
    grade: Literal["", "H", "A", "B", "C"] = ""


# --- follow-ups -----------------------------------------------------------------------------


class FollowUpIn(Schema):
    channel: ChannelText = Field(description="How the customer was reached")
    content: Annotated[str, trimmed(required=True)] = Field(description="What was said")
    result: str = Field(default="", description="Trimmed, then cut to 200 characters")
    grade: GradeText = Field(default="", description="Intent grade; the first one makes a prospect an intent customer")
    next_step: str = Field(default="", description="Trimmed, then cut to 200 characters")
    next_due: DateText | None = Field(
        default=None, description="Today or later: schedules the next step for the customer's owner"
    )
    task_id: IdIn | None = Field(default=None, description="The open task this follow-up answers")


class FollowUpOut(Schema):
    id: int
    customer_id: int
    staff: OwnerOut
    channel: str
    content: str
    result: str
    grade: str
    next_step: str
    next_due: dt.date | None
    task_id: int | None
    at: dt.datetime


class FollowUpPage(Page):
    items: list[FollowUpOut]


class TaskOut(Schema):
    id: int
    customer: CustomerRef
    assignee: OwnerOut
    due_on: dt.date
    channel: str
    action: str
    origin: str = Field(description="plan or next_step")


class TaskPage(Page):
    items: list[TaskOut]


class TaskFilters(PageFilters):
    owner: str = Field(
        default="",
        description="Staff id or username (default: the caller); another's needs the team permission, "
        '"all" lists everyone\'s',
    )
    due: Literal["today", "overdue", "upcoming"] = "today"


# --- stages ---------------------------------------------------------------------------------


class StageIn(Schema):
    stage: ManualStageText = Field(
        description="prospect, intent, lost, or customer after a paid order; member and dormant follow from "
        "membership and visits"
    )
    reason: Annotated[str, trimmed(required=True)] = Field(
        description="Why the stage changes (kept as a note of 200 characters at most)"
    )


class StageChangeOut(Schema):
    from_stage: str = Field(serialization_alias="from", description="Empty for the file's first stage")
    to_stage: str = Field(serialization_alias="to")
    reason: str = Field(description="manual, followup_intent, first_paid_order, ...")
    note: str
    by: str | None = Field(description="Username; empty when the product made the move")
    at: dt.datetime


class StageOut(Schema):
    stage: str
    history: list[StageChangeOut] = Field(description="Oldest first")


# --- merging and reassignment ---------------------------------------------------------------


class MergeIn(Schema):
    keep_id: IdIn = Field(description="The file that stays")
    other_id: IdIn = Field(description="The duplicate, closed into the kept one")


class ReassignIn(Schema):
    to: list[IdIn] = Field(default_factory=list, description="Staff ids who take the customers, in turn")
    deactivate: bool = Field(default=False, description="The staff member leaves: hand over everything, then sign out")
    customer_ids: list[IdIn] | None = Field(default=None, description="Only these customers (not with deactivate)")


class ReassignOut(Schema):
    moved: int
    deactivated: bool


# --- follow-up plans ------------------------------------------------------------------------


class PlanStepIO(Schema):
    day_offset: int = Field(
        description="Days after entering the stage, 0 to 365", json_schema_extra={"minimum": 0, "maximum": 365}
    )
    channel: ChannelText
    action: Annotated[str, trimmed(required=True)] = Field(
        description="What to do (trimmed, then cut to 200 characters)"
    )


class PlanIn(Schema):
    name: Annotated[str, trimmed(100, required=True)] = Field(description="Required")
    stage: StageText = Field(default="prospect", description="The plan starts when a customer enters this stage")
    source: str = Field(default="", description="Source code; empty: customers of every source without a plan")
    is_active: bool = True
    steps: list[PlanStepIO] = Field(default_factory=list, description="At least one (an empty list is refused)")


class PlanOut(Schema):
    id: int
    name: str
    stage: str
    source: str | None
    is_active: bool
    steps: list[PlanStepIO]
    updated_at: dt.datetime
