"""Membership tiers (会员等级): entry rule, benefits, keep-tier rule; every change recorded."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer
from huitou.service.models.catalog import MoneyField, ServiceItem
from huitou.tenancy.models import TenantModel

ZERO = Decimal("0.00")
PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class TierEntryRule(models.TextChoices):
    SPEND = "spend", _("Spend in the last 12 months")
    VISITS = "visits", _("Visits in the last 12 months")
    PURCHASE = "purchase", _("Bought outright")


class Tier(TenantModel):
    """A tier and what it gives. ``rank`` orders them (0: the entry tier, 普通会员)."""

    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=30)
    rank = models.PositiveSmallIntegerField(_("rank"), default=0)
    entry_rule = models.CharField(_("entry rule"), max_length=10, choices=TierEntryRule.choices)
    # Yuan spent (SPEND) or visits (VISITS) in a rolling 12 months; ignored for PURCHASE.
    entry_threshold = models.DecimalField(
        _("entry threshold"), max_digits=12, decimal_places=2, default=ZERO, validators=[MinValueValidator(0)]
    )
    # The price when bought outright (PURCHASE); sold as a line of its service item.
    price = MoneyField(_("price"), null=True, blank=True, validators=[MinValueValidator(0)])
    sale_item = models.ForeignKey(ServiceItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Keep-tier rule (保级): the same measure over the 12 months before the review date.
    keep_threshold = models.DecimalField(
        _("keep-tier threshold"), max_digits=12, decimal_places=2, default=ZERO, validators=[MinValueValidator(0)]
    )
    labour_discount_percent = models.DecimalField(
        _("labour discount (%)"), max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT
    )
    parts_discount_percent = models.DecimalField(
        _("parts discount (%)"), max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT
    )
    points_multiplier = models.DecimalField(
        _("points multiplier"), max_digits=4, decimal_places=2, default=Decimal(1), validators=[MinValueValidator(0)]
    )
    # Free services a year (e.g. two washes): the coupon template issued for them each membership year.
    free_service = models.ForeignKey(
        ServiceItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("free service")
    )
    free_services_per_year = models.PositiveSmallIntegerField(_("free services a year"), default=0)
    benefits_note = models.CharField(_("other benefits"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="tier_unique_code")]
        indexes = [models.Index(fields=["organization", "rank"], name="tier_org_rank_idx")]

    def __str__(self) -> str:
        return self.name


class TierChange(TenantModel):
    """One move of a member between tiers (or joining, ``from_tier`` null): when, why, by whom."""

    class Reason(models.TextChoices):
        JOINED = "joined", _("Joined")
        UPGRADE = "upgrade", _("Upgraded: reached the entry rule")
        DOWNGRADE = "downgrade", _("Downgraded at the review: keep-tier rule not met")
        KEPT = "kept", _("Kept at the review")
        PURCHASE = "purchase", _("Bought")
        MANUAL = "manual", _("Changed by hand")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    from_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        indexes = [models.Index(fields=["organization", "customer", "at"], name="tierchange_org_customer_idx")]
