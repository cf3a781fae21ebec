"""The search box: what a query can mean, and the statement that finds it.

``customer_search`` classifies a query (digits, Latin letters, Chinese)
and returns a ``CustomerSearch``, which behaves like the queryset callers
slice and count: the page, its count and (with ``customer_list(...,
with_tags=True)``) the tag names come in one statement. See
docs/decisions.md ("Search: ...") and bench/README.md for why each part
is shaped as it is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Self

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, router
from django.db.models import CharField, Count, F, Func, IntegerField, Q, QuerySet, Window
from django.db.models.expressions import RawSQL
from django.db.models.sql import Query

from huitou.customers.models import Customer, Vehicle
from huitou.customers.trigram import trigram_table
from huitou.lib.conditions import NotEmpty, starts_with
from huitou.lib.phones import PhoneError, normalize_phone
from huitou.lib.plates import PLATE_STARTS, plate_start
from huitou.lib.statements import cached_rows
from huitou.tenancy.models import Organization

# How many customers a vehicle key (plate part, VIN suffix) may bring in.
VEHICLE_MATCH_LIMIT = 1000
# Above this many matches of one meaning of a query, the count is a lower bound.
SEARCH_COUNT_LIMIT = 10_000
# No plate holds more digits in a row (粤B12345, 粤BD12345, 粤B12345D): a longer
# number is a phone or a VIN suffix. (An embassy's 使224009 is found from its 使.)
PLATE_MAX_DIGITS = 5
MOBILE_DIGITS = 11
# A VIN is named by its last six characters (车架号后六位); fewer match too many cars to mean one.
VIN_SUFFIX_MIN = 6
_HAN = re.compile(r"[\u4e00-\u9fff]")
# A name as typed in the search box: Chinese characters and the middle dot of 阿依古丽·买买提.
_NAME = re.compile(r"[\u4e00-\u9fff·・.]+")


def customer_search(
    customers: QuerySet[Customer] | Callable[[], QuerySet[Customer]],
    organization: Organization | int,
    q: str,
    *,
    statement_key: Hashable | None = None,
) -> CustomerSearch:
    """The customers matching the search box query ``q`` (already stripped, not empty), ordered for the page.

    ``customers`` is the queryset searched, or a function that makes it
    (called only when it is needed). ``statement_key`` names ``customers``
    (the same statement for every call with that key, e.g. the organization
    and what is annotated): the page's statement is then compiled once per
    shape of query and kept (``huitou.lib.statements``), and a page of a
    shape already kept builds no queryset at all. None: compiled on each call.
    """
    letters = re.sub(r"[\s\-]", "", q).lower()
    if re.fullmatch(r"[a-z]+", letters):
        return LetterSearch(customers, organization, letters, statement_key=statement_key)
    return KeySearch(customers, organization, q, statement_key=statement_key)


class CustomerSearch:
    """Results of a search box query: the page and the number of matches in one statement.

    Behaves like the queryset callers slice, count, filter and prefetch. A
    slice is one statement for its customers (owner and source joined) that
    also counts the matches, so taking the page first and counting after
    costs one round trip plus the prefetches; a count asked for first is a
    statement of its own, and the page after it leaves the count out.
    """

    def __init__(
        self,
        base: QuerySet[Customer] | Callable[[], QuerySet[Customer]],
        organization: Organization | int,
        text: str,
        *,
        statement_key: Hashable | None = None,
    ) -> None:
        if isinstance(base, QuerySet):
            self.__dict__["base"] = base
            self.using: str = base.db
        else:
            self._make_base = base
            self.using = router.db_for_read(Customer)
        self.organization = organization
        self.text = text
        self.statement_key = statement_key
        self._total: int | None = None

    @cached_property
    def base(self) -> QuerySet[Customer]:
        """The customers searched, made when first needed."""
        return self._make_base()

    def _clone(self, base: QuerySet[Customer], *, same_matches: bool = False) -> Self:
        # Another base is another statement: not kept under this one's key.
        clone = type(self)(base, self.organization, self.text)
        if same_matches:
            clone._total = self._total
        return clone

    def filter(self, *args: Any, **kwargs: Any) -> Self:
        return self._clone(self.base.filter(*args, **kwargs))

    def exclude(self, *args: Any, **kwargs: Any) -> Self:
        return self._clone(self.base.exclude(*args, **kwargs))

    def prefetch_related(self, *lookups: Any) -> Self:
        return self._clone(self.base.prefetch_related(*lookups), same_matches=True)

    def select_related(self, *fields: str) -> Self:
        return self._clone(self.base.select_related(*fields), same_matches=True)

    def count(self) -> int:
        if self._total is None:
            self._total = self._count()
        return self._total

    def __len__(self) -> int:
        return self.count()

    def exists(self) -> bool:
        return self.count() > 0

    def __iter__(self) -> Iterator[Customer]:
        return iter(self[0 : self.count()])

    def values_list(self, *fields: str, flat: bool = False) -> list[Any]:
        rows = self[0 : self.count()]
        if flat:
            return [getattr(c, "pk" if fields[0] == "pk" else fields[0]) for c in rows]
        return [tuple(getattr(c, f) for f in fields) for c in rows]

    def __getitem__(self, key: slice) -> list[Customer]:
        if not isinstance(key, slice):
            raise TypeError("CustomerSearch supports slices only")
        start, stop = key.start or 0, key.stop if key.stop is not None else self.count()
        if stop <= start:
            return []
        counting = self._total is None
        rows = self._page(start, stop, counting=counting)
        if counting and rows:
            self._total = rows[0].search_total  # type: ignore[attr-defined]
        elif counting and start == 0:
            self._total = 0  # an empty first page: nothing matches
        return rows

    def _count(self) -> int:
        raise NotImplementedError

    def _page(self, start: int, stop: int, *, counting: bool) -> list[Customer]:
        """The customers of positions ``start`` to ``stop``, each with ``search_total`` when ``counting``."""
        raise NotImplementedError

    def _kept_rows(
        self, shape: Hashable, values: Sequence[str], build: Callable[[Sequence[str]], QuerySet[Customer] | None]
    ) -> list[Customer]:
        """``build(values)``'s rows; with a ``statement_key``, from the statement kept for this shape."""
        if self.statement_key is None or not values:  # no values: nothing to search, no statement
            rows = build(values)
            return [] if rows is None else list(rows)
        return cached_rows((type(self).__name__, self.statement_key, shape), values, build, using=self.using)


