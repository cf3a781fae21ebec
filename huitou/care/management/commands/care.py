"""``huitou care run [--date YYYY-MM-DD] [--org NAME]``: the care sweep by hand (it also runs nightly)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huitou.care.models import MaintenanceDue
from huitou.care.services.dues import dues_refresh
from huitou.care.services.sweep import care_sweep
from huitou.customers.models import Vehicle
from huitou.service.models import OrderState
from huitou.tenancy.models import Organization


class Command(BaseCommand):
    help = "Care: run the reminder sweep for a day (run), or work out every vehicle's next maintenance (dues)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["run", "dues"])
        parser.add_argument("--date", help="the day to sweep for, YYYY-MM-DD (default: today)")
        parser.add_argument("--org", help="one organization by name (default: all)")

    def handle(self, *args: Any, action: str, date: str | None, org: str | None, **options: Any) -> None:
        day = None
        if date:
            try:
                day = dt.date.fromisoformat(date)
            except ValueError as exc:
                raise CommandError(f"--date: {date!r} is not YYYY-MM-DD") from exc
        organizations = Organization.objects.order_by("pk")
        if org:
            organizations = organizations.filter(name=org)
            if not organizations.exists():
                raise CommandError(f"--org: no organization named {org!r}")
        for organization in organizations:
            if action == "dues":
                self._dues(organization)
                continue
            added = care_sweep(organization=organization, day=day)
            summary = ", ".join(f"{kind} {count}" for kind, count in added.items())
            self.stdout.write(f"{organization.name}: {summary}")

    def _dues(self, organization: Organization) -> None:
        """For data brought in without the services (imports, the bench loader): every vehicle with paid work."""
        vehicles = Vehicle.objects.for_org(organization).filter(
            orders__state=OrderState.PAID, orders__organization=organization
        )
        count = 0
        for vehicle in vehicles.distinct().iterator(chunk_size=2000):
            dues_refresh(vehicle=vehicle)
            count += 1
        total = MaintenanceDue.objects.for_org(organization).count()
        self.stdout.write(f"{organization.name}: {count} vehicles, {total} maintenance dues")
