"""The catalog: service items and parts, and the shop prices that override them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from huitou.lib.money import MoneyError, parse_decimal, parse_money
from huitou.service import errors
from huitou.service.models import Category, Part, ServiceItem, ShopPrice
from huitou.tenancy.models import Organization, Shop


def price_for(*, shop_id: int, item: ServiceItem | Part) -> Decimal:
    """The shop's price for an item: its own override, else the organization's."""
    lookup = {"service": item} if isinstance(item, ServiceItem) else {"part": item}
    override = (
        ShopPrice.objects.for_org(item.organization_id)
        .filter(shop_id=shop_id, **lookup)
        .values_list("price", flat=True)
        .first()
    )
    if override is not None:
        return override
    return item.labour_price if isinstance(item, ServiceItem) else item.sale_price


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


def _save(item: ServiceItem | Part) -> None:
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError as exc:
        raise ValidationError({"code": [errors.CODE_TAKEN]}) from exc


def service_item_save(
    *, organization: Organization, data: dict[str, Any], item: ServiceItem | None = None
) -> ServiceItem:
    """Create or change a service item; ``data`` holds the fields to set."""
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
    if "is_active" in data:
        item.is_active = bool(data["is_active"])
    try:
        item.clean_fields(exclude=["organization", "labour_price", "standard_hours", *problems])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            problems.setdefault(field, []).extend(messages)
    if problems:
        raise ValidationError(problems)
    _save(item)
    return item


def part_save(*, organization: Organization, data: dict[str, Any], part: Part | None = None) -> Part:
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
    _save(part)
    return part


def shop_price_set(*, shop: Shop, item: ServiceItem | Part, price: Any) -> ShopPrice | None:
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
