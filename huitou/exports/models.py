"""Exports of lists (customers, orders, and what other apps register) as .xlsx and .csv."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huitou.tenancy.models import TenantModel


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel (.xlsx)")
    CSV = "csv", _("CSV (.csv)")


class ExportJob(TenantModel):
    """One export a staff member asked for: which list, with which filters, how many rows.

    Small exports are made while the request waits and handed over at once
    (``delivered``, no file kept); large ones are made by a huey worker into a
    file kept for ``EXPORT_KEEP_DAYS`` (``ready``), then removed (``expired``).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being made")
        READY = "ready", _("Ready to download")
        DELIVERED = "delivered", _("Downloaded at once")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Removed")

    source = models.CharField(_("list"), max_length=40)
    format = models.CharField(_("format"), max_length=4, choices=ExportFormat.choices)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    file = models.CharField(max_length=200, blank=True)  # a name in the default storage
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [
            models.Index(fields=["organization", "requested_by", "-created_at"], name="export_org_requester_idx"),
            models.Index(fields=["organization", "state", "finished_at"], name="export_org_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source}.{self.format} #{self.pk}"

    @property
    def filename(self) -> str:
        """What the browser saves it as: ``customers-20261205-1430.xlsx``."""
        stamp = timezone.localtime(self.created_at).strftime("%Y%m%d-%H%M")
        return f"{self.source}-{stamp}.{self.format}"
