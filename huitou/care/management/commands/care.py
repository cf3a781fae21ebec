"""``huitou care run [--date YYYY-MM-DD] [--org NAME]``: the care sweep by hand (it also runs nightly).

``huitou care dues [--org NAME] [--chunk N] [--after ID]``: every vehicle's next maintenance worked out
again (``dues_rebuild``), for data brought in without the services.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huitou.care.models import MaintenanceDue
from huitou.care.services.dues import REBUILD_CHUNK, Progress, dues_rebuild
from huitou.care.services.sweep import care_sweep
from huitou.customers.models import Vehicle
from huitou.tenancy.models import Organization


class Command(BaseCommand):
    help = "Care: run the reminder sweep for a day (run), or work out every vehicle's next maintenance (dues)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["run", "dues"])
        parser.add_argument("--date", help="the day to sweep for, YYYY-MM-DD (default: today)")
        parser.add_argument("--org", help="one organization by name (default: all)")
        parser.add_argument(
            "--chunk", type=int, default=REBUILD_CHUNK, help="dues: vehicles per transaction (default %(default)s)"
        )
        parser.add_argument("--after", type=int, default=0, help="dues: start after this vehicle id (to go on)")

    def handle(
        self, *args: Any, action: str, date: str | None, org: str | None, chunk: int, after: int, **options: Any
    ) -> None:
        day = None
        if date:
            try:
                day = dt.date.fromisoformat(date)
            except ValueError as exc:
                raise CommandError(f"--date: {date!r} is not YYYY-MM-DD") from exc
        if chunk < 1:
            raise CommandError(f"--chunk: {chunk} is not a positive number of vehicles")
        organizations = Organization.objects.order_by("pk")
        if org:
            organizations = organizations.filter(name=org)
            if not organizations.exists():
                raise CommandError(f"--org: no organization named {org!r}")
        for organization in organizations:
            if action == "dues":
                self._dues(organization, chunk, after)
                continue
            added = care_sweep(organization=organization, day=day)
            summary = ", ".join(f"{kind} {count}" for kind, count in added.items())
            self.stdout.write(f"{organization.name}: {summary}")

    def _dues(self, organization: Organization, chunk: int, after: int) -> None:
        """For data brought in without the services (imports, the bench loader): every vehicle, chunk by chunk.

        Each chunk is committed with its progress line; a run stopped half-way
        goes on with ``--after`` the last vehicle id printed."""
        total = Vehicle.objects.for_org(organization).filter(pk__gt=after).count()
        started = time.monotonic()

        def report(done: Progress) -> None:
            self.stdout.write(
                f"  {done.vehicles:,} / {total:,} vehicles, {done.dues:,} dues, up to vehicle {done.last_vehicle_id}, "
                f"{time.monotonic() - started:.0f} s"
            )

        count = dues_rebuild(organization=organization, chunk=chunk, after=after, progress=report)
        dues = MaintenanceDue.objects.for_org(organization).count()
        self.stdout.write(f"{organization.name}: {count} vehicles, {dues} maintenance dues")
