"""Warranty in the API: the catalog's usual terms, the promise on a line when it is added and afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from huitou.api.tests.conftest import ApiClient
from huitou.service import errors
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay, order_void
from huitou.tenancy.models import User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db


@pytest.fixture
def brakes(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(name="刹车片更换", category="repair", warranty_months=3, warranty_km=3000)


def put(client: ApiClient, path: str, data: Any) -> Any:
    return client._json("PUT", path, data)


def test_the_catalog_reads_and_writes_an_item_s_usual_warranty(
    api_for: Callable[[User], ApiClient], owner: User, brakes: ServiceItem
) -> None:
    api = api_for(owner)
    doc = api.get(f"/api/v1/catalog/services/{brakes.pk}").json()
    assert (doc["warranty_months"], doc["warranty_km"]) == (3, 3000)
    patched = api.patch_json(f"/api/v1/catalog/services/{brakes.pk}", {"warranty_km": None}).json()
    assert (patched["warranty_months"], patched["warranty_km"]) == (3, None)
    created = api.post_json(
        "/api/v1/catalog/services",
        {"category": "repair", "code": "BT01", "name": "更换蓄电池", "labour_price": "50", "warranty_months": 12},
    )
    assert created.status_code == 201 and created.json()["warranty_months"] == 12
    refused = api.patch_json(f"/api/v1/catalog/services/{brakes.pk}", {"warranty_months": 121})
    assert refused.status_code == 422 and "warranty_months" in refused.json()["errors"]


def test_a_line_takes_the_item_s_terms_unless_others_or_none_are_sent(
    api_for: Callable[[User], ApiClient], advisor: User, make_order: Callable[..., ServiceOrder], brakes: ServiceItem
) -> None:
    api = api_for(advisor)
    order = make_order()
    path = f"/api/v1/orders/{order.pk}/lines"
    api.post_json(path, {"service_id": brakes.pk})
    api.post_json(path, {"service_id": brakes.pk, "warranty_months": 6})
    doc = api.post_json(path, {"service_id": brakes.pk, "warranty_months": None, "warranty_km": None}).json()
    assert [(li["warranty_months"], li["warranty_km"]) for li in doc["lines"]] == [(3, 3000), (6, 3000), (None, None)]


def test_a_technician_adds_lines_with_the_item_s_terms_only(
    api_for: Callable[[User], ApiClient], tech: User, make_order: Callable[..., ServiceOrder], brakes: ServiceItem
) -> None:
    api = api_for(tech)
    order = make_order()
    path = f"/api/v1/orders/{order.pk}/lines"
    refused = api.post_json(path, {"service_id": brakes.pk, "warranty_km": 10_000})
    assert (refused.status_code, refused.json()["detail"]) == (403, zh(errors.WARRANTY_NOT_YOURS))
    assert api.post_json(path, {"service_id": brakes.pk, "warranty_months": 3}).status_code == 201


def test_the_schema_refuses_terms_out_of_range(
    api_for: Callable[[User], ApiClient], advisor: User, make_order: Callable[..., ServiceOrder], brakes: ServiceItem
) -> None:
    api = api_for(advisor)
    order = make_order()
    for body in ({"warranty_months": 0}, {"warranty_months": 121}, {"warranty_km": 500_001}, {"warranty_km": "x"}):
        refused = api.post_json(f"/api/v1/orders/{order.pk}/lines", {"service_id": brakes.pk, **body})
        assert refused.status_code == 422 and list(refused.json()["errors"]) == list(body)
    assert not order.lines.exists()


def test_the_promise_is_set_afterwards_and_read_back_with_the_order(
    api_for: Callable[[User], ApiClient],
    advisor: User,
    tech: User,
    make_order: Callable[..., ServiceOrder],
    brakes: ServiceItem,
) -> None:
    order = make_order()
    line = order_add_line(order=order, by=advisor, service=brakes)
    path = f"/api/v1/orders/{order.pk}/lines/{line.pk}/warranty"
    refused = put(api_for(tech), path, {"warranty_months": 12, "warranty_km": None})
    assert (refused.status_code, refused.json()["detail"]) == (403, zh(errors.WARRANTY_CHANGE_NOT_YOURS))
    doc = put(api_for(advisor), path, {"warranty_months": 12, "warranty_km": None}).json()
    assert (doc["lines"][0]["warranty_months"], doc["lines"][0]["warranty_km"]) == (12, None)
    missing = put(api_for(advisor), path, {"warranty_months": 12})  # both legs are sent: null says none
    assert missing.status_code == 422 and "warranty_km" in missing.json()["errors"]
    body = {"warranty_months": 12, "warranty_km": None}
    elsewhere = put(api_for(advisor), f"/api/v1/orders/{make_order().pk}/lines/{line.pk}/warranty", body)
    assert elsewhere.status_code == 404  # the line of another order


def test_a_paid_order_needs_a_reason_and_a_void_one_is_refused(
    api_for: Callable[[User], ApiClient], advisor: User, make_order: Callable[..., ServiceOrder], brakes: ServiceItem
) -> None:
    api = api_for(advisor)
    paid = make_order()
    line = order_add_line(order=paid, by=advisor, service=brakes)
    order_complete(order=paid, by=advisor)
    order_pay(order=paid, by=advisor, method="cash", amount=paid.total)
    path = f"/api/v1/orders/{paid.pk}/lines/{line.pk}/warranty"
    refused = put(api, path, {"warranty_months": 6, "warranty_km": 3000})
    assert (refused.status_code, refused.json()["errors"]["reason"]) == (422, [zh(errors.WARRANTY_REASON_REQUIRED)])
    assert put(api, path, {"warranty_months": 6, "warranty_km": 3000, "reason": "延期服务"}).status_code == 200

    void = make_order()
    voided = order_add_line(order=void, by=advisor, service=brakes)
    order_void(order=void, by=advisor, reason="客户取消")
    conflict = put(
        api, f"/api/v1/orders/{void.pk}/lines/{voided.pk}/warranty", {"warranty_months": 6, "warranty_km": None}
    )
    assert (conflict.status_code, conflict.json()["detail"]) == (409, zh(errors.ORDER_VOID))


def test_the_document_states_the_ranges(api_for: Callable[[User], ApiClient], advisor: User) -> None:
    schemas = api_for(advisor).get("/api/v1/openapi.json").json()["components"]["schemas"]
    for name in ("LineIn", "LineWarrantyIn", "ServiceItemPatch"):
        months = schemas[name]["properties"]["warranty_months"]["anyOf"][0]
        km = schemas[name]["properties"]["warranty_km"]["anyOf"][0]
        assert (months["minimum"], months["maximum"], km["minimum"], km["maximum"]) == (1, 120, 1, 500_000)
    assert schemas["LineWarrantyIn"]["required"] == ["warranty_months", "warranty_km"]
