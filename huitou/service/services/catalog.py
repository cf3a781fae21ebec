"""The catalog: service items and parts, and the shop prices that override them."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from huitou.lib.money import DecimalIn, MoneyError, parse_decimal, parse_money
from huitou.service import errors
from huitou.service.models import Category, Part, ServiceItem, ShopPrice
from huitou.service.selectors import shop_overrides, shop_price
from huitou.service.warranty import warranty_terms
from huitou.tenancy.models import Organization, Shop


def price_for(*, shop_id: int, item: ServiceItem | Part) -> Decimal:
    """The shop's price of an item; kept for the demo loader: read ``selectors.shop_price``."""
    return shop_price(shop=shop_id, item=item)


def _money(data: dict[str, Any], field: str, problems: dict[str, list[Any]], required: bool = True) -> Any:
    value = data.get(field)
    if value in (None, ""):
        if required:
            problems[field] = [errors.PRICE_INVALID]
        return None
    try:
        number = parse_money(value)
        if number < 0:
            raise MoneyError(value)
        return number
    except MoneyError:
        problems[field] = [errors.PRICE_INVALID]
        return None


def _save(item: ServiceItem | Part, shop_prices: Mapping[Shop, DecimalIn | None] | None = None) -> None:
    """Save the item and the shops' own prices that change, all or nothing.

    A refused shop price comes back on ``shop_price_<shop id>``; an empty one goes back
    to the organization's price.
    """
    created = item.pk is None
    try:
        with transaction.atomic():
            current = shop_overrides(organization=item.organization_id, item=item) if item.pk else {}
            item.save()
            problems: dict[str, list[Any]] = {}
            for shop, price in (shop_prices or {}).items():
                if price == current.get(shop.pk) or (price in (None, "") and shop.pk not in current):
                    continue
                try:
                    shop_price_set(shop=shop, item=item, price=price)
                except ValidationError as exc:
                    problems[f"shop_price_{shop.pk}"] = exc.messages
            if problems:
                raise ValidationError(problems)
    except IntegrityError as exc:
        raise ValidationError({"code": [errors.CODE_TAKEN]}) from exc
    except ValidationError:
        if created:
            item.pk = None  # rolled back: not saved after all
        raise


def service_item_save(
    *,
    organization: Organization,
    data: dict[str, Any],
    item: ServiceItem | None = None,
    shop_prices: Mapping[Shop, DecimalIn | None] | None = None,
) -> ServiceItem:
    """Create or change a service item; ``data`` holds the fields to set.

    ``shop_prices`` sets shops' own prices in the same transaction (see ``_save``).
    """
    item = item or ServiceItem(organization=organization)
    problems: dict[str, list[Any]] = {}
    for field in ("code", "name"):
        if field in data:
            setattr(item, field, (data[field] or "").strip())
    if "category" in data:
        if data["category"] not in Category.values:
            problems["category"] = [errors.ITEM_UNKNOWN]
        item.category = data["category"]
    if "labour_price" in data or item.pk is None:
        item.labour_price = _money(data, "labour_price", problems)
    if "standard_hours" in data:
        try:
            item.standard_hours = parse_decimal(data["standard_hours"] or 0, 2, max_digits=5)
            if item.standard_hours < 0:
                raise MoneyError(data["standard_hours"])
        except MoneyError:
            problems["standard_hours"] = [errors.QUANTITY_INVALID]
    for field in ("interval_km", "interval_months"):
        if field in data:
            value = data[field]
            if value in (None, ""):
                setattr(item, field, None)
            elif not str(value).isdigit() or int(value) <= 0:
                problems[field] = [errors.QUANTITY_INVALID]
            else:
                setattr(item, field, int(value))
    if "warranty_months" in data or "warranty_km" in data:  # the usual warranty of the item's lines
        try:
            item.warranty_months, item.warranty_km = warranty_terms(
                data.get("warranty_months", item.warranty_months), data.get("warranty_km", item.warranty_km)
            )
        except ValidationError as exc:
            problems.update(exc.message_dict)
    if "is_active" in data:
        item.is_active = bool(data["is_active"])
    try:
        item.clean_fields(exclude=["organization", "labour_price", "standard_hours", *problems])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            problems.setdefault(field, []).extend(messages)
    if problems:
        raise ValidationError(problems)
    _save(item, shop_prices)
    return item


def part_save(
    *,
    organization: Organization,
    data: dict[str, Any],
    part: Part | None = None,
    shop_prices: Mapping[Shop, DecimalIn | None] | None = None,
) -> Part:
    """Create or change a part; ``data`` holds the fields to set, ``shop_prices`` as for a service item."""
    part = part or Part(organization=organization)
    problems: dict[str, list[Any]] = {}
    for field in ("code", "name", "unit"):
        if field in data:
            setattr(part, field, (data[field] or "").strip())
    for field in ("sale_price", "cost"):
        if field in data or part.pk is None:
            setattr(part, field, _money(data, field, problems))
    if "is_active" in data:
        part.is_active = bool(data["is_active"])
    try:
        part.clean_fields(exclude=["organization", "sale_price", "cost", *problems])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            problems.setdefault(field, []).extend(messages)
    if problems:
        raise ValidationError(problems)
    _save(part, shop_prices)
    return part


def shop_price_set(*, shop: Shop, item: ServiceItem | Part, price: DecimalIn | None) -> ShopPrice | None:
    """Set a shop's own price for an item; an empty price goes back to the organization's."""
    if item.organization_id != shop.organization_id:
        raise ValidationError({"item": [errors.ITEM_UNKNOWN]})
    lookup = {"service": item} if isinstance(item, ServiceItem) else {"part": item}
    if price in (None, ""):
        ShopPrice.objects.for_org(shop.organization_id).filter(shop=shop, **lookup).delete()
        return None
    problems: dict[str, list[Any]] = {}
    value = _money({"price": price}, "price", problems)
    if problems:
        raise ValidationError(problems)
    override, _created = ShopPrice.objects.update_or_create(
        organization_id=shop.organization_id, shop=shop, **lookup, defaults={"price": value}
    )
    return override
