"""The service catalog (服务项目) and parts (配件), priced per organization and per shop."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huitou.service.warranty import MAX_KM, MAX_MONTHS, warranty_words
from huitou.tenancy.models import Shop, TenantModel

# Warranty terms (质保), on a service item (its usual terms) and on an order line (the promise made).
WARRANTY_MONTHS = [MinValueValidator(1), MaxValueValidator(MAX_MONTHS)]
WARRANTY_KM = [MinValueValidator(1), MaxValueValidator(MAX_KM)]


def warranty_in_range() -> Q:
    """Each warranty leg empty or within its range (a check constraint)."""
    return (Q(warranty_months__isnull=True) | Q(warranty_months__gte=1, warranty_months__lte=MAX_MONTHS)) & (
        Q(warranty_km__isnull=True) | Q(warranty_km__gte=1, warranty_km__lte=MAX_KM)
    )


class MoneyField(models.DecimalField):
    """Yuan with two places (fen): 12 digits in all."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        # Migrations see a plain DecimalField: the subclass only sets defaults.
        return name, "django.db.models.DecimalField", args, kwargs


class Category(models.TextChoices):
    MAINTENANCE = "maintenance", _("Maintenance")
    REPAIR = "repair", _("Repair")
    DETAILING = "detailing", _("Detailing")
    TYRES = "tyres", _("Tyres")
    INSPECTION = "inspection", _("Inspection")


class ServiceItem(TenantModel):
    """A service the shop sells: labour price, standard hours, maintenance interval."""

    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=60)
    labour_price = MoneyField(_("labour price"), validators=[MinValueValidator(Decimal(0))])
    standard_hours = models.DecimalField(_("standard hours"), max_digits=5, decimal_places=2, default=Decimal(0))
    interval_km = models.PositiveIntegerField(_("interval (km)"), null=True, blank=True)
    interval_months = models.PositiveSmallIntegerField(_("interval (months)"), null=True, blank=True)
    # The usual warranty, copied to each order line of the item (and changeable there).
    warranty_months = models.PositiveSmallIntegerField(
        _("warranty (months)"), null=True, blank=True, validators=WARRANTY_MONTHS
    )
    warranty_km = models.PositiveIntegerField(_("warranty (km)"), null=True, blank=True, validators=WARRANTY_KM)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="serviceitem_unique_code"),
            models.CheckConstraint(condition=warranty_in_range(), name="serviceitem_warranty_range"),
        ]
        indexes = [models.Index(fields=["organization", "category", "name"], name="serviceitem_org_cat_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def warranty_words(self) -> str:
        """ "Warranty 3 months or 3,000 km" in the reader's language; empty without one."""
        return warranty_words(self.warranty_months, self.warranty_km)


class Part(TenantModel):
    """A part or product sold over the counter or fitted in an order."""

    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=60)
    unit = models.CharField(_("unit"), max_length=10, default="个")
    sale_price = MoneyField(_("sale price"), validators=[MinValueValidator(Decimal(0))])
    cost = MoneyField(_("cost"), validators=[MinValueValidator(Decimal(0))])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="part_unique_code")]
        indexes = [models.Index(fields=["organization", "name"], name="part_org_name_idx")]

    def __str__(self) -> str:
        return self.name


class ShopPrice(TenantModel):
    """A shop's own price for one service item or one part, overriding the organization's."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(ServiceItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    part = models.ForeignKey(Part, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    price = MoneyField(_("price"), validators=[MinValueValidator(Decimal(0))])

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False, part__isnull=True) | Q(service__isnull=True, part__isnull=False),
                name="shopprice_service_xor_part",
            ),
            models.UniqueConstraint(
                fields=["organization", "shop", "service"],
                condition=Q(service__isnull=False),
                name="shopprice_unique_service",
            ),
            models.UniqueConstraint(
                fields=["organization", "shop", "part"], condition=Q(part__isnull=False), name="shopprice_unique_part"
            ),
        ]
