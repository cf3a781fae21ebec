"""/api/v1/customers: search, register, read, change, delete, consent, household, history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from huitou.analytics.models import ChurnRisk, RfmSegment
from huitou.api.tests.conftest import ApiClient
from huitou.audit.models import ChangeEntry
from huitou.customers import errors
from huitou.customers.models import ConsentRecord, Customer, Stage, Vehicle
from huitou.tenancy.models import Organization, User

Make = Callable[..., Any]


@pytest.fixture
def api(advisor: User, api_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_for(advisor)


# --- list and search ------------------------------------------------------------------------


def test_it_lists_customers_newest_first_with_a_count(api: ApiClient, make_customer: Make) -> None:
    first = make_customer(name="张三")
    second = make_customer(name="李四")

    r = api.get("/api/v1/customers")

    assert r.status_code == 200
    doc = r.json()
    assert doc["count"] == 2
    assert [c["id"] for c in doc["items"]] == [second.pk, first.pk]
    assert doc["items"][1]["name"] == "张三"


def test_it_paginates(api: ApiClient, make_customer: Make) -> None:
    made = [make_customer() for _ in range(5)]
    newest_first = [c.pk for c in reversed(made)]

    page1 = api.get("/api/v1/customers?page_size=2").json()
    page3 = api.get("/api/v1/customers?page_size=2&page=3").json()
    beyond = api.get("/api/v1/customers?page_size=2&page=9").json()

    assert page1["count"] == page3["count"] == beyond["count"] == 5
    assert [c["id"] for c in page1["items"]] == newest_first[:2]
    assert [c["id"] for c in page3["items"]] == newest_first[4:]
    assert beyond["items"] == []


def test_the_default_page_holds_twenty(api: ApiClient, make_customer: Make) -> None:
    for _ in range(21):
        make_customer()

    doc = api.get("/api/v1/customers").json()

    assert doc["count"] == 21
    assert len(doc["items"]) == 20
    assert len(api.get("/api/v1/customers?page=2").json()["items"]) == 1


def test_it_refuses_a_page_number_below_one(api: ApiClient) -> None:
    r = api.get("/api/v1/customers?page=0")
    assert r.status_code == 422
    assert "page" in r.json()["errors"]


@pytest.mark.parametrize("q", ["zhangsan", "zs", "张三", "张", "13812341234", "1234", "B12345", "粤B12345", "b123"])
def test_it_finds_a_customer_by_each_search_key(
    api: ApiClient, make_customer: Make, make_vehicle: Make, q: str
) -> None:
    zhang = make_customer(name="张三", phone="13812341234")
    make_vehicle(zhang, plate="粤B12345")
    make_customer(name="李四", phone="13900005678")

    doc = api.get("/api/v1/customers", {"q": q}).json()

    assert [c["name"] for c in doc["items"]] == ["张三"], q
    assert doc["count"] == 1


def test_it_finds_a_customer_by_vin_suffix(api: ApiClient, make_customer: Make, make_vehicle: Make) -> None:
    zhang = make_customer(name="张三")
    make_vehicle(zhang, vin="LSVAM4187C2184847")

    assert [c["name"] for c in api.get("/api/v1/customers?q=184847").json()["items"]] == ["张三"]


def test_it_filters_by_stage_and_tag(api: ApiClient, make_customer: Make) -> None:
    make_customer(name="张三", stage=Stage.MEMBER, tags=["VIP", "洗车"])
    make_customer(name="李四", stage=Stage.MEMBER, tags=["洗车"])
    make_customer(name="王五", stage=Stage.PROSPECT, tags=["VIP"])

    def names(**params: str) -> list[str]:
        return sorted(c["name"] for c in api.get("/api/v1/customers", params).json()["items"])

    assert names(stage="member") == ["张三", "李四"]
    assert names(tag="VIP") == ["张三", "王五"]
    assert names(stage="member", tag="VIP") == ["张三"]
    assert names(tag="没有") == []


def test_it_filters_by_owner(api: ApiClient, make_customer: Make, owner: User) -> None:
    make_customer(name="张三", owner=owner.pk)
    make_customer(name="李四")

    assert [c["name"] for c in api.get(f"/api/v1/customers?owner={owner.pk}").json()["items"]] == ["张三"]


def test_it_never_lists_deleted_customers_or_another_organizations(
    api: ApiClient, make_customer: Make, other_org: Organization, outsider: User
) -> None:
    make_customer(name="张三")
    api.delete(f"/api/v1/customers/{make_customer(name='已删除').pk}")
    make_customer(organization=other_org, by=outsider, name="隔壁客户")

    doc = api.get("/api/v1/customers").json()

    assert [c["name"] for c in doc["items"]] == ["张三"]
    assert doc["count"] == 1
    assert api.get("/api/v1/customers?q=隔壁").json() == {"items": [], "count": 0, "page": 1, "page_size": 20}


def test_the_list_runs_the_same_queries_for_2_or_30_customers(
    api: ApiClient, make_customer: Make, django_assert_num_queries: Any
) -> None:
    def fill(n: int) -> None:
        for i in range(n):
            make_customer(tags=["VIP", f"标签{i}", f"批次{n}"], source="walk_in")

    api.get("/api/v1/customers")  # the token's first use also stamps last_used_at
    for n in (2, 28):
        fill(n)
        # 1 token with its user and organization, 2 the page with owner, source and tag names, 3 count
        with django_assert_num_queries(3):
            r = api.get("/api/v1/customers")
        assert len(r.json()["items"]) == min(20, r.json()["count"])
        assert all({"VIP", f"批次{n}"} <= set(c["tags"]) for c in r.json()["items"] if len(c["tags"]) == 3)
        # a search: 1 token, 2 the page with its count, the matching vehicles' customers among them
        with django_assert_num_queries(2):
            api.get("/api/v1/customers?q=B1")


def test_a_searched_page_shows_each_customer_as_the_file_does(
    api: ApiClient, make_customer: Make, make_score: Callable[..., Any], django_assert_num_queries: Any
) -> None:
    # The list leaves out columns it never shows (selectors.LIST_UNREAD): what it shows is the whole answer.
    for i in range(25):
        customer = make_customer(name=f"张{i:02d}", tags=["VIP"] if i % 2 else [], source="walk_in", notes=f"第{i}位")
        if i % 3:  # scored: RFM, a grade (some set by hand), churn risk
            make_score(
                customer,
                r=i % 5 + 1,
                m=3,
                segment=RfmSegment.values[i % len(RfmSegment.values)],
                grade_override="A" if i % 2 else "",
                grade_reason="车队" if i % 2 else "",
                churn_risk=ChurnRisk.HIGH if i % 4 == 1 else "",
                visit_days=i,
            )
    api.get("/api/v1/customers")  # the token's first use also stamps last_used_at
    # 1 token, 2 the page with its count (no column read again, row by row)
    with django_assert_num_queries(2):
        doc = api.get("/api/v1/customers?q=张").json()
    assert doc["count"] == 25 and len(doc["items"]) == 20
    assert {item["grade"] for item in doc["items"]} == {None, "A", "B"}
    assert any(item["churn_risk"] for item in doc["items"]) and any(item["rfm"] for item in doc["items"])
    for item in doc["items"]:
        assert item == api.get(f"/api/v1/customers/{item['id']}").json()


# --- register -------------------------------------------------------------------------------


def test_it_registers_a_customer_owned_by_the_caller(api: ApiClient, advisor: User) -> None:
    r = api.post_json(
        "/api/v1/customers",
        {"name": " 张三 ", "phone": "+86 138-1234-1234", "tags": ["VIP"], "source": "walk_in", "gender": "male"},
    )

    assert r.status_code == 201
    doc = r.json()
    assert doc["name"] == "张三"
    assert doc["phone"] == "13812341234"
    assert doc["owner"] == {"id": advisor.pk, "username": "advisor", "name": "李顾问"}
    assert doc["tags"] == ["VIP"]
    assert doc["source"] == "walk_in"
    assert doc["stage"] == "prospect"
    customer = Customer.objects.for_org(advisor.organization_id).get(pk=doc["id"])
    assert customer.phone == "+8613812341234"
    assert customer.organization_id == advisor.organization_id
    assert customer.created_by == advisor
    assert (
        ChangeEntry.objects.for_org(advisor.organization_id).get(subject_id=customer.pk).action
        == ChangeEntry.Action.CREATED
    )


def test_it_registers_a_customer_for_another_owner_of_the_organization(api: ApiClient, owner: User) -> None:
    r = api.post_json("/api/v1/customers", {"name": "张三", "phone": "13812341234", "owner": owner.pk})
    assert r.status_code == 201
    assert r.json()["owner"]["id"] == owner.pk


def test_it_refuses_an_owner_from_another_organization(api: ApiClient, outsider: User) -> None:
    r = api.post_json("/api/v1/customers", {"name": "张三", "phone": "13812341234", "owner": outsider.pk})
    assert r.status_code == 422
    assert r.json()["errors"] == {"owner": [str(errors.OWNER_INVALID)]}


def test_it_records_consent_given_on_registration(api: ApiClient, org: Organization) -> None:
    r = api.post_json(
        "/api/v1/customers",
        {"name": "张三", "phone": "13812341234", "consents": {"sms": True}, "consent_purpose": "保养提醒"},
    )
    assert r.status_code == 201
    assert r.json()["consents"] == {"sms": True, "wechat": False, "phone": False, "email": False}
    record = ConsentRecord.objects.for_org(org).get()
    assert (record.channel, record.granted, record.method, record.purpose) == ("sms", True, "verbal", "保养提醒")


def test_consent_on_registration_needs_a_purpose(api: ApiClient, org: Organization) -> None:
    r = api.post_json("/api/v1/customers", {"name": "张三", "phone": "13812341234", "consents": {"sms": True}})
    assert r.status_code == 422
    assert "consent_purpose" in r.json()["errors"]
    assert not Customer.objects.for_org(org).exists()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": "  ", "phone": "13812341234"}, "name", errors.NAME_REQUIRED),
        ({"name": "张三", "phone": "12345"}, "phone", errors.PHONE_INVALID),
        ({"name": "张三", "email": "not-an-email"}, "email", errors.EMAIL_INVALID),
        ({"name": "张三", "phone": "13812341234", "stage": "member"}, "stage", errors.STAGE_NOT_HERE),
        ({"name": "张三", "source": "nowhere"}, "source", errors.SOURCE_INVALID),
        ({"name": "张三", "birth_month": 2, "birth_day": 30}, "birth_day", errors.BIRTHDAY_INVALID),
    ],
)
def test_it_refuses_invalid_fields_with_a_message_on_the_field(
    api: ApiClient, payload: dict[str, Any], field: str, message: Any, org: Organization
) -> None:
    r = api.post_json("/api/v1/customers", payload)

    assert r.status_code == 422
    doc = r.json()
    assert doc["errors"][field] == [str(message)]
    assert doc["detail"]
    assert not Customer.objects.for_org(org).exists()


def test_it_refuses_a_phone_already_on_file(api: ApiClient, make_customer: Make) -> None:
    make_customer(phone="13812341234")

    r = api.post_json("/api/v1/customers", {"name": "张三", "phone": "138 1234 1234"})

    assert r.status_code == 422
    assert r.json()["errors"] == {"phone": [str(errors.PHONE_TAKEN)]}


def test_a_phone_of_another_organizations_customer_is_free(
    api: ApiClient, make_customer: Make, other_org: Organization, outsider: User
) -> None:
    make_customer(organization=other_org, by=outsider, phone="13812341234")

    assert api.post_json("/api/v1/customers", {"name": "张三", "phone": "13812341234"}).status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": "张三", "birth_year": "nineteen"}, "birth_year"),
        ({"name": "张三", "tags": "VIP"}, "tags"),
        ({"name": "张三", "owner": "boss"}, "owner"),
        ({"name": ["张三"]}, "name"),
    ],
)
def test_it_refuses_wrong_types_with_per_field_messages(api: ApiClient, payload: dict[str, Any], field: str) -> None:
    r = api.post_json("/api/v1/customers", payload)

    assert r.status_code == 422
    doc = r.json()
    assert set(doc) == {"detail", "errors"}
    assert list(doc["errors"]) == [field]
    assert all(isinstance(m, str) and m for m in doc["errors"][field])


def test_it_answers_400_to_a_body_that_is_not_json(api: ApiClient) -> None:
    r = api.post("/api/v1/customers", "{name: 张三", content_type="application/json")
    assert r.status_code == 400
    assert "detail" in r.json()


# --- read -----------------------------------------------------------------------------------


def test_it_reads_a_customer_file(api: ApiClient, make_customer: Make) -> None:
    customer = make_customer(name="张三", phone="13812341234", tags=["洗车", "VIP"], occupation="教师")

    r = api.get(f"/api/v1/customers/{customer.pk}")

    assert r.status_code == 200
    doc = r.json()
    assert doc["id"] == customer.pk
    assert doc["phone"] == "13812341234"
    assert doc["tags"] == ["VIP", "洗车"]
    assert doc["occupation"] == "教师"
    assert doc["completeness"] == customer.completeness > 0


@pytest.mark.parametrize("path", ["", "/vehicles", "/history"])
def test_unknown_ids_are_404(api: ApiClient, path: str) -> None:
    r = api.get(f"/api/v1/customers/999999{path}")
    assert r.status_code == 404
    assert set(r.json()) == {"detail"}


def test_the_detail_runs_the_same_queries_whatever_the_tags(
    api: ApiClient, make_customer: Make, django_assert_num_queries: Any
) -> None:
    few = make_customer(tags=["VIP"])
    many = make_customer(tags=[f"标签{i}" for i in range(15)], source="walk_in")
    api.get("/api/v1/customers")  # the token's first use also stamps last_used_at

    for customer, tags in ((few, ["VIP"]), (many, sorted(f"标签{i}" for i in range(15)))):
        # 1 token with its user and organization, 2 customer with owner, source and its tag names
        with django_assert_num_queries(2):
            r = api.get(f"/api/v1/customers/{customer.pk}")
        assert r.status_code == 200
        assert r.json()["tags"] == tags


# --- change ---------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields_and_records_them(
    api: ApiClient, advisor: User, make_customer: Make
) -> None:
    customer = make_customer(name="张三", phone="13812341234", tags=["VIP"], occupation="教师")

    # The stage is not among the fields: it changes through /customers/{id}/stage (test_lifecycle_api).
    r = api.patch_json(f"/api/v1/customers/{customer.pk}", {"occupation": "医生"})

    assert r.status_code == 200
    doc = r.json()
    assert (doc["occupation"], doc["stage"]) == ("医生", "prospect")
    assert (doc["name"], doc["phone"], doc["tags"]) == ("张三", "13812341234", ["VIP"])
    entry = (
        ChangeEntry.objects.for_org(advisor.organization_id)
        .filter(subject_id=customer.pk, action=ChangeEntry.Action.UPDATED)
        .get()
    )
    assert entry.changes == {"occupation": ["教师", "医生"]}
    assert entry.actor == advisor


def test_patch_replaces_the_tags(api: ApiClient, make_customer: Make, org: Organization) -> None:
    customer = make_customer(tags=["VIP", "洗车"])

    doc = api.patch_json(f"/api/v1/customers/{customer.pk}", {"tags": ["VIP", "保养"]}).json()

    assert doc["tags"] == ["VIP", "保养"]
    entry = ChangeEntry.objects.for_org(org).get(subject_id=customer.pk, action=ChangeEntry.Action.UPDATED)
    assert entry.changes == {"tags": [["VIP", "洗车"], ["VIP", "保养"]]}


def test_patch_with_nothing_new_records_nothing(api: ApiClient, make_customer: Make, org: Organization) -> None:
    customer = make_customer(name="张三")

    assert api.patch_json(f"/api/v1/customers/{customer.pk}", {"name": "张三"}).status_code == 200
    assert api.patch_json(f"/api/v1/customers/{customer.pk}", {}).status_code == 200
    assert not ChangeEntry.objects.for_org(org).filter(action=ChangeEntry.Action.UPDATED).exists()


def test_patch_refuses_invalid_values_and_changes_nothing(api: ApiClient, make_customer: Make) -> None:
    customer = make_customer(name="张三", phone="13812341234")

    r = api.patch_json(f"/api/v1/customers/{customer.pk}", {"name": "", "phone": "abc", "occupation": "医生"})

    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"name", "phone"}
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.occupation) == ("张三", "+8613812341234", "")


def test_patch_can_hand_the_customer_to_another_owner(api: ApiClient, make_customer: Make, owner: User) -> None:
    customer = make_customer()

    assert api.patch_json(f"/api/v1/customers/{customer.pk}", {"owner": owner.pk}).json()["owner"]["id"] == owner.pk
    assert (
        ChangeEntry.objects.for_org(owner.organization_id)
        .filter(subject_id=customer.pk, action=ChangeEntry.Action.OWNER_CHANGED)
        .exists()
    )


# --- delete ---------------------------------------------------------------------------------


def test_delete_is_soft(api: ApiClient, advisor: User, make_customer: Make, make_vehicle: Make) -> None:
    customer = make_customer(name="张三")
    vehicle = make_vehicle(customer)

    r = api.delete(f"/api/v1/customers/{customer.pk}")

    assert r.status_code == 204
    assert r.content == b""
    customer.refresh_from_db()
    assert customer.deleted_at is not None
    assert customer.deleted_by == advisor
    assert customer.name == "张三"
    assert Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk).deleted_at is not None
    assert api.get(f"/api/v1/customers/{customer.pk}").status_code == 404
    assert api.get(f"/api/v1/vehicles/{vehicle.pk}").status_code == 404
    assert api.get("/api/v1/customers").json()["count"] == 0
    assert api.delete(f"/api/v1/customers/{customer.pk}").status_code == 404
    assert (
        ChangeEntry.objects.for_org(advisor.organization_id)
        .filter(subject_id=customer.pk, action=ChangeEntry.Action.DELETED)
        .exists()
    )


def test_a_deleted_customers_phone_can_be_registered_again(api: ApiClient, make_customer: Make) -> None:
    customer = make_customer(phone="13812341234")
    api.delete(f"/api/v1/customers/{customer.pk}")

    assert api.post_json("/api/v1/customers", {"name": "张三", "phone": "13812341234"}).status_code == 201


# --- roles ----------------------------------------------------------------------------------


def test_a_technician_sees_phones_masked_in_list_detail_and_history(
    tech: User, api_for: Callable[[User], ApiClient], make_customer: Make
) -> None:
    customer = make_customer(name="张三", phone="13812341234")
    api = api_for(tech)

    listed = api.get("/api/v1/customers").json()["items"][0]
    detail = api.get(f"/api/v1/customers/{customer.pk}").json()
    history = api.get(f"/api/v1/customers/{customer.pk}/history").content.decode()

    assert listed["phone"] == detail["phone"] == "138****1234"
    assert "13812341234" not in history and "****1234" in history


def test_phone_changes_in_the_history_are_masked_for_technicians(
    api: ApiClient, tech: User, api_for: Callable[[User], ApiClient], make_customer: Make
) -> None:
    customer = make_customer(phone="13812341234")
    api.patch_json(f"/api/v1/customers/{customer.pk}", {"phone": "13900009999"})

    entries = api_for(tech).get(f"/api/v1/customers/{customer.pk}/history").json()

    update = next(e for e in entries if e["action"] == "updated")
    assert update["changes"]["phone"] == ["138****1234", "139****9999"]
    assert "+8613900009999" in api.get(f"/api/v1/customers/{customer.pk}/history").content.decode()


@pytest.mark.parametrize("role", ["owner", "advisor", "service"])
def test_front_desk_roles_see_the_full_phone(
    role: str, request: pytest.FixtureRequest, api_for: Callable[[User], ApiClient], make_customer: Make
) -> None:
    customer = make_customer(phone="13812341234")
    api = api_for(request.getfixturevalue(role))

    assert api.get("/api/v1/customers").json()["items"][0]["phone"] == "13812341234"
    assert api.get(f"/api/v1/customers/{customer.pk}").json()["phone"] == "13812341234"


def test_a_technician_cannot_register_change_or_delete_customers(
    tech: User, api_for: Callable[[User], ApiClient], make_customer: Make
) -> None:
    customer = make_customer(name="张三")
    api = api_for(tech)

    responses = [
        api.post_json("/api/v1/customers", {"name": "李四", "phone": "13900001111"}),
        api.patch_json(f"/api/v1/customers/{customer.pk}", {"name": "李四"}),
        api.delete(f"/api/v1/customers/{customer.pk}"),
        api.post_json(
            f"/api/v1/customers/{customer.pk}/consents",
            {"channel": "sms", "granted": True, "method": "verbal", "purpose": "x"},
        ),
        api.delete(f"/api/v1/customers/{customer.pk}/household"),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert all(set(r.json()) == {"detail"} for r in responses)
    customer.refresh_from_db()
    assert (customer.name, customer.deleted_at) == ("张三", None)
    assert Customer.objects.for_org(tech.organization_id).count() == 1


def test_customer_service_may_edit_but_not_delete(
    service: User, api_for: Callable[[User], ApiClient], make_customer: Make
) -> None:
    customer = make_customer()
    api = api_for(service)

    assert api.patch_json(f"/api/v1/customers/{customer.pk}", {"notes": "喜欢下午来"}).status_code == 200
    assert api.delete(f"/api/v1/customers/{customer.pk}").status_code == 403


# --- consent, household, history ------------------------------------------------------------


def test_consent_is_recorded_with_how_and_why(api: ApiClient, advisor: User, make_customer: Make) -> None:
    customer = make_customer()
    url = f"/api/v1/customers/{customer.pk}/consents"

    given = api.post_json(url, {"channel": "wechat", "granted": True, "method": "paper_form", "purpose": "活动通知"})
    withdrawn = api.post_json(url, {"channel": "wechat", "granted": False, "method": "phone", "purpose": "不想被打扰"})

    assert given.status_code == withdrawn.status_code == 200
    assert given.json()["consents"]["wechat"] is True
    assert withdrawn.json()["consents"]["wechat"] is False
    records = list(ConsentRecord.objects.filter(customer=customer).order_by("pk"))
    assert [(r.granted, r.method, r.purpose, r.recorded_by) for r in records] == [
        (True, "paper_form", "活动通知", advisor),
        (False, "phone", "不想被打扰", advisor),
    ]


def test_consent_refuses_unknown_channels_and_a_missing_purpose(
    api: ApiClient, make_customer: Make, org: Organization
) -> None:
    customer = make_customer()

    r = api.post_json(
        f"/api/v1/customers/{customer.pk}/consents",
        {"channel": "fax", "granted": True, "method": "telepathy", "purpose": " "},
    )

    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"channel", "method", "purpose"}
    assert not ConsentRecord.objects.for_org(org).exists()


def test_family_members_share_a_household(api: ApiClient, make_customer: Make) -> None:
    dad, mum, son = make_customer(name="张父"), make_customer(name="张母"), make_customer(name="张子")

    linked = api.post_json(f"/api/v1/customers/{dad.pk}/household", {"other_id": mum.pk}).json()
    api.post_json(f"/api/v1/customers/{son.pk}/household", {"other_id": dad.pk})

    household = linked["household_id"]
    assert household is not None
    assert {api.get(f"/api/v1/customers/{c.pk}").json()["household_id"] for c in (dad, mum, son)} == {household}

    left = api.delete(f"/api/v1/customers/{son.pk}/household")
    assert left.status_code == 200
    assert left.json()["household_id"] is None
    assert api.get(f"/api/v1/customers/{dad.pk}").json()["household_id"] == household


def test_a_household_refuses_the_customer_itself_and_foreign_customers(
    api: ApiClient, make_customer: Make, other_org: Organization, outsider: User
) -> None:
    customer = make_customer()
    foreign = make_customer(organization=other_org, by=outsider)
    url = f"/api/v1/customers/{customer.pk}/household"

    itself = api.post_json(url, {"other_id": customer.pk})
    other = api.post_json(url, {"other_id": foreign.pk})

    assert itself.status_code == 422
    assert itself.json()["errors"] == {"other": [str(errors.HOUSEHOLD_SELF)]}
    assert other.status_code == 404
    customer.refresh_from_db()
    assert customer.household_id is None


def test_the_history_tells_who_changed_what_newest_first(
    api: ApiClient, owner: User, api_for: Callable[[User], ApiClient], make_customer: Make, make_vehicle: Make
) -> None:
    customer = make_customer(name="张三")
    vehicle = make_vehicle(customer, plate="粤B12345")
    api_for(owner).patch_json(f"/api/v1/customers/{customer.pk}", {"name": "张叁"})

    r = api.get(f"/api/v1/customers/{customer.pk}/history")

    assert r.status_code == 200
    entries = r.json()
    assert [(e["subject_type"], e["action"], e["actor"]) for e in entries] == [
        ("customer", "updated", "owner"),
        ("vehicle", "created", "advisor"),
        ("customer", "created", "advisor"),
    ]
    assert entries[0]["changes"] == {"name": ["张三", "张叁"]}
    assert entries[1]["subject_id"] == vehicle.pk
    assert entries[1]["changes"]["plate"] == [None, "粤B12345"]


def test_a_customer_is_registered_and_changed_with_a_need_and_a_referrer(api: ApiClient, org, advisor) -> None:
    referrer = api.post_json("/api/v1/customers", {"name": "王老客", "phone": "13812340001"}).json()
    r = api.post_json(
        "/api/v1/customers",
        {"name": "张三", "phone": "13812340002", "need": "四轮定位", "referrer_id": referrer["id"]},
    )
    assert r.status_code == 201
    assert (r.json()["need"], r.json()["referrer_id"]) == ("四轮定位", referrer["id"])
    r = api.patch_json(f"/api/v1/customers/{r.json()['id']}", {"referrer_id": 999999})
    assert r.status_code == 422
    assert r.json()["errors"]["referrer_id"] == [str(errors.REFERRER_INVALID)]
