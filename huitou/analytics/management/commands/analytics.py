"""``huitou analytics rfm [--org NAME]``: RFM scores, grades and churn risk by hand (they also run nightly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huitou.analytics.rfm import scores_refresh
from huitou.tenancy.models import Organization


class Command(BaseCommand):
    help = "Analytics: recompute every customer's RFM scores, segment, grade and churn risk (rfm)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rfm"])
        parser.add_argument("--org", help="one organization by name (default: all)")

    def handle(self, *args: Any, action: str, org: str | None, **options: Any) -> None:
        organizations = Organization.objects.order_by("pk")
        if org:
            organizations = organizations.filter(name=org)
            if not organizations.exists():
                raise CommandError(f"--org: no organization named {org!r}")
        for organization in organizations:
            rows = scores_refresh(organization=organization)
            self.stdout.write(f"{organization.name}: {rows} customers scored")
