"""A customer's membership account: tier and the cached points and stored-value balances."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer
from huitou.service.models.catalog import MoneyField
from huitou.tenancy.models import TenantModel

ZERO = Decimal("0.00")


class ReferrerType(models.TextChoices):
    """Why a customer brings others (the seeds' four kinds of 转介绍 customer)."""

    HONOUR = "honour", _("Honour (荣誉型)")
    BENEFIT = "benefit", _("Benefit (利益型)")
    FAVOUR = "favour", _("Favour (人情型)")
    FRIENDSHIP = "friendship", _("Friendship (友情型)")


class LoyaltyAccount(TenantModel):
    """One per customer who has any membership data; the row the ledgers lock.

    ``tier`` is null for a customer who holds a balance or a card without
    being a member. ``points``, ``stored_principal`` and ``stored_bonus`` are
    the sums of their ledgers, changed only by the services, in the same
    transaction as the entry, under ``select_for_update`` of this row.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")  # one: the constraint below
    number = models.CharField(_("member number"), max_length=20, blank=True)
    tier = models.ForeignKey("loyalty.Tier", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    member_since = models.DateTimeField(_("member since"), null=True, blank=True)
    tier_since = models.DateTimeField(_("in this tier since"), null=True, blank=True)
    # The day the keep-tier rule (保级) is next checked; downgrades happen only then.
    tier_review_on = models.DateField(_("tier review on"), null=True, blank=True)
    points = models.IntegerField(_("points"), default=0)
    stored_principal = MoneyField(_("stored value: principal"), default=ZERO)
    stored_bonus = MoneyField(_("stored value: bonus"), default=ZERO)
    referrer_type = models.CharField(_("referrer type"), max_length=12, choices=ReferrerType.choices, blank=True)
    joined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Two files merged: the balances are folded by ``receivers.merge``, not re-pointed (one account a customer).
    merged_by_receiver = True

    class Meta:
        verbose_name = _("membership account")
        verbose_name_plural = _("membership accounts")
        constraints = [
            models.UniqueConstraint(fields=["organization", "customer"], name="loyaltyaccount_one_per_customer"),
            models.CheckConstraint(
                condition=Q(points__gte=0) & Q(stored_principal__gte=0) & Q(stored_bonus__gte=0),
                name="loyaltyaccount_balances_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "tier", "tier_review_on"], name="loyaltyaccount_org_review_idx"),
            models.Index(fields=["organization", "number"], name="loyaltyaccount_org_number_idx"),
        ]

    def __str__(self) -> str:
        return self.number or str(self.customer_id)

    @property
    def stored_balance(self) -> Decimal:
        return self.stored_principal + self.stored_bonus
