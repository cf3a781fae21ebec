"""Forms of the wallet pages: thin, the services check every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.loyalty.models import CardBinding
from huitou.service.models import PaymentMethod, ServiceItem

OUTSIDE_CHOICES = [(v, label) for v, label in PaymentMethod.choices if v != PaymentMethod.STORED_VALUE]


class TopUpForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount paid in (yuan)"), max_digits=12, decimal_places=2)
    method = forms.ChoiceField(label=_("Payment method"), choices=OUTSIDE_CHOICES, initial=PaymentMethod.WECHAT)
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False)


class CardRefundForm(forms.Form):
    method = forms.ChoiceField(label=_("Paid back by"), choices=OUTSIDE_CHOICES, initial=PaymentMethod.CASH)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CardProductForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=30)
    name = forms.CharField(label=_("Name"), max_length=60)
    price = forms.DecimalField(label=_("Price (yuan)"), max_digits=12, decimal_places=2, min_value=0)
    uses = forms.IntegerField(label=_("Uses"), min_value=1, max_value=1000)
    validity_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=3650, initial=365)
    binding = forms.ChoiceField(label=_("Bound to"), choices=CardBinding.choices)
    services = forms.MultipleChoiceField(label=_("Services covered"), widget=forms.CheckboxSelectMultiple)
    is_active = forms.BooleanField(label=_("On sale"), required=False, initial=True)

    def __init__(self, *args: Any, services: list[ServiceItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = [(str(s.pk), s.name) for s in services]  # type: ignore[attr-defined]


class CheckoutForm(forms.Form):
    """Card uses come as ``card_<line id>`` = the card's id. The coupon and the cards are offered as
    choices but taken as ids: whether one can still be used is the service's answer (as in the API)."""

    coupon_id = forms.IntegerField(label=_("Coupon"), required=False, min_value=1, widget=forms.Select)
    points = forms.IntegerField(label=_("Points to redeem"), min_value=0, required=False)
    use_stored_value = forms.BooleanField(label=_("Pay with stored value"), required=False)
    stored_value = forms.DecimalField(
        label=_("Stored value (yuan; blank: as much as the balance covers)"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
    )
    method = forms.ChoiceField(label=_("The rest by"), choices=OUTSIDE_CHOICES, initial=PaymentMethod.CASH)
    reference = forms.CharField(label=_("Reference"), max_length=64, required=False)

    def __init__(self, *args: Any, coupons: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coupon_id"].widget.choices = [("", "—"), *((c["id"], c["name"]) for c in coupons)]