class KeySearch(CustomerSearch):
    """A query of a name, phone, plate or VIN: one condition, ordered by pinyin.

    Keys on the customer row and customers of matching vehicles (at most
    ``VEHICLE_MATCH_LIMIT``) are found in the same statement. A whole phone
    number or a VIN's end finds a handful: read, sorted and counted at once
    with a window. Other keys find up to a few hundred: the page that counts
    names them first (``WITH``, their ids and pinyin, found once) and takes
    the page's ids and the count from them; the page's rows are then read
    with their owner, source, score and tags.
    """

    @cached_property
    def keys(self) -> SearchKeys:
        return search_keys(self.text)

    @cached_property
    def matches(self) -> QuerySet[Customer]:
        return self._matches(self.keys)

    def _matches(self, keys: SearchKeys) -> QuerySet[Customer]:
        condition = search_condition(self.organization, keys, vendor=connections[self.using].vendor)
        return self.base.filter(condition).order_by("name_pinyin", "pk")

    def _count(self) -> int:
        return self.matches.count()

    def _page(self, start: int, stop: int, *, counting: bool) -> list[Customer]:
        keys = self.keys
        values = keys.values()
        shape = (keys.present(), keys.plate_mode(), start, stop, counting)

        def build(given: Sequence[str]) -> QuerySet[Customer] | None:
            return self._page_rows(keys.with_values(given), start, stop, counting=counting)

        return self._kept_rows(shape, values, build)

    def _page_rows(self, keys: SearchKeys, start: int, stop: int, *, counting: bool) -> QuerySet[Customer] | None:
        # A whole phone number is one probe of the phone index, a handful of rows
        # at most: read, sorted and counted at once, like a VIN's end (a few cars).
        whole_phone = keys.phone and not keys.last4
        if (keys.vin_suffix and not keys.plate_part) or whole_phone:
            rows = self._matches(keys)
            if counting:
                rows = rows.annotate(search_total=Window(Count("pk")))
            return rows[start:stop]
        # Keys that match many (a name, last four digits, part of a plate: up to
        # a few hundred customers): the page's ids are picked from the matches
        # first (the name index holds the pinyin), then only those rows are read
        # and joined to their owner, source, score and tags.
        if not counting:
            page_ids = self._matches(keys).values("pk")[start:stop]
            return self.base.filter(pk__in=page_ids).order_by("name_pinyin", "pk")
        # Counted too: the matches are found once, as the statement's named rows
        # (ids and pinyin), and both the page's ids and the count read them. The
        # customers of matching vehicles are read by id; those the customer's own
        # keys find come with their pinyin from that read, not looked up again.
        parts = []
        if customer_keys(keys):
            parts.append(self.base.filter(customer_condition(keys)))
        vehicles = vehicle_customer_ids(self.organization, keys)
        if vehicles is not None:
            parts.append(self.base.filter(pk__in=vehicles))
        found = [part.order_by().values(search_id=F("pk"), search_key=F("name_pinyin")) for part in parts]
        try:
            named = found[0].union(*found[1:])  # a customer found both ways is one row
            sql, params = named.query.get_compiler(using=self.using).as_sql()
        except (EmptyResultSet, IndexError):  # the query means nothing searchable
            return None
        page = f"SELECT search_id FROM {MATCHED} ORDER BY search_key, search_id LIMIT {stop - start} OFFSET {start}"  # noqa: S608
        total = RawSQL(f"SELECT COUNT(*) FROM {MATCHED}", (), output_field=IntegerField())  # noqa: S608, S611
        rows = self.base.filter(pk__in=RawSQL(page, ())).annotate(search_total=total)  # noqa: S611
        rows = rows.order_by("name_pinyin", "pk")
        return with_rows(rows, MATCHED, sql, params)

    def __iter__(self) -> Iterator[Customer]:
        return iter(self.matches)

    def exists(self) -> bool:
        return self._total > 0 if self._total is not None else self.matches.exists()

    def values_list(self, *fields: str, flat: bool = False) -> list[Any]:
        return list(self.matches.values_list(*fields, flat=flat))


