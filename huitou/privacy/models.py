"""Personal-data rights: erasures (who, when, why) and the organization's retention setting."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer
from huitou.tenancy.models import TenantModel


class Erasure(TenantModel):
    """A customer whose personal data was erased (anonymised): by whom, when and why.

    ``by`` is empty when the retention job anonymised a prospect. The customer
    row stays as a tombstone, so orders, ledgers and totals keep their customer.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=200)
    at = models.DateTimeField(_("when"), default=timezone.now)
    files = models.PositiveSmallIntegerField(default=1)  # the file and the duplicates merged into it

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        constraints = [models.UniqueConstraint(fields=["organization", "customer"], name="erasure_one_per_customer")]
        indexes = [models.Index(fields=["organization", "-at"], name="erasure_org_at_idx")]


class PrivacySettings(TenantModel):
    """How long an organization keeps prospects who never paid: empty keeps them (the default)."""

    prospect_retention_months = models.PositiveSmallIntegerField(
        _("anonymise prospects who never paid after (months)"), null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("privacy settings")
        constraints = [models.UniqueConstraint(fields=["organization"], name="privacy_settings_one_per_org")]
