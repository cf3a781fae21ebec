"""Reads of customer and vehicle files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import F, Func, JSONField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.audit.selectors import history_for_customer
from huitou.customers.models import (
    ConsentRecord,
    Customer,
    CustomerQuerySet,
    CustomerTag,
    MileageReading,
    Source,
    Tag,
    Vehicle,
    VehicleOwnership,
)
from huitou.customers.search import customer_search
from huitou.lib.statements import attach_prefetched, tenant_rows
from huitou.tenancy.models import Organization


class TagNames(Func):
    """A customer's tag names, by name, as a list in the customer's own row (no query of its own).

    Annotate it as ``tag_name_list`` (what ``tag_names`` reads). On a page
    of 20 the database looks up 20 customers' tags through their index.
    """

    output_field = JSONField()
    template = "(SELECT json_group_array(tag_name) FROM %(expressions)s AS tag_names)"

    def __init__(self) -> None:
        names = (
            # Correlated on the organization too: under Citus the subquery joins on the shard key.
            CustomerTag.objects.filter(organization_id=OuterRef("organization_id"), customer_id=OuterRef("pk"))
            .order_by("tag__name", "pk")
            .values(tag_name=F("tag__name"))
        )
        super().__init__(Subquery(names))

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, template="to_jsonb(ARRAY%(expressions)s)", **extra_context)


def customer_list(
    *,
    organization: Organization | int,
    q: str = "",
    stage: str = "",
    tag: str = "",
    owner_id: int | None = None,
    shop_id: int | None = None,
    customer_grade: str = "",
    segment: str = "",
    tags: Sequence[str] = (),
    tier_id: int | None = None,
    last_visit_before_days: int | None = None,
    last_visit_within_days: int | None = None,
    spend_min: Decimal | str | None = None,
    spend_max: Decimal | str | None = None,
    brand: str = "",
    vehicle_age_min: int | None = None,
    vehicle_age_max: int | None = None,
    with_tags: bool = False,
    within: QuerySet[Any] | None = None,
    unread: tuple[str, ...] = (),
) -> QuerySet[Customer]:
    """Active customers matching the search box and the filters.

    Ordered by pinyin when searching, newest first otherwise. The caller
    paginates. ``shop_id`` keeps customers whose owner works at that shop.
    ``customer_grade`` (A/B/C, a manual grade first) and ``segment`` (RFM)
    read the customer's score row, which comes joined to each customer.
    The conditions a saved segment adds (``analytics.segments``): ``tags`` (any
    of them), ``tier_id`` (the membership tier), the last paid visit more than
    ``last_visit_before_days`` days ago or within ``last_visit_within_days``
    days (a customer never seen matches neither), lifetime spend from
    ``spend_min`` to ``spend_max``, and an active car of ``brand`` (any case)
    whose age in years (this year minus the model year, else the purchase
    year) is from ``vehicle_age_min`` to ``vehicle_age_max`` — brand and age
    on the same car. Each is one condition of the customer's own statement.
    ``within`` (ids, e.g. the customers behind a dashboard figure) narrows
    the list in its own statement. ``with_tags`` brings each one's tag names in the same statement (see
    ``TagNames``). ``unread`` names columns the caller never reads (``LIST_UNREAD``): left
    out of the statement, they are neither sent nor converted (one read of such a column would be a
    query per row). A search returns a ``CustomerSearch``: take the page
    first and count after, and the count comes with the page.
    """
    q = (q or "").strip()
    plain = not any(
        (stage, tag, owner_id, shop_id, customer_grade, segment, tags, brand, within is not None)
        + tuple(
            value is not None
            for value in (
                tier_id,
                last_visit_before_days,
                last_visit_within_days,
                spend_min,
                spend_max,
                vehicle_age_min,
                vehicle_age_max,
            )
        )
    )
    if q and plain:
        # The search box alone (the counter's search): its statements are kept per shape of query,
        # and the queryset is only built when a shape is first seen.
        org_id = organization.pk if isinstance(organization, Organization) else organization
        key = ("customer_list", org_id, with_tags, unread)
        return customer_search(  # type: ignore[return-value]
            lambda: _listed(organization, with_tags=with_tags, unread=unread), organization, q, statement_key=key
        )
    customers = _listed(organization, with_tags=with_tags, unread=unread)
    if stage:
        customers = customers.filter(stage=stage)
    if owner_id:
        customers = customers.filter(owner_id=owner_id)
    if shop_id:
        customers = customers.filter(owner__shops=shop_id)
    if tag:
        customers = customers.filter(
            pk__in=CustomerTag.objects.for_org(organization).filter(tag__name=tag).values("customer_id")
        )
    if customer_grade:
        customers = customers.filter(
            Q(score__grade_override=customer_grade) | Q(score__grade_override="", score__grade=customer_grade)
        )
    if segment:
        customers = customers.filter(score__segment=segment)
    customers = _segment_conditions(
        customers,
        organization,
        tags=tags,
        tier_id=tier_id,
        last_visit_before_days=last_visit_before_days,
        last_visit_within_days=last_visit_within_days,
        spend_min=spend_min,
        spend_max=spend_max,
        brand=brand,
        vehicle_age_min=vehicle_age_min,
        vehicle_age_max=vehicle_age_max,
    )
    if within is not None:
        customers = customers.filter(pk__in=within)
    if q:
        return customer_search(customers, organization, q)  # type: ignore[return-value]
    return customers.order_by("-pk")


OWNER_NOT_LISTED = (
    "password",
    "last_login",
    "date_joined",
    "is_superuser",
    "is_staff",
    "email",
    "first_name",
    "last_name",
)


# Columns that neither the list page nor the API's list shows, the customer's and its source's and
# score's (the columns a search or an order needs, the name's pinyin and initials among them, stay):
# ``customer_list(unread=...)``.
LIST_UNREAD = (
    "phone_last4",
    "intent_at",
    "merged_into_id",
    "visit_count",
    "lifetime_spend",
    "first_visit_at",
    "last_visit_at",
    "created_by_id",
    "deleted_at",
    "deleted_by_id",
    "source__organization",
    "source__is_active",
    "source__sort_order",
    "score__organization",
    "score__computed_at",
    "score__recency_days",
    "score__frequency",
    "score__monetary",
    "score__referrals",
    "score__grade_reason",
    "score__grade_override_by",
    "score__grade_override_at",
)


def _listed(organization: Organization | int, *, with_tags: bool, unread: tuple[str, ...] = ()) -> CustomerQuerySet:
    """The active customers as the list shows them: the score (grade, segment, churn risk) is one row
    joined to the customer's, with owner and source (no query of their own), and the tag names with
    ``with_tags``; without the columns ``unread``."""
    customers = Customer.objects.for_org(organization).active().select_related("owner", "source", "score")
    # The owner as lists show them (name, account, whether active, role): not the sign-in columns.
    customers = customers.defer(*(f"owner__{name}" for name in OWNER_NOT_LISTED), *unread)
    return customers.annotate(tag_name_list=TagNames()) if with_tags else customers


def _segment_conditions(
    customers: CustomerQuerySet,
    organization: Organization | int,
    *,
    tags: Sequence[str],
    tier_id: int | None,
    last_visit_before_days: int | None,
    last_visit_within_days: int | None,
    spend_min: Decimal | str | None,
    spend_max: Decimal | str | None,
    brand: str,
    vehicle_age_min: int | None,
    vehicle_age_max: int | None,
) -> CustomerQuerySet:
    """The conditions of ``customer_list`` that saved segments add (see there)."""
    from huitou.loyalty.models import LoyaltyAccount

    if tags:
        tagged = CustomerTag.objects.for_org(organization).filter(tag__name__in=list(tags))
        customers = customers.filter(pk__in=tagged.values("customer_id"))
    if tier_id is not None:
        members = LoyaltyAccount.objects.for_org(organization).filter(tier_id=tier_id)
        customers = customers.filter(pk__in=members.values("customer_id"))
    now = timezone.now()
    if last_visit_before_days is not None:
        customers = customers.filter(last_visit_at__lt=now - dt.timedelta(days=last_visit_before_days))
    if last_visit_within_days is not None:
        customers = customers.filter(last_visit_at__gte=now - dt.timedelta(days=last_visit_within_days))
    if spend_min is not None:
        customers = customers.filter(lifetime_spend__gte=Decimal(spend_min))
    if spend_max is not None:
        customers = customers.filter(lifetime_spend__lte=Decimal(spend_max))
    if brand or vehicle_age_min is not None or vehicle_age_max is not None:
        cars = Vehicle.objects.for_org(organization).active()
        if brand:
            cars = cars.filter(brand__iexact=brand)
        if vehicle_age_min is not None or vehicle_age_max is not None:
            this_year = timezone.localdate().year
            cars = cars.annotate(made=Coalesce("year", ExtractYear("purchase_date")))
            if vehicle_age_min is not None:
                cars = cars.filter(made__lte=this_year - vehicle_age_min)
            if vehicle_age_max is not None:
                cars = cars.filter(made__gte=this_year - vehicle_age_max)
        customers = customers.filter(pk__in=cars.values("customer_id"))
    return customers


def customer_for_file(*, organization: Organization | int, customer_id: int) -> Customer:
    """The customer with everything the file page shows, in a fixed number of queries.

    1 customer (+ owner, source, created_by, score, household, its tag names),
    2 vehicles, 3 their readings (when there are cars), 4 household members (when in a household),
    each from a statement kept once compiled (``huitou.lib.statements``), the
    vehicles, readings and members attached as ``prefetch_related`` would.
    Raises Customer.DoesNotExist.
    """
    org_id = organization if isinstance(organization, int) else organization.pk

    def customer_row(org: int, pk: int) -> QuerySet[Customer]:
        rows = Customer.objects.for_org(org).active().filter(pk=pk)
        related: QuerySet[Customer] = rows.select_related("owner", "source", "created_by", "score", "household")
        return related.annotate(tag_name_list=TagNames())

    def vehicle_rows(org: int, pk: int) -> QuerySet[Vehicle]:
        return Vehicle.objects.for_org(org).active().filter(customer_id=pk).order_by("pk")

    def reading_rows(org: int, pk: int) -> QuerySet[MileageReading]:
        # Every car of the customer's in one statement; each active car then takes its own.
        rows = MileageReading.objects.for_org(org).filter(vehicle__customer_id=pk)
        return rows.select_related("recorded_by").order_by("-read_at", "-pk")

    def member_rows(org: int, pk: int) -> QuerySet[Customer]:
        rows = Customer.objects.for_org(org).active().filter(household_id=pk)
        return rows.only("pk", "name", "household_id", "organization_id").order_by("pk")

    found = tenant_rows(("customers.customer_for_file",), org_id, customer_id, customer_row)
    if not found:
        raise Customer.DoesNotExist("Customer matching query does not exist.")
    customer = found[0]
    vehicles = tenant_rows(("customers.customer_for_file", "vehicles"), org_id, customer.pk, vehicle_rows)
    key = ("customers.customer_for_file", "readings")
    readings = tenant_rows(key, org_id, customer.pk, reading_rows) if vehicles else []
    by_vehicle: dict[int, list[MileageReading]] = {}
    for reading in readings:
        by_vehicle.setdefault(reading.vehicle_id, []).append(reading)
    for vehicle in vehicles:
        attach_prefetched(vehicle, "readings", by_vehicle.get(vehicle.pk, []))
    attach_prefetched(customer, "vehicles", vehicles)
    if customer.household is not None:
        key = ("customers.customer_for_file", "household")
        members = tenant_rows(key, org_id, customer.household.pk, member_rows)
        attach_prefetched(customer.household, "members", members)
    return customer


# Records with their own pages and history: the file's timeline leaves them out.
OWN_HISTORY_SUBJECTS = ("serviceorder", "appointment")


def customer_history(*, customer: Customer, limit: int = 50) -> list[ChangeEntry]:
    """Changes to the file, its vehicles and consents, newest first (orders keep their own history;
    a kept statement: ``huitou.lib.statements``)."""

    def build(org: int, pk: int) -> QuerySet[ChangeEntry]:
        entries = history_for_customer(organization_id=org, customer_id=pk, limit=None)
        return entries.exclude(subject_type__in=OWN_HISTORY_SUBJECTS)[:limit]

    return tenant_rows(("customers.customer_history", limit), customer.organization_id, customer.pk, build)


def consent_history(*, customer: Customer, limit: int = 20) -> list[ConsentRecord]:
    """The customer's consent records, newest first, the latest ``limit`` (a kept statement)."""

    def build(org: int, pk: int) -> QuerySet[ConsentRecord]:
        rows = ConsentRecord.objects.for_org(org).filter(customer_id=pk).select_related("recorded_by")
        return rows.order_by("-at", "-pk")[:limit]

    return tenant_rows(("customers.consent_history", limit), customer.organization_id, customer.pk, build)


