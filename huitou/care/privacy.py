"""What care keeps about a person, for the copy and for erasure (docs/privacy.md).

The copy holds the care tasks (callbacks, reminders, greetings: why, when,
how they ended, the satisfaction score and the questionnaire's answers) and
the complaints with their steps and log. Erasure keeps the work as counted
work (kind, owner, due and closing moments, state, the satisfaction score:
the staff's figures) and drops what the person said and what was written
about them: a task's result, answers and suggested script (it greets them by
name), a complaint's summary and the notes of its steps and log. Open tasks
are closed as skipped (no one calls an erased customer), and an open
complaint stops falling due (it is not escalated any more).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from huitou.care import events
from huitou.care.models import CareTask, Complaint, ComplaintEvent, ComplaintStep
from huitou.privacy.kinds import scrub_rows
from huitou.privacy.registry import REDACTED, Person, PersonalDataKind, plain, register, rows_of


def _tasks(person: Person) -> Any:
    return CareTask.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)


def _complaints(person: Person) -> Any:
    return Complaint.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)


TASK_FIELDS = (
    *("id", "customer_id", "kind", "vehicle_id", "order__number", "service__name", "owner__username"),
    *("due_on", "due_at", "reason", "script", "state", "result", "score", "answers", "created_at", "closed_at"),
)


def collect_care_tasks(person: Person) -> list[dict[str, Any]]:
    rows = _tasks(person).order_by("due_on", "pk").values(*TASK_FIELDS)
    return [{**{k: plain(v) for k, v in row.items()}, "answers": row["answers"]} for row in rows]


def erase_care_tasks(person: Person) -> None:
    """The work stays counted (and the score, a figure of the staff's); what was said and written goes."""
    tasks = _tasks(person)
    if tasks.filter(state=CareTask.State.OPEN).update(state=CareTask.State.SKIPPED, closed_at=person.now):
        events.care_tasks_closed.send(
            sender=CareTask, organization_id=person.organization_id, closed_at=person.now, by=None
        )
    tasks.update(result="", script="", answers={})
    # A reason names the visit's work or the occasion; a greeting's may name the person.
    scrub_rows(tasks, ("reason",), person)


def collect_complaints(person: Person) -> list[dict[str, Any]]:
    """Each complaint with the steps recorded and its log, in order."""
    org = person.organization_id
    fields = (
        *("id", "customer_id", "vehicle_id", "order__number", "source", "summary", "owner__username", "state"),
        *("round", "steps_done", "opened_at", "due_at", "escalated_at", "closed_at"),
    )
    rows = rows_of(_complaints(person).order_by("opened_at", "pk"), fields)
    ids = [row["id"] for row in rows]
    steps: dict[int, list[dict[str, Any]]] = {}
    for step in rows_of(
        ComplaintStep.objects.for_org(org).filter(complaint_id__in=ids).order_by("round", "at", "pk"),
        ("complaint_id", "round", "step", "note", "by__username", "at", "due_at", "late"),
    ):
        steps.setdefault(step.pop("complaint_id"), []).append(step)
    events: dict[int, list[dict[str, Any]]] = {}
    for event in rows_of(
        ComplaintEvent.objects.for_org(org).filter(complaint_id__in=ids).order_by("at", "pk"),
        ("complaint_id", "kind", "round", "step", "note", "at"),
    ):
        events.setdefault(event.pop("complaint_id"), []).append(event)
    for row in rows:
        row["steps"] = steps.get(row["id"], [])
        row["log"] = events.get(row["id"], [])
    return rows


def erase_complaints(person: Person) -> None:
    """How many, when, who handled them and how far they got stay; what the person said and what was
    noted about them goes. An open one stops falling due (it cannot be closed without its steps)."""
    org = person.organization_id
    complaints = _complaints(person)
    complaints.filter(state=Complaint.State.OPEN).update(due_at=None)
    complaints.update(summary=REDACTED)
    ComplaintStep.objects.for_org(org).filter(complaint__in=complaints).update(note="")
    ComplaintEvent.objects.for_org(org).filter(complaint__in=complaints).update(note="")


register(PersonalDataKind("care_tasks", _("Care tasks"), collect_care_tasks, erase_care_tasks, order=70))
register(PersonalDataKind("complaints", _("Complaints"), collect_complaints, erase_complaints, order=71))
