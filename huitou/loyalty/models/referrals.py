"""Referral rewards (转介绍奖励): policies and every reward granted (or reversed)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer
from huitou.loyalty.models.coupons import Coupon, CouponTemplate
from huitou.loyalty.models.stored_value import StoredValueEntry
from huitou.service.models.catalog import MoneyField
from huitou.service.models.orders import ServiceOrder
from huitou.tenancy.models import TenantModel


class ReferralPolicy(TenantModel):
    """When a referred customer's first order is paid, what the referrer (and the referee) get."""

    class Kind(models.TextChoices):
        # ``percent`` of the referee's first paid bill, credited to the referrer as stored-value bonus.
        FIRST_BILL_PERCENT = "first_bill_percent", _("A share of the first bill as stored-value bonus")
        # A coupon of ``template`` at the referrer's ``milestone``-th converted referral (to both if ``both_sides``).
        MILESTONE_COUPON = "milestone_coupon", _("A coupon at the n-th converted referral")

    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    percent = models.DecimalField(
        _("percent"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    milestone = models.PositiveSmallIntegerField(_("at the n-th referral"), null=True, blank=True)
    template = models.ForeignKey(CouponTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    both_sides = models.BooleanField(_("the referee gets it too"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("referral policy")
        verbose_name_plural = _("referral policies")
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="referralpolicy_unique_code")]

    def __str__(self) -> str:
        return self.name


class ReferralReward(TenantModel):
    """A reward granted under a policy for one referee (once per referee and policy)."""

    class State(models.TextChoices):
        GRANTED = "granted", _("Granted")
        REVERSED = "reversed", _("Reversed")

    policy = models.ForeignKey(ReferralPolicy, on_delete=models.PROTECT, related_name="rewards")
    referrer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    referee = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="+")
    milestone = models.PositiveSmallIntegerField(null=True, blank=True)
    amount = MoneyField(_("stored-value bonus"), default=Decimal(0))
    stored_value_entry = models.ForeignKey(
        StoredValueEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referrer_coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    referee_coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.GRANTED)
    granted_at = models.DateTimeField(_("granted"))
    reversed_at = models.DateTimeField(_("reversed"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral reward")
        verbose_name_plural = _("referral rewards")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "policy", "referee"], name="referralreward_once_per_referee"
            ),
            models.UniqueConstraint(
                fields=["organization", "policy", "referrer", "milestone"],
                condition=Q(milestone__isnull=False),
                name="referralreward_once_per_milestone",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "referrer", "granted_at"], name="referral_org_referrer_idx"),
            models.Index(fields=["organization", "order"], name="referral_org_order_idx"),
        ]
