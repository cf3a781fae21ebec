"""Shared fixtures: one organization with staff of every role, and an outsider.

``org`` (two shops) has ``owner``, ``advisor``, ``service`` and ``tech``;
``other_org`` has ``outsider``, its store manager. Tenancy tests act as the
outsider against the first organization's objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from huitou.customers.models import Customer, Vehicle
from huitou.customers.services import customer_create, vehicle_create
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role
from huitou.tenancy.services import organization_create, staff_create

PASSWORD = "correct-horse-battery-42"


@pytest.fixture
def org(db: Any) -> Organization:
    return organization_create(name="顺达汽修", shop_names=["顺达汽修（总店）", "顺达汽修（城西店）"])


@pytest.fixture
def other_org(db: Any) -> Organization:
    return organization_create(name="隔壁车行", shop_names=["隔壁车行"])


def _staff(org: Organization, username: str, role: str, name: str) -> User:
    return staff_create(
        organization=org,
        username=username,
        password=PASSWORD,
        role=role,
        display_name=name,
        shops=list(Shop.objects.for_org(org)),
        validate=False,
    )


@pytest.fixture
def owner(org: Organization) -> User:
    return _staff(org, "owner", Role.OWNER, "王店长")


@pytest.fixture
def advisor(org: Organization) -> User:
    return _staff(org, "advisor", Role.ADVISOR, "李顾问")


@pytest.fixture
def service(org: Organization) -> User:
    return _staff(org, "service", Role.SERVICE, "赵客服")


@pytest.fixture
def tech(org: Organization) -> User:
    return _staff(org, "tech", Role.TECHNICIAN, "孙技师")


@pytest.fixture
def outsider(other_org: Organization) -> User:
    return _staff(other_org, "outsider", Role.OWNER, "隔壁老板")


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def make_customer(org: Organization, advisor: User) -> Callable[..., Customer]:
    counter = iter(range(10_000))

    def make(organization: Organization | None = None, by: User | None = None, **data: Any) -> Customer:
        n = next(counter)
        data.setdefault("name", f"客户{n}")
        data.setdefault("phone", f"1390000{n:04d}")
        return customer_create(organization=organization or org, by=by or advisor, data=data)

    return make


@pytest.fixture
def make_vehicle(advisor: User) -> Callable[..., Vehicle]:
    counter = iter(range(10_000))

    def make(customer: Customer, by: User | None = None, mileage_km: int | None = None, **data: Any) -> Vehicle:
        data.setdefault("plate", f"粤B{next(counter):05d}")
        data.setdefault("brand", "丰田")
        data.setdefault("model", "卡罗拉")
        return vehicle_create(customer=customer, by=by or advisor, data=data, mileage_km=mileage_km)

    return make
