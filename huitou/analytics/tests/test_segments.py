"""Saved segments: who is in one (each kind of condition on a hand-built data set), the rules of
saving one, and the segment's customers through its page and the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from huitou.analytics import errors
from huitou.analytics.models import Segment
from huitou.analytics.segments import segment_create, segment_delete, segment_filters_clean, segment_update
from huitou.analytics.selectors import segment_conditions, segment_customers, segments_list
from huitou.analytics.tests.segment_dataset import SegmentWorld, segment_world  # noqa: F401 - the fixture
from huitou.api.tests.conftest import ApiClient, api_for  # noqa: F401 - the API client fixture
from huitou.tenancy.models import Organization, Shop, User
from huitou.testing.text import zh

# (conditions, who is in the segment) — worked out by hand from the table in ``segment_dataset``.
MEMBERSHIP: list[tuple[str, Callable[[SegmentWorld], dict[str, Any]], set[str]]] = [
    ("stage", lambda w: {"stage": "customer"}, {"张一"}),
    ("grade, a grade set by hand counting", lambda w: {"customer_grade": "A"}, {"张一", "李二"}),
    ("grade C: nobody graded C", lambda w: {"customer_grade": "C"}, set()),
    ("RFM segment", lambda w: {"segment": "important_value"}, {"张一"}),
    ("one tag", lambda w: {"tags": ["VIP"]}, {"张一"}),
    ("any of two tags", lambda w: {"tags": ["VIP", "传播型"]}, {"张一", "李二"}),
    ("membership tier", lambda w: {"tier_id": w.gold.pk}, {"张一"}),
    ("owner", lambda w: {"owner_id": w.westie.pk}, {"李二"}),
    ("shop: the owner works there", lambda w: {"shop_id": w.main.pk}, {"张一", "王三"}),
    ("shop where both owners work", lambda w: {"shop_id": w.west.pk}, {"张一", "李二", "王三"}),
    ("last visit more than 90 days ago (never: not in)", lambda w: {"last_visit_before_days": 90}, {"李二"}),
    ("last visit within 30 days", lambda w: {"last_visit_within_days": 30}, {"张一"}),
    ("between 30 and 365 days", lambda w: {"last_visit_before_days": 30, "last_visit_within_days": 365}, {"李二"}),
    ("spend at least", lambda w: {"spend_min": "1000"}, {"张一"}),
    ("spend at most", lambda w: {"spend_max": "800.00"}, {"李二", "王三"}),
    ("spend range", lambda w: {"spend_min": "500", "spend_max": "1000"}, {"李二"}),
    ("brand in any case", lambda w: {"brand": "VOLKSWAGEN"}, {"张一", "王三"}),
    ("car at least 5 years old (model year)", lambda w: {"vehicle_age_min": 5}, {"张一", "王三"}),
    ("car at most 3 years old (purchase year)", lambda w: {"vehicle_age_max": 3}, {"李二", "王三"}),
    ("brand and age of the same car", lambda w: {"brand": "丰田", "vehicle_age_min": 5}, {"王三"}),
    ("brand and age: the young Volkswagen", lambda w: {"brand": "volkswagen", "vehicle_age_max": 3}, {"王三"}),
    ("every condition must hold", lambda w: {"stage": "customer", "tags": ["传播型"]}, set()),
    ("several at once", lambda w: {"customer_grade": "A", "spend_max": "1000", "owner_id": w.westie.pk}, {"李二"}),
]


@pytest.mark.parametrize(("kind", "conditions", "members"), MEMBERSHIP, ids=[m[0] for m in MEMBERSHIP])
def test_a_segment_holds_exactly_the_customers_meeting_its_conditions(
    segment_world: SegmentWorld,  # noqa: F811
    owner: User,
    kind: str,
    conditions: Callable[[SegmentWorld], dict[str, Any]],
    members: set[str],
) -> None:
    segment = segment_create(
        organization=segment_world.org, name=kind[:50], filters=conditions(segment_world), by=owner
    )

    found = segment_customers(Segment.objects.for_org(segment_world.org).get(pk=segment.pk))

    # Never the deleted 赵四, never the other organization's 隔壁客户, though they meet the conditions.
    assert segment_world.names(found) == members


def test_a_segment_is_a_subquery_for_other_audiences(segment_world: SegmentWorld, owner: User) -> None:  # noqa: F811
    """Care rules and bulk messages take the segment's customers inside their own statement."""
    from huitou.customers.models import Customer

    segment = segment_create(organization=segment_world.org, name="VIP", filters={"tags": ["VIP"]}, by=owner)
    ids = segment_customers(segment).values("pk")

    reached = Customer.objects.for_org(segment_world.org).filter(pk__in=ids)

    assert segment_world.names(reached) == {"张一"}


