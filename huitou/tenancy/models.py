from __future__ import annotations

from typing import Self

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from huitou.tenancy.roles import Role, role_allows


class Organization(models.Model):
    """The tenant: an independent shop or a chain brand."""

    name = models.CharField(_("name"), max_length=100)
    # The lifecycle: a customer with no visit for this many days becomes dormant,
    # and later lost (0: never automatically).
    dormant_after_days = models.PositiveSmallIntegerField(_("dormant after (days without a visit)"), default=180)
    lost_after_days = models.PositiveSmallIntegerField(_("lost after (days without a visit)"), default=365)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


class TenantQuerySet(models.QuerySet):
    """Every read of tenant data starts with ``for_org``."""

    def for_org(self, organization: Organization | int) -> Self:
        org_id = organization if isinstance(organization, int) else organization.pk
        return self.filter(organization_id=org_id)


class TenantModel(models.Model):
    """Base for every table that belongs to one organization."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class Shop(TenantModel):
    """A store location of an organization."""

    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="shop_unique_name_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


class StaffManager(UserManager["User"]):
    def for_org(self, organization: Organization | int) -> models.QuerySet[User]:
        org_id = organization if isinstance(organization, int) else organization.pk
        return self.filter(organization_id=org_id)


class User(AbstractUser):
    """A staff member. Belongs to one organization, works at one or more shops."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.ADVISOR)
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    shops = models.ManyToManyField(Shop, blank=True, related_name="staff", verbose_name=_("shops"))

    objects = StaffManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        indexes = [models.Index(fields=["organization", "role"], name="user_org_role_idx")]

    def __str__(self) -> str:
        return self.display_name or self.username

    def has_role_perm(self, perm: str) -> bool:
        return bool(self.is_active and self.organization_id and role_allows(self.role, perm))

    @property
    def label(self) -> str:
        return str(self)
