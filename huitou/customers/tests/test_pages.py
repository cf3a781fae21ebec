"""The customer pages: forms explain refusals, lists paginate, query counts stay bounded."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from huitou.analytics.models import ChurnRisk, RfmSegment
from huitou.customers import errors
from huitou.customers.models import Customer, Vehicle
from huitou.customers.services import household_link, mileage_record
from huitou.testing.text import zh
from huitou.web import paging

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_file_page_runs_the_same_queries_for_one_vehicle_or_many(
    client_for, advisor, make_customer, make_vehicle, django_assert_num_queries
):
    small = make_customer(name="少车")
    make_vehicle(small, mileage_km=1000)
    big = make_customer(name="多车", tags=["车队", "VIP", "老客户"])
    for _ in range(6):
        vehicle = make_vehicle(big, mileage_km=1000)
        for km in range(2000, 12000, 1000):
            mileage_record(vehicle=vehicle, km=km, by=advisor)
    household_link(customer=big, other=small, by=advisor)
    client = client_for(advisor)

    # 1 session, 2 user + organization, 3 customer + owner/source/creator/household
    # and its tag names, 4 vehicles, 5 readings, 6 household members,
    # 7 the last orders + vehicles, 8 the vehicles' next maintenance + services
    # (care), 9 history, 10 consent records, 11 declined
    # recommendations + vehicles; the lifecycle panel: 12 stage history + who
    # moved it, 13 open follow-up tasks + assignees, 14 the latest follow-ups +
    # staff; the member panel (not a member): 15 account, 16 tiers, 17 package cards,
    # 18 coupons, 19 referees, 20 referral rewards; 21 the user's shops (shop switcher).
    # (With 300 orders: huitou/service/tests/test_order_pages.py.)
    with django_assert_num_queries(21):
        response = client.get(reverse("customers:detail", args=[big.pk]))
    assert response.status_code == 200
    assert response.context["tags"] == ["VIP", "老客户", "车队"]  # by name, read with the customer
    assert _queries(client, reverse("customers:detail", args=[small.pk])) == _queries(
        client, reverse("customers:detail", args=[big.pk])
    )
    assert "多车" in response.content.decode()


def test_the_list_runs_a_bounded_number_of_queries_and_paginates(
    client_for, advisor, make_customer, make_vehicle, django_assert_num_queries
):
    for i in range(45):
        customer = make_customer(name=f"王{i}", tags=["VIP", f"标签{i % 3}"])
        make_vehicle(customer)
    client = client_for(advisor)
    # 1 session, 2 user + organization, 3 count, 4 page of customers with owner,
    # source and tag names, 5 plates of the page, 6 the user's shops (filter and
    # switcher), 7 tags for the filter, 8 staff for the filter.
    with django_assert_num_queries(8):
        response = client.get(reverse("customers:list"))
    body = response.content.decode()
    assert response.context["page"].paginator.count == 45
    assert len(response.context["rows"]) == 20
    assert "王44" in body and "王0<" not in body
    second = client.get(reverse("customers:list") + "?page=3")
    assert len(second.context["rows"]) == 5


def test_a_searched_list_of_scored_customers_runs_a_bounded_number_of_queries(
    client_for, advisor, make_customer, make_vehicle, make_score, django_assert_num_queries
):
    # The list leaves out columns it never shows (selectors.LIST_UNREAD): showing grades, segments and
    # churn risk reads none of them again.
    for i in range(25):
        customer = make_customer(name=f"王{i:02d}", tags=["VIP"])
        make_vehicle(customer)
        make_score(customer, grade_override="A" if i % 2 else "", visit_days=i)
    client = client_for(advisor)
    client.get(reverse("customers:list") + "?q=王")
    # 1 session, 2 user + organization, 3 the count (the paginator asks first), 4 the page of customers
    # with owner, source, score and tag names, 5 plates of the page, 6 staff for the filter, 7 the user's
    # shops, 8 tags for the filter: nothing per row.
    with django_assert_num_queries(8):
        response = client.get(reverse("customers:list") + "?q=王")
    rows = response.context["rows"]
    assert len(rows) == 20 and response.context["page"].paginator.count == 25
    body = response.content.decode()
    assert zh(ChurnRisk.HIGH.label) in body and zh(RfmSegment.IMPORTANT_VALUE.label) in body and "王00" in body


def test_a_list_longer_than_the_count_cap_says_more_than_and_still_pages(
    client_for, advisor, make_customer, make_vehicle, monkeypatch
):
    monkeypatch.setattr(paging, "COUNT_CAP", 25)
    for i in range(45):
        make_vehicle(make_customer(name=f"王{i}", tags=["VIP"]), plate=f"粤B{i:05d}")
    client = client_for(advisor)

    body = client.get(reverse("customers:list")).content.decode()

    assert zh("More than %(n)s customers", n="25") in body
    assert "王44" in body and "粤B00044" in body and "VIP" in body
    second = [c.name for c, _phone in client.get(reverse("customers:list") + "?page=2").context["rows"]]
    assert second == [f"王{i}" for i in range(24, 4, -1)]  # whole pages past the cap, as far as it counted


def test_the_search_box_finds_by_initials_and_the_htmx_request_gets_only_the_results(
    client_for, advisor, make_customer
):
    make_customer(name="张三丰")
    make_customer(name="李四")
    client = client_for(advisor)
    response = client.get(reverse("customers:list") + "?q=zsf", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "张三丰" in body and "李四" not in body
    assert "<html" not in body


def test_the_create_form_explains_a_bad_phone_on_the_field_and_keeps_the_input(client_for, advisor):
    client = client_for(advisor)
    response = client.post(
        reverse("customers:new"),
        {"name": "赵六", "phone": "12345", "birthday_calendar": "solar", "owner": advisor.pk},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["phone"] == [str(errors.PHONE_INVALID)]
    assert 'value="赵六"' in response.content.decode()
    assert not Customer.objects.for_org(advisor.organization_id).filter(name="赵六").exists()


def test_the_create_form_registers_a_customer_with_consent_and_opens_the_file(client_for, advisor):
    client = client_for(advisor)
    response = client.post(
        reverse("customers:new"),
        {
            "name": "赵六",
            "phone": "139 1234 5678",
            "birthday_calendar": "lunar",
            "birth_month": "8",
            "birth_day": "15",
            "owner": advisor.pk,
            "source": "walk_in",
            "need": "想做全车镀晶，预算三千",
            "tags": "VIP，传播型",
            "consents": ["sms", "wechat"],
            "consent_method": "paper_form",
            "consent_purpose": "保养提醒",
        },
    )
    customer = Customer.objects.for_org(advisor.organization_id).get(name="赵六")
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
    assert customer.phone == "+8613912345678"
    assert (customer.stage, customer.need) == ("prospect", "想做全车镀晶，预算三千")
    assert customer.consent_sms and customer.consent_wechat and not customer.consent_email
    assert sorted(customer.tag_links.values_list("tag__name", flat=True)) == ["VIP", "传播型"]


def test_the_edit_form_changes_the_need_but_leaves_the_stage_to_the_lifecycle_panel(client_for, advisor, make_customer):
    customer = make_customer(name="赵六", stage="intent")
    client = client_for(advisor)
    url = reverse("customers:edit", args=[customer.pk])
    body = client.get(url).content.decode()
    assert 'name="need"' in body and 'name="stage"' not in body
    response = client.post(
        url,
        {
            "name": "赵六",
            "phone": customer.phone_display,
            "birthday_calendar": "solar",
            "owner": advisor.pk,
            "need": "下月换四条轮胎",
            "stage": "member",  # not a field of the form: ignored
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.need, customer.stage) == ("下月换四条轮胎", "intent")


def test_the_vehicle_form_asks_to_confirm_a_vin_whose_check_digit_fails(client_for, advisor, make_customer):
    customer = make_customer()
    client = client_for(advisor)
    url = reverse("customers:vehicle_new", args=[customer.pk])
    data = {"plate": "粤b 12345", "vin": "LFV2A21K0A3043956"}
    response = client.post(url, data)
    assert response.context["form"].errors["vin"] == [str(errors.VIN_CHECK_FAILED)]
    assert 'name="vin_confirmed"' in response.content.decode()
    response = client.post(url, {**data, "vin_confirmed": "on"})
    assert response.status_code == 302
    vehicle = Vehicle.objects.get(customer=customer)
    assert vehicle.plate == "粤B12345" and vehicle.vin_check_failed


def test_a_lower_mileage_is_refused_with_the_reason(client_for, advisor, make_customer, make_vehicle):
    vehicle = make_vehicle(make_customer(), mileage_km=50_000)
    client = client_for(advisor)
    response = client.post(reverse("customers:mileage_add", args=[vehicle.pk]), {"km": "40000"}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("40000" in m and "50000" in m for m in messages)
    vehicle.refresh_from_db()
    assert vehicle.mileage_km == 50_000


def test_a_technician_sees_masked_phones_and_no_edit_buttons(client_for, tech, make_customer, make_vehicle):
    customer = make_customer(phone="13812345678")
    make_vehicle(customer)
    client = client_for(tech)
    for url in (reverse("customers:list"), reverse("customers:detail", args=[customer.pk])):
        body = client.get(url).content.decode()
        assert "138****5678" in body
        assert "13812345678" not in body
    assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 403
    assert client.get(reverse("customers:new")).status_code == 403


def test_the_history_masks_phones_for_a_technician(client_for, tech, advisor, make_customer):
    from huitou.customers.services import customer_update

    customer = make_customer(phone="13812345678")
    customer_update(customer=customer, by=advisor, data={"phone": "13987654321"})
    body = client_for(tech).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "13987654321" not in body and "139****4321" in body


def test_delete_asks_first_then_hides_and_restore_brings_back(client_for, owner, make_customer, make_vehicle):
    customer = make_customer(name="待删")
    make_vehicle(customer, plate="粤B55555")
    client = client_for(owner)
    assert client.get(reverse("customers:delete", args=[customer.pk])).status_code == 200
    client.post(reverse("customers:delete", args=[customer.pk]))
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 404
    assert "待删" in client.get(reverse("customers:deleted")).content.decode()
    client.post(reverse("customers:restore", args=[customer.pk]))
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    assert Vehicle.objects.for_org(owner.organization_id).active().filter(plate="粤B55555").exists()


def test_a_vehicle_changes_owner_through_the_picker(client_for, advisor, make_customer, make_vehicle):
    seller = make_customer(name="卖家")
    buyer = make_customer(name="买家")
    vehicle = make_vehicle(seller)
    client = client_for(advisor)
    picker = client.get(
        reverse("customers:pick", args=[seller.pk]) + f"?for=transfer&vehicle={vehicle.pk}&q=maijia"
    ).content.decode()
    assert "买家" in picker and "卖家" not in picker
    response = client.post(reverse("customers:vehicle_transfer", args=[vehicle.pk]), {"customer": buyer.pk})
    assert response.status_code == 302
    vehicle.refresh_from_db()
    assert vehicle.customer_id == buyer.pk


def test_the_form_shows_every_problem_at_once(client_for, advisor):
    """A missing name (a form check) and a bad phone (a service rule) show together."""
    response = client_for(advisor).post(
        reverse("customers:new"),
        {"name": "", "phone": "12345", "birthday_calendar": "solar", "owner": advisor.pk},
    )
    errors_shown = response.context["form"].errors
    assert "name" in errors_shown
    assert errors_shown["phone"] == [str(errors.PHONE_INVALID)]


def test_the_vehicle_form_shows_a_bad_plate_together_with_a_bad_year(client_for, advisor, make_customer):
    customer = make_customer()
    response = client_for(advisor).post(
        reverse("customers:vehicle_new", args=[customer.pk]), {"plate": "ABC", "year": "twenty"}
    )
    errors_shown = response.context["form"].errors
    assert "year" in errors_shown
    assert errors_shown["plate"] == [str(errors.PLATE_INVALID)]


def test_the_history_names_how_consent_was_given_in_words(client_for, advisor, make_customer):
    from huitou.customers.services import consent_set

    customer = make_customer()
    consent_set(customer=customer, channel="sms", granted=True, method="paper_form", purpose="保养提醒", by=advisor)
    body = client_for(advisor).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    timeline = body[body.index('id="h-history"') :]
    assert "paper_form" not in timeline
    assert "纸质" in timeline or "Signed paper form" in timeline
