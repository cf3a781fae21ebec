"""Coupons (优惠券, 工时券): templates, issuing rules, the coupons issued and their ledger."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer
from huitou.service.models.catalog import MoneyField, ServiceItem
from huitou.service.models.orders import ServiceOrder
from huitou.tenancy.models import TenantModel


class CouponKind(models.TextChoices):
    AMOUNT = "amount", _("Fixed amount off")
    PERCENT = "percent", _("Percentage off")
    FREE_SERVICE = "free_service", _("A free service")


class CouponTrigger(models.TextChoices):
    MANUAL = "manual", _("Issued by hand")
    ORDER_PAID = "order_paid", _("After a paid order")
    JOINED = "joined", _("On joining membership")
    BIRTHDAY = "birthday", _("In the birthday month")
    BULK = "bulk", _("To a list of customers")
    REFERRAL = "referral", _("Referral reward")
    COMPENSATION = "compensation", _("Compensation")
    TIER = "tier", _("Tier benefit")


class CouponTemplate(TenantModel):
    """What a coupon gives: ``value`` is yuan (AMOUNT) or percent (PERCENT); FREE_SERVICE names the service."""

    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=12, choices=CouponKind.choices)
    value = models.DecimalField(
        _("value"), max_digits=10, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    free_service = models.ForeignKey(ServiceItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    min_spend = MoneyField(_("minimum spend"), default=Decimal(0), validators=[MinValueValidator(0)])
    days_valid = models.PositiveSmallIntegerField(
        _("valid for (days)"), default=90, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    # Which services it may take money off; none: the whole order (labour and parts).
    services = models.ManyToManyField(ServiceItem, blank=True, related_name="+", verbose_name=_("services"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="coupontemplate_unique_code")]

    def __str__(self) -> str:
        return self.name


class CouponRule(TenantModel):
    """Issue ``template`` automatically on ``trigger`` (e.g. 满100送20工时券: a paid order of 100 or more)."""

    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="rules")
    trigger = models.CharField(_("when"), max_length=12, choices=CouponTrigger.choices)
    min_order_total = MoneyField(_("order total of at least"), default=Decimal(0), validators=[MinValueValidator(0)])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("coupon rule")
        verbose_name_plural = _("coupon rules")
        indexes = [models.Index(fields=["organization", "trigger", "is_active"], name="couponrule_org_trigger_idx")]


class Coupon(TenantModel):
    """One coupon held by a customer; ``state`` is its ledger's latest word."""

    class State(models.TextChoices):
        ISSUED = "issued", _("Issued")
        USED = "used", _("Used")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="coupons")
    name = models.CharField(_("name"), max_length=60)
    code = models.CharField(_("code"), max_length=20)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ISSUED)
    source = models.CharField(_("source"), max_length=12, choices=CouponTrigger.choices)
    # The order whose payment earned it (taken back if that order's money is refunded).
    origin_order = models.ForeignKey(ServiceOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    used_order = models.ForeignKey(ServiceOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued"))
    expires_on = models.DateField(_("expires on"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="coupon_unique_code")]
        indexes = [
            models.Index(fields=["organization", "customer", "state"], name="coupon_org_customer_idx"),
            models.Index(fields=["organization", "state", "expires_on"], name="coupon_org_expires_idx"),
            models.Index(fields=["organization", "origin_order"], name="coupon_org_origin_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class CouponEntry(TenantModel):
    class Kind(models.TextChoices):
        ISSUE = "issue", _("Issued")
        USE = "use", _("Used")
        RETURN = "return", _("Given back")
        EXPIRE = "expire", _("Expired")
        REVOKE = "revoke", _("Revoked")

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="entries")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    state_after = models.CharField(_("state after"), max_length=10, choices=Coupon.State.choices)
    amount = MoneyField(_("money off"), null=True, blank=True)  # for a use: the discount it gave
    order = models.ForeignKey(ServiceOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    line_id = models.BigIntegerField(null=True, blank=True)  # the discount line a use became
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("coupon entry")
        verbose_name_plural = _("coupon entries")
        indexes = [
            models.Index(fields=["organization", "customer", "at", "id"], name="couponentry_org_customer_idx"),
            models.Index(fields=["organization", "coupon", "at"], name="couponentry_org_coupon_idx"),
            models.Index(fields=["organization", "order"], name="couponentry_org_order_idx"),
        ]
