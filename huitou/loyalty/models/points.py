"""Points (积分): an append-only ledger per customer; the balance is ``LoyaltyAccount.points``.

Earned points carry the day they expire; points are consumed oldest expiry
first. Which earned points are left is worked out from the ledger (the
earned lots in expiry order less everything spent, expired and reversed), so
no entry is ever changed after it is written.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer
from huitou.service.models.catalog import Category
from huitou.service.models.orders import ServiceOrder
from huitou.tenancy.models import TenantModel


class PointsCategoryRate(TenantModel):
    """Points per yuan for one service category, in place of the program's default rate."""

    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    points_per_yuan = models.DecimalField(
        _("points per yuan"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "category"], name="pointsrate_unique_category")]


class PointsEntry(TenantModel):
    class Kind(models.TextChoices):
        EARN = "earn", _("Earned on an order")
        BONUS = "bonus", _("Bonus")
        REDEEM = "redeem", _("Redeemed")
        EXPIRE = "expire", _("Expired")
        REVERSE = "reverse", _("Reversed")
        ADJUST = "adjust", _("Corrected by hand")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.IntegerField(_("points"))  # + earned, − spent/expired/reversed
    balance_after = models.IntegerField(_("balance after"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)  # earned and bonus points
    order = models.ForeignKey(ServiceOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    line_id = models.BigIntegerField(null=True, blank=True)  # the discount line a redemption became
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        indexes = [
            models.Index(fields=["organization", "customer", "at", "id"], name="points_org_customer_idx"),
            models.Index(fields=["organization", "order"], name="points_org_order_idx"),
            models.Index(fields=["organization", "expires_on"], name="points_org_expires_idx"),
        ]
