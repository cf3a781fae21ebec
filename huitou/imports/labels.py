"""What the fields of an import are called on the page and in messages."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

FIELD_LABELS: dict[str, Promise] = {
    "name": _("Name"),
    "phone": _("Phone"),
    "wechat": _("WeChat ID"),
    "gender": _("Gender"),
    "birthday": _("Birthday"),
    "address": _("Address"),
    "notes": _("Notes"),
    "source": _("Source"),
    "need": _("Need"),
    "plate": _("Plate"),
    "brand": _("Brand"),
    "model": _("Model"),
    "brand_model": _("Brand and model"),
    "vin": _("VIN"),
    "colour": _("Colour"),
    "last_service_date": _("Last service date"),
    "mileage": _("Mileage (km)"),
    "service_item": _("Service item"),
    "date": _("Date"),
    "amount": _("Amount (yuan)"),
}


def field_label(name: str) -> Promise:
    return FIELD_LABELS[name]
