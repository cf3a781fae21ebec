"""The merge pages: find the duplicate, compare both files, confirm."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huitou.customers.models import Customer, Vehicle
from huitou.customers.services import customer_delete
from huitou.lifecycle import errors
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

PICK = reverse("followups:merge")
CONFIRM = reverse("followups:merge_confirm")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def pair(make_customer, make_vehicle):
    keep = make_customer(name="张三丰", phone="13800001111")
    other = make_customer(name="张三", phone="13900002222")
    make_vehicle(other, plate="粤B5K2M8")
    return keep, other


def test_the_customer_file_links_to_merging_for_those_allowed(client_for, advisor, service, pair):
    keep, _other = pair
    link = f"{PICK}?keep={keep.pk}"
    assert link in client_for(advisor).get(keep.get_absolute_url()).content.decode()
    assert link not in client_for(service).get(keep.get_absolute_url()).content.decode()


def test_the_search_finds_the_duplicate_by_plate_with_its_phone_but_never_the_kept_file(
    client_for, advisor, pair, django_assert_num_queries
):
    keep, other = pair
    client = client_for(advisor)
    # 1 session, 2 user + organization, 3 the kept file, 4 the matches by name or plate
    # (+ owner, source), 5 their vehicles, 6 the user's shops (switcher).
    with django_assert_num_queries(6):
        response = client.get(PICK, {"keep": keep.pk, "q": "粤B5K2"})
    assert [c.pk for c, _phone in response.context["results"]] == [other.pk]
    body = response.content.decode()
    assert "13900002222" in body and "粤B5K2M8" in body
    assert f"{CONFIRM}?keep={keep.pk}&amp;other={other.pk}" in body
    by_name = client.get(PICK, {"keep": keep.pk, "q": "张三"}, headers={"HX-Request": "true"})
    assert [c.pk for c, _phone in by_name.context["results"]] == [other.pk]
    assert "<html" not in by_name.content.decode()


def test_the_confirm_page_shows_both_files_side_by_side_and_what_happens(
    client_for, advisor, pair, make_order, django_assert_num_queries
):
    keep, other = pair
    Customer.objects.for_org(other.organization_id).filter(pk=other.pk).update(occupation="教师")
    make_order(Vehicle.objects.get(customer=other))
    client = client_for(advisor)
    # 1 session, 2 user + organization, 3-4 the two files, 5 both with their order counts,
    # 6 their vehicles, 7 the user's shops (switcher).
    with django_assert_num_queries(7):
        response = client.get(CONFIRM, {"keep": keep.pk, "other": other.pk})
    kept, dropped = response.context["keep"], response.context["other"]
    assert (kept.pk, dropped.pk) == (keep.pk, other.pk)
    assert (len(kept.active_vehicles), kept.order_count) == (0, 0)
    assert (len(dropped.active_vehicles), dropped.order_count) == (1, 1)
    assert "occupation" in response.context["filled"]
    body = response.content.decode()
    assert "张三丰" in body and "13900002222" in body and "粤B5K2M8" in body
    assert f'name="other" value="{other.pk}"' in body
    assert f"{CONFIRM}?keep={other.pk}&amp;other={keep.pk}" in body  # keep the other instead


def test_confirming_merges_and_returns_to_the_kept_file(client_for, advisor, pair):
    keep, other = pair
    response = client_for(advisor).post(CONFIRM, {"keep": keep.pk, "other": other.pk}, follow=True)
    assert response.redirect_chain[-1][0] == keep.get_absolute_url()
    assert any("张三" in m for m in messages_of(response))
    assert Vehicle.objects.for_org(advisor.organization_id).get(plate="粤B5K2M8").customer_id == keep.pk
    assert Customer.objects.for_org(other.organization_id).get(pk=other.pk).merged_into_id == keep.pk


def test_the_same_file_twice_is_refused_in_chinese(client_for, advisor, pair):
    keep, _other = pair
    response = client_for(advisor).post(CONFIRM, {"keep": keep.pk, "other": keep.pk}, follow=True)
    assert zh(errors.MERGE_SAME) in messages_of(response)
    assert Customer.objects.for_org(keep.organization_id).get(pk=keep.pk).deleted_at is None


def test_a_deleted_file_or_one_of_another_organization_is_not_found(
    client_for, advisor, owner, pair, make_customer, other_org, outsider
):
    keep, other = pair
    theirs = make_customer(organization=other_org, by=outsider, name="隔壁客户")
    client = client_for(advisor)
    assert client.get(PICK, {"keep": theirs.pk}).status_code == 404
    assert client.get(CONFIRM, {"keep": keep.pk, "other": theirs.pk}).status_code == 404
    assert client.post(CONFIRM, {"keep": keep.pk, "other": theirs.pk}).status_code == 404
    assert client.post(CONFIRM, {"keep": theirs.pk, "other": keep.pk}).status_code == 404
    customer_delete(customer=other, by=owner)
    assert client.post(CONFIRM, {"keep": keep.pk, "other": other.pk}).status_code == 404
    assert client.get(PICK).status_code == 404  # no file to keep
    assert Customer.objects.for_org(theirs.organization_id).get(pk=theirs.pk).deleted_at is None


def test_the_search_never_offers_a_file_of_another_organization(
    client_for, advisor, pair, make_customer, other_org, outsider
):
    keep, _other = pair
    make_customer(organization=other_org, by=outsider, name="张三隔壁", phone="13700003333")
    response = client_for(advisor).get(PICK, {"keep": keep.pk, "q": "张三"})
    assert "张三隔壁" not in response.content.decode()


def test_staff_who_may_not_merge_are_refused(client_for, service, tech, pair):
    keep, other = pair
    for user in (service, tech):
        client = client_for(user)
        assert client.get(PICK, {"keep": keep.pk}).status_code == 403
        assert client.post(CONFIRM, {"keep": keep.pk, "other": other.pk}).status_code == 403
    assert Customer.objects.for_org(other.organization_id).get(pk=other.pk).deleted_at is None
