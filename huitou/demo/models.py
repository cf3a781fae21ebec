from __future__ import annotations

from django.db import models

from huitou.tenancy.models import Organization


class DemoOrganization(models.Model):
    """Marks an organization built by ``huitou demo``: only these may be reset."""

    organization = models.OneToOneField(Organization, on_delete=models.PROTECT, related_name="+")
    user_prefix = models.CharField(max_length=30, unique=True, blank=True)
    seed = models.BigIntegerField()
    customers = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.organization} ({self.user_prefix or 'default'})"
