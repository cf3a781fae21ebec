"""Package cards (次卡/套餐卡): products, the cards sold, and the ledger of their uses."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer, Vehicle
from huitou.service.models.catalog import MoneyField, ServiceItem
from huitou.service.models.orders import ServiceOrder
from huitou.tenancy.models import TenantModel


class CardBinding(models.TextChoices):
    VEHICLE = "vehicle", _("One vehicle")
    CUSTOMER = "customer", _("The customer's cars")


class CardProduct(TenantModel):
    """A card the shop sells, e.g. 10 washes for 299 yuan, valid a year, covering the wash services.

    It is sold as a line of ``sale_item`` (a service item made for it), so the
    sale is revenue on the day the order is paid; the card is issued then.
    """

    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=60)
    price = MoneyField(_("price"), validators=[MinValueValidator(0)])
    uses = models.PositiveSmallIntegerField(_("uses"), validators=[MinValueValidator(1), MaxValueValidator(1000)])
    validity_days = models.PositiveSmallIntegerField(
        _("valid for (days)"), default=365, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    binding = models.CharField(_("bound to"), max_length=10, choices=CardBinding.choices, default=CardBinding.VEHICLE)
    services = models.ManyToManyField(ServiceItem, related_name="+", verbose_name=_("services covered"))
    sale_item = models.ForeignKey(ServiceItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("package card product")
        verbose_name_plural = _("package card products")
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="cardproduct_unique_code")]

    def __str__(self) -> str:
        return self.name


class PackageCard(TenantModel):
    """A card a customer bought; ``uses_left`` is the sum of its ledger."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        USED_UP = "used_up", _("Used up")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    vehicle = models.ForeignKey(Vehicle, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(CardProduct, on_delete=models.PROTECT, related_name="cards")
    name = models.CharField(_("name"), max_length=60)
    uses_total = models.PositiveSmallIntegerField(_("uses bought"))
    uses_left = models.IntegerField(_("uses left"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ACTIVE)
    sold_order = models.ForeignKey(ServiceOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sold_line_id = models.BigIntegerField(null=True, blank=True)
    sold_at = models.DateTimeField(_("sold"))
    expires_on = models.DateField(_("expires on"))

    class Meta:
        verbose_name = _("package card")
        verbose_name_plural = _("package cards")
        constraints = [models.CheckConstraint(condition=Q(uses_left__gte=0), name="packagecard_uses_not_negative")]
        indexes = [
            models.Index(fields=["organization", "customer", "state"], name="packagecard_org_customer_idx"),
            models.Index(fields=["organization", "state", "expires_on"], name="packagecard_org_expires_idx"),
            models.Index(fields=["organization", "sold_order"], name="packagecard_org_sold_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class PackageCardEntry(TenantModel):
    class Kind(models.TextChoices):
        SALE = "sale", _("Sold")
        USE = "use", _("Used")
        RETURN = "return", _("Use given back")
        EXPIRE = "expire", _("Expired")
        REVOKE = "revoke", _("Revoked")

    card = models.ForeignKey(PackageCard, on_delete=models.PROTECT, related_name="entries")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.IntegerField(_("uses"))  # + sold/given back, − used/expired
    uses_after = models.IntegerField(_("uses left after"))
    order = models.ForeignKey(ServiceOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    line_id = models.BigIntegerField(null=True, blank=True)  # the order line a use covered
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("package card entry")
        verbose_name_plural = _("package card entries")
        indexes = [
            models.Index(fields=["organization", "customer", "at", "id"], name="cardentry_org_customer_idx"),
            models.Index(fields=["organization", "card", "at"], name="cardentry_org_card_idx"),
            models.Index(fields=["organization", "order"], name="cardentry_org_order_idx"),
        ]
