"""Staff pages of the store manager: a staff member leaves, hands customers over; prospects in turn."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huitou.customers.models import Customer
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUpTask
from huitou.lifecycle.selectors import rotation_members
from huitou.lifecycle.services.ownership import rotation_set
from huitou.tenancy.models import User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

ROTATION = reverse("followups:rotation")
STAFF = reverse("tenancy:staff_list")


def deactivate_url(user: User) -> str:
    return reverse("followups:staff_deactivate", args=[user.pk])


def reassign_url(user: User) -> str:
    return reverse("followups:staff_reassign", args=[user.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_staff_edit_page_offers_deactivation_and_reassignment(client_for, owner, advisor):
    body = client_for(owner).get(reverse("tenancy:staff_edit", args=[advisor.pk])).content.decode()
    assert deactivate_url(advisor) in body and reassign_url(advisor) in body
    own = client_for(owner).get(reverse("tenancy:staff_edit", args=[owner.pk])).content.decode()
    assert deactivate_url(owner) not in own  # nobody deactivates themselves


def test_the_deactivate_page_says_how_many_customers_and_follow_ups_they_have(
    client_for, owner, advisor, service, make_customer
):
    for _ in range(2):
        make_customer(by=advisor)  # each with the three steps of the prospect plan
    response = client_for(owner).get(deactivate_url(advisor))
    assert response.context["load"] == {"customers": 2, "tasks": 6}
    choices = [value for value, _label in response.context["form"].fields["to"].choices]
    assert advisor.pk not in choices and service.pk in choices and owner.pk in choices


def test_deactivating_hands_the_customers_over_evenly_and_signs_the_staff_member_out(
    client_for, owner, advisor, service, make_customer
):
    theirs = [make_customer(by=advisor) for _ in range(4)]
    signed_in = client_for(advisor)
    response = client_for(owner).post(deactivate_url(advisor), {"to": [service.pk, owner.pk]}, follow=True)
    assert response.redirect_chain[-1][0] == STAFF
    advisor.refresh_from_db()
    assert advisor.is_active is False
    owners = list(
        Customer.objects.for_org(advisor.organization_id)
        .filter(pk__in=[c.pk for c in theirs])
        .values_list("owner_id", flat=True)
    )
    assert sorted(owners.count(u) for u in (service.pk, owner.pk)) == [2, 2]
    assert not FollowUpTask.objects.for_org(advisor.organization_id).filter(assignee=advisor, closed_at=None).exists()
    assert signed_in.get(reverse("followups:mine"))["Location"].startswith("/login/")
    body = response.content.decode()
    assert "李顾问" in body and 'class="inactive"' in body  # still listed, marked


def test_deactivating_without_choosing_who_takes_the_customers_is_refused_in_chinese(
    client_for, owner, advisor, make_customer
):
    make_customer(by=advisor)
    response = client_for(owner).post(deactivate_url(advisor), {})
    assert response.status_code == 200
    assert response.context["form"].errors["to"] == [zh(errors.REASSIGN_TARGET_REQUIRED)]
    advisor.refresh_from_db()
    assert advisor.is_active is True


def test_a_staff_member_without_customers_is_deactivated_without_a_choice(client_for, owner, tech):
    assert client_for(owner).post(deactivate_url(tech), {}).status_code == 302
    tech.refresh_from_db()
    assert tech.is_active is False


def test_the_store_manager_cannot_deactivate_themselves(client_for, owner, advisor):
    client = client_for(owner)
    page = client.get(deactivate_url(owner))
    assert page.context["refusal"] == zh(errors.DEACTIVATE_SELF)
    assert zh(errors.DEACTIVATE_SELF) in page.content.decode()
    assert client.post(deactivate_url(owner), {"to": [advisor.pk]}).status_code == 200
    owner.refresh_from_db()
    assert owner.is_active is True


def test_the_reassign_page_hands_every_customer_over_and_keeps_the_staff_member_active(
    client_for, owner, advisor, service, make_customer
):
    theirs = [make_customer(by=advisor) for _ in range(3)]
    client = client_for(owner)
    assert client.get(reassign_url(advisor)).context["load"]["customers"] == 3
    response = client.post(reassign_url(advisor), {"to": [service.pk]}, follow=True)
    assert any("3" in m for m in messages_of(response))
    assert set(
        Customer.objects.for_org(advisor.organization_id)
        .filter(pk__in=[c.pk for c in theirs])
        .values_list("owner_id", flat=True)
    ) == {service.pk}
    advisor.refresh_from_db()
    assert advisor.is_active is True
    refused = client.post(reassign_url(service), {"to": []})
    assert refused.context["form"].errors["to"] == [zh(errors.REASSIGN_TARGET_REQUIRED)]


def test_staff_of_another_organization_cannot_be_chosen_to_take_customers(
    client_for, owner, advisor, outsider, make_customer
):
    make_customer(by=advisor)
    response = client_for(owner).post(reassign_url(advisor), {"to": [outsider.pk]})
    assert response.status_code == 200 and "to" in response.context["form"].errors
    assert not Customer.objects.for_org(advisor.organization_id).filter(owner=outsider).exists()


def test_the_rotation_page_chooses_who_takes_prospects_in_turn(client_for, owner, advisor, service, org):
    client = client_for(owner)
    assert client.post(ROTATION, {"members": [advisor.pk, service.pk]}).status_code == 302
    assert rotation_members(organization=org) == sorted([advisor, service], key=lambda u: u.pk)
    page = client.get(ROTATION)
    assert sorted(page.context["form"].initial["members"]) == sorted([advisor.pk, service.pk])
    listing = client.get(STAFF)
    assert listing.context["rotation_ids"] == {advisor.pk, service.pk}
    assert ROTATION in listing.content.decode()
    assert client.post(ROTATION, {}).status_code == 302  # nobody: prospects need an owner chosen by hand
    assert rotation_members(organization=org) == []


def test_only_the_store_manager_reaches_the_staff_pages(client_for, owner, advisor, service, org):
    rotation_set(organization=org, member_ids=[service.pk])
    client = client_for(advisor)
    for url in (deactivate_url(service), reassign_url(service), ROTATION):
        assert client.get(url).status_code == 403
        assert client.post(url, {"to": [advisor.pk], "members": [advisor.pk]}).status_code == 403
    service.refresh_from_db()
    assert service.is_active is True
    assert rotation_members(organization=org) == [service]


def test_staff_of_another_organization_are_not_found(client_for, owner, outsider):
    client = client_for(owner)
    for url in (deactivate_url(outsider), reassign_url(outsider)):
        assert client.get(url).status_code == 404
        assert client.post(url, {"to": [owner.pk]}).status_code == 404
    outsider.refresh_from_db()
    assert outsider.is_active is True


def test_the_staff_list_runs_a_fixed_number_of_queries(
    client_for, owner, advisor, service, tech, org, django_assert_num_queries
):
    rotation_set(organization=org, member_ids=[advisor.pk, service.pk])
    client = client_for(owner)
    # 1 session, 2 user + organization, 3 the rotation, 4 its members, 5 the user's
    # shops (switcher), 6 staff, 7 their shops.
    with django_assert_num_queries(7):
        assert client.get(STAFF).status_code == 200