def test_the_conditions_are_normalised_when_saved(segment_world: SegmentWorld, owner: User) -> None:  # noqa: F811
    segment = segment_create(
        organization=segment_world.org,
        name="  老客户  ",
        filters={
            "stage": "",
            "tags": "VIP，传播型、 VIP",
            "tier_id": str(segment_world.gold.pk),
            "spend_min": 100,
            "last_visit_before_days": "90",
            "brand": " 大众 ",
            "vehicle_age_min": None,
        },
        by=owner,
    )

    segment.refresh_from_db()
    assert segment.name == "老客户"
    assert segment.filters == {
        "tags": ["VIP", "传播型"],
        "tier_id": segment_world.gold.pk,
        "last_visit_before_days": 90,
        "spend_min": "100.00",
        "brand": "大众",
    }
    assert (segment.created_by, segment.updated_by) == (owner, owner)


@pytest.mark.parametrize(
    ("filters", "field", "message"),
    [
        ({"customer_grade": "D"}, "customer_grade", errors.GRADE_INVALID),
        ({"segment": "champions"}, "segment", errors.RFM_SEGMENT_INVALID),
        ({"stage": "vip"}, "stage", errors.STAGE_INVALID),
        ({"tags": ["x" * 31]}, "tags", errors.TAGS_INVALID % {"max": 20}),
        ({"tier_id": 10**9}, "tier_id", errors.TIER_UNKNOWN),
        ({"owner_id": "abc"}, "owner_id", errors.OWNER_UNKNOWN),
        ({"shop_id": "²"}, "shop_id", errors.SHOP_UNKNOWN),
        ({"vehicle_age_max": "²"}, "vehicle_age_max", errors.AGE_INVALID),
        ({"spend_max": "1e999999"}, "spend_max", errors.SPEND_INVALID),
        ({"last_visit_before_days": 0}, "last_visit_before_days", errors.DAYS_INVALID),
        ({"last_visit_before_days": 90, "last_visit_within_days": 30}, "last_visit_within_days", errors.DAYS_REVERSED),
        ({"spend_min": "-1"}, "spend_min", errors.SPEND_INVALID),
        ({"spend_min": "12.345"}, "spend_min", errors.SPEND_INVALID),
        ({"spend_min": "900", "spend_max": "100"}, "spend_max", errors.SPEND_REVERSED),
        ({"brand": "b" * 31}, "brand", errors.BRAND_TOO_LONG),
        ({"vehicle_age_min": 51}, "vehicle_age_min", errors.AGE_INVALID),
        ({"vehicle_age_min": 9, "vehicle_age_max": 3}, "vehicle_age_max", errors.AGE_REVERSED),
        ({}, "__all__", errors.SEGMENT_EMPTY),
    ],
)
def test_it_refuses_conditions_that_are_not_options(
    org: Organization, owner: User, filters: dict[str, Any], field: str, message: Any
) -> None:
    with pytest.raises(ValidationError) as refused:
        segment_create(organization=org, name="试试", filters=filters, by=owner)

    assert refused.value.message_dict[field] == [str(message)]
    assert not Segment.objects.for_org(org).exists()