def vehicle_ownerships(*, vehicle: Vehicle) -> QuerySet[VehicleOwnership]:
    return (
        VehicleOwnership.objects.for_org(vehicle.organization_id)
        .filter(vehicle=vehicle)
        .select_related("customer")
        .order_by("-since")
    )


def vehicle_readings(*, vehicle: Vehicle) -> QuerySet[MileageReading]:
    return (
        MileageReading.objects.for_org(vehicle.organization_id)
        .filter(vehicle=vehicle)
        .select_related("recorded_by")
        .order_by("-read_at", "-pk")
    )


def vehicles_of(*, customer: Customer) -> QuerySet[Vehicle]:
    return Vehicle.objects.for_org(customer.organization_id).active().filter(customer=customer).order_by("pk")


def sources_for(organization: Organization | int) -> QuerySet[Source]:
    return Source.objects.for_org(organization).filter(is_active=True)


def tags_for(organization: Organization | int) -> QuerySet[Tag]:
    return Tag.objects.for_org(organization)


def tag_names(customer: Customer) -> list[str]:
    """Tag names of a customer annotated with ``TagNames`` (``tag_name_list``) or from ``customer_for_file``."""
    loaded: list[str] | None = getattr(customer, "tag_name_list", None)
    if loaded is not None:
        return loaded
    return [link.tag.name for link in customer.tag_links.all()]


def with_plates(customers: Iterable[Customer]) -> list[Customer]:
    """The customers, each with ``plate_list``: the plates of their active vehicles, oldest first. One query."""
    rows = list(customers)
    plates: dict[int, list[str]] = {c.pk: [] for c in rows}
    if rows:
        vehicles = Vehicle.objects.for_org(rows[0].organization_id).active().filter(customer_id__in=list(plates))
        for customer_id, plate in vehicles.order_by("pk").values_list("customer_id", "plate"):
            plates[customer_id].append(plate)
    for customer in rows:
        customer.plate_list = plates[customer.pk]  # type: ignore[attr-defined]
    return rows


def customer_facts(customer: Customer) -> dict[str, Any]:
    return customer.completeness_facts(has_vehicle=bool(customer.vehicles.all()))
