"""The catalog: service items and parts per organization, codes unique in it, shop prices."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from huitou.service import errors
from huitou.service.models import Part, ServiceItem, ShopPrice
from huitou.service.selectors import parts, service_items
from huitou.service.services.catalog import part_save, price_for, service_item_save, shop_price_set
from huitou.service.services.orders import order_add_line
from huitou.service.tests.support import refused
from huitou.tenancy.models import Organization, Shop, User

MakeItem = Callable[..., ServiceItem]
MakePart = Callable[..., Part]


@pytest.fixture
def shops(org: Organization) -> list[Shop]:
    return list(Shop.objects.for_org(org).order_by("pk"))


# --- service items -------------------------------------------------------------------------


def test_a_service_item_is_created_with_its_price_hours_and_interval(org: Organization) -> None:
    item = service_item_save(
        organization=org,
        data={
            "code": " BY-01 ",
            "name": " 小保养 ",
            "category": "maintenance",
            "labour_price": "¥168.5",
            "standard_hours": "0.5",
            "interval_km": "5000",
            "interval_months": 6,
        },
    )
    item = ServiceItem.objects.for_org(item.organization_id).get(pk=item.pk)
    assert (item.organization_id, item.code, item.name, item.category) == (org.pk, "BY-01", "小保养", "maintenance")
    assert (item.labour_price, item.standard_hours) == (Decimal("168.50"), Decimal("0.50"))
    assert (item.interval_km, item.interval_months, item.is_active) == (5000, 6, True)


def test_a_new_service_item_needs_a_code_a_name_a_category_and_a_price(org: Organization) -> None:
    with pytest.raises(ValidationError) as exc:
        service_item_save(organization=org, data={})
    assert set(exc.value.message_dict) == {"code", "name", "category", "labour_price"}
    assert refused(exc, "labour_price") == [errors.PRICE_INVALID]
    assert not ServiceItem.objects.for_org(org).exists()


@pytest.mark.parametrize("price", ["-1", "33.335", 19.9, "abc", "", "10000000000"])
def test_it_refuses_a_bad_labour_price(org: Organization, make_service_item: MakeItem, price: object) -> None:
    with pytest.raises(ValidationError) as exc:
        make_service_item(labour_price=price)
    assert refused(exc, "labour_price") == [errors.PRICE_INVALID]


def test_it_refuses_an_unknown_category(make_service_item: MakeItem) -> None:
    with pytest.raises(ValidationError) as exc:
        make_service_item(category="massage")
    assert refused(exc, "category") == [errors.ITEM_UNKNOWN]


@pytest.mark.parametrize("field", ["interval_km", "interval_months"])
@pytest.mark.parametrize("value", ["0", "-5", "abc", "1.5"])
def test_it_refuses_an_interval_that_is_not_a_positive_whole_number(
    make_service_item: MakeItem, field: str, value: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        make_service_item(**{field: value})
    assert refused(exc, field) == [errors.QUANTITY_INVALID]


@pytest.mark.parametrize("hours", ["-1", "0.125", "1000", "abc"])
def test_it_refuses_bad_standard_hours(make_service_item: MakeItem, hours: str) -> None:
    with pytest.raises(ValidationError) as exc:
        make_service_item(standard_hours=hours)
    assert refused(exc, "standard_hours") == [errors.QUANTITY_INVALID]


def test_an_edit_changes_only_the_fields_given(make_service_item: MakeItem, org: Organization) -> None:
    item = make_service_item(code="XC", name="洗车", category="detailing", labour_price="30", interval_km=1000)
    service_item_save(organization=org, item=item, data={"labour_price": "35.00", "interval_km": ""})
    item = ServiceItem.objects.for_org(item.organization_id).get(pk=item.pk)
    assert (item.code, item.name, item.labour_price, item.interval_km) == ("XC", "洗车", Decimal("35.00"), None)


def test_an_item_can_be_deactivated_and_disappears_from_the_active_catalog(
    make_service_item: MakeItem, org: Organization
) -> None:
    item = make_service_item()
    service_item_save(organization=org, item=item, data={"is_active": False})
    assert list(service_items(org)) == []
    assert list(service_items(org, active_only=False)) == [item]


def test_it_refuses_a_service_code_already_used_in_the_organization(
    make_service_item: MakeItem, org: Organization
) -> None:
    make_service_item(code="BY-01")
    with pytest.raises(ValidationError) as exc:
        make_service_item(code=" BY-01")
    assert refused(exc, "code") == [errors.CODE_TAKEN]
    assert ServiceItem.objects.for_org(org).count() == 1


def test_it_refuses_renaming_an_item_to_a_code_already_used(make_service_item: MakeItem, org: Organization) -> None:
    make_service_item(code="BY-01")
    other = make_service_item(code="BY-02")
    with pytest.raises(ValidationError) as exc:
        service_item_save(organization=org, item=other, data={"code": "BY-01"})
    assert refused(exc, "code") == [errors.CODE_TAKEN]
    assert ServiceItem.objects.for_org(other.organization_id).get(pk=other.pk).code == "BY-02"


def test_another_organization_may_reuse_a_code_at_its_own_price(
    make_service_item: MakeItem, org: Organization, other_org: Organization
) -> None:
    ours = make_service_item(code="BY-01", labour_price="200")
    theirs = make_service_item(organization=other_org, code="BY-01", labour_price="180")
    assert theirs.organization_id == other_org.pk
    assert list(service_items(org)) == [ours]
    assert list(service_items(other_org)) == [theirs]
    assert price_for(shop_id=Shop.objects.for_org(other_org).get().pk, item=theirs) == Decimal("180.00")


# --- parts ---------------------------------------------------------------------------------


def test_a_part_is_created_with_its_sale_price_and_cost(org: Organization) -> None:
    part = part_save(
        organization=org,
        data={"code": "JY-5W30", "name": "机油 5W-30", "unit": "升", "sale_price": "88", "cost": "52.40"},
    )
    part = Part.objects.for_org(part.organization_id).get(pk=part.pk)
    assert (part.code, part.name, part.unit) == ("JY-5W30", "机油 5W-30", "升")
    assert (part.sale_price, part.cost) == (Decimal("88.00"), Decimal("52.40"))


def test_a_new_part_needs_a_code_a_name_a_sale_price_and_a_cost(org: Organization) -> None:
    with pytest.raises(ValidationError) as exc:
        part_save(organization=org, data={})
    assert set(exc.value.message_dict) == {"code", "name", "sale_price", "cost"}
    assert refused(exc, "sale_price") == refused(exc, "cost") == [errors.PRICE_INVALID]


@pytest.mark.parametrize("field", ["sale_price", "cost"])
@pytest.mark.parametrize("price", ["-0.01", "1.001", 1.5])
def test_it_refuses_a_bad_part_price(make_part: MakePart, field: str, price: object) -> None:
    with pytest.raises(ValidationError) as exc:
        make_part(**{field: price})
    assert refused(exc, field) == [errors.PRICE_INVALID]


def test_it_refuses_a_part_code_already_used_in_the_organization_but_not_in_another(
    make_part: MakePart, other_org: Organization, org: Organization
) -> None:
    make_part(code="LX-01")
    with pytest.raises(ValidationError) as exc:
        make_part(code="LX-01")
    assert refused(exc, "code") == [errors.CODE_TAKEN]
    make_part(organization=other_org, code="LX-01")
    assert Part.objects.filter(organization__in=[org, other_org], code="LX-01").count() == 2


def test_a_part_edit_keeps_the_prices_not_given(make_part: MakePart, org: Organization) -> None:
    part = make_part(sale_price="100", cost="60")
    part_save(organization=org, part=part, data={"cost": "65.5"})
    part = Part.objects.for_org(part.organization_id).get(pk=part.pk)
    assert (part.sale_price, part.cost) == (Decimal("100.00"), Decimal("65.50"))


def test_the_parts_list_is_per_organization_and_active_only(
    make_part: MakePart, org: Organization, other_org: Organization
) -> None:
    kept = make_part(name="滤芯")
    make_part(name="旧配件", is_active=False)
    make_part(organization=other_org, name="别家配件")
    assert list(parts(org)) == [kept]
    assert len(parts(org, active_only=False)) == 2


# --- shop prices ---------------------------------------------------------------------------


def test_a_shop_price_overrides_the_organization_price_in_that_shop_only(
    make_service_item: MakeItem, shops: list[Shop]
) -> None:
    item = make_service_item(labour_price="200")
    shop_price_set(shop=shops[1], item=item, price="180.50")
    assert price_for(shop_id=shops[1].pk, item=item) == Decimal("180.50")
    assert price_for(shop_id=shops[0].pk, item=item) == Decimal("200.00")


def test_setting_a_shop_price_again_replaces_it(make_part: MakePart, shops: list[Shop], org: Organization) -> None:
    part = make_part(sale_price="100")
    shop_price_set(shop=shops[0], item=part, price="90")
    shop_price_set(shop=shops[0], item=part, price="95")
    assert ShopPrice.objects.for_org(org).get().price == Decimal("95.00")
    assert price_for(shop_id=shops[0].pk, item=part) == Decimal("95.00")


@pytest.mark.parametrize("price", ["", None])
def test_an_empty_shop_price_goes_back_to_the_organization_price(
    make_service_item: MakeItem, shops: list[Shop], price: object, org: Organization
) -> None:
    item = make_service_item(labour_price="200")
    shop_price_set(shop=shops[0], item=item, price="150")
    assert shop_price_set(shop=shops[0], item=item, price=price) is None
    assert not ShopPrice.objects.for_org(org).exists()
    assert price_for(shop_id=shops[0].pk, item=item) == Decimal("200.00")


@pytest.mark.parametrize("price", ["-1", "1.234", "abc", 9.9])
def test_it_refuses_a_bad_shop_price(
    make_service_item: MakeItem, shops: list[Shop], price: object, org: Organization
) -> None:
    with pytest.raises(ValidationError) as exc:
        shop_price_set(shop=shops[0], item=make_service_item(), price=price)
    assert refused(exc, "price") == [errors.PRICE_INVALID]
    assert not ShopPrice.objects.for_org(org).exists()


def test_it_refuses_a_shop_price_for_another_organizations_item(
    make_service_item: MakeItem, shops: list[Shop], other_org: Organization, org: Organization
) -> None:
    theirs = make_service_item(organization=other_org)
    with pytest.raises(ValidationError) as exc:
        shop_price_set(shop=shops[0], item=theirs, price="1")
    assert refused(exc, "item") == [errors.ITEM_UNKNOWN]
    assert not ShopPrice.objects.for_org(org).exists()


def test_an_order_line_takes_the_shop_price_while_it_is_set(
    make_service_item: MakeItem,
    make_part: MakePart,
    make_order: Callable[..., object],
    shops: list[Shop],
    advisor: User,
) -> None:
    item, part = make_service_item(labour_price="200"), make_part(sale_price="100")
    shop_price_set(shop=shops[1], item=item, price="188")
    shop_price_set(shop=shops[1], item=part, price="99.90")
    order = make_order(shop=shops[1])
    assert order_add_line(order=order, by=advisor, service=item).unit_price == Decimal("188.00")
    assert order_add_line(order=order, by=advisor, part=part).unit_price == Decimal("99.90")
    assert order_add_line(order=make_order(shop=shops[0]), by=advisor, service=item).unit_price == Decimal("200.00")

    shop_price_set(shop=shops[1], item=item, price="")
    assert order_add_line(order=order, by=advisor, service=item).unit_price == Decimal("200.00")