# The name of a search statement's matches (``with_rows``).
MATCHED = "search_matched"


class _WithQuery(Query):
    """A query whose statement starts ``WITH name AS (sql)``: the named rows, found once, read twice."""

    with_clause: tuple[str, str, tuple[Any, ...]]

    def get_compiler(self, using: str | None = None, connection: Any = None, elide_empty: bool = True) -> Any:
        compiler = super().get_compiler(using, connection, elide_empty)
        name, sql, params = self.with_clause
        as_sql = compiler.as_sql

        def with_sql(*args: Any, **kwargs: Any) -> tuple[str, tuple[Any, ...]]:
            text, text_params = as_sql(*args, **kwargs)
            return f"WITH {name} AS ({sql}) {text}", (*params, *text_params)

        compiler.as_sql = with_sql
        return compiler


def with_rows(queryset: QuerySet[Customer], name: str, sql: str, params: Sequence[Any]) -> QuerySet[Customer]:
    """``queryset`` whose statement first names the rows of ``sql`` (a common table expression) ``name``.

    PostgreSQL and SQLite find such rows once for a statement that reads
    them more than once, where the same subquery written twice is run twice.
    """
    query = queryset.query.clone()
    query.__class__ = _WithQuery
    query.with_clause = (name, sql, tuple(params))  # type: ignore[attr-defined]
    named = queryset.all()
    named.query = query
    return named


@dataclass(frozen=True)
class _Branch:
    """One meaning of a letter search as SQL selecting ``search_id`` (and ``search_key``), unordered."""

    sql: str
    params: list[Any]
    # Ordered by search_key then id. Otherwise by id alone and bounded (the
    # vehicles' customers, at most VEHICLE_MATCH_LIMIT), so read whole.
    keyed: bool


