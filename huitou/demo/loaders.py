"""Writing generated customers to the database through the real services.

``load_with_services`` registers each customer, vehicle and reading one at a
time, each step at the time it happened in the story (the services take
``now``), so a small demo also has change history and its lifecycle (stage
changes, follow-ups, tasks) carries the story's dates. The benchmarks'
million-row loader writes the same specs directly (``bench/bulkload``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from huitou.customers.models import (
    Customer,
    Vehicle,
)
from huitou.customers.services import customer_create, household_link, mileage_record, vehicle_create
from huitou.demo import vocab
from huitou.demo.lifecycle_services import lifecycle_apply
from huitou.demo.specs import PAID, CustomerSpec, LifeEvent, StageEventSpec
from huitou.tenancy.models import Organization, User

# Who reads the odometer when a car comes in.
READINGS_BY = "advisor"

Progress = Callable[[int], None]


@dataclass
class LoadStats:
    customers: int = 0
    vehicles: int = 0
    readings: int = 0
    followups: int = 0
    seconds: float = 0.0
    rebuild_seconds: float = 0.0  # of ``seconds``: building indexes and checking foreign keys
    # Services path with the order history to come: each file's events from its first paid visit on.
    after_first_visit: dict[int, list[LifeEvent]] = field(default_factory=dict)


# --- through the services ------------------------------------------------------------------


def load_with_services(
    *,
    organization: Organization,
    staff: Mapping[str, User],
    specs: Iterable[CustomerSpec],
    progress: Progress | None = None,
    orders_follow: bool = False,
) -> LoadStats:
    """Register each customer, vehicle and reading through the services, and apply the
    file's lifecycle, each step at the time it happened in the story.

    With ``orders_follow`` the order history comes next and converts the
    files: each file's events from its first paid visit on are left in
    ``LoadStats.after_first_visit`` for it (``huitou.demo.orders``).
    """
    stats = LoadStats()
    started = time.monotonic()
    first_members: dict[int, Customer] = {}
    ids: dict[int, int] = {}
    for spec in specs:
        with transaction.atomic():
            customer = _create_with_services(organization, staff, spec, first_members, ids, stats)
            later = _lifecycle_with_services(customer, staff, spec, orders_follow, stats)
            if later:
                stats.after_first_visit[customer.pk] = later
            Customer.objects.for_org(organization).filter(pk=customer.pk).update(
                created_at=spec.created_at, updated_at=spec.updated_at
            )
        ids[spec.index] = customer.pk
        if spec.household is not None and spec.household == spec.index:
            first_members[spec.index] = customer
        stats.customers += 1
        if progress and stats.customers % 100 == 0:
            progress(stats.customers)
    stats.seconds = time.monotonic() - started
    return stats


def _create_with_services(
    organization: Organization,
    staff: Mapping[str, User],
    spec: CustomerSpec,
    first_members: dict[int, Customer],
    ids: Mapping[int, int],
    stats: LoadStats,
) -> Customer:
    by = staff[spec.owner]
    data: dict[str, Any] = {**spec.service_data(), "owner": by.pk}
    if spec.referrer is not None:
        data["referrer"] = ids[spec.referrer]
    customer = customer_create(
        organization=organization,
        by=by,
        data=data,
        consents=dict.fromkeys(spec.consents, True),
        consent_method=spec.consent_method,
        consent_purpose=vocab.CONSENT_PURPOSE if spec.consents else "",
        now=spec.created_at,
    )
    for vspec in spec.vehicles:
        vehicle = vehicle_create(
            customer=customer,
            by=by,
            data=vspec.service_data(),
            vin_confirmed=vspec.vin_check_failed,
            now=vspec.created_at,
        )
        for reading in vspec.readings:
            mileage_record(
                vehicle=vehicle, km=reading.km, by=staff[READINGS_BY], read_at=reading.read_at, now=reading.read_at
            )
        # created_at and updated_at are auto_now fields the services cannot be given: the story's, as registered.
        Vehicle.objects.for_org(organization).filter(pk=vehicle.pk).update(
            created_at=vspec.created_at, updated_at=vspec.created_at
        )
        stats.vehicles += 1
        stats.readings += len(vspec.readings)
    if spec.household is not None and spec.household in first_members:
        household_link(customer=customer, other=first_members.pop(spec.household), by=by, now=spec.created_at)
    return customer


def _lifecycle_with_services(
    customer: Customer,
    staff: Mapping[str, User],
    spec: CustomerSpec,
    orders_follow: bool,
    stats: LoadStats,
) -> list[LifeEvent]:
    """Apply the file's story; with ``orders_follow``, only up to its first paid visit (returns the rest)."""
    events = spec.lifecycle
    for n, event in enumerate(events):
        if orders_follow and isinstance(event, StageEventSpec) and event.kind == PAID:
            return events[n:]
        lifecycle_apply(event, customer=customer, staff=staff, visits_recorded=orders_follow)
        stats.followups += not isinstance(event, StageEventSpec)
    return []
