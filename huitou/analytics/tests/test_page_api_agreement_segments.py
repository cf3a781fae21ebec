"""The page and the API agree on saved segments: the same input through the segment form and through
``POST /api/v1/segments`` stores the same segment, or is refused with the same message. The pattern of
``huitou/api/tests/test_page_api_agreement.py``, for the segments' table."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from huitou.analytics import errors
from huitou.analytics.models import Segment
from huitou.analytics.segments import segment_create
from huitou.analytics.tests.segment_dataset import SegmentWorld, segment_world  # noqa: F401 - the fixture
from huitou.api.tests.conftest import ApiClient, api_for  # noqa: F401 - the API client fixture
from huitou.api.tests.test_page_api_agreement import Write, _api_messages
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh


def stored(org: Organization) -> list[tuple[Any, ...]]:
    rows = [
        (s.name, repr(sorted(s.filters.items())), s.created_by.username if s.created_by else "")
        for s in Segment.objects.for_org(org).select_related("created_by")
    ]
    return sorted(rows, key=repr)


NEW = "/api/v1/segments"


def _new(w: SimpleNamespace) -> str:
    return reverse("customers:segment_new")


def _existing(w: SimpleNamespace) -> None:
    w.segment = segment_create(organization=w.org, name="沉睡客户", filters={"last_visit_before_days": 180}, by=w.owner)


def _two(w: SimpleNamespace) -> None:
    _existing(w)
    segment_create(organization=w.org, name="新客", filters={"last_visit_within_days": 30}, by=w.owner)


def _edit(w: SimpleNamespace) -> str:
    return reverse("customers:segment_edit", args=[w.segment.pk])


def _one(w: SimpleNamespace) -> str:
    return f"{NEW}/{w.segment.pk}"


WRITES: list[Write] = [
    Write(
        "save a segment of every kind of condition",
        page=lambda w: (
            _new(w),
            {
                "name": "金卡老车",
                "stage": "customer",
                "customer_grade": "A",
                "segment": "important_value",
                "tags": "VIP, 传播型",
                "tier_id": w.gold.pk,
                "owner_id": w.advisor.pk,
                "shop_id": w.main.pk,
                "last_visit_before_days": "30",
                "last_visit_within_days": "365",
                "spend_min": "1000",
                "spend_max": "20000.50",
                "brand": "大众",
                "vehicle_age_min": "5",
                "vehicle_age_max": "12",
            },
        ),
        api=lambda w: (
            "POST",
            NEW,
            {
                "name": "金卡老车",
                "stage": "customer",
                "customer_grade": "A",
                "segment": "important_value",
                "tags": ["VIP", "传播型"],
                "tier_id": w.gold.pk,
                "owner_id": w.advisor.pk,
                "shop_id": w.main.pk,
                "last_visit_before_days": 30,
                "last_visit_within_days": 365,
                "spend_min": "1000",
                "spend_max": "20000.50",
                "brand": "大众",
                "vehicle_age_min": 5,
                "vehicle_age_max": 12,
            },
        ),
        user="owner",
    ),
    Write(
        "save a segment of one tag",
        page=lambda w: (_new(w), {"name": " VIP客户 ", "tags": "VIP"}),
        api=lambda w: ("POST", NEW, {"name": " VIP客户 ", "tags": ["VIP"]}),
        user="owner",
    ),
    Write(
        "refuse a name already used",
        arrange=_existing,
        page=lambda w: (_new(w), {"name": "沉睡客户", "stage": "dormant"}),
        api=lambda w: ("POST", NEW, {"name": "沉睡客户", "stage": "dormant"}),
        user="owner",
        refused=errors.SEGMENT_NAME_TAKEN,
    ),
    Write(
        "refuse a segment without any condition",
        page=lambda w: (_new(w), {"name": "全部"}),
        api=lambda w: ("POST", NEW, {"name": "全部"}),
        user="owner",
        refused=errors.SEGMENT_EMPTY,
    ),
    Write(
        "refuse a spend range the wrong way round",
        page=lambda w: (_new(w), {"name": "消费", "spend_min": "900", "spend_max": "100"}),
        api=lambda w: ("POST", NEW, {"name": "消费", "spend_min": "900", "spend_max": "100"}),
        user="owner",
        refused=errors.SPEND_REVERSED,
    ),
    Write(
        "refuse last-visit days that leave nobody",
        page=lambda w: (_new(w), {"name": "到店", "last_visit_before_days": "90", "last_visit_within_days": "30"}),
        api=lambda w: ("POST", NEW, {"name": "到店", "last_visit_before_days": 90, "last_visit_within_days": 30}),
        user="owner",
        refused=errors.DAYS_REVERSED,
    ),
    Write(
        "refuse a car age range the wrong way round",
        page=lambda w: (_new(w), {"name": "车龄", "vehicle_age_min": "9", "vehicle_age_max": "3"}),
        api=lambda w: ("POST", NEW, {"name": "车龄", "vehicle_age_min": 9, "vehicle_age_max": 3}),
        user="owner",
        refused=errors.AGE_REVERSED,
    ),
    Write(
        "change a segment's name and replace its conditions",
        arrange=_existing,
        page=lambda w: (_edit(w), {"name": "半年未到店", "last_visit_before_days": "183", "spend_min": "100"}),
        api=lambda w: ("PUT", _one(w), {"name": "半年未到店", "last_visit_before_days": 183, "spend_min": "100"}),
        user="owner",
    ),
    Write(
        "refuse renaming a segment to a name already used",
        arrange=_two,
        page=lambda w: (_edit(w), {"name": "新客", "last_visit_before_days": "180"}),
        api=lambda w: ("PUT", _one(w), {"name": "新客", "last_visit_before_days": 180}),
        user="owner",
        refused=errors.SEGMENT_NAME_TAKEN,
    ),
    Write(
        "delete a segment",
        arrange=_existing,
        page=lambda w: (reverse("customers:segment_delete", args=[w.segment.pk]), {}),
        api=lambda w: ("DELETE", _one(w), None),
        user="owner",
    ),
    Write(
        "refuse a colleague who may not save segments",
        page=lambda w: (_new(w), {"name": "顾问的", "stage": "customer"}),
        api=lambda w: ("POST", NEW, {"name": "顾问的", "stage": "customer"}),
        user="advisor",
        refused=lambda: "",
        api_status=403,
    ),
]


@pytest.fixture
def world(segment_world: SegmentWorld, owner: User, advisor: User) -> SimpleNamespace:  # noqa: F811
    users = {"owner": owner, "advisor": advisor}
    return SimpleNamespace(
        org=segment_world.org, gold=segment_world.gold, main=segment_world.main, users=users, **users
    )


def _through(channel: str, write: Write, w: SimpleNamespace, client: Client) -> tuple[Any, list[tuple[Any, ...]]]:
    with transaction.atomic():
        if channel == "page":
            url, data = write.page(w)
            response = client.post(url, data, follow=True)
        else:
            method, path, body = write.api(w)
            response = client.generic(method, path, json.dumps(body), content_type="application/json")
        after = stored(w.org)
        transaction.set_rollback(True)
    return response, after


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_the_page_and_the_api_agree_on_segments(
    write: Write,
    world: SimpleNamespace,
    client_for: Callable[[User], Client],
    api_for: Callable[[User], ApiClient],  # noqa: F811
) -> None:
    write.arrange(world)
    user = world.users[write.user]
    before = stored(world.org)

    page, by_page = _through("page", write, world, client_for(user))
    api, by_api = _through("api", write, world, api_for(user))

    if write.api_status == 403:  # the role: both refuse, neither stores
        assert (page.status_code, api.status_code) == (403, 403)
    elif write.refused is None:
        assert page.status_code == 200, page.content.decode()[:500]
        assert api.status_code in (200, 201, 204), api.content.decode()
        assert by_page != before, "the page stored nothing"
    else:
        message = write.refused() if callable(write.refused) else zh(write.refused)
        assert page.status_code == 200
        assert api.status_code == 422, api.content.decode()
        assert message in _api_messages(api)
        assert escape(message) in page.content.decode(), f"the page does not say: {message}"
        assert by_page == before
    assert by_page == by_api