class LetterSearch(CustomerSearch):
    """A query of Latin letters, fast at a million customers.

    The letters can be pinyin initials (``zs`` for 张三), the start of the
    full pinyin (``zhang``) or part of a plate or VIN. A single query OR-ing
    these must fetch and sort every match before the first page (tens of
    thousands for two letters), so each meaning is its own branch, read in
    its index's order with only ids until the page is known:

    1. pinyin initials starting with the letters, by initials then id;
    2. full pinyin starting with them (and not already in 1), by pinyin then id;
    3. customers of vehicles whose plate or VIN matches (not in 1 or 2), by id.

    The results are 1 then 2 then 3. Each branch counts at most
    ``SEARCH_COUNT_LIMIT`` rows, so ``count()`` is exact below that and a
    lower bound above it. The page of positions ``start`` to ``stop`` lies
    within the first ``stop`` rows of each branch: the statement takes those
    from the indexes, orders them and keeps the page's ids, so only the
    count walks a whole index range. Keys compare byte by byte, in the
    indexes' order (``text_pattern_ops``) and Python's, which for lower-case
    pinyin is the database's order too.
    """

    @property
    def letters(self) -> str:
        return self.text

    @cached_property
    def vehicle_keys(self) -> SearchKeys:
        """The letters as a plate part or VIN suffix (the name keys are the branches' own)."""
        keys = search_keys(self.letters.upper())
        return SearchKeys(plate_part=keys.plate_part, vin_suffix=keys.vin_suffix)

    @cached_property
    def branches(self) -> list[_Branch]:
        return self._branches(self.letters, self.vehicle_keys)

    def _branches(self, letters: str, vehicle_keys: SearchKeys) -> list[_Branch]:
        ids = self.base.order_by()
        initials = starts_with("name_initials", letters)
        pinyin = starts_with("name_pinyin", letters)
        branches: list[tuple[QuerySet[Customer, Any], bool]] = [
            (ids.filter(initials).values(search_id=F("pk"), search_key=F("name_initials")), True),
            (ids.filter(pinyin & ~initials).values(search_id=F("pk"), search_key=F("name_pinyin")), True),
        ]
        vehicles = vehicle_customer_ids(self.organization, vehicle_keys)
        if vehicles is not None:
            branches.append((ids.filter(Q(pk__in=vehicles) & ~(initials | pinyin)).values(search_id=F("pk")), False))
        compiled = []
        for queryset, keyed in branches:
            sql, params = queryset.query.get_compiler(using=self.using).as_sql()
            compiled.append(_Branch(sql, list(params), keyed))
        return compiled

    def _count_sql(self, branches: list[_Branch]) -> tuple[str, list[Any]]:
        """The sum of every branch's count, each capped (no ORDER BY: each walks its index range only)."""
        parts: list[str] = []
        params: list[Any] = []
        for n, branch in enumerate(branches):
            rows = f"SELECT 1 FROM ({branch.sql}) AS b LIMIT {SEARCH_COUNT_LIMIT}" if branch.keyed else branch.sql  # noqa: S608
            parts.append(f"(SELECT COUNT(*) FROM ({rows}) AS counted{n})")  # noqa: S608
            params += branch.params
        return " + ".join(parts), params

    def _count(self) -> int:
        sql, params = self._count_sql(self.branches)
        with connections[self.using].cursor() as cursor:
            cursor.execute(f"SELECT {sql}", params)  # noqa: S608
            return int(cursor.fetchone()[0])

    def _page_ids_sql(self, branches: list[_Branch], start: int, stop: int) -> tuple[str, list[Any]]:
        # PostgreSQL orders by the indexes' operator (text_pattern_ops) so a branch
        # is read in index order and stops after ``stop`` rows; SQLite's is bytewise.
        bytewise = " USING ~<~" if connections[self.using].vendor == "postgresql" else ""
        take = min(stop, SEARCH_COUNT_LIMIT)
        parts: list[str] = []
        params: list[Any] = []
        for n, branch in enumerate(branches, start=1):
            if branch.keyed:
                parts.append(
                    f"SELECT * FROM (SELECT b.search_id, {n} AS part, b.search_key FROM ({branch.sql}) AS b "  # noqa: S608
                    f"ORDER BY b.search_key{bytewise}, b.search_id LIMIT {take}) AS branch{n}"
                )
            else:
                # No ORDER BY ... LIMIT here: it would tempt the planner to walk the
                # primary key in order until it meets the vehicles' customers.
                parts.append(f"SELECT b.search_id, {n} AS part, '' AS search_key FROM ({branch.sql}) AS b")  # noqa: S608
            params += branch.params
        hits = " UNION ALL ".join(parts)
        sql = (
            f"SELECT hits.search_id FROM ({hits}) AS hits "  # noqa: S608
            f"ORDER BY hits.part, hits.search_key{bytewise}, hits.search_id LIMIT {stop - start} OFFSET {start}"
        )
        return sql, params

    def _position(self, customer: Customer) -> tuple[int, str, int]:
        if customer.name_initials.startswith(self.letters):
            return (1, customer.name_initials, customer.pk)
        if customer.name_pinyin.startswith(self.letters):
            return (2, customer.name_pinyin, customer.pk)
        return (3, "", customer.pk)

    def _page(self, start: int, stop: int, *, counting: bool) -> list[Customer]:
        vehicle_keys = self.vehicle_keys
        values = [self.letters, *vehicle_keys.values()]
        shape = (vehicle_keys.present(), vehicle_keys.plate_mode(), start, stop, counting)

        def build(given: Sequence[str]) -> QuerySet[Customer]:
            # Both statements are the ORM's own SQL for the branches, with their parameters.
            branches = self._branches(given[0], vehicle_keys.with_values(given[1:]))
            rows = self.base.filter(pk__in=RawSQL(*self._page_ids_sql(branches, start, stop))).order_by()  # noqa: S611
            if counting:
                total = RawSQL(*self._count_sql(branches), output_field=IntegerField())  # noqa: S611
                rows = rows.annotate(search_total=total)
            return rows

        return sorted(self._kept_rows(shape, values, build), key=self._position)


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

    def _keys(self) -> list[str]:
        # The search keys alone, in field order (not a subclass's own fields; no deep copy as astuple makes).
        return [getattr(self, name) for name in _KEY_FIELDS]

    def values(self) -> list[str]:
        """The keys that are set, in field order."""
        return [value for value in self._keys() if value]

    def present(self) -> tuple[bool, ...]:
        """Which keys are set: with ``plate_mode``, what decides the search statement's text."""
        return tuple(bool(value) for value in self._keys())

    def plate_mode(self) -> str:
        """How the plate part is looked for (``vehicle_customer_ids``).

        ``start``: it starts with a province (or 使), the start of the plate;
        ``part``: three characters or more, anywhere in the plate; ``tail``:
        two, the start of the plate after the province; "" without one.
        """
        plate = self.plate_part
        if not plate:
            return ""
        if plate[0] in PLATE_STARTS:
            return "start"
        return "part" if len(plate) >= 3 else "tail"

    def with_values(self, values: Sequence[str]) -> SearchKeys:
        """These keys with the set ones' values replaced by ``values``, in order (the plate's mode kept)."""
        given = iter(values)
        replaced = {name: next(given) for name in _KEY_FIELDS if getattr(self, name)}
        return _GivenKeys(**replaced, given_plate_mode=self.plate_mode())


