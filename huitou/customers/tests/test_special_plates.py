"""Plates of consulates (领), embassies (使) and Hong Kong/Macau cross-border cars (粤Z…港/澳):
kept like any plate, unique in the organization, found by the search box."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from huitou.customers import errors
from huitou.customers.models import Customer, Vehicle
from huitou.customers.search import search_keys
from huitou.customers.selectors import customer_list
from huitou.customers.services import vehicle_create
from huitou.tenancy.models import Organization, User

MakeCustomer = Callable[..., Customer]


def found(organization: Organization, q: str) -> set[str]:
    return {c.name for c in customer_list(organization=organization, q=q)}  # type: ignore[arg-type]


@pytest.fixture
def owners(make_customer: MakeCustomer, advisor: User) -> dict[str, Customer]:
    plates = {
        "领事": "沪a·1234领",
        "使馆": "使 224·009",
        "港车": "粤z f023 港",
        "澳车": "粤Z1234澳",
        "本地": "沪A12345",
    }
    people = {}
    for name, plate in plates.items():
        people[name] = make_customer(name=name)
        vehicle_create(customer=people[name], by=advisor, data={"plate": plate})
    return people


def test_a_vehicle_with_a_special_plate_is_created_with_the_plate_normalised(
    owners: dict[str, Customer], org: Organization
) -> None:
    plates = dict(Vehicle.objects.for_org(org).values_list("customer__name", "plate"))
    assert plates == {
        "领事": "沪A1234领",
        "使馆": "使224009",
        "港车": "粤ZF023港",
        "澳车": "粤Z1234澳",
        "本地": "沪A12345",
    }


@pytest.mark.parametrize("plate", ["沪A1234领", "使224009", "粤ZF023港"])
def test_it_refuses_a_special_plate_already_used_in_the_organization(
    owners: dict[str, Customer], make_customer: MakeCustomer, advisor: User, plate: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        vehicle_create(customer=make_customer(name="李四"), by=advisor, data={"plate": plate.lower()})
    assert exc.value.message_dict["plate"] == [errors.PLATE_TAKEN]


@pytest.mark.parametrize("plate", ["粤B1234港", "沪AB123领", "224009使"])
def test_it_refuses_a_special_plate_of_the_wrong_form(make_customer: MakeCustomer, advisor: User, plate: str) -> None:
    with pytest.raises(ValidationError) as exc:
        vehicle_create(customer=make_customer(name="李四"), by=advisor, data={"plate": plate})
    assert exc.value.message_dict["plate"] == [errors.PLATE_INVALID]


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("沪A1234领", {"领事"}),
        ("沪a 1234 领", {"领事"}),
        ("沪A1234", {"领事", "本地"}),  # the start of 沪A1234领 and of 沪A12345
        ("沪A12345", {"本地"}),
        ("A1234", {"领事", "本地"}),
        ("使224009", {"使馆"}),
        ("使224·009", {"使馆"}),
        ("使224", {"使馆"}),
        ("粤ZF023港", {"港车"}),
        ("粤Z", {"港车", "澳车"}),
        ("粤Z1234澳", {"澳车"}),
        ("ZF023", {"港车"}),
    ],
)
def test_a_special_plate_is_found_by_the_search_box(
    owners: dict[str, Customer], org: Organization, q: str, names: set[str]
) -> None:
    assert found(org, q) == names


@pytest.mark.parametrize(
    ("q", "plate_part"),
    [("沪a1234领", "沪A1234领"), ("使 224", "使224"), ("粤Z1234港", "粤Z1234港"), ("领事", "")],
)
def test_a_chinese_query_holding_a_special_plate_is_a_plate_start(q: str, plate_part: str) -> None:
    assert search_keys(q).plate_part == plate_part
