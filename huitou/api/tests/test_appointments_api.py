"""/api/v1/appointments: booking bays slot by slot, the states, and arrival into an order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from huitou.api.service_schemas import AppointmentTarget
from huitou.api.tests.conftest import ApiClient
from huitou.customers import errors as customer_errors
from huitou.customers.models import Customer, Vehicle
from huitou.service import errors
from huitou.service.models import Appointment, ServiceItem, ServiceOrder
from huitou.service.services.appointments import TRANSITIONS, appointment_book
from huitou.tenancy.models import Organization, Shop, User
from huitou.testing.fixtures import first_shop

Make = Callable[..., Any]

DAY = timezone.localdate() + dt.timedelta(days=7)


@pytest.fixture
def api(service: User, api_for: Callable[[User], ApiClient]) -> ApiClient:
    """Customer service: the people who answer the phone and book."""
    return api_for(service)


@pytest.fixture
def shop(org: Organization, make_opening_hours: Make) -> Shop:
    """The first shop, open every day 08:00–18:00 in 60-minute slots of 2 bays."""
    make_opening_hours()
    return first_shop(org)


@pytest.fixture
def customer(make_customer: Make) -> Customer:
    return make_customer(name="张三", phone="13812345678")


@pytest.fixture
def vehicle(customer: Customer, make_vehicle: Make) -> Vehicle:
    return make_vehicle(customer, plate="粤B12345", mileage_km=50000)


@pytest.fixture
def wash(make_service_item: Make) -> ServiceItem:
    return make_service_item(code="MR01", name="精洗", category="detailing", labour_price="60")


def _book(api: ApiClient, shop: Shop, customer: Customer, **extra: Any) -> Any:
    payload = {"shop_id": shop.pk, "customer_id": customer.pk, "day": DAY.isoformat(), "slot": "09:00", **extra}
    return api.post_json("/api/v1/appointments", payload)


def _booked(shop: Shop, customer: Customer, by: User, slot: dt.time = dt.time(9), **extra: Any) -> Appointment:
    return appointment_book(shop=shop, customer=customer, day=DAY, slot=slot, by=by, **extra)


# --- slots ------------------------------------------------------------------------------------


def test_the_days_slots_show_their_bays_and_free_places(
    api: ApiClient, shop: Shop, customer: Customer, service: User
) -> None:
    _booked(shop, customer, service, slot=dt.time(9))
    _booked(shop, customer, service, slot=dt.time(9))
    cancelled = _booked(shop, customer, service, slot=dt.time(10))
    Appointment.objects.for_org(cancelled.organization_id).filter(pk=cancelled.pk).update(
        state=Appointment.State.CANCELLED
    )

    r = api.get("/api/v1/appointments/slots", {"shop": shop.pk, "day": DAY.isoformat()})

    assert r.status_code == 200
    doc = r.json()
    assert (doc["shop_id"], doc["day"], doc["open"]) == (shop.pk, DAY.isoformat(), True)
    assert [s["start"] for s in doc["slots"]] == [f"{h:02d}:00" for h in range(8, 18)]
    by_start = {s["start"]: s for s in doc["slots"]}
    assert by_start["09:00"] == {"start": "09:00", "bays": 2, "booked": 2, "free": 0, "past": False}
    assert by_start["10:00"] == {"start": "10:00", "bays": 2, "booked": 0, "free": 2, "past": False}


def test_slots_default_to_the_callers_shop_today_and_say_when_it_is_closed(
    api: ApiClient, org: Organization, shop: Shop, make_opening_hours: Make
) -> None:
    other = Shop.objects.for_org(org).order_by("pk").last()
    assert other is not None
    make_opening_hours(shop=other, weekdays=[(DAY.weekday() + 1) % 7])

    today = api.get("/api/v1/appointments/slots").json()
    closed = api.get("/api/v1/appointments/slots", {"shop": other.pk, "day": DAY.isoformat()}).json()
    yesterday = api.get(
        "/api/v1/appointments/slots", {"day": (timezone.localdate() - dt.timedelta(days=1)).isoformat()}
    ).json()

    assert (today["shop_id"], today["day"]) == (shop.pk, timezone.localdate().isoformat())
    assert (closed["open"], closed["slots"]) == (False, [])
    assert all(s["past"] for s in yesterday["slots"]) and len(yesterday["slots"]) == 10


def test_slots_of_a_shop_of_another_organization_are_refused(
    api: ApiClient, other_org: Organization, shop: Shop
) -> None:
    for shop_id in (first_shop(other_org).pk, 999_999):
        r = api.get("/api/v1/appointments/slots", {"shop": shop_id, "day": DAY.isoformat()})
        assert r.status_code == 422
        assert r.json()["errors"] == {"shop": [str(errors.SHOP_UNKNOWN)]}


# --- booking ----------------------------------------------------------------------------------


def test_customer_service_books_an_appointment(
    api: ApiClient, service: User, shop: Shop, customer: Customer, vehicle: Vehicle, wash: ServiceItem
) -> None:
    r = _book(api, shop, customer, vehicle_id=vehicle.pk, service_id=wash.pk, slot="14:00", note="要开发票")

    assert r.status_code == 201
    doc = r.json()
    assert doc == {
        "id": doc["id"],
        "shop": {"id": shop.pk, "name": shop.name},
        "customer": {"id": customer.pk, "name": "张三", "phone": "13812345678"},
        "vehicle": {"id": vehicle.pk, "plate": "粤B12345", "brand": "丰田", "model": "卡罗拉"},
        "service": {"id": wash.pk, "name": "精洗"},
        "day": DAY.isoformat(),
        "slot": "14:00",
        "state": "booked",
        "note": "要开发票",
        "order_id": None,
        "created_at": doc["created_at"],
    }
    appointment = Appointment.objects.for_org(customer.organization_id).get(pk=doc["id"])
    assert (appointment.slot, appointment.created_by) == (dt.time(14), service)


def test_a_full_slot_refuses_a_booking_until_a_bay_frees_up(api: ApiClient, shop: Shop, customer: Customer) -> None:
    first, second = _book(api, shop, customer), _book(api, shop, customer)

    full = _book(api, shop, customer)

    assert (first.status_code, second.status_code) == (201, 201)
    assert (full.status_code, full.json()) == (409, {"detail": str(errors.SLOT_FULL)})
    api.patch_json(f"/api/v1/appointments/{first.json()['id']}", {"state": "cancelled"})
    assert _book(api, shop, customer).status_code == 201
    assert Appointment.objects.for_org(customer.organization_id).filter(day=DAY, slot=dt.time(9)).count() == 3


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"slot": "07:00"}, errors.SLOT_CLOSED),
        ({"slot": "09:30"}, errors.SLOT_CLOSED),
        ({"slot": "18:00"}, errors.SLOT_CLOSED),
        ({"day": (timezone.localdate() - dt.timedelta(days=1)).isoformat()}, errors.SLOT_PAST),
    ],
)
def test_a_closed_or_past_time_is_refused_on_the_slot(
    api: ApiClient, shop: Shop, customer: Customer, extra: dict[str, Any], message: Any
) -> None:
    r = _book(api, shop, customer, **extra)

    assert r.status_code == 422
    assert r.json()["errors"] == {"slot": [str(message)]}
    assert not Appointment.objects.for_org(customer.organization_id).exists()


def test_booking_refuses_what_is_not_the_organizations(
    api: ApiClient,
    shop: Shop,
    customer: Customer,
    other_org: Organization,
    outsider: User,
    make_customer: Make,
    make_vehicle: Make,
    make_service_item: Make,
) -> None:
    foreign_customer = make_customer(organization=other_org, by=outsider)
    foreign_vehicle = make_vehicle(foreign_customer, by=outsider, plate="京A12345")
    someone_elses_car = make_vehicle(make_customer(name="李四"))
    foreign_item = make_service_item(organization=other_org)
    retired = make_service_item(is_active=False)

    cases = [
        ({"customer_id": foreign_customer.pk}, "customer_id", customer_errors.CUSTOMER_NOT_FOUND),
        ({"vehicle_id": foreign_vehicle.pk}, "vehicle_id", errors.VEHICLE_UNKNOWN),
        ({"vehicle_id": someone_elses_car.pk}, "vehicle_id", errors.VEHICLE_UNKNOWN),
        ({"service_id": foreign_item.pk}, "service_id", errors.ITEM_UNKNOWN),
        ({"service_id": retired.pk}, "service_id", errors.ITEM_UNKNOWN),
        ({"shop_id": first_shop(other_org).pk}, "shop_id", errors.SHOP_UNKNOWN),
    ]
    for extra, field, message in cases:
        r = _book(api, shop, customer, **extra)
        assert r.status_code == 422, extra
        assert r.json()["errors"] == {field: [str(message)]}
    assert not Appointment.objects.filter(organization__in=[customer.organization_id, other_org.pk]).exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"slot": "25:00"}, "slot"), ({"day": "next monday"}, "day"), ({"customer_id": None}, "customer_id")],
)
def test_booking_refuses_wrong_types_per_field(
    api: ApiClient, shop: Shop, customer: Customer, extra: dict[str, Any], field: str
) -> None:
    r = _book(api, shop, customer, **extra)
    assert r.status_code == 422
    assert list(r.json()["errors"]) == [field]


def test_booking_without_a_shop_books_at_the_callers_first_shop(api: ApiClient, shop: Shop, customer: Customer) -> None:
    r = api.post_json("/api/v1/appointments", {"customer_id": customer.pk, "day": DAY.isoformat(), "slot": "10:00"})
    assert (r.status_code, r.json()["shop"]["id"]) == (201, shop.pk)


# --- list and read ----------------------------------------------------------------------------


def test_the_list_shows_a_shops_day_in_slot_order(
    api: ApiClient,
    org: Organization,
    shop: Shop,
    service: User,
    customer: Customer,
    make_customer: Make,
    make_opening_hours: Make,
) -> None:
    other_shop = Shop.objects.for_org(org).order_by("pk").last()
    assert other_shop is not None
    make_opening_hours(shop=other_shop)
    late = _booked(shop, customer, service, slot=dt.time(15))
    early = _booked(shop, make_customer(name="李四"), service, slot=dt.time(8))
    appointment_book(shop=shop, customer=customer, day=DAY + dt.timedelta(days=1), slot=dt.time(9), by=service)
    appointment_book(shop=other_shop, customer=customer, day=DAY, slot=dt.time(9), by=service)

    doc = api.get("/api/v1/appointments", {"shop": shop.pk, "day": DAY.isoformat()}).json()

    assert doc["count"] == 2
    assert [(a["id"], a["slot"], a["customer"]["name"]) for a in doc["items"]] == [
        (early.pk, "08:00", "李四"),
        (late.pk, "15:00", "张三"),
    ]
    assert api.get("/api/v1/appointments", {"day": DAY.isoformat()}).json()["count"] == 2  # the caller's shop
    assert api.get("/api/v1/appointments").json() == {"items": [], "count": 0}  # today


def test_the_list_never_shows_another_organizations_appointments(
    api: ApiClient, other_org: Organization, outsider: User, make_customer: Make, make_opening_hours: Make
) -> None:
    foreign_shop = first_shop(other_org)
    make_opening_hours(shop=foreign_shop)
    appointment_book(
        shop=foreign_shop,
        customer=make_customer(organization=other_org, by=outsider),
        day=DAY,
        slot=dt.time(9),
        by=outsider,
    )

    assert api.get("/api/v1/appointments", {"shop": foreign_shop.pk, "day": DAY.isoformat()}).json()["count"] == 0


def test_the_list_runs_the_same_queries_for_2_or_20_appointments(
    api: ApiClient,
    shop: Shop,
    service: User,
    make_customer: Make,
    make_vehicle: Make,
    wash: ServiceItem,
    make_opening_hours: Make,
    django_assert_num_queries: Any,
) -> None:
    make_opening_hours(bays=5)
    query = {"shop": shop.pk, "day": DAY.isoformat()}
    api.get("/api/v1/appointments", query)  # the token's first use also stamps last_used_at
    for count in (2, 20):
        while Appointment.objects.for_org(service.organization_id).count() < count:
            customer = make_customer()
            slot = dt.time(8 + Appointment.objects.for_org(service.organization_id).count() % 10)
            _booked(shop, customer, service, slot=slot, vehicle=make_vehicle(customer), service=wash)
        # 1 token with its user and organization, 2 appointments with shop, customer, vehicle, service
        with django_assert_num_queries(2):
            assert api.get("/api/v1/appointments", query).json()["count"] == count
        # 1 token, 2 the shop, 3 its opening hours that weekday, 4 the day's bookings
        with django_assert_num_queries(4):
            assert len(api.get("/api/v1/appointments/slots", query).json()["slots"]) == 10


def test_an_appointment_reads_back_and_foreign_ones_are_404(
    api: ApiClient,
    advisor: User,
    api_for: Callable[[User], ApiClient],
    shop: Shop,
    service: User,
    customer: Customer,
    other_org: Organization,
    outsider: User,
    make_customer: Make,
    make_opening_hours: Make,
) -> None:
    mine = _booked(shop, customer, service)
    foreign_shop = first_shop(other_org)
    make_opening_hours(shop=foreign_shop)
    foreign = appointment_book(
        shop=foreign_shop,
        customer=make_customer(organization=other_org, by=outsider),
        day=DAY,
        slot=dt.time(9),
        by=outsider,
    )

    assert api.get(f"/api/v1/appointments/{mine.pk}").json()["customer"]["name"] == "张三"
    for appointment_id in (foreign.pk, 999_999):
        url = f"/api/v1/appointments/{appointment_id}"
        assert api.get(url).status_code == 404
        assert api.patch_json(url, {"state": "cancelled"}).status_code == 404
        assert api_for(advisor).post_json(f"{url}/convert", {"mileage": 1000}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.state == Appointment.State.BOOKED


# --- states -----------------------------------------------------------------------------------


def test_an_appointment_is_confirmed_then_the_customer_arrives(
    api: ApiClient, shop: Shop, service: User, customer: Customer
) -> None:
    appointment = _booked(shop, customer, service)
    url = f"/api/v1/appointments/{appointment.pk}"

    confirmed = api.patch_json(url, {"state": "confirmed"})
    arrived = api.patch_json(url, {"state": "arrived"})
    back = api.patch_json(url, {"state": "confirmed"})

    assert (confirmed.status_code, confirmed.json()["state"]) == (200, "confirmed")
    assert (arrived.status_code, arrived.json()["state"]) == (200, "arrived")
    assert back.status_code == 409
    State = Appointment.State
    assert back.json() == {
        "detail": str(errors.APPOINTMENT_TRANSITION % {"state": State.ARRIVED.label, "target": State.CONFIRMED.label})
    }
    assert (
        Appointment.objects.for_org(appointment.organization_id).get(pk=appointment.pk).state
        == Appointment.State.ARRIVED
    )


@pytest.mark.parametrize("ended", ["cancelled", "no_show"])
def test_a_cancelled_or_no_show_appointment_moves_no_more(
    api: ApiClient,
    advisor: User,
    api_for: Callable[[User], ApiClient],
    shop: Shop,
    service: User,
    customer: Customer,
    vehicle: Vehicle,
    ended: str,
) -> None:
    appointment = _booked(shop, customer, service, vehicle=vehicle)
    url = f"/api/v1/appointments/{appointment.pk}"
    assert api.patch_json(url, {"state": ended}).json()["state"] == ended

    for target in ("confirmed", "arrived", "cancelled", "no_show"):
        r = api.patch_json(url, {"state": target})
        assert r.status_code == 409
        assert set(r.json()) == {"detail"}
    convert = api_for(advisor).post_json(f"{url}/convert", {"mileage": 60000})
    assert (convert.status_code, set(convert.json())) == (409, {"detail"})
    assert not ServiceOrder.objects.for_org(customer.organization_id).exists()


@pytest.mark.parametrize("state", ["booked", "converted", "done", ""])
def test_a_patch_only_takes_the_states_staff_may_set(
    api: ApiClient, shop: Shop, service: User, customer: Customer, state: str
) -> None:
    appointment = _booked(shop, customer, service)

    r = api.patch_json(f"/api/v1/appointments/{appointment.pk}", {"state": state})

    assert r.status_code == 422
    assert list(r.json()["errors"]) == ["state"]


# --- convert ----------------------------------------------------------------------------------


def test_an_arrived_appointment_becomes_an_order(
    advisor: User, api_for: Callable[[User], ApiClient], shop: Shop, customer: Customer, vehicle: Vehicle
) -> None:
    api = api_for(advisor)
    appointment = _booked(shop, customer, advisor, vehicle=vehicle, note="保养")
    url = f"/api/v1/appointments/{appointment.pk}"
    api.patch_json(url, {"state": "arrived"})

    r = api.post_json(f"{url}/convert", {"mileage": 55000})
    again = api.post_json(f"{url}/convert", {"mileage": 55000})

    assert r.status_code == 201
    doc = r.json()
    assert (doc["state"], doc["mileage_km"], doc["description"], doc["total"]) == ("open", 55000, "保养", "0.00")
    assert (doc["vehicle"]["id"], doc["customer"]["id"], doc["shop"]["id"]) == (vehicle.pk, customer.pk, shop.pk)
    read = api.get(url).json()
    assert (read["state"], read["order_id"]) == ("converted", doc["id"])
    assert again.status_code == 409
    assert ServiceOrder.objects.for_org(customer.organization_id).count() == 1


def test_converting_needs_a_car_of_the_customer_and_takes_the_mileage_when_given(
    advisor: User,
    api_for: Callable[[User], ApiClient],
    shop: Shop,
    customer: Customer,
    make_customer: Make,
    make_vehicle: Make,
    other_org: Organization,
    outsider: User,
) -> None:
    api = api_for(advisor)
    appointment = _booked(shop, customer, advisor)  # booked without a car
    url = f"/api/v1/appointments/{appointment.pk}/convert"
    someone_elses = make_vehicle(make_customer(name="李四"))
    foreign = make_vehicle(make_customer(organization=other_org, by=outsider), by=outsider, plate="京A12345")
    second_car = make_vehicle(customer, plate="粤B54321")
    make_vehicle(customer, plate="粤B54322")  # two cars: the booking without one must say which

    no_car = api.post_json(url, {"mileage": 1000})
    wrong_car = api.post_json(url, {"mileage": 1000, "vehicle_id": someone_elses.pk})
    foreign_car = api.post_json(url, {"mileage": 1000, "vehicle_id": foreign.pk})
    converted = api.post_json(url, {"vehicle_id": second_car.pk, "description": "换轮胎"})  # no odometer read

    assert (no_car.status_code, no_car.json()["errors"]) == (422, {"vehicle_id": [str(errors.CONVERT_NEEDS_CAR)]})
    for r in (wrong_car, foreign_car):
        assert (r.status_code, r.json()["errors"]) == (422, {"vehicle_id": [str(errors.VEHICLE_UNKNOWN)]})
    assert converted.status_code == 201
    doc = converted.json()
    assert (doc["vehicle"]["plate"], doc["description"], doc["mileage_km"]) == ("粤B54321", "换轮胎", None)


# --- roles ------------------------------------------------------------------------------------


def test_who_may_book_and_who_may_convert(
    service: User,
    tech: User,
    owner: User,
    api_for: Callable[[User], ApiClient],
    shop: Shop,
    customer: Customer,
    vehicle: Vehicle,
) -> None:
    as_service, as_tech, as_owner = api_for(service), api_for(tech), api_for(owner)
    booked = _book(as_service, shop, customer, vehicle_id=vehicle.pk).json()
    url = f"/api/v1/appointments/{booked['id']}"

    assert as_tech.get(url).status_code == 200
    assert as_tech.get("/api/v1/appointments", {"day": DAY.isoformat()}).json()["count"] == 1
    assert as_tech.get("/api/v1/appointments/slots", {"day": DAY.isoformat()}).status_code == 200
    assert _book(as_tech, shop, customer).status_code == 403
    assert as_tech.patch_json(url, {"state": "confirmed"}).status_code == 403
    assert as_service.patch_json(url, {"state": "arrived"}).status_code == 200
    assert as_service.post_json(f"{url}/convert", {"mileage": 60000}).status_code == 403
    assert as_tech.post_json(f"{url}/convert", {"mileage": 60000}).status_code == 403
    assert as_owner.post_json(f"{url}/convert", {"mileage": 60000}).status_code == 201


def test_the_documented_targets_are_the_moves_staff_make() -> None:
    reachable = set().union(*TRANSITIONS.values()) - {Appointment.State.CONVERTED}
    assert set(AppointmentTarget.__args__) == reachable


def test_openapi_lists_the_appointment_routes(db: object, client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, ops in paths.items() for method in ops}

    assert routes >= {
        ("GET", "/api/v1/appointments"),
        ("POST", "/api/v1/appointments"),
        ("GET", "/api/v1/appointments/slots"),
        ("GET", "/api/v1/appointments/{appointment_id}"),
        ("PATCH", "/api/v1/appointments/{appointment_id}"),
        ("POST", "/api/v1/appointments/{appointment_id}/convert"),
    }