_KEY_FIELDS = tuple(f.name for f in dataclasses.fields(SearchKeys))


@dataclass(frozen=True)
class _GivenKeys(SearchKeys):
    """Keys given their values (stand-ins of ``huitou.lib.statements`` among them): the plate's mode is kept."""

    given_plate_mode: str = ""

    def plate_mode(self) -> str:
        return self.given_plate_mode


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
        # A whole mobile number (11 digits from 1) is that phone, not the end of a VIN.
        mobile = len(compact) == MOBILE_DIGITS and compact.startswith("1") and "phone" in keys
        if len(compact) >= VIN_SUFFIX_MIN and not mobile:
            keys["vin_suffix"] = compact
        return SearchKeys(**keys)
    if _HAN.search(text):
        name = text.replace(" ", "")
        plate = plate_start(text)
        # The start of a plate (浙A5J710) is no name; a name as a shop wrote it
        # may hold more than Chinese characters (陈05号).
        if _NAME.fullmatch(name) or not plate:
            keys["name_prefix"] = name
            if len(name) >= 3:
                keys["name_part"] = name
        if plate:
            keys["plate_part"] = plate
        return SearchKeys(**keys)
    if re.fullmatch(r"[A-Za-z]+", compact):
        keys["pinyin"] = compact.lower()
    if compact.isascii() and compact.isalnum() and len(compact) >= 2:
        # Plates never hold I or O, VINs never I, O or Q (huitou.lib.plates and
        # .vin): a query holding one of them is no part of one. Two letters
        # alone are initials (刘东 by ld), not the start of a plate after the
        # province: that needs a digit (B1) or a third character.
        upper = compact.upper()
        if not set(upper) & set("IO") and (len(compact) >= 3 or not compact.isalpha()):
            keys["plate_part"] = upper
        if len(compact) >= VIN_SUFFIX_MIN and not set(upper) & set("IOQ"):
            keys["vin_suffix"] = upper
    return SearchKeys(**keys)


def search_condition(organization: Organization | int, keys: SearchKeys, *, vendor: str = "") -> Q:
    """One condition over the customer table for what a search box query can mean.

    Keys on the customer row are combined with OR so the database can merge
    their index scans. Customers of vehicles whose plate or VIN matches (a
    bounded list) join them in the same statement: on PostgreSQL as one list
    of ids, the customer keys' and the vehicles' (an OR with a subquery would
    be checked row by row over the whole organization). SQLite takes no
    LIMIT inside a compound statement, so there the two lists are each a
    subquery of the UNION.
    """
    cond = customer_condition(keys)
    vehicles = vehicle_customer_ids(organization, keys)
    if vehicles is None:
        return cond
    customers = Customer.objects.for_org(organization).active().filter(cond).values("pk")
    if vendor == "postgresql":
        return Q(pk__in=customers.union(vehicles, all=True))
    try:
        customer_sql, customer_params = customers.query.sql_with_params()
    except EmptyResultSet:  # vehicle keys alone
        return Q(pk__in=vehicles)
    vehicle_sql, vehicle_params = vehicles.query.sql_with_params()
    both = f"SELECT * FROM ({customer_sql}) UNION ALL SELECT * FROM ({vehicle_sql})"  # noqa: S608
    return Q(pk__in=RawSQL(both, (*customer_params, *vehicle_params)))  # noqa: S611


