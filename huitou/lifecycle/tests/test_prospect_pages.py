"""The prospect pages: quick capture through ``prospect_capture`` with its refusals on the fields,
duplicates linked to their files, owners by hand or in turn, the referrer found by search, and the
prospect list with its filters and a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from huitou.customers import errors as customer_errors
from huitou.customers.models import Customer, Stage, Vehicle
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUpTask
from huitou.lifecycle.services.followups import followup_record
from huitou.lifecycle.services.ownership import rotation_set
from huitou.lifecycle.services.prospects import ROUND_ROBIN
from huitou.testing.text import zh
from huitou.web import paging

pytestmark = pytest.mark.django_db

NEW_URL = reverse("lifecycle:prospect_new")
LIST_URL = reverse("lifecycle:prospect_list")
PICK_URL = reverse("lifecycle:referrer_pick")


def capture(**data: Any) -> dict[str, Any]:
    return {"name": "张先生", "phone": "13812345678", "source": "flyer", "owner": "me", **data}


def field_errors(response: Any, name: str) -> list[str]:
    return [escape(e) for e in response.context["form"].errors.get(name, [])]


# --- quick capture ---------------------------------------------------------------------------


def test_the_capture_page_offers_the_organizations_sources_and_the_advisor_as_owner(client_for, advisor):
    response = client_for(advisor).get(NEW_URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="flyer"' in body and "传单" in body  # a default source of the organization
    assert 'name="need"' in body and 'name="plate"' in body and 'name="referrer_q"' in body
    assert response.context["form"]["owner"].value() == "me"
    assert f'value="{ROUND_ROBIN}"' in body


def test_a_prospect_is_captured_with_need_and_car_and_the_file_opens(client_for, advisor):
    client = client_for(advisor)
    response = client.post(
        NEW_URL,
        capture(need="全车贴膜，预算5000，下月提车", plate="粤b 5k2m8", brand="特斯拉", model="Model Y"),
    )
    customer = Customer.objects.for_org(advisor.organization_id).get(name="张先生")
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
    assert (customer.stage, customer.source.code, customer.owner, customer.need) == (
        Stage.PROSPECT,
        "flyer",
        advisor,
        "全车贴膜，预算5000，下月提车",
    )
    vehicle = Vehicle.objects.get(customer=customer)
    assert (vehicle.plate, vehicle.brand, vehicle.model) == ("粤B5K2M8", "特斯拉", "Model Y")
    page = client.get(response["Location"])
    assert "张先生" in [str(m) for m in page.context["messages"]][0]
    assert "全车贴膜" in page.content.decode()


def test_a_wechat_id_alone_is_enough_to_reach_them(client_for, advisor):
    response = client_for(advisor).post(NEW_URL, capture(phone="", wechat="zhang_wx"))
    assert response.status_code == 302
    assert Customer.objects.for_org(advisor.organization_id).get(name="张先生").wechat == "zhang_wx"


def test_the_capture_explains_each_problem_on_its_field_in_chinese(client_for, advisor):
    client = client_for(advisor)

    response = client.post(NEW_URL, capture(name="", source="", phone="12345"))
    assert response.status_code == 200
    assert field_errors(response, "name") == [escape(zh(customer_errors.NAME_REQUIRED))]
    assert field_errors(response, "source") == [escape(zh(customer_errors.SOURCE_INVALID))]
    assert field_errors(response, "phone") == [escape(zh(customer_errors.PHONE_INVALID))]
    body = response.content.decode()
    assert escape(zh(customer_errors.SOURCE_INVALID)) in body and escape(zh(customer_errors.PHONE_INVALID)) in body

    response = client.post(NEW_URL, capture(phone="", wechat=""))
    assert field_errors(response, "phone") == [escape(zh(customer_errors.CONTACT_REQUIRED))]
    assert escape(zh(customer_errors.CONTACT_REQUIRED)) in response.content.decode()

    response = client.post(NEW_URL, capture(plate="ABC"))
    assert field_errors(response, "plate") == [escape(zh(customer_errors.PLATE_INVALID))]
    assert 'value="张先生"' in response.content.decode()  # the input is kept
    assert (
        not Customer.objects.for_org(advisor.organization_id).filter(name="张先生").exists()
    )  # nor half a prospect without the car


def test_a_phone_or_plate_on_file_is_refused_with_a_link_to_that_file(client_for, advisor, make_customer, make_vehicle):
    zhang = make_customer(name="张三", phone="13812345678")
    li = make_customer(name="李四", phone="13900001111")
    make_vehicle(li, plate="粤B12345")
    client = client_for(advisor)

    response = client.post(NEW_URL, capture(name="张先生", plate="粤B12345"))
    body = response.content.decode()
    assert response.status_code == 200
    assert field_errors(response, "phone") == [escape(zh(errors.DUPLICATE_PHONE, name="张三"))]
    assert field_errors(response, "plate") == [escape(zh(errors.DUPLICATE_PLATE, plate="粤B12345", name="李四"))]
    duplicates = body[body.index('class="duplicates"') :]
    assert f'href="{zhang.get_absolute_url()}"' in duplicates and f'href="{li.get_absolute_url()}"' in duplicates
    assert Customer.objects.for_org(advisor.organization_id).filter(name="张先生").count() == 0


def test_a_duplicate_phone_is_linked_even_when_other_fields_are_missing(client_for, advisor, make_customer):
    zhang = make_customer(name="张三", phone="13812345678")
    response = client_for(advisor).post(NEW_URL, capture(source=""))
    body = response.content.decode()
    assert field_errors(response, "source") == [escape(zh(customer_errors.SOURCE_INVALID))]
    assert f'href="{zhang.get_absolute_url()}"' in body[body.index('class="duplicates"') :]


def test_round_robin_through_the_form_gives_prospects_in_turn(client_for, org, advisor, service, owner):
    client = client_for(owner)
    response = client.post(NEW_URL, capture(owner=ROUND_ROBIN))
    assert field_errors(response, "owner") == [escape(zh(errors.ROTATION_EMPTY))]

    rotation_set(organization=org, member_ids=[advisor.pk, service.pk])
    for i in range(3):
        response = client.post(NEW_URL, capture(name=f"轮到{i}", phone=f"1381234000{i}", owner=ROUND_ROBIN))
        assert response.status_code == 302
    owners = [Customer.objects.for_org(org).get(name=f"轮到{i}").owner for i in range(3)]
    assert owners[0] != owners[1] and {owners[0], owners[1]} == {advisor, service}
    assert owners[2] == owners[0]
    # The plan's tasks go to the owner chosen in turn, not to whoever captured.
    assert set(
        FollowUpTask.objects.for_org(org).filter(customer__name="轮到1").values_list("assignee_id", flat=True)
    ) == {owners[1].pk}


def test_another_staff_member_can_be_the_owner_but_not_someone_of_another_organization(
    client_for, advisor, service, outsider
):
    client = client_for(advisor)
    assert client.post(NEW_URL, capture(owner=str(service.pk))).status_code == 302
    assert Customer.objects.for_org(advisor.organization_id).get(name="张先生").owner == service
    response = client.post(NEW_URL, capture(name="王先生", phone="13912345678", owner=str(outsider.pk)))
    assert response.status_code == 200 and "owner" in response.context["form"].errors
    assert not Customer.objects.for_org(advisor.organization_id).filter(name="王先生").exists()


def test_the_referrer_is_found_by_search_and_saved(client_for, advisor, make_customer, make_vehicle):
    old = make_customer(name="欧阳老客", phone="13700001111")
    make_vehicle(old, plate="粤B77777")
    client = client_for(advisor)

    found = client.get(PICK_URL, {"referrer_q": "欧阳"}, headers={"HX-Request": "true"}).content.decode()
    assert "欧阳老客" in found and f'name="referrer" value="{old.pk}"' in found and "粤B77777" in found
    assert "<html" not in found

    response = client.post(NEW_URL, capture(source="referral", referrer=str(old.pk)))
    assert response.status_code == 302
    assert Customer.objects.for_org(advisor.organization_id).get(name="张先生").referrer == old


def test_without_javascript_the_referrer_search_comes_back_with_the_form(client_for, advisor, make_customer):
    old = make_customer(name="欧阳老客", phone="13700001111")
    response = client_for(advisor).post(
        NEW_URL, capture(source="referral", referrer_q="欧阳", find_referrer="1", need="打蜡")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'name="referrer" value="{old.pk}"' in body
    assert 'value="张先生"' in body and "打蜡" in body  # what was typed stays
    assert not response.context["form"].errors  # nothing was checked: only searched
    assert not Customer.objects.for_org(advisor.organization_id).filter(name="张先生").exists()


def test_a_referrer_of_another_organization_is_neither_found_nor_accepted(
    client_for, advisor, make_customer, other_org, outsider
):
    theirs = make_customer(organization=other_org, by=outsider, name="隔壁老客", phone="13700002222")
    client = client_for(advisor)
    found = client.get(PICK_URL, {"referrer_q": "隔壁", "referrer": theirs.pk}).content.decode()
    assert "隔壁老客" not in found
    response = client.post(NEW_URL, capture(referrer=str(theirs.pk)))
    assert response.status_code == 200
    assert escape(zh(customer_errors.REFERRER_INVALID)) in response.content.decode()
    assert "隔壁老客" not in response.content.decode()
    assert not Customer.objects.for_org(advisor.organization_id).filter(name="张先生").exists()


def test_a_technician_may_not_capture(client_for, tech):
    client = client_for(tech)
    assert client.get(NEW_URL).status_code == 403
    assert client.post(NEW_URL, capture()).status_code == 403
    assert client.get(PICK_URL, {"referrer_q": "张"}).status_code == 403
    assert not Customer.objects.for_org(tech.organization_id).filter(name="张先生").exists()


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_prospects_and_intents_with_source_need_grade_and_next_follow_up(
    client_for, advisor, make_customer
):
    prospect = make_customer(name="潜客甲", source="flyer", need="贴膜", phone="13812345678")
    intent = make_customer(name="意向乙", source="wechat")
    followup_record(customer=intent, by=advisor, channel="wechat", content="约了周六", grade="H")
    make_customer(name="老客丙", stage=Stage.CUSTOMER)
    make_customer(name="沉睡丁", stage=Stage.DORMANT)
    FollowUpTask.objects.filter(customer=prospect).update(due_on=timezone.localdate() - dt.timedelta(days=3))

    response = client_for(advisor).get(LIST_URL)
    body = response.content.decode()
    assert [c.name for c, _phone in response.context["rows"]] == ["意向乙", "潜客甲"]
    assert "老客丙" not in body and "沉睡丁" not in body
    assert "13812345678" in body and "传单" in body and "贴膜" in body
    row = body[body.index('data-stage="prospect"') :]
    assert 'class="next-due overdue"' in row[: row.index("</tr>")]
    intent_row = body[body.index('data-stage="intent"') :]
    assert 'data-grade="H"' in body and "grade-H" in intent_row[: intent_row.index("</tr>")]


def test_a_technician_sees_masked_phones_and_no_capture_button(client_for, tech, make_customer):
    make_customer(name="潜客甲", phone="13812345678")
    body = client_for(tech).get(LIST_URL).content.decode()
    assert "138****5678" in body and "13812345678" not in body
    assert f'href="{NEW_URL}"' not in body


def test_advisors_start_with_their_own_prospects_and_the_manager_with_everyones(
    client_for, advisor, service, owner, make_customer
):
    make_customer(name="顾问的", by=advisor)
    make_customer(name="客服的", by=service)

    def names(user: Any, query: dict[str, Any] | None = None) -> list[str]:
        response = client_for(user).get(LIST_URL, query or {})
        return sorted(c.name for c, _phone in response.context["rows"])

    assert names(advisor) == ["顾问的"]
    assert names(advisor, {"owner": ""}) == ["客服的", "顾问的"]
    assert names(advisor, {"owner": service.pk}) == ["客服的"]
    assert names(owner) == ["客服的", "顾问的"]


def test_the_list_filters_by_stage_source_and_grade(client_for, owner, advisor, make_customer):
    a = make_customer(name="传单甲", source="flyer")
    b = make_customer(name="微信乙", source="wechat")
    make_customer(name="传单丙", source="flyer")
    followup_record(customer=a, by=advisor, channel="phone", content="想做保养", grade="A")
    followup_record(customer=b, by=advisor, channel="phone", content="再看看", grade="C")
    client = client_for(owner)

    def names(**query: Any) -> list[str]:
        return sorted(c.name for c, _phone in client.get(LIST_URL, query).context["rows"])

    assert names(stage="intent") == ["传单甲", "微信乙"]
    assert names(stage="prospect") == ["传单丙"]
    assert names(source="flyer") == ["传单丙", "传单甲"]
    assert names(grade="A") == ["传单甲"]
    assert names(source="flyer", stage="intent") == ["传单甲"]
    assert names(stage="customer") == ["传单丙", "传单甲", "微信乙"]  # not a prospect stage: ignored


def test_past_the_count_cap_the_list_says_more_than(client_for, owner, make_customer, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    for i in range(5):
        make_customer(name=f"潜客{i}")
    body = client_for(owner).get(LIST_URL).content.decode()
    assert zh("More than %(n)s prospects", n="3") in body
    assert all(f"潜客{i}" in body for i in range(5))

    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    body = client_for(owner).get(LIST_URL).content.decode()
    assert "More than" not in body and zh("More than %(n)s prospects", n="5") not in body


def test_the_htmx_request_gets_only_the_results(client_for, owner, make_customer):
    make_customer(name="潜客甲")
    body = client_for(owner).get(LIST_URL, headers={"HX-Request": "true"}).content.decode()
    assert "潜客甲" in body and "<html" not in body


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_list_runs_the_same_queries_for_5_or_40_prospects(
    client_for, owner, advisor, make_customer, django_assert_num_queries
):
    for i in range(5):
        make_customer(name=f"潜客{i}", source="flyer", need="贴膜")
    client = client_for(owner)
    few = _queries(client, LIST_URL)
    for i in range(5, 40):
        customer = make_customer(name=f"潜客{i}", source="wechat" if i % 2 else "flyer", need="镀晶")
        if i % 3 == 0:
            followup_record(customer=customer, by=advisor, channel="phone", content="有意向", grade="B")

    # 1 session, 2 user + organization, 3 count, 4 the page of prospects with owner,
    # source and the next open task's day, 5 sources for the filter, 6 the user's
    # shops (shop switcher), 7 staff for the filter.
    with django_assert_num_queries(7):
        response = client.get(LIST_URL)
    assert response.context["page"].paginator.count == 40
    assert len(response.context["rows"]) == 20
    assert _queries(client, LIST_URL) == few
    assert len(client.get(LIST_URL, {"page": 2}).context["rows"]) == 20