def test_it_refuses_a_name_already_used_or_blank(org: Organization, owner: User) -> None:
    first = segment_create(organization=org, name="沉睡客户", filters={"last_visit_before_days": 180}, by=owner)
    other = segment_create(organization=org, name="新客", filters={"last_visit_within_days": 30}, by=owner)

    with pytest.raises(ValidationError) as taken:
        segment_create(organization=org, name=" 沉睡客户 ", filters={"stage": "dormant"}, by=owner)
    with pytest.raises(ValidationError) as renamed:
        segment_update(segment=other, name="沉睡客户", filters={"stage": "dormant"}, by=owner)
    with pytest.raises(ValidationError) as blank:
        segment_create(organization=org, name="  ", filters={"stage": "dormant"}, by=owner)

    assert taken.value.message_dict == {"name": [str(errors.SEGMENT_NAME_TAKEN)]}
    assert renamed.value.message_dict == {"name": [str(errors.SEGMENT_NAME_TAKEN)]}
    assert blank.value.message_dict == {"name": [str(errors.SEGMENT_NAME_REQUIRED)]}
    # Keeping its own name is no clash.
    assert segment_update(segment=first, name="沉睡客户", filters={"stage": "dormant"}, by=owner).filters == {
        "stage": "dormant"
    }


def test_another_organization_may_use_the_same_name_but_not_its_options(
    segment_world: SegmentWorld,  # noqa: F811
    owner: User,
    outsider: User,
) -> None:
    segment_create(organization=segment_world.org, name="VIP", filters={"tags": ["VIP"]}, by=owner)
    theirs = segment_create(organization=segment_world.other_org, name="VIP", filters={"tags": ["VIP"]}, by=outsider)

    for key, value in (("tier_id", segment_world.gold.pk), ("shop_id", segment_world.west.pk), ("owner_id", owner.pk)):
        with pytest.raises(ValidationError) as refused:
            segment_filters_clean(organization=segment_world.other_org, data={key: value})
        assert list(refused.value.message_dict) == [key]
    assert {c.name for c in segment_customers(theirs)} == {"隔壁客户"}


def test_an_option_gone_narrows_the_segment_and_is_shown(segment_world: SegmentWorld, owner: User) -> None:  # noqa: F811
    """A condition keeps its value when its option goes: it matches nobody new, never everybody."""
    segment = segment_create(
        organization=segment_world.org, name="城西", filters={"shop_id": segment_world.west.pk}, by=owner
    )
    Segment.objects.for_org(segment_world.org).filter(pk=segment.pk).update(
        filters={"shop_id": 10**9, "segment": "retired_code", "stage": "customer"}
    )
    segment.refresh_from_db()

    conditions = segment_conditions([segment], organization=segment_world.org)[segment.pk]

    assert list(segment_customers(segment)) == []
    assert [(c.value, c.gone) for c in conditions] == [
        (zh("Customer"), False),
        ("retired_code", True),
        (f"#{10**9}", True),
    ]


def test_deleting_a_segment_leaves_the_customers(segment_world: SegmentWorld, owner: User) -> None:  # noqa: F811
    segment = segment_create(organization=segment_world.org, name="VIP", filters={"tags": ["VIP"]}, by=owner)

    segment_delete(segment=segment, by=owner)

    assert not segments_list(organization=segment_world.org).exists()
    assert len(segment_world.people) == 3


# --- pages ---------------------------------------------------------------------------------------


@pytest.fixture
def vip(segment_world: SegmentWorld, owner: User) -> Segment:  # noqa: F811
    return segment_create(organization=segment_world.org, name="大众车主", filters={"brand": "volkswagen"}, by=owner)


