"""Reads of customer and vehicle files."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Substr

from huitou.audit.models import ChangeEntry
from huitou.audit.selectors import history_for_customer
from huitou.customers.models import (
    ConsentRecord,
    Customer,
    CustomerTag,
    MileageReading,
    Source,
    Tag,
    Vehicle,
    VehicleOwnership,
)
from huitou.lib.phones import PhoneError, normalize_phone
from huitou.lib.plates import PROVINCES, normalize_plate_text
from huitou.tenancy.models import Organization

# How many customers a vehicle key (plate part, VIN suffix) may bring in.
VEHICLE_MATCH_LIMIT = 1000
# Above this many matches of one meaning of a query, the count is a lower bound.
SEARCH_COUNT_LIMIT = 10_000
# No plate holds more digits in a row (粤B12345, 粤BD12345, 粤B12345D): a longer
# number is a phone or a VIN suffix, never part of a plate.
PLATE_MAX_DIGITS = 5
_HAN = re.compile(r"[\u4e00-\u9fff]")


def customer_list(
    *,
    organization: Organization | int,
    q: str = "",
    stage: str = "",
    tag: str = "",
    owner_id: int | None = None,
    shop_id: int | None = None,
) -> QuerySet[Customer]:
    """Active customers matching the search box and the filters.

    Ordered by pinyin when searching, newest first otherwise. The caller
    paginates. ``shop_id`` keeps customers whose owner works at that shop.
    """
    customers = Customer.objects.for_org(organization).active()
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
    q = (q or "").strip()
    customers = customers.select_related("owner", "source")
    letters = re.sub(r"[\s\-]", "", q).lower()
    if q and re.fullmatch(r"[a-z]+", letters):
        return LetterSearch(customers, organization, letters)  # type: ignore[return-value]
    if q:
        condition = search_condition(organization, q)
        assert condition is not None
        return customers.filter(condition).order_by("name_pinyin", "pk")
    return customers.order_by("-pk")


class LetterSearch:
    """Results of a search box query of Latin letters, fast at a million customers.

    The letters can be pinyin initials (``zs`` for 张三), the start of the
    full pinyin (``zhang``) or part of a plate or VIN. A single query OR-ing
    these must fetch and sort every match before the first page (tens of
    thousands for two letters), so each meaning is its own branch, read in
    its index's order with only ids until the page is known:

    1. pinyin initials starting with the letters, by initials then id;
    2. full pinyin starting with them (and not already in 1), by pinyin then id;
    3. customers of vehicles whose plate or VIN matches (not in 1 or 2), by id.

    The page is 1 then 2 then 3. Each branch counts at most
    ``SEARCH_COUNT_LIMIT`` rows, so ``count()`` is exact below that and a
    lower bound above it. Behaves like the queryset callers slice, count,
    filter and prefetch.
    """

    def __init__(self, base: QuerySet[Customer], organization: Organization | int, letters: str) -> None:
        self.base = base
        self.organization = organization
        self.letters = letters
        self._branches: list[QuerySet[Customer, int]] | None = None
        self._counts: list[int] | None = None

    def _clone(self, base: QuerySet[Customer]) -> LetterSearch:
        return LetterSearch(base, self.organization, self.letters)

    def filter(self, *args: Any, **kwargs: Any) -> LetterSearch:
        return self._clone(self.base.filter(*args, **kwargs))

    def exclude(self, *args: Any, **kwargs: Any) -> LetterSearch:
        return self._clone(self.base.exclude(*args, **kwargs))

    def prefetch_related(self, *lookups: Any) -> LetterSearch:
        return self._clone(self.base.prefetch_related(*lookups))

    def select_related(self, *fields: str) -> LetterSearch:
        return self._clone(self.base.select_related(*fields))

    def values_list(self, *fields: str, flat: bool = False) -> list[Any]:
        rows = self[0 : self.count()]
        if flat:
            return [getattr(c, "pk" if fields[0] == "pk" else fields[0]) for c in rows]
        return [tuple(getattr(c, f) for f in fields) for c in rows]

    def exists(self) -> bool:
        return self.count() > 0

    def branches(self) -> list[QuerySet[Customer, int]]:
        if self._branches is None:
            ids = self.base.values_list("pk", flat=True)
            initials = Q(name_initials__startswith=self.letters)
            pinyin = Q(name_pinyin__startswith=self.letters)
            branches = [
                ids.filter(initials).order_by("name_initials", "pk"),
                ids.filter(pinyin).exclude(initials).order_by("name_pinyin", "pk"),
            ]
            vehicle_keys = search_condition(self.organization, self.letters.upper(), customer_keys=False)
            if vehicle_keys is not None:
                branches.append(ids.filter(vehicle_keys).exclude(initials | pinyin).order_by("pk"))
            self._branches = branches
        return self._branches

    def counts(self) -> list[int]:
        if self._counts is None:
            # One round trip for every branch's capped count; no ORDER BY, so each
            # only walks its index range.
            parts: list[str] = []
            params: list[Any] = []
            for n, branch in enumerate(self.branches()):
                sql, branch_params = branch.order_by()[:SEARCH_COUNT_LIMIT].query.sql_with_params()
                parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS branch{n})")  # noqa: S608
                params.extend(branch_params)
            with connections[self.base.db].cursor() as cursor:
                cursor.execute("SELECT " + ", ".join(parts), params)
                self._counts = [int(n) for n in cursor.fetchone()]
        return self._counts

    def count(self) -> int:
        return sum(self.counts())

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[Customer]:
        return iter(self[0 : self.count()])

    def __getitem__(self, key: slice) -> list[Customer]:
        if not isinstance(key, slice):
            raise TypeError("LetterSearch supports slices only")
        start, stop = key.start or 0, key.stop if key.stop is not None else self.count()
        wanted: list[int] = []
        offset = start
        for branch, size in zip(self.branches(), self.counts(), strict=True):
            if len(wanted) >= stop - start:
                break
            if offset >= size:
                offset -= size
                continue
            take = stop - start - len(wanted)
            wanted += list(branch[offset : offset + take])
            offset = 0
        rows = {c.pk: c for c in self.base.filter(pk__in=wanted)} if wanted else {}
        return [rows[pk] for pk in wanted if pk in rows]


@dataclass(frozen=True)
class SearchKeys:
    """What a search box query can mean, decided from its characters."""

    phone: str = ""
    last4: str = ""
    pinyin: str = ""
    name_prefix: str = ""
    name_part: str = ""
    plate_part: str = ""
    vin_suffix: str = ""


def search_keys(q: str) -> SearchKeys:
    text = q.strip()
    compact = re.sub(r"[\s\-]", "", text)
    keys: dict[str, str] = {}
    if re.fullmatch(r"\+?\d+", compact):
        if len(compact) >= 7:
            with contextlib.suppress(PhoneError):
                keys["phone"] = normalize_phone(compact)
        if len(compact) == 4:
            keys["last4"] = compact
        if 3 <= len(compact) <= PLATE_MAX_DIGITS:
            keys["plate_part"] = compact
        if len(compact) >= 3:
            keys["vin_suffix"] = compact
        return SearchKeys(**keys)
    if _HAN.search(text):
        name = text.replace(" ", "")
        keys["name_prefix"] = name
        if len(name) >= 3:
            keys["name_part"] = name
        plate = normalize_plate_text(text)
        if plate[0] in PROVINCES and len(plate) >= 2 and plate[1:].isalnum() and plate[1:].isascii():
            keys["plate_part"] = plate
        return SearchKeys(**keys)
    if re.fullmatch(r"[A-Za-z]+", compact):
        keys["pinyin"] = compact.lower()
    if compact.isascii() and compact.isalnum() and len(compact) >= 2:
        keys["plate_part"] = compact.upper()
        if len(compact) >= 4:
            keys["vin_suffix"] = compact.upper()
    return SearchKeys(**keys)


def search_condition(organization: Organization | int, q: str, *, customer_keys: bool = True) -> Q | None:
    """One condition over the customer table for a search box query.

    Keys on the customer row are combined with OR so PostgreSQL can merge
    their index scans; keys on vehicles are resolved first to a bounded list
    of customer ids (one query), which joins the OR as ``pk IN (...)``.
    With ``customer_keys=False`` only the vehicle keys count, and None means
    no vehicle matches.
    """
    keys = search_keys(q)
    cond = Q(pk__in=[])
    if not customer_keys:
        keys = SearchKeys(plate_part=keys.plate_part, vin_suffix=keys.vin_suffix)
    if keys.phone:
        cond |= Q(phone=keys.phone)
    if keys.last4:
        cond |= Q(phone_last4=keys.last4)
    if keys.pinyin:
        cond |= Q(name_pinyin__startswith=keys.pinyin) | Q(name_initials__startswith=keys.pinyin)
    if keys.name_prefix:
        cond |= Q(name__startswith=keys.name_prefix)
    if keys.name_part:
        cond |= Q(name__contains=keys.name_part)
    vehicles = Vehicle.objects.for_org(organization).active()
    vehicle_cond = Q(pk__in=[])
    plate = keys.plate_part
    if plate and plate[0] in PROVINCES:
        # The province only ever comes first: a prefix (btree, stops at the limit).
        vehicle_cond |= Q(plate__startswith=plate)
    elif len(plate) >= 3:
        # Any part of the plate (trigram index: needs three characters).
        vehicle_cond |= Q(plate__contains=plate)
    elif plate:
        # Two characters would be in a plate anywhere in one of twenty; they
        # are taken as the start of the plate after the province (粤B1 from B1).
        vehicles = vehicles.alias(plate_tail=Substr("plate", 2))
        vehicle_cond |= Q(plate_tail__startswith=plate)
    if keys.vin_suffix:
        vehicle_cond |= Q(vin__endswith=keys.vin_suffix)
    if plate or keys.vin_suffix:
        ids = list(vehicles.filter(vehicle_cond).values_list("customer_id", flat=True)[:VEHICLE_MATCH_LIMIT])
        if ids:
            cond |= Q(pk__in=sorted(set(ids)))
            if not customer_keys:
                return Q(pk__in=sorted(set(ids)))
    return cond if customer_keys else None


def customer_for_file(*, organization: Organization | int, customer_id: int) -> Customer:
    """The customer with everything the file page shows, in a fixed number of queries.

    1 customer (+ owner, source, created_by), 2 tags, 3 vehicles, 4 their
    readings, 5 household members. Raises Customer.DoesNotExist.
    """
    readings = MileageReading.objects.select_related("recorded_by").order_by("-read_at", "-pk")
    vehicles = (
        Vehicle.objects.for_org(organization)
        .active()
        .order_by("pk")
        .prefetch_related(Prefetch("readings", queryset=readings))
    )
    return (
        Customer.objects.for_org(organization)
        .active()
        .select_related("owner", "source", "created_by")
        .prefetch_related(
            Prefetch("tag_links", queryset=CustomerTag.objects.select_related("tag").order_by("tag__name")),
            Prefetch("vehicles", queryset=vehicles),
            Prefetch(
                "household__members",
                queryset=Customer.objects.active().only("pk", "name", "household_id", "organization_id"),
            ),
        )
        .get(pk=customer_id)
    )


# Records with their own pages and history: the file's timeline leaves them out.
OWN_HISTORY_SUBJECTS = ("serviceorder", "appointment")


def customer_history(*, customer: Customer, limit: int = 50) -> list[ChangeEntry]:
    """Changes to the file, its vehicles and consents, newest first (orders keep their own history)."""
    entries = history_for_customer(organization_id=customer.organization_id, customer_id=customer.pk, limit=None)
    return list(entries.exclude(subject_type__in=OWN_HISTORY_SUBJECTS)[:limit])


def consent_history(*, customer: Customer) -> QuerySet[ConsentRecord]:
    return (
        ConsentRecord.objects.for_org(customer.organization_id)
        .filter(customer=customer)
        .select_related("recorded_by")
        .order_by("-at", "-pk")
    )


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
    """Tag names of a customer loaded through ``customer_for_file`` or a prefetch."""
    return [link.tag.name for link in customer.tag_links.all()]


def customer_facts(customer: Customer) -> dict[str, Any]:
    return customer.completeness_facts(has_vehicle=bool(customer.vehicles.all()))
