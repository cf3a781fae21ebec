"""/api/v1/orders: opening, lines, the state machine, payments, adjustments, recommendations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from huitou.api.service_schemas import DECIMAL_AS_STRING, OrderStateCode, PaymentMethodCode, UrgencyCode
from huitou.api.tests.conftest import ApiClient
from huitou.customers.models import Customer, MileageReading, Vehicle
from huitou.service import errors
from huitou.service.models import OrderLine, OrderState, Part, PaymentMethod, Recommendation, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay, order_void
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.services import staff_create
from huitou.testing.fixtures import PASSWORD, first_shop

Make = Callable[..., Any]
MONEY_FIELDS = ("lines_total", "adjustments_total", "total", "amount_paid", "amount_due")


@pytest.fixture
def api(advisor: User, api_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_for(advisor)


@pytest.fixture
def customer(make_customer: Make) -> Customer:
    return make_customer(name="张三", phone="13812345678")


@pytest.fixture
def vehicle(customer: Customer, make_vehicle: Make) -> Vehicle:
    return make_vehicle(customer, plate="粤B12345", mileage_km=50000)


@pytest.fixture
def oil_change(make_service_item: Make) -> ServiceItem:
    return make_service_item(code="BY01", name="更换机油", labour_price="120.00")


@pytest.fixture
def oil_filter(make_part: Make) -> Part:
    return make_part(code="LV01", name="机油滤清器", sale_price="45.50", cost="20.00")


@pytest.fixture
def order(make_order: Make, vehicle: Vehicle) -> ServiceOrder:
    return make_order(vehicle, mileage_km=52000, description="刹车有异响")


def _url(order: ServiceOrder, tail: str = "") -> str:
    return f"/api/v1/orders/{order.pk}{tail}"


def _billed(order: ServiceOrder, by: User, item: ServiceItem, price: str = "300.00") -> ServiceOrder:
    """The order with one line at ``price``, completed."""
    order_add_line(order=order, by=by, service=item, unit_price=price)
    order_complete(order=order, by=by)
    return order


def _paid(order: ServiceOrder, by: User, item: ServiceItem) -> ServiceOrder:
    _billed(order, by, item)
    order_pay(order=order, by=by, method=PaymentMethod.CASH, amount="300.00")
    return order


def _foreign_staff(other_org: Organization) -> User:
    return staff_create(
        organization=other_org,
        username="foreign_tech",
        password=PASSWORD,
        role="technician",
        display_name="外店技师",
        shops=list(Shop.objects.for_org(other_org)),
        validate=False,
    )


# --- open -------------------------------------------------------------------------------------


def test_it_opens_an_order_at_the_callers_shop_with_the_mileage_as_a_reading(
    api: ApiClient, advisor: User, org: Organization, customer: Customer, vehicle: Vehicle
) -> None:
    r = api.post_json("/api/v1/orders", {"vehicle_id": vehicle.pk, "mileage": 52000, "description": "刹车有异响"})

    assert r.status_code == 201
    doc = r.json()
    shop = first_shop(org)
    assert (doc["state"], doc["mileage_km"], doc["description"]) == ("open", 52000, "刹车有异响")
    assert doc["number"] == timezone.localdate().strftime("%Y%m%d-0001")
    assert doc["shop"] == {"id": shop.pk, "name": shop.name}
    assert doc["customer"] == {"id": customer.pk, "name": "张三", "phone": "13812345678"}
    assert doc["vehicle"] == {"id": vehicle.pk, "plate": "粤B12345", "brand": "丰田", "model": "卡罗拉"}
    assert doc["advisor"] == {"id": advisor.pk, "name": "李顾问"}
    assert {f: doc[f] for f in MONEY_FIELDS} == dict.fromkeys(MONEY_FIELDS, "0.00")
    assert (doc["lines"], doc["payments"], doc["adjustments"], doc["recommendations"]) == ([], [], [], [])
    order = ServiceOrder.objects.for_org(org).get(pk=doc["id"])
    assert order.mileage.km == 52000 and order.mileage.source == MileageReading.Source.ORDER
    assert order.customer_id == customer.pk


def test_it_opens_an_order_at_another_of_the_callers_shops_with_an_expected_finish(
    api: ApiClient, org: Organization, vehicle: Vehicle
) -> None:
    second = Shop.objects.for_org(org).order_by("pk").last()
    assert second is not None

    r = api.post_json(
        "/api/v1/orders",
        {"vehicle_id": vehicle.pk, "mileage": 52000, "shop_id": second.pk, "expected_finish_at": "2030-05-01T17:30"},
    )

    assert r.status_code == 201
    assert r.json()["shop"]["id"] == second.pk
    finish = ServiceOrder.objects.for_org(org).get(pk=r.json()["id"]).expected_finish_at
    assert finish is not None and timezone.localtime(finish).replace(tzinfo=None) == dt.datetime(2030, 5, 1, 17, 30)


def test_an_order_opened_without_the_mileage_records_no_reading(api: ApiClient, vehicle: Vehicle) -> None:
    """A car wash, a car towed in: no odometer read, none invented (docs/decisions.md)."""
    r = api.post_json("/api/v1/orders", {"vehicle_id": vehicle.pk, "description": "洗车"})

    assert r.status_code == 201
    assert r.json()["mileage_km"] is None
    assert list(vehicle.readings.values_list("km", flat=True)) == [50000]


def test_opening_refuses_a_mileage_below_the_last_reading(api: ApiClient, vehicle: Vehicle) -> None:
    r = api.post_json("/api/v1/orders", {"vehicle_id": vehicle.pk, "mileage": 49000})

    assert r.status_code == 422
    assert list(r.json()["errors"]) == ["mileage"]
    assert not ServiceOrder.objects.for_org(vehicle.organization_id).exists()


def test_opening_refuses_vehicles_that_are_not_the_organizations(
    api: ApiClient, other_org: Organization, outsider: User, make_customer: Make, make_vehicle: Make, vehicle: Vehicle
) -> None:
    foreign = make_vehicle(make_customer(organization=other_org, by=outsider), by=outsider, plate="京A12345")
    removed = make_vehicle(vehicle.customer, plate="粤B99999")
    api.delete(f"/api/v1/vehicles/{removed.pk}")

    for vehicle_id in (foreign.pk, removed.pk, 999_999):
        r = api.post_json("/api/v1/orders", {"vehicle_id": vehicle_id, "mileage": 1000})
        assert r.status_code == 422
        assert r.json()["errors"] == {"vehicle_id": [str(errors.VEHICLE_UNKNOWN)]}
    assert not ServiceOrder.objects.for_org(vehicle.organization_id).exists()
    assert not MileageReading.objects.filter(vehicle=foreign).exclude(km=0).exists()


def test_opening_refuses_a_shop_the_caller_does_not_work_at(
    org: Organization, other_org: Organization, vehicle: Vehicle, api_for: Callable[[User], ApiClient]
) -> None:
    shops = list(Shop.objects.for_org(org).order_by("pk"))
    at_head_office = staff_create(
        organization=org,
        username="head_office",
        password=PASSWORD,
        role="advisor",
        display_name="总店顾问",
        shops=shops[:1],
        validate=False,
    )
    api = api_for(at_head_office)

    for shop_id in (shops[1].pk, first_shop(other_org).pk):
        r = api.post_json("/api/v1/orders", {"vehicle_id": vehicle.pk, "mileage": 52000, "shop_id": shop_id})
        assert r.status_code == 422
        assert r.json()["errors"] == {"shop_id": [str(errors.SHOP_UNKNOWN)]}
    assert api.post_json("/api/v1/orders", {"vehicle_id": vehicle.pk, "mileage": 52000}).json()["shop"]["id"] == (
        shops[0].pk
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"mileage": 1000}, "vehicle_id"), ({"vehicle_id": "x", "mileage": 1}, "vehicle_id"), ({"mileage": "far"}, None)],
)
def test_opening_refuses_wrong_types_per_field(
    api: ApiClient, vehicle: Vehicle, payload: dict[str, Any], field: str | None
) -> None:
    r = api.post_json("/api/v1/orders", {"vehicle_id": vehicle.pk, **payload} if field is None else payload)

    assert r.status_code == 422
    assert list(r.json()["errors"]) == [field or "mileage"]


# --- read and list ----------------------------------------------------------------------------


def test_an_order_reads_back_with_money_as_strings_and_everything_on_it(
    owner: User,
    tech: User,
    api_for: Callable[[User], ApiClient],
    order: ServiceOrder,
    oil_change: ServiceItem,
    oil_filter: Part,
) -> None:
    order_add_line(order=order, by=owner, service=oil_change, technician=tech)
    order_add_line(order=order, by=owner, part=oil_filter, quantity="2", discount="1.00")
    order_complete(order=order, by=owner)
    order_pay(order=order, by=owner, method=PaymentMethod.WECHAT, amount="100.00", reference="4200001")
    Recommendation.objects.create(
        organization_id=order.organization_id,
        order=order,
        customer_id=order.customer_id,
        vehicle_id=order.vehicle_id,
        description="前刹车片磨损",
        estimate=Decimal("380"),
        recorded_by=tech,
        recorded_at=timezone.now(),
    )

    doc = api_for(owner).get(_url(order)).json()

    assert (doc["state"], doc["lines_total"], doc["total"], doc["amount_paid"], doc["amount_due"]) == (
        "completed",
        "210.00",
        "210.00",
        "100.00",
        "110.00",
    )
    service_line, part_line = doc["lines"]
    assert service_line == {
        "id": service_line["id"],
        "kind": "service",
        "service_id": oil_change.pk,
        "part_id": None,
        "name": "更换机油",
        "quantity": "1.00",
        "unit_price": "120.00",
        "discount": "0.00",
        "amount": "120.00",
        "unit_cost": None,
        "technician": {"id": tech.pk, "name": "孙技师"},
        "note": "",
        "applies_to": None,
        "warranty_months": None,
        "warranty_km": None,
        "created_at": service_line["created_at"],
    }
    assert (part_line["kind"], part_line["part_id"], part_line["quantity"]) == ("part", oil_filter.pk, "2.00")
    assert (part_line["unit_price"], part_line["discount"], part_line["amount"]) == ("45.50", "1.00", "90.00")
    assert part_line["unit_cost"] == "20.00"  # the store manager sees costs
    (payment,) = doc["payments"]
    assert (payment["method"], payment["amount"], payment["reference"]) == ("wechat", "100.00", "4200001")
    assert payment["received_by"] == {"id": owner.pk, "name": "王店长"}
    (recommendation,) = doc["recommendations"]
    assert (recommendation["description"], recommendation["estimate"], recommendation["status"]) == (
        "前刹车片磨损",
        "380.00",
        "open",
    )


def test_costs_and_full_phones_are_for_the_roles_allowed_them(
    advisor: User, tech: User, api_for: Callable[[User], ApiClient], order: ServiceOrder, oil_filter: Part
) -> None:
    order_add_line(order=order, by=advisor, part=oil_filter)

    as_advisor = api_for(advisor).get(_url(order)).json()
    as_tech = api_for(tech).get(_url(order)).json()

    assert as_advisor["lines"][0]["unit_cost"] is None and as_tech["lines"][0]["unit_cost"] is None
    assert as_advisor["customer"]["phone"] == "13812345678"
    assert as_tech["customer"]["phone"] == "138****5678"
    assert api_for(tech).get("/api/v1/orders").json()["items"][0]["customer"]["phone"] == "138****5678"


def test_every_money_field_is_a_decimal_string(
    api: ApiClient, advisor: User, order: ServiceOrder, oil_change: ServiceItem
) -> None:
    _paid(order, advisor, oil_change)
    api.post_json(_url(order, "/adjustments"), {"amount": "-20", "reason": "老客户优惠"})
    api.post_json(_url(order, "/recommendations"), {"description": "轮胎老化", "estimate": "800"})

    doc = api.get(_url(order)).json()
    amounts = [doc[f] for f in MONEY_FIELDS]
    for line in doc["lines"]:
        amounts += [line["unit_price"], line["discount"], line["amount"]]
    amounts += [p["amount"] for p in doc["payments"]] + [a["amount"] for a in doc["adjustments"]]
    amounts += [r["estimate"] for r in doc["recommendations"]]

    assert amounts == ["300.00", "-20.00", "280.00", "300.00", "-20.00"] + ["300.00", "0.00", "300.00"] + [
        "300.00",
        "-20.00",
        "800.00",
    ]


def test_unknown_and_foreign_orders_are_404(
    api: ApiClient, other_org: Organization, outsider: User, make_customer: Make, make_vehicle: Make, make_order: Make
) -> None:
    foreign = make_order(make_vehicle(make_customer(organization=other_org, by=outsider), by=outsider), by=outsider)
    for order_id in (foreign.pk, 999_999):
        for r in (
            api.get(f"/api/v1/orders/{order_id}"),
            api.get(f"/api/v1/orders/{order_id}/recommendations"),
            api.post_json(f"/api/v1/orders/{order_id}/start"),
            api.post_json(f"/api/v1/orders/{order_id}/complete"),
            api.post_json(f"/api/v1/orders/{order_id}/void", {"reason": "x"}),
            api.post_json(f"/api/v1/orders/{order_id}/payments", {"method": "cash", "amount": "1"}),
            api.post_json(f"/api/v1/orders/{order_id}/adjustments", {"amount": "1", "reason": "x"}),
            api.post_json(f"/api/v1/orders/{order_id}/lines", {"service_id": 1}),
            api.post_json(f"/api/v1/orders/{order_id}/recommendations", {"description": "x"}),
        ):
            assert r.status_code == 404, r.content
            assert set(r.json()) == {"detail"}
    foreign.refresh_from_db()
    assert foreign.state == OrderState.OPEN


def test_the_list_filters_by_shop_day_state_and_customer(
    api: ApiClient, advisor: User, org: Organization, make_order: Make, make_customer: Make, make_vehicle: Make
) -> None:
    first, second = Shop.objects.for_org(org).order_by("pk")
    zhang = make_vehicle(make_customer(name="张三"))
    li = make_vehicle(make_customer(name="李四"))
    a = make_order(zhang, shop=first)
    b = make_order(li, shop=second)
    c = make_order(zhang, shop=second)
    order_void(order=c, by=advisor, reason="客户取消")
    ServiceOrder.objects.for_org(a.organization_id).filter(pk=a.pk).update(
        opened_at=timezone.now() - dt.timedelta(days=3)
    )

    def ids(**query: Any) -> list[int]:
        r = api.get("/api/v1/orders", query)
        assert r.status_code == 200
        assert r.json()["count"] == len(r.json()["items"])
        return [o["id"] for o in r.json()["items"]]

    assert ids() == [c.pk, b.pk, a.pk]
    assert ids(shop=second.pk) == [c.pk, b.pk]
    assert ids(date=timezone.localdate().isoformat()) == [c.pk, b.pk]
    assert ids(date=(timezone.localdate() - dt.timedelta(days=3)).isoformat()) == [a.pk]
    assert ids(state="void") == [c.pk]
    assert ids(state="open", customer=zhang.customer_id) == [a.pk]
    summary = api.get("/api/v1/orders", {"state": "void"}).json()["items"][0]
    assert "lines" not in summary
    assert (summary["customer"]["name"], summary["vehicle"]["plate"], summary["void_reason"]) == (
        "张三",
        zhang.plate,
        "客户取消",
    )


def test_the_list_pages_and_refuses_bad_filters(api: ApiClient, make_order: Make) -> None:
    orders = [make_order() for _ in range(3)]

    page = api.get("/api/v1/orders", {"page": 2, "page_size": 2}).json()

    assert (page["count"], page["page"], page["page_size"]) == (3, 2, 2)
    assert [o["id"] for o in page["items"]] == [orders[0].pk]
    for query, field in (({"state": "done"}, "state"), ({"date": "2024-13-01"}, "date"), ({"page": 0}, "page")):
        r = api.get("/api/v1/orders", query)
        assert r.status_code == 422
        assert field in r.json()["errors"]


def test_the_list_never_shows_another_organizations_orders(
    api: ApiClient, other_org: Organization, outsider: User, make_customer: Make, make_vehicle: Make, make_order: Make
) -> None:
    foreign_vehicle = make_vehicle(make_customer(organization=other_org, by=outsider), by=outsider)
    foreign = make_order(foreign_vehicle, by=outsider)

    assert api.get("/api/v1/orders").json() == {"items": [], "count": 0, "page": 1, "page_size": 20}
    assert api.get("/api/v1/orders", {"shop": foreign.shop_id, "customer": foreign.customer_id}).json()["count"] == 0


def test_the_list_runs_the_same_queries_for_2_or_30_orders(
    api: ApiClient, make_order: Make, django_assert_num_queries: Any, org: Organization
) -> None:
    api.get("/api/v1/orders")  # the token's first use also stamps last_used_at
    for count in (2, 30):
        while ServiceOrder.objects.for_org(org).count() < count:
            make_order()
        # 1 token with its user and organization, 2 count, 3 the page with shop, customer, vehicle, advisor
        with django_assert_num_queries(3):
            assert len(api.get("/api/v1/orders", {"page_size": 50}).json()["items"]) == count


def test_the_detail_runs_the_same_queries_whatever_is_on_the_order(
    api: ApiClient,
    advisor: User,
    order: ServiceOrder,
    oil_change: ServiceItem,
    oil_filter: Part,
    django_assert_num_queries: Any,
) -> None:
    api.get(_url(order))
    for _ in range(12):
        order_add_line(order=order, by=advisor, service=oil_change, technician=advisor)
        order_add_line(order=order, by=advisor, part=oil_filter)
        api.post_json(_url(order, "/recommendations"), {"description": "更换雨刮", "service_id": oil_change.pk})
    order_complete(order=order, by=advisor)
    for _ in range(3):
        order_pay(order=order, by=advisor, method="cash", amount="10.00")
    # 1 token with its user and organization, 2 the order with shop, customer, vehicle, advisor,
    # 3 lines with technicians, 4 payments with receivers, 5 adjustments with authors,
    # 6 recommendations with recorders and service items
    with django_assert_num_queries(6):
        doc = api.get(_url(order)).json()
    assert (len(doc["lines"]), len(doc["payments"]), len(doc["recommendations"])) == (24, 3, 12)
    # 1 token, 2 the order, 3 its recommendations with recorders and service items
    with django_assert_num_queries(3):
        assert len(api.get(_url(order, "/recommendations")).json()) == 12


# --- lines ------------------------------------------------------------------------------------


def test_lines_are_charged_at_the_shops_price_and_totals_follow(
    api: ApiClient, advisor: User, order: ServiceOrder, oil_change: ServiceItem, oil_filter: Part
) -> None:
    r1 = api.post_json(_url(order, "/lines"), {"service_id": oil_change.pk, "quantity": 1})
    r2 = api.post_json(
        _url(order, "/lines"),
        {"part_id": oil_filter.pk, "quantity": "2", "discount": "1.00", "technician_id": advisor.pk},
    )

    assert (r1.status_code, r2.status_code) == (201, 201)
    assert r1.json()["total"] == "120.00"
    doc = r2.json()
    assert [(li["name"], li["amount"]) for li in doc["lines"]] == [("更换机油", "120.00"), ("机油滤清器", "90.00")]
    assert doc["lines"][1]["technician"] == {"id": advisor.pk, "name": "李顾问"}
    assert (doc["total"], doc["amount_due"]) == ("210.00", "210.00")


def test_a_line_rounds_half_up_to_the_fen_once(api: ApiClient, order: ServiceOrder, oil_change: ServiceItem) -> None:
    r = api.post_json(_url(order, "/lines"), {"service_id": oil_change.pk, "quantity": "1.5", "unit_price": "33.33"})

    assert r.status_code == 201
    assert (r.json()["lines"][0]["amount"], r.json()["total"]) == ("50.00", "50.00")  # 49.995 → 50.00


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"service_id"}),  # the service's "item"
        ({"service_id": "SERVICE", "part_id": "PART"}, {"service_id"}),
        ({"service_id": "SERVICE", "quantity": "0"}, {"quantity"}),
        ({"service_id": "SERVICE", "quantity": "-1"}, {"quantity"}),
        ({"service_id": "SERVICE", "quantity": "1.234"}, {"quantity"}),
        ({"service_id": "SERVICE", "quantity": 1.5}, {"quantity"}),
        ({"service_id": "SERVICE", "unit_price": "-1"}, {"unit_price"}),
        ({"service_id": "SERVICE", "unit_price": "12.345"}, {"unit_price"}),
        ({"service_id": "SERVICE", "unit_price": 99.9}, {"unit_price"}),
        ({"service_id": "SERVICE", "discount": "120.01"}, {"discount"}),
        ({"service_id": "SERVICE", "discount": "abc"}, {"discount"}),
        ({"service_id": "SERVICE", "technician_id": "x"}, {"technician_id"}),
    ],
)
def test_lines_refuse_bad_input_per_field(
    api: ApiClient,
    order: ServiceOrder,
    oil_change: ServiceItem,
    oil_filter: Part,
    payload: dict[str, Any],
    fields: set[str],
) -> None:
    ids = {"SERVICE": oil_change.pk, "PART": oil_filter.pk}
    body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}

    r = api.post_json(_url(order, "/lines"), body)

    assert r.status_code == 422
    assert set(r.json()["errors"]) == fields
    assert all(m for messages in r.json()["errors"].values() for m in messages)
    assert not OrderLine.objects.for_org(order.organization_id).exists()


def test_a_fractional_json_number_is_refused_with_a_hint(
    api: ApiClient, order: ServiceOrder, oil_change: ServiceItem
) -> None:
    r = api.post_json(_url(order, "/lines"), {"service_id": oil_change.pk, "unit_price": 99.9})
    assert r.json()["errors"] == {"unit_price": [str(DECIMAL_AS_STRING)]}


def test_lines_refuse_items_and_technicians_that_are_not_the_organizations(
    api: ApiClient,
    order: ServiceOrder,
    other_org: Organization,
    make_service_item: Make,
    make_part: Make,
) -> None:
    foreign_item = make_service_item(organization=other_org, name="外店项目")
    foreign_part = make_part(organization=other_org, name="外店配件")
    retired = make_service_item(name="停售项目", is_active=False)
    local = make_service_item(name="本店项目")
    foreign_tech = _foreign_staff(other_org)

    cases = [
        ({"service_id": foreign_item.pk}, {"service_id": [str(errors.ITEM_UNKNOWN)]}),
        ({"service_id": retired.pk}, {"service_id": [str(errors.ITEM_UNKNOWN)]}),
        ({"part_id": foreign_part.pk}, {"part_id": [str(errors.ITEM_UNKNOWN)]}),
        (
            {"service_id": local.pk, "technician_id": foreign_tech.pk},
            {"technician_id": [str(errors.TECHNICIAN_INVALID)]},
        ),
    ]
    for payload, expected in cases:
        r = api.post_json(_url(order, "/lines"), payload)
        assert r.status_code == 422
        assert r.json()["errors"] == expected
    assert not OrderLine.objects.for_org(order.organization_id).exists()


def test_a_paid_or_void_order_takes_no_lines(
    api: ApiClient, advisor: User, order: ServiceOrder, make_order: Make, oil_change: ServiceItem
) -> None:
    _paid(order, advisor, oil_change)
    void = make_order()
    order_void(order=void, by=advisor, reason="客户取消")

    for target in (order, void):
        r = api.post_json(_url(target, "/lines"), {"service_id": oil_change.pk})
        assert r.status_code == 409
        assert r.json() == {"detail": str(errors.ORDER_LOCKED)}
    assert OrderLine.objects.filter(order=void).count() == 0
    assert OrderLine.objects.filter(order=order).count() == 1


def test_a_line_can_be_removed_until_the_order_is_paid(
    api: ApiClient, advisor: User, order: ServiceOrder, make_order: Make, oil_change: ServiceItem, oil_filter: Part
) -> None:
    keep = order_add_line(order=order, by=advisor, service=oil_change)
    drop = order_add_line(order=order, by=advisor, part=oil_filter)
    other = order_add_line(order=make_order(), by=advisor, part=oil_filter)

    wrong_order = api.delete(_url(order, f"/lines/{other.pk}"))
    removed = api.delete(_url(order, f"/lines/{drop.pk}"))
    again = api.delete(_url(order, f"/lines/{drop.pk}"))

    assert (wrong_order.status_code, removed.status_code, again.status_code) == (404, 200, 404)
    assert [li["id"] for li in removed.json()["lines"]] == [keep.pk]
    assert removed.json()["total"] == "120.00"
    order_complete(order=order, by=advisor)
    order_pay(order=order, by=advisor, method="cash", amount="120.00")
    locked = api.delete(_url(order, f"/lines/{keep.pk}"))
    assert locked.status_code == 409
    assert locked.json()["detail"] == str(errors.ORDER_LOCKED)
    assert OrderLine.objects.for_org(other.organization_id).filter(pk=other.pk).exists()


# --- start, complete, pay, void, adjust -------------------------------------------------------


def test_the_order_goes_through_its_states(api: ApiClient, order: ServiceOrder, oil_change: ServiceItem) -> None:
    started = api.post_json(_url(order, "/start"))
    restarted = api.post_json(_url(order, "/start"))
    api.post_json(_url(order, "/lines"), {"service_id": oil_change.pk})
    early = api.post_json(_url(order, "/payments"), {"method": "cash", "amount": "120.00"})
    completed = api.post_json(_url(order, "/complete"))
    recompleted = api.post_json(_url(order, "/complete"))

    assert (started.status_code, started.json()["state"]) == (200, "in_progress")
    assert started.json()["started_at"] is not None
    assert (restarted.status_code, restarted.json()) == (409, {"detail": str(errors.ORDER_CANNOT_START)})
    assert (early.status_code, early.json()) == (409, {"detail": str(errors.ORDER_NOT_COMPLETED)})
    assert (completed.status_code, completed.json()["state"]) == (200, "completed")
    assert (recompleted.status_code, recompleted.json()) == (409, {"detail": str(errors.ORDER_CANNOT_COMPLETE)})


def test_two_payments_of_different_methods_settle_the_order(
    api: ApiClient, advisor: User, order: ServiceOrder, oil_change: ServiceItem
) -> None:
    _billed(order, advisor, oil_change, price="300.00")

    first = api.post_json(_url(order, "/payments"), {"method": "wechat", "amount": "100.00"})
    second = api.post_json(_url(order, "/payments"), {"method": "cash", "amount": 200})  # a whole number is fine

    assert first.status_code == second.status_code == 201
    assert (first.json()["state"], first.json()["amount_paid"], first.json()["amount_due"]) == (
        "completed",
        "100.00",
        "200.00",
    )
    doc = second.json()
    assert (doc["state"], doc["amount_paid"], doc["amount_due"]) == ("paid", "300.00", "0.00")
    assert doc["paid_at"] is not None
    assert [(p["method"], p["amount"]) for p in doc["payments"]] == [("wechat", "100.00"), ("cash", "200.00")]
    customer = Customer.objects.for_org(order.organization_id).get(pk=order.customer_id)
    assert (customer.visit_count, customer.lifetime_spend) == (1, Decimal("300.00"))


def test_paying_more_than_is_due_is_a_conflict(
    api: ApiClient, advisor: User, order: ServiceOrder, oil_change: ServiceItem
) -> None:
    _billed(order, advisor, oil_change, price="300.00")

    r = api.post_json(_url(order, "/payments"), {"method": "alipay", "amount": "300.01"})

    assert r.status_code == 409
    assert r.json() == {"detail": str(errors.PAYMENT_TOO_MUCH % {"amount": "300.01", "due": "300.00"})}
    settled = api.post_json(_url(order, "/payments"), {"method": "alipay", "amount": "300.00"})
    assert (settled.status_code, settled.json()["state"]) == (201, "paid")
    nothing_due = api.post_json(_url(order, "/payments"), {"method": "cash", "amount": "1.00"})
    assert (nothing_due.status_code, nothing_due.json()) == (409, {"detail": str(errors.PAYMENT_NOTHING_DUE)})


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"method": "bitcoin", "amount": "10.00"}, "method"),
        ({"amount": "10.00"}, "method"),
        ({"method": "cash"}, "amount"),
        ({"method": "cash", "amount": "ten"}, "amount"),
        ({"method": "cash", "amount": "10.001"}, "amount"),
        ({"method": "cash", "amount": 10.5}, "amount"),
    ],
)
def test_payments_refuse_bad_input_per_field(
    api: ApiClient, advisor: User, order: ServiceOrder, oil_change: ServiceItem, payload: dict[str, Any], field: str
) -> None:
    _billed(order, advisor, oil_change)

    r = api.post_json(_url(order, "/payments"), payload)

    assert r.status_code == 422
    assert list(r.json()["errors"]) == [field]
    assert not order.payments.exists()


def test_a_void_order_takes_no_payment_and_a_paid_one_cannot_be_voided(
    api: ApiClient, advisor: User, order: ServiceOrder, make_order: Make, oil_change: ServiceItem
) -> None:
    other = make_order()
    missing_reason = api.post_json(_url(other, "/void"), {"reason": "  "})
    voided = api.post_json(_url(other, "/void"), {"reason": "客户改天再来"})
    twice = api.post_json(_url(other, "/void"), {"reason": "再作废"})
    pay_void = api.post_json(_url(other, "/payments"), {"method": "cash", "amount": "1.00"})
    _paid(order, advisor, oil_change)
    void_paid = api.post_json(_url(order, "/void"), {"reason": "搞错了"})

    assert (missing_reason.status_code, missing_reason.json()["errors"]) == (
        422,
        {"reason": [str(errors.VOID_REASON_REQUIRED)]},
    )
    assert (voided.status_code, voided.json()["state"], voided.json()["void_reason"]) == (200, "void", "客户改天再来")
    assert (twice.status_code, twice.json()) == (409, {"detail": str(errors.ORDER_ALREADY_VOID)})
    assert (pay_void.status_code, pay_void.json()) == (409, {"detail": str(errors.ORDER_VOID)})
    assert (void_paid.status_code, void_paid.json()) == (409, {"detail": str(errors.ORDER_CANNOT_VOID_PAID)})


def test_a_paid_order_changes_only_by_adjustments_then_a_refund(
    api: ApiClient, advisor: User, order: ServiceOrder, oil_change: ServiceItem
) -> None:
    unpaid = api.post_json(_url(order, "/adjustments"), {"amount": "-20.00", "reason": "优惠"})
    _paid(order, advisor, oil_change)
    no_reason = api.post_json(_url(order, "/adjustments"), {"amount": "-20.00", "reason": ""})
    zero = api.post_json(_url(order, "/adjustments"), {"amount": "0", "reason": "无"})
    below_zero = api.post_json(_url(order, "/adjustments"), {"amount": "-300.01", "reason": "全免"})
    adjusted = api.post_json(_url(order, "/adjustments"), {"amount": "-20.00", "reason": "老客户优惠"})
    refund = api.post_json(_url(order, "/payments"), {"method": "cash", "amount": "-20.00"})

    assert (unpaid.status_code, unpaid.json()) == (409, {"detail": str(errors.ORDER_NOT_PAID)})
    assert (no_reason.status_code, no_reason.json()["errors"]) == (
        422,
        {"reason": [str(errors.ADJUSTMENT_REASON_REQUIRED)]},
    )
    assert (zero.status_code, zero.json()["errors"]) == (422, {"amount": [str(errors.ADJUSTMENT_ZERO)]})
    assert (below_zero.status_code, below_zero.json()["errors"]) == (
        422,
        {"amount": [str(errors.ADJUSTMENT_BELOW_ZERO)]},
    )
    assert adjusted.status_code == 201
    doc = adjusted.json()
    assert (doc["state"], doc["adjustments_total"], doc["total"], doc["amount_due"]) == (
        "paid",
        "-20.00",
        "280.00",
        "-20.00",
    )
    (adjustment,) = doc["adjustments"]
    assert (adjustment["amount"], adjustment["reason"], adjustment["author"]) == (
        "-20.00",
        "老客户优惠",
        {"id": advisor.pk, "name": "李顾问"},
    )
    assert refund.status_code == 201
    assert (refund.json()["amount_paid"], refund.json()["amount_due"]) == ("280.00", "0.00")
    assert Customer.objects.for_org(order.organization_id).get(pk=order.customer_id).lifetime_spend == Decimal("280.00")


# --- recommendations --------------------------------------------------------------------------


def test_a_technician_records_a_recommendation_and_the_customer_declines_it(
    tech: User, api: ApiClient, api_for: Callable[[User], ApiClient], order: ServiceOrder, oil_change: ServiceItem
) -> None:
    recorded = api_for(tech).post_json(
        _url(order, "/recommendations"), {"description": "前刹车片磨损严重", "urgency": "now", "estimate": "380"}
    )

    assert recorded.status_code == 201
    rec = recorded.json()
    assert (rec["description"], rec["urgency"], rec["estimate"], rec["status"]) == (
        "前刹车片磨损严重",
        "now",
        "380.00",
        "open",
    )
    assert (rec["order_id"], rec["recorded_by"], rec["service"], rec["line_id"]) == (
        order.pk,
        {"id": tech.pk, "name": "孙技师"},
        None,
        None,
    )
    assert api.get(_url(order, "/recommendations")).json() == [rec]

    declined = api.post_json(_url(order, f"/recommendations/{rec['id']}/decline"))
    again = api.post_json(_url(order, f"/recommendations/{rec['id']}/accept"), {"service_id": oil_change.pk})

    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    assert declined.json()["decided_at"] is not None
    assert (again.status_code, again.json()) == (409, {"detail": str(errors.RECOMMENDATION_DECIDED)})
    assert (
        Recommendation.objects.for_org(order.organization_id).get(pk=rec["id"]).status == Recommendation.Status.DECLINED
    )


def test_an_accepted_recommendation_becomes_a_line_at_its_estimate(
    api: ApiClient, order: ServiceOrder, oil_change: ServiceItem, make_service_item: Make
) -> None:
    brakes = make_service_item(code="WX01", name="更换刹车片", labour_price="450.00")
    free_text = api.post_json(_url(order, "/recommendations"), {"description": "刹车片", "estimate": "380"}).json()
    catalogued = api.post_json(_url(order, "/recommendations"), {"service_id": oil_change.pk}).json()

    needs_item = api.post_json(_url(order, f"/recommendations/{free_text['id']}/accept"), {})
    accepted = api.post_json(_url(order, f"/recommendations/{free_text['id']}/accept"), {"service_id": brakes.pk})
    catalogued_accepted = api.post_json(_url(order, f"/recommendations/{catalogued['id']}/accept"))

    assert (needs_item.status_code, needs_item.json()["errors"]) == (422, {"service_id": [str(errors.ITEM_REQUIRED)]})
    assert catalogued["description"] == "更换机油"
    assert accepted.status_code == catalogued_accepted.status_code == 200
    assert (accepted.json()["status"], accepted.json()["service"]) == (
        "accepted",
        {"id": brakes.pk, "name": "更换刹车片"},
    )
    doc = api.get(_url(order)).json()
    assert [(li["id"], li["name"], li["amount"]) for li in doc["lines"]] == [
        (accepted.json()["line_id"], "更换刹车片", "380.00"),
        (catalogued_accepted.json()["line_id"], "更换机油", "120.00"),
    ]
    assert doc["total"] == "500.00"


def test_recommendations_refuse_bad_input_and_foreign_items(
    api: ApiClient, order: ServiceOrder, make_order: Make, other_org: Organization, make_service_item: Make
) -> None:
    foreign_item = make_service_item(organization=other_org, name="外店项目")
    rec = api.post_json(_url(order, "/recommendations"), {"description": "轮胎老化"}).json()
    elsewhere = make_order()

    cases = [
        ({}, {"description"}),
        ({"description": "x", "urgency": "tomorrow"}, {"urgency"}),
        ({"description": "x", "estimate": "-5"}, {"estimate"}),
        ({"description": "x", "estimate": 5.5}, {"estimate"}),
        ({"description": "x", "service_id": foreign_item.pk}, {"service_id"}),
    ]
    for payload, fields in cases:
        r = api.post_json(_url(order, "/recommendations"), payload)
        assert r.status_code == 422, payload
        assert set(r.json()["errors"]) == fields
    foreign_accept = api.post_json(_url(order, f"/recommendations/{rec['id']}/accept"), {"service_id": foreign_item.pk})
    wrong_order = api.post_json(_url(elsewhere, f"/recommendations/{rec['id']}/decline"))
    assert (foreign_accept.status_code, list(foreign_accept.json()["errors"])) == (422, ["service_id"])
    assert wrong_order.status_code == 404
    assert Recommendation.objects.for_org(order.organization_id).count() == 1
    assert Recommendation.objects.for_org(order.organization_id).get().status == Recommendation.Status.OPEN


def test_a_recommendation_cannot_be_accepted_into_a_paid_order_nor_recorded_on_a_void_one(
    api: ApiClient, advisor: User, order: ServiceOrder, make_order: Make, oil_change: ServiceItem
) -> None:
    rec = api.post_json(_url(order, "/recommendations"), {"service_id": oil_change.pk}).json()
    _paid(order, advisor, oil_change)
    void = make_order()
    order_void(order=void, by=advisor, reason="客户取消")

    accept = api.post_json(_url(order, f"/recommendations/{rec['id']}/accept"))
    on_void = api.post_json(_url(void, "/recommendations"), {"description": "轮胎老化"})

    assert (accept.status_code, accept.json()) == (409, {"detail": str(errors.ORDER_LOCKED)})
    assert (on_void.status_code, on_void.json()) == (409, {"detail": str(errors.ORDER_VOID)})
    assert Recommendation.objects.for_org(order.organization_id).get(pk=rec["id"]).status == Recommendation.Status.OPEN


# --- roles ------------------------------------------------------------------------------------


def test_a_technician_records_work_but_never_settles(
    tech: User, api_for: Callable[[User], ApiClient], order: ServiceOrder, vehicle: Vehicle, oil_change: ServiceItem
) -> None:
    api = api_for(tech)

    assert api.get(_url(order)).status_code == 200
    assert api.get("/api/v1/orders").status_code == 200
    line = api.post_json(_url(order, "/lines"), {"service_id": oil_change.pk})
    assert line.status_code == 201
    assert line.json()["lines"][0]["technician"] == {"id": tech.pk, "name": "孙技师"}  # the caller did the work
    rec = api.post_json(_url(order, "/recommendations"), {"description": "空调滤芯脏"})
    assert rec.status_code == 201
    assert api.post_json(_url(order, "/start")).status_code == 200
    assert api.post_json(_url(order, "/complete")).status_code == 200

    refused = [
        api.post_json("/api/v1/orders", {"vehicle_id": vehicle.pk, "mileage": 60000}),
        api.post_json(_url(order, "/lines"), {"service_id": oil_change.pk, "unit_price": "1.00"}),
        api.post_json(_url(order, "/lines"), {"service_id": oil_change.pk, "discount": "100.00"}),
        api.post_json(_url(order, "/payments"), {"method": "cash", "amount": "120.00"}),
        api.post_json(_url(order, "/void"), {"reason": "不修了"}),
        api.post_json(_url(order, "/adjustments"), {"amount": "-10", "reason": "优惠"}),
        api.post_json(_url(order, f"/recommendations/{rec.json()['id']}/accept"), {"service_id": oil_change.pk}),
        api.post_json(_url(order, f"/recommendations/{rec.json()['id']}/decline")),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert all(set(r.json()) == {"detail"} for r in refused)
    order.refresh_from_db()
    assert (order.state, order.total, order.amount_paid) == ("completed", Decimal("120.00"), Decimal("0.00"))
    assert ServiceOrder.objects.for_org(order.organization_id).count() == 1


def test_customer_service_reads_orders_but_does_not_work_on_them(
    service: User, api_for: Callable[[User], ApiClient], order: ServiceOrder, vehicle: Vehicle, oil_change: ServiceItem
) -> None:
    api = api_for(service)

    assert api.get(_url(order)).status_code == 200
    assert api.get(_url(order, "/recommendations")).status_code == 200
    refused = [
        api.post_json("/api/v1/orders", {"vehicle_id": vehicle.pk, "mileage": 60000}),
        api.post_json(_url(order, "/lines"), {"service_id": oil_change.pk}),
        api.post_json(_url(order, "/recommendations"), {"description": "x"}),
        api.post_json(_url(order, "/start")),
        api.post_json(_url(order, "/complete")),
        api.post_json(_url(order, "/void"), {"reason": "x"}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)


def test_the_store_manager_does_everything(
    owner: User, api_for: Callable[[User], ApiClient], vehicle: Vehicle, oil_change: ServiceItem
) -> None:
    api = api_for(owner)
    order = api.post_json("/api/v1/orders", {"vehicle_id": vehicle.pk, "mileage": 51000}).json()
    url = f"/api/v1/orders/{order['id']}"

    statuses = [
        api.post_json(f"{url}/lines", {"service_id": oil_change.pk, "unit_price": "100", "discount": "10"}).status_code,
        api.post_json(f"{url}/complete").status_code,
        api.post_json(f"{url}/payments", {"method": "card", "amount": "90.00"}).status_code,
        api.post_json(f"{url}/adjustments", {"amount": "5.00", "reason": "补加玻璃水"}).status_code,
        api.post_json(f"{url}/payments", {"method": "transfer", "amount": "5.00"}).status_code,
    ]

    assert statuses == [201, 200, 201, 201, 201]
    doc = api.get(url).json()
    assert (doc["state"], doc["total"], doc["amount_paid"], doc["amount_due"]) == ("paid", "95.00", "95.00", "0.00")


# --- the contract -----------------------------------------------------------------------------


def test_oversized_input_is_refused_never_a_server_error(
    owner: User, api_for: Callable[[User], ApiClient], order: ServiceOrder, oil_change: ServiceItem
) -> None:
    """Ids past bigint, amounts past the columns, texts past their fields: 4xx on PostgreSQL too."""
    api = api_for(owner)
    api.raise_request_exception = False
    huge = 2**70
    url = _url(order)
    responses = {
        "order id": api.get(f"/api/v1/orders/{huge}"),
        "list filters": api.get("/api/v1/orders", {"customer": huge, "shop": huge}),
        "list page": api.get("/api/v1/orders", {"page": huge}),
        "vehicle id": api.post_json("/api/v1/orders", {"vehicle_id": huge, "mileage": 1}),
        "mileage": api.post_json("/api/v1/orders", {"vehicle_id": order.vehicle_id, "mileage": huge}),
        "service id": api.post_json(f"{url}/lines", {"service_id": huge}),
        "technician id": api.post_json(f"{url}/lines", {"service_id": oil_change.pk, "technician_id": huge}),
        "quantity": api.post_json(f"{url}/lines", {"service_id": oil_change.pk, "quantity": str(huge)}),
        "unit price": api.post_json(f"{url}/lines", {"service_id": oil_change.pk, "unit_price": "1" * 15}),
        "recommendation": api.post_json(f"{url}/recommendations", {"description": "刹" * 201}),
        "void reason": api.post_json(f"{url}/void", {"reason": "x" * 201}),
        "adjustment": api.post_json(f"{url}/adjustments", {"amount": "1", "reason": "x" * 201}),
        "payment reference": api.post_json(f"{url}/payments", {"method": "cash", "amount": "1", "reference": "x" * 65}),
        "booking ids": api.post_json(
            "/api/v1/appointments", {"shop_id": huge, "customer_id": huge, "day": "2030-01-01", "slot": "09:00"}
        ),
        "booking note": api.post_json(
            "/api/v1/appointments",
            {"customer_id": order.customer_id, "day": "2030-01-01", "slot": "09:00", "note": "x" * 201},
        ),
        "slots shop": api.get("/api/v1/appointments/slots", {"shop": huge}),
        "catalog page": api.get("/api/v1/catalog/services", {"shop": huge, "page": huge}),
        "catalog interval": api.post_json(
            "/api/v1/catalog/services",
            {"category": "repair", "code": "X1", "name": "x", "labour_price": "1", "interval_km": huge},
        ),
        "catalog code": api.post_json(
            "/api/v1/catalog/services", {"category": "repair", "code": "X" * 31, "name": "x", "labour_price": "1"}
        ),
        "part unit": api.post_json(
            "/api/v1/catalog/parts", {"code": "P1", "name": "x", "unit": "x" * 11, "sale_price": "1", "cost": "1"}
        ),
    }

    statuses = {what: r.status_code for what, r in responses.items()}
    assert statuses == {**dict.fromkeys(responses, 422), "order id": 404}
    order.refresh_from_db()
    assert (order.state, order.total) == (OrderState.OPEN, Decimal("0.00"))


def test_the_documented_codes_are_the_models_choices() -> None:
    assert set(PaymentMethodCode.__args__) == set(PaymentMethod.values)
    assert set(OrderStateCode.__args__) == set(OrderState.values)
    assert set(UrgencyCode.__args__) == set(Recommendation.Urgency.values)


def test_openapi_lists_the_order_routes(db: object, client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, ops in paths.items() for method in ops}

    assert routes >= {
        ("GET", "/api/v1/orders"),
        ("POST", "/api/v1/orders"),
        ("GET", "/api/v1/orders/{order_id}"),
        ("POST", "/api/v1/orders/{order_id}/lines"),
        ("DELETE", "/api/v1/orders/{order_id}/lines/{line_id}"),
        ("POST", "/api/v1/orders/{order_id}/start"),
        ("POST", "/api/v1/orders/{order_id}/complete"),
        ("POST", "/api/v1/orders/{order_id}/payments"),
        ("POST", "/api/v1/orders/{order_id}/void"),
        ("POST", "/api/v1/orders/{order_id}/adjustments"),
        ("GET", "/api/v1/orders/{order_id}/recommendations"),
        ("POST", "/api/v1/orders/{order_id}/recommendations"),
        ("POST", "/api/v1/orders/{order_id}/recommendations/{recommendation_id}/accept"),
        ("POST", "/api/v1/orders/{order_id}/recommendations/{recommendation_id}/decline"),
    }
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert schemas["PaymentIn"]["properties"]["amount"]["type"] == "string"
    assert schemas["PaymentIn"]["properties"]["method"]["enum"] == list(PaymentMethod.values)
    assert schemas["OrderOut"]["properties"]["total"]["type"] == "string"
