"""/api/v1/catalog: service items and parts, read by all staff, kept by the store manager."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from huitou.api.service_schemas import DECIMAL_AS_STRING, CategoryCode
from huitou.api.tests.conftest import ApiClient
from huitou.service import errors
from huitou.service.models import Category, Part, ServiceItem
from huitou.service.services.catalog import shop_price_set
from huitou.tenancy.models import Organization, Shop, User
from huitou.testing.fixtures import first_shop

Make = Callable[..., Any]


@pytest.fixture
def manager(owner: User, api_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_for(owner)


@pytest.fixture
def api(advisor: User, api_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_for(advisor)


# --- service items ----------------------------------------------------------------------------


def test_it_lists_active_service_items_by_category_and_name(api: ApiClient, make_service_item: Make) -> None:
    wax = make_service_item(category=Category.DETAILING, code="MR02", name="Wax 打蜡", labour_price="180")
    wash = make_service_item(category=Category.DETAILING, code="MR01", name="Wash 精洗", labour_price="60.5")
    oil = make_service_item(
        category=Category.MAINTENANCE,
        code="BY01",
        name="更换机油",
        labour_price="120",
        standard_hours="0.5",
        interval_km=5000,
        interval_months=6,
    )
    make_service_item(name="停售项目", is_active=False)

    r = api.get("/api/v1/catalog/services")

    assert r.status_code == 200
    doc = r.json()
    assert (doc["count"], doc["page"], doc["page_size"]) == (3, 1, 50)
    assert [i["id"] for i in doc["items"]] == [wash.pk, wax.pk, oil.pk]  # detailing < maintenance, then by name
    assert doc["items"][2] == {
        "id": oil.pk,
        "category": "maintenance",
        "code": "BY01",
        "name": "更换机油",
        "labour_price": "120.00",
        "standard_hours": "0.50",
        "interval_km": 5000,
        "interval_months": 6,
        "warranty_months": None,
        "warranty_km": None,
        "is_active": True,
        "shop_price": None,
    }
    assert doc["items"][0]["labour_price"] == "60.50"


def test_it_filters_service_items(api: ApiClient, make_service_item: Make) -> None:
    oil = make_service_item(category=Category.MAINTENANCE, code="BY01", name="更换机油")
    tyre = make_service_item(category=Category.TYRES, code="LT01", name="四轮定位")
    retired = make_service_item(category=Category.TYRES, code="LT02", name="补胎", is_active=False)

    def ids(**query: Any) -> list[int]:
        return [i["id"] for i in api.get("/api/v1/catalog/services", query).json()["items"]]

    assert ids(category="tyres") == [tyre.pk]
    assert set(ids(category="tyres", include_inactive="true")) == {tyre.pk, retired.pk}
    assert ids(q="机油") == [oil.pk]
    assert set(ids(q="lt0", include_inactive="true")) == {tyre.pk, retired.pk}
    assert ids(page_size=1, page=2) == [tyre.pk]  # maintenance before tyres
    assert api.get("/api/v1/catalog/services", {"category": "spa"}).status_code == 422


def test_the_list_shows_a_shops_own_price(api: ApiClient, org: Organization, make_service_item: Make) -> None:
    oil = make_service_item(name="更换机油", labour_price="120")
    plain = make_service_item(name="洗车", labour_price="30")
    shop = first_shop(org)
    shop_price_set(shop=shop, item=oil, price="99.00")

    items = api.get("/api/v1/catalog/services", {"shop": shop.pk}).json()["items"]
    one = api.get(f"/api/v1/catalog/services/{oil.pk}", {"shop": shop.pk}).json()

    assert {i["id"]: (i["labour_price"], i["shop_price"]) for i in items} == {
        oil.pk: ("120.00", "99.00"),
        plain.pk: ("30.00", None),
    }
    assert one["shop_price"] == "99.00"
    assert api.get(f"/api/v1/catalog/services/{oil.pk}").json()["shop_price"] is None


def test_the_store_manager_adds_a_service_item(manager: ApiClient, org: Organization) -> None:
    r = manager.post_json(
        "/api/v1/catalog/services",
        {
            "category": "detailing",
            "code": "MR09",
            "name": "镀晶",
            "labour_price": "1280.00",
            "standard_hours": "3",
            "interval_months": 12,
        },
    )

    assert r.status_code == 201
    doc = r.json()
    assert (doc["category"], doc["code"], doc["name"], doc["labour_price"], doc["standard_hours"]) == (
        "detailing",
        "MR09",
        "镀晶",
        "1280.00",
        "3.00",
    )
    assert (doc["interval_km"], doc["interval_months"], doc["is_active"]) == (None, 12, True)
    assert ServiceItem.objects.for_org(org).get(pk=doc["id"]).labour_price == Decimal("1280.00")


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"code": "X1", "name": "x", "labour_price": "10"}, {"category"}),
        ({"category": "spa", "code": "X1", "name": "x", "labour_price": "10"}, {"category"}),
        ({"category": "repair", "name": "x", "labour_price": "10"}, {"code"}),
        ({"category": "repair", "code": " ", "name": "x", "labour_price": "10"}, {"code"}),
        ({"category": "repair", "code": "X1", "name": "x"}, {"labour_price"}),
        ({"category": "repair", "code": "X1", "name": "x", "labour_price": "-1"}, {"labour_price"}),
        ({"category": "repair", "code": "X1", "name": "x", "labour_price": "1.001"}, {"labour_price"}),
        ({"category": "repair", "code": "X1", "name": "x", "labour_price": 10.5}, {"labour_price"}),
        ({"category": "repair", "code": "X1", "name": "x", "labour_price": "10", "interval_km": 0}, {"interval_km"}),
        ({"category": "repair", "code": "X1", "name": "x" * 61, "labour_price": "10"}, {"name"}),
    ],
)
def test_a_service_item_is_refused_per_field(
    manager: ApiClient, payload: dict[str, Any], fields: set[str], org: Organization
) -> None:
    r = manager.post_json("/api/v1/catalog/services", payload)

    assert r.status_code == 422
    assert set(r.json()["errors"]) == fields
    assert not ServiceItem.objects.for_org(org).exists()


def test_a_code_is_unique_within_the_organization_only(
    manager: ApiClient, make_service_item: Make, other_org: Organization
) -> None:
    make_service_item(code="BY01")
    make_service_item(organization=other_org, code="BY02")
    payload = {"category": "repair", "name": "钣金", "labour_price": "300"}

    taken = manager.post_json("/api/v1/catalog/services", {**payload, "code": "BY01"})
    free = manager.post_json("/api/v1/catalog/services", {**payload, "code": "BY02"})

    assert (taken.status_code, taken.json()["errors"]) == (422, {"code": [str(errors.CODE_TAKEN)]})
    assert free.status_code == 201


def test_the_store_manager_changes_and_retires_a_service_item(manager: ApiClient, make_service_item: Make) -> None:
    item = make_service_item(name="更换机油", labour_price="120", interval_km=5000)
    url = f"/api/v1/catalog/services/{item.pk}"

    changed = manager.patch_json(url, {"labour_price": "135.5", "interval_km": None})
    retired = manager.patch_json(url, {"is_active": False})
    refused = manager.patch_json(url, {"labour_price": None})

    assert changed.status_code == 200
    assert (changed.json()["labour_price"], changed.json()["interval_km"], changed.json()["name"]) == (
        "135.50",
        None,
        "更换机油",
    )
    assert retired.json()["is_active"] is False
    assert manager.get(url).json()["is_active"] is False  # still readable
    assert (refused.status_code, list(refused.json()["errors"])) == (422, ["labour_price"])
    item.refresh_from_db()
    assert (item.labour_price, item.is_active) == (Decimal("135.50"), False)


def test_unknown_and_foreign_service_items_are_404(
    manager: ApiClient, make_service_item: Make, other_org: Organization
) -> None:
    foreign = make_service_item(organization=other_org, name="外店项目")
    for item_id in (foreign.pk, 999_999):
        url = f"/api/v1/catalog/services/{item_id}"
        assert manager.get(url).status_code == 404
        assert manager.patch_json(url, {"name": "改名"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "外店项目"


# --- parts ------------------------------------------------------------------------------------


def test_parts_list_with_their_cost_for_the_store_manager_only(
    owner: User, advisor: User, service: User, tech: User, api_for: Callable[[User], ApiClient], make_part: Make
) -> None:
    filt = make_part(code="LV01", name="Bosch 机油滤清器", unit="个", sale_price="45.5", cost="20")
    oil = make_part(code="JY01", name="Amsoil 全合成机油 4L", unit="桶", sale_price="398", cost="210")
    make_part(name="停售配件", is_active=False)

    for user, cost in ((owner, "20.00"), (advisor, None), (service, None), (tech, None)):
        doc = api_for(user).get("/api/v1/catalog/parts").json()
        assert doc["count"] == 2
        assert [p["id"] for p in doc["items"]] == [oil.pk, filt.pk]  # by name
        assert doc["items"][1] == {
            "id": filt.pk,
            "code": "LV01",
            "name": "Bosch 机油滤清器",
            "unit": "个",
            "sale_price": "45.50",
            "cost": cost,
            "is_active": True,
            "shop_price": None,
        }
        assert api_for(user).get(f"/api/v1/catalog/parts/{filt.pk}").json()["cost"] == cost


def test_parts_filter_and_show_a_shops_own_price(api: ApiClient, org: Organization, make_part: Make) -> None:
    filt = make_part(code="LV01", name="机油滤清器", sale_price="45.5")
    make_part(code="JY01", name="全合成机油")
    retired = make_part(code="LV02", name="空气滤清器", is_active=False)
    shop = Shop.objects.for_org(org).order_by("pk").last()
    assert shop is not None
    shop_price_set(shop=shop, item=filt, price="42")

    found = api.get("/api/v1/catalog/parts", {"q": "滤清器", "include_inactive": "true", "shop": shop.pk}).json()

    assert {p["id"]: p["shop_price"] for p in found["items"]} == {retired.pk: None, filt.pk: "42.00"}


def test_the_store_manager_adds_and_changes_a_part(manager: ApiClient, org: Organization) -> None:
    created = manager.post_json(
        "/api/v1/catalog/parts",
        {"code": "SCP01", "name": "刹车片（前）", "unit": "套", "sale_price": "380", "cost": "190.5"},
    )
    url = f"/api/v1/catalog/parts/{created.json()['id']}"
    changed = manager.patch_json(url, {"sale_price": "399.00", "is_active": False})

    assert created.status_code == 201
    assert (created.json()["unit"], created.json()["sale_price"], created.json()["cost"]) == ("套", "380.00", "190.50")
    assert (changed.status_code, changed.json()["sale_price"], changed.json()["is_active"]) == (200, "399.00", False)
    part = Part.objects.for_org(org).get(pk=created.json()["id"])
    assert (part.sale_price, part.cost, part.is_active) == (Decimal("399.00"), Decimal("190.50"), False)


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"code": "P1", "name": "x", "sale_price": "10"}, {"cost"}),
        ({"code": "P1", "name": "x", "cost": "10"}, {"sale_price"}),
        ({"code": "P1", "name": "x", "sale_price": "ten", "cost": "-1"}, {"sale_price", "cost"}),
        ({"code": "P1", "name": "x", "sale_price": 9.9, "cost": "1"}, {"sale_price"}),
        ({"name": "x", "sale_price": "10", "cost": "1"}, {"code"}),
    ],
)
def test_a_part_is_refused_per_field(
    manager: ApiClient, payload: dict[str, Any], fields: set[str], org: Organization
) -> None:
    r = manager.post_json("/api/v1/catalog/parts", payload)

    assert r.status_code == 422
    assert set(r.json()["errors"]) == fields
    assert not Part.objects.for_org(org).exists()


def test_a_fraction_sent_as_a_json_number_gets_a_hint(manager: ApiClient) -> None:
    r = manager.post_json("/api/v1/catalog/parts", {"code": "P1", "name": "x", "sale_price": 9.9, "cost": "1"})
    assert r.json()["errors"] == {"sale_price": [str(DECIMAL_AS_STRING)]}


def test_unknown_and_foreign_parts_are_404(manager: ApiClient, make_part: Make, other_org: Organization) -> None:
    foreign = make_part(organization=other_org, name="外店配件")
    for part_id in (foreign.pk, 999_999):
        url = f"/api/v1/catalog/parts/{part_id}"
        assert manager.get(url).status_code == 404
        assert manager.patch_json(url, {"name": "改名"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "外店配件"


# --- roles and query counts -------------------------------------------------------------------


def test_only_the_store_manager_writes_the_catalog(
    advisor: User,
    service: User,
    tech: User,
    api_for: Callable[[User], ApiClient],
    make_service_item: Make,
    make_part: Make,
) -> None:
    item = make_service_item(name="更换机油")
    part = make_part(name="机油滤清器")
    for user in (advisor, service, tech):
        api = api_for(user)
        assert api.get(f"/api/v1/catalog/services/{item.pk}").status_code == 200
        assert api.get(f"/api/v1/catalog/parts/{part.pk}").status_code == 200
        refused = [
            api.post_json(
                "/api/v1/catalog/services", {"category": "repair", "code": "X", "name": "x", "labour_price": "1"}
            ),
            api.patch_json(f"/api/v1/catalog/services/{item.pk}", {"labour_price": "1"}),
            api.post_json("/api/v1/catalog/parts", {"code": "X", "name": "x", "sale_price": "1", "cost": "1"}),
            api.patch_json(f"/api/v1/catalog/parts/{part.pk}", {"cost": "1"}),
        ]
        assert [r.status_code for r in refused] == [403] * 4, user.role
    assert (
        ServiceItem.objects.for_org(advisor.organization_id).count(),
        Part.objects.for_org(advisor.organization_id).count(),
    ) == (1, 1)
    item.refresh_from_db()
    assert item.labour_price == Decimal("200.00")


def test_the_lists_run_the_same_queries_for_2_or_30_items(
    api: ApiClient, org: Organization, make_service_item: Make, make_part: Make, django_assert_num_queries: Any
) -> None:
    shop = first_shop(org)
    api.get("/api/v1/catalog/services")  # the token's first use also stamps last_used_at
    for count in (2, 30):
        while ServiceItem.objects.for_org(org).count() < count:
            shop_price_set(shop=shop, item=make_service_item(), price="1.00")
            make_part()
        # 1 token with its user and organization, 2 count, 3 the page with each item's own price at the shop
        with django_assert_num_queries(3):
            assert len(api.get("/api/v1/catalog/services", {"shop": shop.pk}).json()["items"]) == count
        with django_assert_num_queries(3):
            assert len(api.get("/api/v1/catalog/parts", {"shop": shop.pk}).json()["items"]) == count


def test_the_documented_categories_are_the_models() -> None:
    assert set(CategoryCode.__args__) == set(Category.values)


def test_openapi_lists_the_catalog_routes(db: object, client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, ops in paths.items() for method in ops}

    assert routes >= {
        ("GET", "/api/v1/catalog/services"),
        ("POST", "/api/v1/catalog/services"),
        ("GET", "/api/v1/catalog/services/{service_id}"),
        ("PATCH", "/api/v1/catalog/services/{service_id}"),
        ("GET", "/api/v1/catalog/parts"),
        ("POST", "/api/v1/catalog/parts"),
        ("GET", "/api/v1/catalog/parts/{part_id}"),
        ("PATCH", "/api/v1/catalog/parts/{part_id}"),
    }
