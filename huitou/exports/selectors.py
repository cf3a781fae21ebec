"""Reads of the exports."""

from __future__ import annotations

from django.db.models import QuerySet

from huitou.exports.models import ExportJob
from huitou.tenancy.models import Organization, User


def exports_of(*, organization: Organization | int, user: User) -> QuerySet[ExportJob]:
    """A staff member's exports, newest first."""
    return ExportJob.objects.for_org(organization).filter(requested_by=user).order_by("-created_at", "-pk")
