"""One sheet row as the import reads it: the kinds' fields, and cleaning a row's cells.

Cleaning needs no database: it turns cells into values with the product's
rules (phones, plates, VINs, birthdays) and collects, per column, what is
wrong. Matching rows to files already there is the engine's work.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise

from huitou.customers.models import Customer, Vehicle
from huitou.imports import errors
from huitou.imports.models import ImportKind
from huitou.imports.sheets import cell_text
from huitou.imports.values import (
    ValueProblem,
    half_width,
    parse_amount,
    parse_birthday,
    parse_date,
    parse_gender,
    parse_km,
    phone_text,
    split_brand_model,
)
from huitou.lib.phones import PhoneError, normalize_phone
from huitou.lib.plates import PlateError, normalize_plate
from huitou.lib.vin import VinFormatError, check_digit_ok, normalize_vin

# The fields each kind of sheet can fill, in the order the mapping form shows them.
CUSTOMER_FIELDS = (
    "name",
    "phone",
    "wechat",
    "gender",
    "birthday",
    "address",
    "notes",
    "plate",
    "brand",
    "model",
    "brand_model",
    "vin",
    "colour",
    "last_service_date",
    "mileage",
    "service_item",
)
PROSPECT_FIELDS = (
    "name",
    "phone",
    "wechat",
    "gender",
    "source",
    "need",
    "notes",
    "plate",
    "brand",
    "model",
    "brand_model",
)
ORDER_FIELDS = ("plate", "date", "service_item", "amount", "mileage", "notes")
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    ImportKind.CUSTOMERS: CUSTOMER_FIELDS,
    ImportKind.PROSPECTS: PROSPECT_FIELDS,
    ImportKind.ORDERS: ORDER_FIELDS,
}
# Columns a mapping must name.
KIND_REQUIRED: dict[str, tuple[str, ...]] = {
    ImportKind.CUSTOMERS: ("name",),
    ImportKind.PROSPECTS: ("name",),
    ImportKind.ORDERS: ("plate", "date", "service_item"),
}
# For service history, a column headed like a customer sheet's last service is the order's.
KIND_ALIASES: dict[str, dict[str, str]] = {ImportKind.ORDERS: {"last_service_date": "date"}}

# Which import field a service's refusal names.
SERVICE_FIELDS = {
    "name": "name",
    "phone": "phone",
    "wechat": "wechat",
    "address": "address",
    "gender": "gender",
    "birth_year": "birthday",
    "birth_month": "birthday",
    "birth_day": "birthday",
    "plate": "plate",
    "vin": "vin",
    "brand": "brand",
    "model": "model",
    "colour": "colour",
    "km": "mileage",
    "read_at": "last_service_date",
    "source": "source",
    "need": "need",
    "notes": "notes",
}

_TEXT_LIMITS: dict[str, tuple[type[models.Model], str]] = {
    "name": (Customer, "name"),
    "wechat": (Customer, "wechat"),
    "address": (Customer, "address"),
    "need": (Customer, "need"),
    "brand": (Vehicle, "brand"),
    "model": (Vehicle, "model"),
    "colour": (Vehicle, "colour"),
}


# A sheet repeats a phone on each row of its owner's cars: each text is parsed once.
_phone = functools.lru_cache(maxsize=4096)(normalize_phone)


def text_limit(name: str) -> int | None:
    model, field_name = _TEXT_LIMITS[name]
    return model._meta.get_field(field_name).max_length  # type: ignore[union-attr]


@dataclass
class Row:
    number: int  # as Excel numbers it
    cells: list[str]  # the cells as text, for the error sheet
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, Promise | str]] = field(default_factory=list)  # (field, message)

    def refuse(self, field_name: str, message: Promise | str) -> None:
        self.problems.append((field_name, message))

    def refuse_service(self, exc: ValidationError) -> None:
        """The row refused with what a customer service refused, each message under its import field."""
        if hasattr(exc, "error_dict"):
            for name, messages in exc.message_dict.items():
                for message in messages:
                    self.refuse(SERVICE_FIELDS.get(name, ""), errors.SERVICE_REFUSED % {"message": message})
        else:
            for message in exc.messages:
                self.refuse("", errors.SERVICE_REFUSED % {"message": message})

    @property
    def ok(self) -> bool:
        return not self.problems


def _cell(cells: Sequence[Any], mapping: Mapping[str, int], name: str) -> Any:
    index = mapping.get(name)
    if index is None or index >= len(cells):
        return None
    value = cells[index]
    return value.strip() if isinstance(value, str) else value


def _text(row: Row, cells: Sequence[Any], mapping: Mapping[str, int], name: str) -> str:
    text = (
        half_width(cell_text(_cell(cells, mapping, name)))
        if name != "notes"
        else cell_text(_cell(cells, mapping, name))
    )
    if name in _TEXT_LIMITS and text:
        limit = text_limit(name)
        if limit and len(text) > limit:
            row.refuse(name, errors.TOO_LONG % {"max": limit})
    return text


def clean_row(kind: str, number: int, cells: Sequence[Any], mapping: Mapping[str, int], today: dt.date) -> Row:
    """The row's values by field, or its problems by field."""
    row = Row(number, [cell_text(c) for c in cells])
    v = row.values
    fields = KIND_FIELDS[kind]
    for name in ("name", "wechat", "address", "need", "notes", "brand", "model", "colour", "source"):
        if name in fields and name in mapping:
            v[name] = _text(row, cells, mapping, name)
    if "brand_model" in mapping and "brand_model" in fields:
        brand, model = split_brand_model(cell_text(_cell(cells, mapping, "brand_model")))
        v.setdefault("brand", "")
        v.setdefault("model", "")
        v["brand"] = v["brand"] or brand
        v["model"] = v["model"] or model

    if "phone" in fields:
        raw = phone_text(_cell(cells, mapping, "phone"))
        v["phone"] = ""
        if raw:
            try:
                v["phone"] = _phone(raw)
            except PhoneError:
                row.refuse("phone", errors.PHONE_INVALID)

    raw_plate = cell_text(_cell(cells, mapping, "plate"))
    v["plate"] = ""
    if raw_plate:
        try:
            v["plate"] = normalize_plate(raw_plate)
        except PlateError:
            row.refuse("plate", errors.PLATE_INVALID)

    if "vin" in fields:
        raw_vin = cell_text(_cell(cells, mapping, "vin"))
        v["vin"] = ""
        if raw_vin:
            try:
                v["vin"] = normalize_vin(raw_vin)
            except VinFormatError:
                row.refuse("vin", errors.VIN_INVALID)
            else:
                if not check_digit_ok(v["vin"]):
                    row.refuse("vin", errors.VIN_CHECK_FAILED)

    if "gender" in fields and "gender" in mapping:
        try:
            v["gender"] = parse_gender(_cell(cells, mapping, "gender"))
        except ValueProblem:
            row.refuse("gender", errors.GENDER_INVALID)

    if "birthday" in fields:
        try:
            v["birthday"] = parse_birthday(_cell(cells, mapping, "birthday"))
        except ValueProblem:
            row.refuse("birthday", errors.BIRTHDAY_INVALID)

    for name in ("last_service_date", "date"):
        if name in fields:
            try:
                v[name] = parse_date(_cell(cells, mapping, name))
            except ValueProblem:
                row.refuse(name, errors.DATE_INVALID)
            else:
                if v[name] is not None and v[name] > today:
                    row.refuse(name, errors.DATE_FUTURE)

    if "mileage" in fields:
        try:
            v["mileage"] = parse_km(_cell(cells, mapping, "mileage"))
        except ValueProblem:
            row.refuse("mileage", errors.MILEAGE_INVALID)
        else:
            if v["mileage"] is not None and v["mileage"] > 5_000_000:
                row.refuse("mileage", errors.MILEAGE_INVALID)

    if "amount" in fields:
        try:
            v["amount"] = parse_amount(_cell(cells, mapping, "amount"))
        except ValueProblem:
            row.refuse("amount", errors.AMOUNT_INVALID)

    if "service_item" in fields:
        v["service_item"] = half_width(cell_text(_cell(cells, mapping, "service_item")))

    _required(kind, row)
    return row


def _required(kind: str, row: Row) -> None:
    v = row.values
    failed = {f for f, _m in row.problems}
    if kind in (ImportKind.CUSTOMERS, ImportKind.PROSPECTS) and not v.get("name") and "name" not in failed:
        row.refuse("name", errors.NAME_REQUIRED)
    if kind == ImportKind.CUSTOMERS and not v.get("phone") and not v.get("plate") and not failed & {"phone", "plate"}:
        row.refuse("phone", errors.CONTACT_REQUIRED)
    if kind == ImportKind.PROSPECTS and not v.get("phone") and not v.get("wechat") and "phone" not in failed:
        row.refuse("phone", errors.CONTACT_REQUIRED_PROSPECT)
    if kind == ImportKind.ORDERS:
        if not v.get("plate") and "plate" not in failed:
            row.refuse("plate", errors.PLATE_REQUIRED)
        if not v.get("date") and "date" not in failed:
            row.refuse("date", errors.DATE_REQUIRED)
        if not v.get("service_item"):
            row.refuse("service_item", errors.ITEM_REQUIRED)