def customer_keys(keys: SearchKeys) -> bool:
    """Whether the keys hold any that the customer's own row answers (``customer_condition``)."""
    return bool(keys.phone or keys.last4 or keys.pinyin or keys.name_prefix or keys.name_part)


def customer_condition(keys: SearchKeys) -> Q:
    """The keys the customer's own row answers, combined with OR (nothing without one)."""
    cond = Q(pk__in=[])
    if keys.phone:
        # The phone index is partial (no empty phones): the query repeats that
        # condition word for word, the empty string in its text (NotEmpty).
        cond |= Q(phone=keys.phone) & Q(NotEmpty("phone"))
    if keys.last4:
        cond |= Q(phone_last4=keys.last4)
    if keys.pinyin:
        cond |= starts_with("name_pinyin", keys.pinyin) | starts_with("name_initials", keys.pinyin)
    if keys.name_prefix:
        cond |= starts_with("name", keys.name_prefix)
    if keys.name_part:
        cond |= contains("name", keys.name_part)
    return cond


def contains(field: str, part: str, *, model: type[Customer | Vehicle] = Customer, at_end: bool = False) -> Q:
    """``field`` holds ``part`` (three characters or more), or ends with it, from a trigram index.

    PostgreSQL's are pg_trgm indexes on the column. On SQLite the rows come
    from the table's FTS5 trigram index (``huitou.customers.trigram``), which
    finds candidates by their trigrams; the column's own condition stays to
    decide (the index folds case).
    """
    exact = Q(**{f"{field}__{'endswith' if at_end else 'contains'}": part})
    if connection.vendor != "sqlite" or len(part) < 3 or set(part) & set("%_\\"):
        return exact
    index = trigram_table(model._meta.db_table, field)
    pattern = f"%{part}" if at_end else f"%{part}%"
    rows = RawSQL(f"SELECT rowid FROM {index} WHERE {field} LIKE %s", [pattern])  # noqa: S608, S611
    return Q(pk__in=rows) & exact


def vehicle_customer_ids(
    organization: Organization | int, keys: SearchKeys
) -> QuerySet[Vehicle, dict[str, Any]] | None:
    """Customer ids of the active vehicles whose plate or VIN matches (at most
    ``VEHICLE_MATCH_LIMIT``), as a subquery; None when the keys hold no plate or VIN."""
    plate = keys.plate_part
    if not plate and not keys.vin_suffix:
        return None
    vehicles = Vehicle.objects.for_org(organization).active()
    cond = Q(pk__in=[])
    mode = keys.plate_mode()
    if mode == "start":
        # The province (or 使) only ever comes first: a prefix (btree, stops at the limit).
        cond |= starts_with("plate", plate)
    elif mode == "part":
        # Any part of the plate (trigram index: needs three characters).
        cond |= contains("plate", plate, model=Vehicle)
    elif mode == "tail":
        # Two characters would be in a plate anywhere in one of twenty; they
        # are taken as the start of the plate after the province (粤B1 from B1).
        vehicles = vehicles.alias(plate_tail=PlateTail("plate"))
        cond |= starts_with("plate_tail", plate)
    if keys.vin_suffix:
        # Repeats the VIN index's condition (no empty VIN), as the phone's does.
        cond |= contains("vin", keys.vin_suffix, model=Vehicle, at_end=True) & Q(NotEmpty("vin"))
    return vehicles.filter(cond).values("customer_id")[:VEHICLE_MATCH_LIMIT]


class PlateTail(Func):
    """A plate after its first character (the province), as ``vehicle_org_plate_tail`` indexes it: the
    position is in the statement's text, where Django's ``Substr`` binds it as a value (a plan made
    without the values would not know the expression for the index's)."""

    function = "SUBSTRING"
    template = "%(function)s(%(expressions)s, 2)"
    arity = 1
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="SUBSTR", **extra)