def test_the_segment_page_lists_its_customers_like_the_customer_list(
    vip: Segment, advisor: User, client_for: Callable[[User], Client], django_assert_num_queries: Any
) -> None:
    client = client_for(advisor)
    url = reverse("customers:segment_detail", args=[vip.pk])

    # 1 session, 2 user (+organization), 3 the segment, 4 the count, 5 the page of customers with owner,
    # source, score and tag names, 6 the page's plates, 7 the user's shops (the shop switcher). The names
    # its conditions use would come next: none here (no tier, staff or shop condition).
    with django_assert_num_queries(7):
        response = client.get(url)

    body = response.content.decode()
    assert response.status_code == 200
    assert [c.name for c, _phone in response.context["rows"]] == ["王三", "张一"]
    assert "13800000001" in body  # an advisor sees full phones, as on the customer list
    assert reverse("exports:segment_xlsx") + f"?segment={vip.pk}" in body
    assert reverse("customers:segment_edit", args=[vip.pk]) not in body  # only the store manager changes it

    # The next pages come through htmx: the table alone.
    partial = client.get(url, {"page": "1"}, headers={"HX-Request": "true"})
    assert "<h1>" not in partial.content.decode() and "张一" in partial.content.decode()


def test_the_segment_list_page_names_the_options(
    segment_world: SegmentWorld,  # noqa: F811
    owner: User,
    tech: User,
    client_for: Callable[[User], Client],
    django_assert_num_queries: Any,
) -> None:
    for i in range(3):
        segment_create(
            organization=segment_world.org,
            name=f"分组{i}",
            filters={"tier_id": segment_world.gold.pk, "shop_id": segment_world.west.pk, "owner_id": owner.pk},
            by=owner,
        )
    client = client_for(tech)  # everyone who sees the customer list may use segments

    # 1 session, 2 user (+organization), 3 the segments with who made them, 4 their tiers, 5 staff,
    # 6 shops — however many segments; 7 the user's shops (the shop switcher).
    with django_assert_num_queries(7):
        response = client.get(reverse("customers:segments"))

    body = response.content.decode()
    assert body.count("金卡") == 3 and "顺达汽修（城西店）" in body and "王店长" in body
    assert reverse("customers:segment_new") not in body


