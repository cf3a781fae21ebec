"""The organization's days without a visit before customers become dormant and lost."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from huitou.tenancy.models import Organization
from huitou.tenancy.services import INACTIVITY_DAYS_INVALID, LOST_BEFORE_DORMANT, organization_inactivity_set

pytestmark = pytest.mark.django_db


def test_an_organization_starts_with_180_and_365_days(org: Organization) -> None:
    assert (org.dormant_after_days, org.lost_after_days) == (180, 365)


def test_the_days_are_set_and_0_turns_a_step_off(org: Organization) -> None:
    organization_inactivity_set(organization=org, dormant_after_days=90, lost_after_days=0)
    org.refresh_from_db()
    assert (org.dormant_after_days, org.lost_after_days) == (90, 0)


@pytest.mark.parametrize(
    ("dormant", "lost", "field", "message"),
    [
        (-1, 365, "dormant_after_days", INACTIVITY_DAYS_INVALID),
        (90, 5000, "lost_after_days", INACTIVITY_DAYS_INVALID),
        (200, 100, "lost_after_days", LOST_BEFORE_DORMANT),
        (200, 200, "lost_after_days", LOST_BEFORE_DORMANT),
    ],
)
def test_bad_days_are_refused_and_nothing_changes(
    org: Organization, dormant: int, lost: int, field: str, message: object
) -> None:
    with pytest.raises(ValidationError) as exc:
        organization_inactivity_set(organization=org, dormant_after_days=dormant, lost_after_days=lost)
    assert exc.value.message_dict[field] == [message]
    org.refresh_from_db()
    assert (org.dormant_after_days, org.lost_after_days) == (180, 365)


def test_the_store_manager_sets_the_days_on_a_page_with_errors_in_chinese(org, owner, client_for) -> None:
    from django.urls import reverse

    client = client_for(owner)
    url = reverse("tenancy:lifecycle_settings")
    assert client.get(url).status_code == 200
    response = client.post(url, {"dormant_after_days": "200", "lost_after_days": "100"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    from django.utils import translation

    with translation.override("zh-hans"):
        assert str(LOST_BEFORE_DORMANT) in response.content.decode()
    org.refresh_from_db()
    assert org.lost_after_days == 365
    response = client.post(url, {"dormant_after_days": "120", "lost_after_days": "400"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.dormant_after_days, org.lost_after_days) == (120, 400)


def test_only_the_store_manager_sees_the_settings(org, advisor, client_for) -> None:
    from django.urls import reverse

    assert client_for(advisor).get(reverse("tenancy:lifecycle_settings")).status_code == 403
