"""The rules of handing customers over and of a prospect's owner, as the services keep them
(the page and the API only pass the input on: see huitou/api/tests/test_page_api_agreement.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from huitou.customers import errors as customer_errors
from huitou.customers.models import Customer
from huitou.customers.services import customer_delete
from huitou.lifecycle import errors
from huitou.lifecycle.services.ownership import customers_reassign, staff_deactivate, staff_hand_over
from huitou.lifecycle.services.prospects import ME, ROUND_ROBIN, owner_mode_valid, prospect_capture
from huitou.service.errors import RoleRefused
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db

Make = Callable[..., Customer]


def owned_by(org: Organization, user: User) -> int:
    return Customer.objects.for_org(org).filter(owner=user).count()


def still_active(user: User) -> bool:
    user.refresh_from_db()
    return user.is_active


def test_only_someone_who_manages_staff_deactivates(org: Organization, advisor: User, service: User) -> None:
    with pytest.raises(RoleRefused) as exc:
        staff_deactivate(user=advisor, to_user_ids=[], by=service)

    assert exc.value.message == errors.DEACTIVATE_NOT_YOURS
    assert still_active(advisor)


def test_a_leaver_who_owns_nobody_may_still_not_name_a_staff_member_who_left(
    org: Organization, owner: User, advisor: User, service: User
) -> None:
    User.objects.for_org(org).filter(pk=service.pk).update(is_active=False)

    with pytest.raises(ValidationError) as exc:
        staff_deactivate(user=advisor, to_user_ids=[service.pk], by=owner)

    assert exc.value.message_dict["to"] == [errors.REASSIGN_TARGET_REQUIRED]
    assert still_active(advisor)


def test_a_leaver_hands_over_every_customer_not_some(
    org: Organization, owner: User, advisor: User, service: User, make_customer: Make
) -> None:
    theirs = make_customer(by=advisor)

    with pytest.raises(ValidationError) as exc:
        staff_hand_over(user=advisor, to_user_ids=[service.pk], by=owner, customer_ids=[theirs.pk], leaving=True)

    assert exc.value.message_dict["customer_ids"] == [errors.REASSIGN_ALL_ON_LEAVING]
    assert still_active(advisor)
    assert owned_by(org, advisor) == 1


def test_handing_over_named_customers_refuses_ids_that_are_no_active_customer_of_the_organization(
    org: Organization, owner: User, advisor: User, service: User, make_customer: Make
) -> None:
    theirs = make_customer(by=advisor)
    deleted = make_customer(by=advisor)
    customer_delete(customer=deleted, by=owner)
    for unknown in ([theirs.pk, 987654321], [deleted.pk]):
        with pytest.raises(ValidationError) as exc:
            customers_reassign(
                organization=org, from_user=advisor, to_user_ids=[service.pk], by=owner, customer_ids=unknown
            )
        assert exc.value.message_dict["customer_ids"] == [customer_errors.CUSTOMER_NOT_FOUND]
    assert owned_by(org, advisor) == 2  # the deleted file stays theirs too


def test_handing_over_named_customers_moves_only_those(
    org: Organization, owner: User, advisor: User, service: User, make_customer: Make
) -> None:
    kept, moved = make_customer(by=advisor), make_customer(by=advisor)

    assert staff_hand_over(user=advisor, to_user_ids=[service.pk], by=owner, customer_ids=[moved.pk]) == 1

    owners = dict(Customer.objects.for_org(org).values_list("pk", "owner_id"))
    assert (owners[kept.pk], owners[moved.pk]) == (advisor.pk, service.pk)


@pytest.mark.parametrize(
    ("owner", "valid"),
    [
        (ME, True),
        (ROUND_ROBIN, True),
        ("12", True),
        (12, True),
        ("boss", False),
        ("", False),
        ("9" * 19, False),
        (2**63, False),
        (True, False),
        (None, False),
    ],
)
def test_an_owner_is_me_in_turn_or_a_staff_id(owner: Any, valid: bool) -> None:
    assert owner_mode_valid(owner) is valid


def test_a_capture_with_an_owner_that_is_no_mode_is_refused_and_nothing_saved(org: Organization, advisor: User) -> None:
    data = {"name": "赵先生", "phone": "13712345678", "source": "flyer", "owner": "boss"}

    with pytest.raises(ValidationError) as exc:
        prospect_capture(organization=org, by=advisor, data=data)

    assert exc.value.message_dict["owner"] == [errors.OWNER_MODE_INVALID]
    assert not Customer.objects.for_org(org).exists()
