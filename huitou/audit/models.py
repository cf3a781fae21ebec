from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huitou.tenancy.models import TenantModel


class ChangeEntry(TenantModel):
    """One change to a record: who, when, what (field: [old, new]).

    Append-only. ``customer_id`` ties entries about a customer's vehicles
    and other records to the customer, so the file shows one timeline.
    """

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        DELETED = "deleted", _("deleted")
        RESTORED = "restored", _("restored")
        OWNER_CHANGED = "owner_changed", _("changed owner")
        LINKED = "linked", _("linked")
        UNLINKED = "unlinked", _("unlinked")
        CONSENT = "consent", _("consent")
        MILEAGE = "mileage", _("mileage recorded")
        MERGED = "merged", _("merged")

    subject_type = models.CharField(max_length=30)
    subject_id = models.BigIntegerField()
    customer_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    changes = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=False)

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        indexes = [
            models.Index(fields=["organization", "customer_id", "-at"], name="change_org_customer_idx"),
            models.Index(fields=["organization", "subject_type", "subject_id", "-at"], name="change_org_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_type}#{self.subject_id} {self.action}"