def test_only_the_store_manager_saves_changes_or_deletes_a_segment(
    vip: Segment, advisor: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(advisor)

    answers = [
        client.get(reverse("customers:segment_new")).status_code,
        client.post(reverse("customers:segment_new"), {"name": "新", "stage": "customer"}).status_code,
        client.post(reverse("customers:segment_edit", args=[vip.pk]), {"name": "改"}).status_code,
        client.post(reverse("customers:segment_delete", args=[vip.pk])).status_code,
    ]

    assert answers == [403, 403, 403, 403]
    assert list(Segment.objects.for_org(vip.organization_id).values_list("name", flat=True)) == ["大众车主"]


def test_save_as_segment_starts_from_the_customer_lists_filters(
    segment_world: SegmentWorld,  # noqa: F811
    owner: User,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(owner)
    query: dict[str, Any] = {
        "q": "张",
        "stage": "customer",
        "tag": "VIP",
        "customer_grade": "A",
        "shop": segment_world.main.pk,
    }
    listed = client.get(reverse("customers:list"), query)
    link = reverse("customers:segment_new")
    assert link in listed.content.decode()

    form = client.get(link, query).context["form"]
    saved = client.post(link, {**form.initial, "name": "A级VIP", "shop_id": segment_world.main.pk}, follow=True)

    segment = Segment.objects.for_org(segment_world.org).get(name="A级VIP")
    assert form.initial == {
        "name": "",
        "stage": "customer",
        "customer_grade": "A",
        "tags": "VIP",
        "shop_id": segment_world.main.pk,
    }
    assert segment.filters == {
        "stage": "customer",
        "customer_grade": "A",
        "tags": ["VIP"],
        "shop_id": segment_world.main.pk,
    }
    assert saved.redirect_chain[-1][0] == segment.get_absolute_url()
    assert [c.name for c, _phone in saved.context["rows"]] == ["张一"]


def test_the_form_shows_the_services_refusals(vip: Segment, owner: User, client_for: Callable[[User], Client]) -> None:
    response = client_for(owner).post(
        reverse("customers:segment_new"), {"name": "大众车主", "spend_min": "900", "spend_max": "100"}
    )

    body = response.content.decode()
    assert zh(errors.SEGMENT_NAME_TAKEN) in body and zh(errors.SPEND_REVERSED) in body
    assert Segment.objects.for_org(vip.organization_id).count() == 1


def test_the_store_manager_edits_and_deletes_a_segment(
    vip: Segment, owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    edit = reverse("customers:segment_edit", args=[vip.pk])
    form = client.get(edit).context["form"]
    assert form.initial == {"name": "大众车主", "brand": "volkswagen"}

    client.post(edit, {"name": "老大众", "brand": "volkswagen", "vehicle_age_min": "5"})
    vip.refresh_from_db()
    assert (vip.name, vip.filters) == ("老大众", {"brand": "volkswagen", "vehicle_age_min": 5})

    gone = client.post(reverse("customers:segment_delete", args=[vip.pk]))
    assert gone.status_code == 302 and not Segment.objects.for_org(vip.organization_id).exists()


def test_another_organizations_segment_is_not_found_on_any_route(
    vip: Segment,
    outsider: User,
    client_for: Callable[[User], Client],
    api_for: Callable[[User], ApiClient],  # noqa: F811
) -> None:
    page, api = client_for(outsider), api_for(outsider)
    pages = [
        ("get", reverse("customers:segment_detail", args=[vip.pk])),
        ("get", reverse("customers:segment_edit", args=[vip.pk])),
        ("post", reverse("customers:segment_edit", args=[vip.pk])),
        ("post", reverse("customers:segment_delete", args=[vip.pk])),
        ("get", reverse("exports:segment_xlsx") + f"?segment={vip.pk}"),
        ("get", reverse("exports:segment_csv") + f"?segment={vip.pk}"),
    ]
    one = f"/api/v1/segments/{vip.pk}"
    apis = [
        ("GET", one, None),
        ("PUT", one, {"name": "改名", "stage": "customer"}),
        ("DELETE", one, None),
        ("GET", f"{one}/customers", None),
        ("GET", f"{one}/export.xlsx", None),
        ("GET", f"{one}/export.csv", None),
    ]

    answers = [getattr(page, method)(url).status_code for method, url in pages]
    answers += [api._json(method, url, body).status_code for method, url, body in apis]

    assert answers == [404] * 12
    assert api.get("/api/v1/segments").json() == []
    assert Segment.objects.for_org(vip.organization_id).get().name == "大众车主"


# --- the API -------------------------------------------------------------------------------------


def test_the_api_lists_and_saves_segments(
    segment_world: SegmentWorld,  # noqa: F811
    owner: User,
    advisor: User,
    api_for: Callable[[User], ApiClient],  # noqa: F811
    django_assert_num_queries: Any,
) -> None:
    api = api_for(owner)
    body = {"name": "金卡沉睡", "tier_id": segment_world.gold.pk, "last_visit_before_days": 90, "tags": ["VIP"]}

    created = api.post_json("/api/v1/segments", body)
    refused = api_for(advisor).post_json("/api/v1/segments", {**body, "name": "顾问的"})
    # 1 the token (+ user, organization), 2 the segments with who made them.
    with django_assert_num_queries(2):
        listed = api.get("/api/v1/segments")

    assert created.status_code == 201, created.content
    doc = created.json()
    assert doc["name"] == "金卡沉睡" and doc["tier_id"] == segment_world.gold.pk
    assert (doc["tags"], doc["last_visit_before_days"], doc["spend_min"], doc["stage"]) == (["VIP"], 90, None, None)
    assert doc["created_by"]["username"] == "owner"
    assert refused.status_code == 403
    assert listed.json() == [doc]


def test_the_api_reads_changes_and_deletes_a_segment_for_the_store_manager_only(
    vip: Segment,
    owner: User,
    advisor: User,
    api_for: Callable[[User], ApiClient],  # noqa: F811
) -> None:
    api, colleague = api_for(owner), api_for(advisor)
    one = f"/api/v1/segments/{vip.pk}"
    change = {"name": "老大众", "brand": "volkswagen", "vehicle_age_min": 5}

    read = colleague.get(one)
    refused = [colleague._json("PUT", one, change).status_code, colleague._json("DELETE", one).status_code]
    changed = api._json("PUT", one, change)
    deleted = api._json("DELETE", one)

    assert read.status_code == 200 and read.json()["brand"] == "volkswagen"
    assert refused == [403, 403]
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["vehicle_age_min"], changed.json()["id"]) == ("老大众", 5, vip.pk)
    assert deleted.status_code == 204 and api.get(one).status_code == 404


def test_the_api_refuses_what_the_page_refuses(
    vip: Segment,
    owner: User,
    api_for: Callable[[User], ApiClient],  # noqa: F811
) -> None:
    api = api_for(owner)

    taken = api.post_json("/api/v1/segments", {"name": "大众车主", "stage": "customer"})
    unknown_grade = api.post_json("/api/v1/segments", {"name": "D级", "customer_grade": "D"})
    unknown_segment = api.post_json("/api/v1/segments", {"name": "冠军", "segment": "champions"})
    empty = api.post_json("/api/v1/segments", {"name": "全部"})

    assert taken.status_code == unknown_grade.status_code == unknown_segment.status_code == empty.status_code == 422
    assert taken.json()["errors"] == {"name": [zh(errors.SEGMENT_NAME_TAKEN)]}
    assert list(unknown_grade.json()["errors"]) == ["customer_grade"]
    assert list(unknown_segment.json()["errors"]) == ["segment"]
    assert empty.json()["errors"] == {"__all__": [zh(errors.SEGMENT_EMPTY)]}


def test_the_api_pages_a_segments_customers_like_the_customer_list(
    segment_world: SegmentWorld,  # noqa: F811
    vip: Segment,
    tech: User,
    api_for: Callable[[User], ApiClient],  # noqa: F811
    django_assert_num_queries: Any,
) -> None:
    api = api_for(tech)
    api.get("/api/v1/segments")  # the token's first use also stamps last_used_at

    # 1 the token (+ user, organization), 2 the segment, 3 the page of customers with owner, source, score
    # and tag names, 4 the count.
    with django_assert_num_queries(4):
        first = api.get(f"/api/v1/segments/{vip.pk}/customers", {"page_size": 1})
    second = api.get(f"/api/v1/segments/{vip.pk}/customers", {"page_size": 1, "page": 2}).json()
    listed = api.get("/api/v1/customers", {"q": "张一"}).json()["items"][0]

    doc = first.json()
    assert (doc["count"], doc["page"], doc["page_size"]) == (2, 1, 1)
    assert [doc["items"][0]["name"], second["items"][0]["name"]] == ["王三", "张一"]
    assert second["items"][0] == listed  # the same item as GET /customers gives
    assert listed["phone"] == "138****0001"  # a technician sees masked phones


def test_a_segment_counts_the_day_it_is_read(
    segment_world: SegmentWorld,  # noqa: F811
    owner: User,
) -> None:
    """Last-visit conditions are days back from today: the same segment holds other people later."""
    segment = segment_create(
        organization=segment_world.org, name="近期", filters={"last_visit_within_days": 30}, by=owner
    )
    zhang = segment_world.people["张一"]
    type(zhang).objects.for_org(segment_world.org).filter(pk=zhang.pk).update(
        last_visit_at=timezone.now() - dt.timedelta(days=31)
    )

    assert list(segment_customers(segment)) == []
    assert Shop.objects.for_org(segment_world.org).count() == 2
