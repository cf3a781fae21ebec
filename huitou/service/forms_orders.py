"""Forms of the service-order and catalog pages. They only convert types; the services decide.

Field names follow the keys the services use in their ValidationErrors
(``vehicle_id``, ``technician_id``, ``service_id``...), so ``apply_errors``
puts every refusal on the field it concerns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Vehicle
from huitou.service import errors
from huitou.service.models import (
    Category,
    OrderLine,
    OrderState,
    Part,
    PaymentMethod,
    Recommendation,
    ServiceItem,
)
from huitou.tenancy.models import Shop
from huitou.tenancy.roles import Role
from huitou.tenancy.selectors import StaffName
from huitou.web.widgets import QuickSelect, plain_choices

TEXT_AREA = forms.Textarea(attrs={"rows": 2})
MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
MONEY_INPUT = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


def _staff_choices(staff: Iterable[StaffName]) -> list[tuple[Any, str]]:
    """``(id, "name · role")`` per person; each role's label translated once (``get_role_display``
    builds the role choices again on every call: 110 ms for a chain's 2,000 staff)."""
    roles = {value: str(label) for value, label in Role.choices}
    return [(s.pk, f"{s.name} · {roles.get(s.role, s.role)}") for s in staff]


def item_key(item: ServiceItem | Part) -> str:
    """The value an item has in the item select: ``service:12`` or ``part:7``."""
    return f"{'service' if isinstance(item, ServiceItem) else 'part'}:{item.pk}"


def parse_item_key(value: str) -> tuple[str, int] | None:
    kind, _sep, pk = (value or "").partition(":")
    if kind not in ("service", "part") or not pk.isdigit():
        return None
    return kind, int(pk)


class PlateForm(forms.Form):
    plate = forms.CharField(
        label=_("Plate"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"placeholder": "粤B12345", "autocomplete": "off", "autocapitalize": "characters"}
        ),
    )


