"""``huitou analytics rfm|facts [--org NAME]``: scores, or the dashboard's daily facts, by hand.

``rfm``: RFM scores, grades and churn risk (they also run nightly). ``facts``:
every day's facts computed afresh from the orders, payments, follow-ups and care
tasks, and every owner's files counted again (``--from``/``--to``
narrow it; one transaction per quarter of days, so an interrupted run is resumed
with ``--from``); the first run on an existing database, or after data was written
around the services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huitou.analytics.facts import facts_rebuild
from huitou.analytics.rfm import scores_refresh
from huitou.analytics.staff_facts import owner_files_rebuild
from huitou.tenancy.models import Organization


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = "Analytics: every customer's RFM scores, segment, grade and churn risk (rfm); the daily facts (facts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rfm", "facts"])
        parser.add_argument("--org", help="one organization by name (default: all)")
        parser.add_argument(
            "--from", dest="date_from", type=_date, help="facts: the first day (default: the first payment)"
        )
        parser.add_argument("--to", dest="date_to", type=_date, help="facts: the last day (default: today)")

    def handle(
        self,
        *args: Any,
        action: str,
        org: str | None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        **options: Any,
    ) -> None:
        organizations = Organization.objects.order_by("pk")
        if org:
            organizations = organizations.filter(name=org)
            if not organizations.exists():
                raise CommandError(f"--org: no organization named {org!r}")
        for organization in organizations:
            if action == "facts":
                days = facts_rebuild(
                    organization.pk,
                    date_from=date_from,
                    date_to=date_to,
                    progress=lambda first, last: self.stdout.write(f"  {first} .. {last}"),
                )
                owners = owner_files_rebuild(organization.pk)
                self.stdout.write(f"{organization.name}: {days} days of facts computed, {owners} owners' files counted")
                continue
            rows = scores_refresh(organization=organization)
            self.stdout.write(f"{organization.name}: {rows} customers scored")
