"""Stored value (储值卡): top-up bonus rules and the ledger of every movement.

Each entry moves principal (money the customer paid) and bonus (given by the
shop) separately; the account caches both. Spending takes both in
proportion to the balance; a refund of the card returns unspent principal only.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer
from huitou.service.models.catalog import MoneyField
from huitou.service.models.orders import Payment, PaymentMethod, ServiceOrder
from huitou.tenancy.models import Shop, TenantModel


class TopUpRule(TenantModel):
    """Top up at least ``minimum`` and get ``bonus`` (the largest rule met applies)."""

    minimum = MoneyField(_("top-up of at least"), validators=[MinValueValidator(0)])
    bonus = MoneyField(_("bonus"), validators=[MinValueValidator(0)])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("top-up bonus rule")
        verbose_name_plural = _("top-up bonus rules")
        ordering = ["minimum"]
        constraints = [models.UniqueConstraint(fields=["organization", "minimum"], name="topuprule_unique_minimum")]


class StoredValueEntry(TenantModel):
    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("Top-up")
        SPEND = "spend", _("Paid an order")
        ORDER_REFUND = "order_refund", _("Order refunded to the card")
        CARD_REFUND = "card_refund", _("Unspent principal refunded")
        REWARD = "reward", _("Reward")
        REVERSE = "reverse", _("Reversed")
        ADJUST = "adjust", _("Corrected by hand")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    principal = MoneyField(_("principal"))  # + in, − out
    bonus = MoneyField(_("bonus"))
    principal_after = MoneyField(_("principal after"))
    bonus_after = MoneyField(_("bonus after"))
    # How the money came in (a top-up) or went back out (a card refund).
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices, blank=True)
    shop = models.ForeignKey(Shop, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(ServiceOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("stored-value entry")
        verbose_name_plural = _("stored-value entries")
        indexes = [
            models.Index(fields=["organization", "customer", "at", "id"], name="storedvalue_org_customer_idx"),
            models.Index(fields=["organization", "order"], name="storedvalue_org_order_idx"),
        ]

    @property
    def amount(self) -> Decimal:
        return self.principal + self.bonus