class OrderOpenForm(forms.Form):
    vehicle_id = forms.TypedChoiceField(label=_("Vehicle"), coerce=int, widget=forms.RadioSelect)
    mileage = forms.IntegerField(
        label=_("Mileage at arrival (km)"),
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "km"}),
    )
    description = forms.CharField(
        label=_("The customer's description of the problem"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    advisor = forms.TypedChoiceField(label=_("Service advisor"), coerce=int, widget=QuickSelect)
    expected_finish_at = forms.DateTimeField(
        label=_("Expected finish"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, vehicles: Iterable[Vehicle], staff: Iterable[StaffName], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        vehicle_list = list(vehicles)
        self.fields["vehicle_id"].choices = [(v.pk, f"{v.plate} {v.title}".strip()) for v in vehicle_list]  # type: ignore[attr-defined]
        if len(vehicle_list) == 1:
            self.fields["vehicle_id"].widget = forms.HiddenInput()
        plain_choices(self.fields["advisor"], _staff_choices(staff))


class LineForm(forms.Form):
    item = forms.ChoiceField(
        label=_("Service or part"),
        error_messages={"required": errors.ITEM_REQUIRED, "invalid_choice": errors.ITEM_UNKNOWN},
    )
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=8, decimal_places=2, initial=Decimal(1), widget=MONEY_INPUT
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        required=False,
        help_text=_("Empty: the shop's price."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": _("Shop price")}),
        **MONEY,
    )
    discount = forms.DecimalField(label=_("Discount (yuan)"), required=False, widget=MONEY_INPUT, **MONEY)
    technician_id = forms.TypedChoiceField(
        label=_("Technician"), coerce=int, required=False, empty_value=None, widget=QuickSelect
    )
    warranty_months = forms.IntegerField(
        label=_("Warranty (months)"), required=False, widget=forms.NumberInput(attrs={"placeholder": _("Item's")})
    )
    warranty_km = forms.IntegerField(
        label=_("Warranty (km)"),
        required=False,
        help_text=_("Empty: the item's warranty."),
        widget=forms.NumberInput(attrs={"placeholder": _("Item's")}),
    )

    def __init__(
        self,
        *args: Any,
        services: Iterable[ServiceItem],
        parts: Iterable[Part],
        prices: dict[str, Decimal],
        staff: Iterable[StaffName],
        may_set_price: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not may_set_price:  # sent empty: the service charges the shop's price (and refuses any other)
            self.fields["unit_price"].widget = forms.HiddenInput()
            self.fields["discount"].widget = forms.HiddenInput()
            self.fields["warranty_months"].widget = forms.HiddenInput()  # a technician's line: the item's warranty
            self.fields["warranty_km"].widget = forms.HiddenInput()
        groups: dict[str, list[tuple[str, str]]] = {}
        labels = dict(Category.choices)
        for s in services:
            key = item_key(s)
            groups.setdefault(str(labels.get(s.category, s.category)), []).append((key, f"{s.name} · ¥{prices[key]}"))
        part_choices = [(item_key(p), f"{p.name} · ¥{prices[item_key(p)]}/{p.unit}") for p in parts]
        choices: list[Any] = [("", "—")] + list(groups.items())
        if part_choices:
            choices.append((str(_("Parts")), part_choices))
        self.fields["item"].choices = choices  # type: ignore[attr-defined]
        plain_choices(self.fields["technician_id"], [("", "—"), *_staff_choices(staff)])


class PaymentForm(forms.Form):
    method = forms.ChoiceField(label=_("Payment method"), choices=PaymentMethod.choices)
    amount = forms.DecimalField(label=_("Amount (yuan)"), widget=MONEY_INPUT, **MONEY)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Transaction number, optional")}),
    )


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Why is the order void?"), max_length=200, required=False)


class AdjustmentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Change of the total (yuan)"),
        help_text=_("Negative lowers the bill (e.g. -50), positive raises it."),
        widget=MONEY_INPUT,
        **MONEY,
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class RecommendationForm(forms.Form):
    description = forms.CharField(label=_("Work found"), max_length=200, required=False)
    service_id = forms.TypedChoiceField(label=_("Service item"), coerce=int, required=False, empty_value=None)
    urgency = forms.ChoiceField(
        label=_("Urgency"), choices=Recommendation.Urgency.choices, initial=Recommendation.Urgency.SOON
    )
    estimate = forms.DecimalField(label=_("Estimate (yuan)"), required=False, widget=MONEY_INPUT, **MONEY)

    def __init__(self, *args: Any, services: Iterable[ServiceItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_id"].choices = [("", "—")] + [(s.pk, s.name) for s in services]  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    accept = forms.TypedChoiceField(choices=[("1", _("Accept")), ("0", _("Decline"))], coerce=lambda v: v == "1")
    service_id = forms.TypedChoiceField(label=_("Service item"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, services: Iterable[ServiceItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_id"].choices = [("", "—")] + [(s.pk, s.name) for s in services]  # type: ignore[attr-defined]


class OrderFilterForm(forms.Form):
    """The order list's day and state; a bad value falls back to today and every state."""

    day = forms.DateField(label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    state = forms.ChoiceField(label=_("State"), choices=[("", _("All states")), *OrderState.choices], required=False)

    def values(self, today: dt.date) -> tuple[dt.date, str]:
        if not self.is_valid():
            return today, ""
        return self.cleaned_data["day"] or today, self.cleaned_data["state"]


# --- catalog ---------------------------------------------------------------------------------


class _ShopPrices(forms.Form):
    """One optional price field per shop: ``shop_price_<id>``; empty means the organization's price."""

    def __init__(self, *args: Any, shops: Iterable[Shop], shop_prices: dict[int, Decimal], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shops = list(shops)
        for shop in self.shops:
            name = f"shop_price_{shop.pk}"
            self.fields[name] = forms.DecimalField(
                label=_("Price at %(shop)s") % {"shop": shop.name},
                required=False,
                help_text=_("Empty: the organization's price."),
                widget=MONEY_INPUT,
                **MONEY,
            )
            if shop.pk in shop_prices:
                self.initial.setdefault(name, shop_prices[shop.pk])

    def shop_price_fields(self) -> list[forms.BoundField]:
        return [self[f"shop_price_{s.pk}"] for s in self.shops]

    def item_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("shop_price_")]

    def shop_prices(self) -> list[tuple[Shop, Decimal | None]]:
        return [(s, self.cleaned_data.get(f"shop_price_{s.pk}")) for s in self.shops]

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if not k.startswith("shop_price_")}


class ServiceItemForm(_ShopPrices):
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    code = forms.CharField(label=_("Code"), max_length=30)
    name = forms.CharField(label=_("Item name"), max_length=60)
    labour_price = forms.DecimalField(label=_("Labour price (yuan)"), widget=MONEY_INPUT, **MONEY)
    standard_hours = forms.DecimalField(
        label=_("Standard hours"), max_digits=5, decimal_places=2, required=False, widget=MONEY_INPUT
    )
    interval_km = forms.IntegerField(
        label=_("Maintenance interval (km)"),
        required=False,
        help_text=_("e.g. 5000; drives the maintenance reminders"),
    )
    interval_months = forms.IntegerField(label=_("Maintenance interval (months)"), required=False)
    warranty_months = forms.IntegerField(
        label=_("Warranty (months)"),
        required=False,
        help_text=_("The warranty each order line of this item promises, e.g. 3 months or 3,000 km: whichever first"),
    )
    warranty_km = forms.IntegerField(label=_("Warranty (km)"), required=False)
    is_active = forms.BooleanField(label=_("Offered (active)"), required=False, initial=True)


class PartForm(_ShopPrices):
    code = forms.CharField(label=_("Code"), max_length=30)
    name = forms.CharField(label=_("Item name"), max_length=60)
    unit = forms.CharField(label=_("Unit"), max_length=10, initial="个")
    sale_price = forms.DecimalField(label=_("Sale price (yuan)"), widget=MONEY_INPUT, **MONEY)
    cost = forms.DecimalField(label=_("Cost (yuan)"), widget=MONEY_INPUT, **MONEY)
    is_active = forms.BooleanField(label=_("Sold (active)"), required=False, initial=True)


class LineWarrantyForm(forms.Form):
    """The warranty promised on one line; both empty: no warranty. One per line on the order page."""

    warranty_months = forms.IntegerField(label=_("Warranty (months)"), required=False)
    warranty_km = forms.IntegerField(label=_("Warranty (km)"), required=False)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Needed once the order is paid")}),
    )

    @classmethod
    def for_line(cls, line: OrderLine, data: Any = None) -> LineWarrantyForm:
        """The line's form (its own element ids), with its current terms, or bound to what was sent."""
        initial = {"warranty_months": line.warranty_months, "warranty_km": line.warranty_km}
        return cls(data, initial=initial, auto_id=f"id_w{line.pk}_%s")
