"""A saved segment's export: the rows of its page, the customer export's columns and masking, recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from huitou.analytics.models import Segment
from huitou.analytics.segments import segment_create, segment_update
from huitou.analytics.selectors import segment_customers
from huitou.analytics.tests.segment_dataset import SegmentWorld, segment_world  # noqa: F401 - the fixture
from huitou.audit.models import ChangeEntry
from huitou.exports.models import ExportJob
from huitou.exports.tests.test_exports import csv_rows, sheet_rows
from huitou.tenancy.models import User


@pytest.fixture
def a_grade(segment_world: SegmentWorld, owner: User) -> Segment:  # noqa: F811
    return segment_create(organization=segment_world.org, name="A级客户", filters={"customer_grade": "A"}, by=owner)


def test_the_export_of_a_segment_is_its_list(
    a_grade: Segment,
    owner: User,
    client_for: Callable[[User], Client],
    bearer: Callable[[User], Client],
) -> None:
    page = client_for(owner).get(reverse("exports:segment_xlsx"), {"segment": a_grade.pk})
    api = bearer(owner).get(f"/api/v1/segments/{a_grade.pk}/export.csv")
    listed = bearer(owner).get(f"/api/v1/segments/{a_grade.pk}/customers", {"page_size": 100}).json()
    shown = client_for(owner).get(reverse("customers:segment_detail", args=[a_grade.pk])).context["rows"]

    assert page.status_code == api.status_code == 200
    exported = [row[0] for row in sheet_rows(page.content)[1:]]
    assert exported == [c.pk for c, _phone in shown] == [item["id"] for item in listed["items"]]
    assert exported == [c.pk for c in segment_customers(a_grade)] and len(exported) == 2
    assert [int(row[0]) for row in csv_rows(api.content)[1:]] == exported
    # The customer export's columns, the same row for the same customer.
    customers = client_for(owner).get(reverse("exports:customers_xlsx"), {"customer_grade": "A"})
    assert sheet_rows(customers.content) == sheet_rows(page.content)


def test_phones_stay_masked_for_the_roles_that_see_them_masked(
    a_grade: Segment, tech: User, client_for: Callable[[User], Client]
) -> None:
    masked = client_for(tech).get(reverse("exports:segment_csv"), {"segment": a_grade.pk}).content.decode("utf-8-sig")

    assert "13800000001" not in masked and "138****0001" in masked


def test_a_segments_export_is_recorded_with_the_conditions_it_had(
    a_grade: Segment,
    segment_world: SegmentWorld,  # noqa: F811
    owner: User,
    advisor: User,
    client_for: Callable[[User], Client],  # noqa: F811
) -> None:
    client_for(advisor).get(reverse("exports:segment_csv"), {"segment": a_grade.pk})
    segment_update(segment=a_grade, name="改了名", filters={"stage": "prospect"}, by=owner)

    job = ExportJob.objects.for_org(segment_world.org).get()
    entry = ChangeEntry.objects.for_org(segment_world.org).get(subject_type="exportjob", subject_id=job.pk)
    assert (entry.actor, job.source, job.rows) == (advisor, "segment", 2)
    assert entry.changes["filters"] == [
        None,
        {"segment_id": a_grade.pk, "name": "A级客户", "conditions": {"customer_grade": "A"}},
    ]
    assert entry.changes["rows"] == [None, 2]


def test_a_long_segment_is_made_in_the_background_as_it_was_asked(
    django_capture_on_commit_callbacks: Any,
    a_grade: Segment,
    segment_world: SegmentWorld,  # noqa: F811
    owner: User,
    settings: Any,
    client_for: Callable[[User], Client],
) -> None:
    settings.EXPORT_SYNC_MAX_ROWS = 1
    client = client_for(owner)

    with django_capture_on_commit_callbacks(execute=True):
        asked = client.get(reverse("exports:segment_xlsx"), {"segment": a_grade.pk})

    job = ExportJob.objects.for_org(segment_world.org).get()
    assert asked.status_code == 302 and (job.state, job.rows) == (ExportJob.State.READY, 2)
    rows = sheet_rows(client.get(reverse("exports:download", args=[job.pk])).getvalue())
    assert {r[1] for r in rows[1:]} == {"张一", "李二"}


def test_a_missing_segment_is_not_found(a_grade: Segment, owner: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(owner)

    assert client.get(reverse("exports:segment_xlsx")).status_code == 404
    assert client.get(reverse("exports:segment_xlsx"), {"segment": "x"}).status_code == 404
    assert client.get(reverse("exports:segment_xlsx"), {"segment": a_grade.pk + 1000}).status_code == 404
