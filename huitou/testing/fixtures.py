"""Shared fixtures: one organization with staff of every role, and an outsider.

``org`` (two shops) has ``owner``, ``advisor``, ``service`` and ``tech``;
``other_org`` has ``outsider``, its store manager. Tenancy tests act as the
outsider against the first organization's objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.test import Client

from huitou.customers.models import Customer, Vehicle
from huitou.customers.services import customer_create, vehicle_create
from huitou.lifecycle.services.stages import stage_import
from huitou.service.models import Category, OpeningHours, Part, ServiceItem, ServiceOrder
from huitou.service.services.appointments import opening_hours_set
from huitou.service.services.catalog import part_save, service_item_save
from huitou.service.services.orders import order_open
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
        """A customer through ``customer_create``; ``stage`` is set afterwards as an imported file's."""
        n = next(counter)
        stage = data.pop("stage", None)
        data.setdefault("name", f"客户{n}")
        data.setdefault("phone", f"1390000{n:04d}")
        customer = customer_create(organization=organization or org, by=by or advisor, data=data)
        if stage is not None:
            stage_import(customer=customer, stage=stage)
        return customer

    return make


@pytest.fixture
def make_score() -> Callable[..., Any]:
    def make(customer: Customer, **fields: Any) -> Any:
        """The customer's score row as the nightly refresh leaves it: RFM, grade B, at risk of leaving
        (``fields`` override, e.g. ``grade_override="A"`` or ``churn_risk=""``)."""
        from django.utils import timezone

        from huitou.analytics.models import ChurnRisk, CustomerScore, RfmSegment

        values: dict[str, Any] = {
            "computed_at": timezone.now(),
            "r": 3,
            "f": 2,
            "m": 1,
            "segment": RfmSegment.IMPORTANT_VALUE,
            "grade": "B",
            "churn_risk": ChurnRisk.HIGH,
            "visit_days": 3,
            "interval_days": 60,
            "gap_days": 200,
        }
        return CustomerScore.objects.create(
            organization_id=customer.organization_id, customer=customer, **{**values, **fields}
        )

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


# --- service domain: catalog, orders, opening hours -----------------------------------------
# Each ``make_*`` works for ``org`` unless given another ``organization`` (and, for an order,
# a vehicle and staff member of it).


def first_shop(organization: Organization | int) -> Shop:
    """The organization's first shop (for ``org``: 顺达汽修（总店）)."""
    return Shop.objects.for_org(organization).order_by("pk").first()  # type: ignore[return-value]


@pytest.fixture
def make_service_item(org: Organization) -> Callable[..., ServiceItem]:
    """A service item through ``service_item_save``: maintenance, labour price 200.00 unless told."""
    counter = iter(range(10_000))

    def make(organization: Organization | None = None, **data: Any) -> ServiceItem:
        n = next(counter)
        data.setdefault("code", f"S{n:04d}")
        data.setdefault("name", f"保养项目{n}")
        data.setdefault("category", Category.MAINTENANCE)
        data.setdefault("labour_price", "200.00")
        return service_item_save(organization=organization or org, data=data)

    return make


@pytest.fixture
def make_part(org: Organization) -> Callable[..., Part]:
    """A part through ``part_save``: sale price 100.00, cost 60.00 unless told."""
    counter = iter(range(10_000))

    def make(organization: Organization | None = None, **data: Any) -> Part:
        n = next(counter)
        data.setdefault("code", f"P{n:04d}")
        data.setdefault("name", f"配件{n}")
        data.setdefault("sale_price", "100.00")
        data.setdefault("cost", "60.00")
        return part_save(organization=organization or org, data=data)

    return make


@pytest.fixture
def make_order(
    advisor: User, make_customer: Callable[..., Customer], make_vehicle: Callable[..., Vehicle]
) -> Callable[..., ServiceOrder]:
    """An open order through ``order_open`` at the vehicle's organization's first shop.

    Without ``vehicle`` a new customer of ``org`` with a new car is received. For
    another organization pass its ``vehicle`` and ``by`` (a staff member of it).
    Other keyword arguments (``mileage_km``, ``description``, ``shop``...) go to ``order_open``.
    """

    def make(vehicle: Vehicle | None = None, by: User | None = None, **kwargs: Any) -> ServiceOrder:
        vehicle = vehicle or make_vehicle(make_customer())
        kwargs.setdefault("shop", first_shop(vehicle.organization_id))
        return order_open(organization=vehicle.organization, vehicle=vehicle, by=by or advisor, **kwargs)

    return make


@pytest.fixture
def make_opening_hours(org: Organization) -> Callable[..., list[OpeningHours]]:
    """Opening hours through ``opening_hours_set`` for ``weekdays`` (default: every day) of a shop.

    Defaults: the first shop of ``org``, 08:00–18:00, 60-minute slots, 2 bays per slot.
    """

    def make(
        shop: Shop | None = None,
        weekdays: Iterable[int] = range(7),
        opens: dt.time = dt.time(8),
        closes: dt.time = dt.time(18),
        slot_minutes: int = 60,
        bays: int = 2,
    ) -> list[OpeningHours]:
        shop = shop or first_shop(org)
        return [
            opening_hours_set(shop=shop, weekday=day, opens=opens, closes=closes, slot_minutes=slot_minutes, bays=bays)
            for day in weekdays
        ]

    return make
