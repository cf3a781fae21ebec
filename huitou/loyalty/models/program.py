"""An organization's membership settings: how points are earned, valued and expire."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from huitou.tenancy.models import TenantModel


class LoyaltyProgram(TenantModel):
    """One row per organization (created with it and by the demo; see ``services.program``)."""

    # Points earned per yuan of a paid order (before the category rate and the tier multiplier).
    points_per_yuan = models.DecimalField(
        _("points per yuan"), max_digits=6, decimal_places=2, default=Decimal(1), validators=[MinValueValidator(0)]
    )
    # What one point is worth when redeemed as money off an order (100 points = 1 yuan by default).
    point_value = models.DecimalField(
        _("value of a point (yuan)"),
        max_digits=6,
        decimal_places=4,
        default=Decimal("0.01"),
        validators=[MinValueValidator(Decimal("0.0001"))],
    )
    # Points earned in the customer's birthday month are multiplied by this.
    birthday_multiplier = models.DecimalField(
        _("birthday-month multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal(2),
        validators=[MinValueValidator(1)],
    )
    # Points earned in year Y expire at the end of year Y + this (1: the end of the year after earning).
    points_expire_after_years = models.PositiveSmallIntegerField(
        _("points expire after (years)"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    # The largest share of an order's total that points may pay (1.00: all of it).
    max_points_share = models.DecimalField(
        _("largest share paid by points"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.50"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    # Tiers are reviewed (保级) this many months after the customer reached them, then every as many.
    tier_review_months = models.PositiveSmallIntegerField(
        _("tier review every (months)"), default=12, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )

    class Meta:
        verbose_name = _("membership settings")
        constraints = [models.UniqueConstraint(fields=["organization"], name="loyaltyprogram_one_per_org")]

    def __str__(self) -> str:
        return str(_("membership settings"))
