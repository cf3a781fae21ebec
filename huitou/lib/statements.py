"""Statements compiled once per shape, then run again with the next request's values.

Building a queryset and compiling it is most of the work of a hot read that
returns a page of rows: a search box query at a million customers spends
several milliseconds in Django's query building and compiler for a statement
PostgreSQL answers in well under one. The text of such a statement depends
only on its shape (which conditions, which columns, which page), so it can be
compiled once per shape and run again with other values.

The caller names the shape (a hashable ``key``), gives the values (strings,
or integers such as a customer's id) and a ``build`` function that makes the
queryset from them. On the first call of a shape, ``build`` gets stand-ins
instead of the values: short strings of private-use characters no text
holds, and for integers numbers above any id a shop's tables reach (near
the top of the 32-bit range, so an integer column takes them too). Its statement is compiled
and kept if the stand-ins appear only in the parameters, never in the SQL
text, and each of them is found there; the statement keeps where each one
is. The same call then builds the statement twice more, with long
stand-ins and with its real values, and keeps the shape only if both give
the same text and, value for value, the parameters the first stand-ins'
places give: a build that cuts, pads or converts a value shows it in one
of the two, and the shape is run through Django from then on. (A build
that changes only some values, say strips spaces a first value lacks, is
not caught: values must be placed as they are given, normalised before.)
Every other parameter (a date, a kind, the organization unless it is one of
the values) is frozen with the shape, so the key must name it; a page's
reads pass the organization as a value, so that one statement serves every
organization. Later calls of the shape put the values where the stand-ins were — a
whole parameter, or part of one (a ``LIKE`` pattern ``'%'``-wrapped, or the
successor of a prefix that ``huitou.lib.conditions.starts_with`` uses for
a range) — run the statement and make the model instances as Django's own
iterator does (``select_related`` rows and annotations included). An
integer stand-in must be a whole parameter, never part of the SQL text.

A shape whose statement cannot be kept, values holding ``%``, ``_`` or
``\\`` (a pattern would need them escaped) or a stand-in's bracket, querysets
with prefetches, and tenant queries run without a scope under
``huitou.tenancy.scope.unscoped()`` are run through Django as usual:
``build`` with the values (and the scope checked each time). Kept statements
serve every thread of the process: what a statement keeps (its text,
parameters, columns and how joined rows are made) belongs to no connection;
each thread runs it on its own connection and looks up the columns'
converters there, once. At most ``STATEMENTS_KEPT`` are kept, the least
recently used dropped first.

On PostgreSQL a kept statement is also a prepared statement of each
connection that runs it, with one plan made before any value is known
(``huitou.lib.postgresql``): what a statement holds must be served by an
index whatever the value, so prefixes are ranges and an empty string a
partial index excludes is written into the text (``huitou.lib.conditions``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.base import DEFERRED
from django.db.models.query import ModelIterable, get_related_populators

from huitou.lib.conditions import has_successor, successor

M = TypeVar("M", bound=Model)

STATEMENTS_KEPT = 1024
# The second set of stand-ins a shape is checked with: longer than any cut a build might make.
STAND_IN_CHECK_LENGTH = 40
# Pattern characters (a LIKE would need them escaped) and the stand-ins' own brackets.
_UNSAFE = frozenset("%_\\\ue000\ue001")


def stand_in(n: int, *, length: int = 3) -> str:
    """The ``n``-th stand-in: ``length`` private-use characters (at least three), the same in upper and lower case."""
    return f"\ue000{chr(0xE100 + n) * (length - 2)}\ue001"


# Integer stand-ins: above the ids a shop's tables reach, below the 32-bit limit; the check's set apart.
# Values from the first upwards are run through Django.
_INT_STAND_IN = 2_000_000_000
_INT_STAND_IN_CHECK = 2_050_000_000


def int_stand_in(n: int, *, check: bool = False) -> int:
    """The ``n``-th integer stand-in (``check``: of the second set a shape is checked with)."""
    return (_INT_STAND_IN_CHECK if check else _INT_STAND_IN) + n


def stand_ins(values: Sequence[str | int], *, check: bool = False) -> list[str | int]:
    """Stand-ins for ``values``, each of its value's kind (``check``: the long or second set)."""
    return [
        int_stand_in(n, check=check)
        if isinstance(value, int)
        else stand_in(n, length=STAND_IN_CHECK_LENGTH if check else 3)
        for n, value in enumerate(values)
    ]


def _holds(param: Any, marker: str | int) -> bool:
    """Whether a statement parameter holds ``marker``: an integer whole, a string's within a text."""
    if isinstance(marker, int):
        return _is_int(param) and param == marker
    return isinstance(param, str) and (marker in param or successor(marker) in param)


@dataclass(frozen=True)
class _Statement:
    """A compiled statement, where its values go and how its rows become model instances."""

    sql: str
    params: tuple[Any, ...]
    slots: tuple[int, ...]  # positions of the parameters that hold stand-ins
    count: int  # how many values
    columns: tuple[Any, ...]  # the selected expressions, in order
    model: type[Model]
    init_list: tuple[str, ...]
    fields: tuple[int, int]
    # With deferred columns: for each of the model's concrete fields, its column, or -1 (deferred).
    layout: tuple[int, ...] | None
    populators: tuple[Any, ...]
    annotations: tuple[tuple[str, int], ...]
    # Each thread's converters of the columns, for its own connection.
    local: threading.local = field(default_factory=threading.local, compare=False, repr=False)

    def params_for(self, values: Sequence[str | int]) -> list[Any]:
        params = list(self.params)
        for position in self.slots:
            param = params[position]
            for n, value in enumerate(values):
                if isinstance(value, int):
                    if _is_int(param) and param == int_stand_in(n):
                        param = type(param)(value)  # as the driver's wrapper when it has one (Int8)
                    continue
                marker = stand_in(n)
                if not isinstance(param, str) or (marker not in param and successor(marker) not in param):
                    continue
                param = param.replace(successor(marker), successor(value)).replace(marker, value)
            params[position] = param
        return params

    def gives(self, queryset: QuerySet[Any] | None, values: Sequence[str | int], using: str) -> bool:
        """Whether ``queryset`` (built with ``values``) is this statement with ``values`` in its places."""
        if queryset is None:
            return False
        try:
            sql, params = queryset.query.get_compiler(using=using).as_sql()
        except EmptyResultSet:
            return False
        return sql == self.sql and list(params) == self.params_for(values)

    def converters(self, connection: Any) -> list[tuple[int, list[Any], Any]]:
        """What turns each column's value as the driver gives it into the field's, as Django's compiler does."""
        found = getattr(self.local, "converters", None)
        if found is None:
            found = []
            for position, expression in enumerate(self.columns):
                convs = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
                if convs:
                    found.append((position, convs, expression))
            self.local.converters = found
        return found

    def rows(self, values: Sequence[str | int], using: str) -> list[Any]:
        connection = connections[using]
        fetch_prepared = getattr(connection, "fetch_prepared", None)
        if fetch_prepared is not None:
            # PostgreSQL (huitou.lib.postgresql): prepared on the connection, run with its generic plan.
            fetched = fetch_prepared(self.sql, self.params_for(values))
        else:
            with connection.cursor() as cursor:
                cursor.execute(self.sql, self.params_for(values))
                fetched = cursor.fetchall()
        converters = self.converters(connection)
        start, end = self.fields
        found = []
        for fetched_row in fetched:
            row = list(fetched_row)
            for position, convs, expression in converters:
                value = row[position]
                for convert in convs:
                    value = convert(value, expression, connection)
                row[position] = value
            if self.layout is None:
                obj = self.model.from_db(using, self.init_list, row[start:end])
            else:
                # Every field in its place, deferred ones marked: Django matches names to fields otherwise.
                in_place = [row[position] if position >= 0 else DEFERRED for position in self.layout]
                obj = self.model.from_db(using, self.init_list, in_place)
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found


class _NotKept:
    """A shape whose statement cannot be kept: run through Django each time."""


_NOT_KEPT = _NotKept()
_MISSING: Any = object()
_statements: OrderedDict[Hashable, _Statement | _NotKept | None] = OrderedDict()
_lock = threading.Lock()


def _kept() -> OrderedDict[Hashable, _Statement | _NotKept | None]:
    return _statements


def cached_rows(
    key: Hashable,
    values: Sequence[str | int],
    build: Callable[[Sequence[Any]], QuerySet[M] | None],
    *,
    using: str = "default",
) -> list[M]:
    """The rows of ``build(values)``, from the statement kept for ``key`` when there is one (see the module).

    ``build`` must place each value in the statement as it is given (the
    caller normalises values first) and make the same statement text for
    every ``values`` of one ``key``: whatever changes the text (which
    conditions, the page's bounds) belongs in the key. Every parameter that
    is not one of the values (an id, a date, a limit; the organization unless
    it is passed as a value) is frozen when the shape is first built: the key
    must name each of them, the organization above all when it is frozen, or
    one tenant's statement would serve another's rows. ``build`` may return
    None for "nothing to find" (no rows).
    """
    if any(_refused(value) for value in values):
        return _run(build(values))
    full_key = (using, key, tuple(type(value) for value in values))
    with _lock:
        statement = _statements.get(full_key, _MISSING)
        if statement is not _MISSING:
            _statements.move_to_end(full_key)
    if statement is _MISSING:
        # Built outside the lock: two threads may build one shape at once, and either's is kept.
        statement = _compile(build(stand_ins(values)), stand_ins(values), using)
        if isinstance(statement, _Statement):
            # The second stand-ins (longer strings, other numbers), then the real values, must land where
            # the first did: a build that cuts, pads or converts a value shows it in one of the two.
            longer = stand_ins(values, check=True)
            if not (statement.gives(build(longer), longer, using) and statement.gives(build(values), values, using)):
                statement = _NOT_KEPT
        elif statement is None and build(values) is not None:
            statement = _NOT_KEPT
        with _lock:
            _statements[full_key] = statement
            if len(_statements) > STATEMENTS_KEPT:
                _statements.popitem(last=False)
    if isinstance(statement, _NotKept):
        return _run(build(values))
    if statement is None:
        return []
    rows: list[M] = statement.rows(values, using)
    return rows


def tenant_rows(
    key: Hashable,
    organization_id: int,
    pk: int,
    build: Callable[[int, int], QuerySet[M] | None],
    *,
    using: str = "default",
) -> list[M]:
    """``cached_rows`` of the pages' common read: one organization's rows for one id (a customer's,
    an order's). ``build(organization_id, pk)`` makes the queryset; both are the statement's values,
    so one statement serves every organization and the key names only the rest of the shape."""
    return cached_rows(key, [organization_id, pk], lambda values: build(values[0], values[1]), using=using)


def attach_prefetched(instance: Model, relation: str, rows: list[Any]) -> None:
    """Make ``instance.<relation>.all()`` give ``rows`` as ``prefetch_related("<relation>")`` would (a reverse
    foreign key): each row knows its ``instance``; iterating, ``len``, ``count()`` and ``exists()`` read
    ``rows``. As with a plain ``prefetch_related`` (not a ``Prefetch`` with a queryset), anything chained
    on the relation (``filter()``, ``first()``, ``order_by()``) asks the database for the relation as
    a whole: the kept read's own conditions, order and joins are not carried over. Callers read the
    rows, or the relation through ``all()``."""
    manager = getattr(instance, relation)
    field = manager.field  # the foreign key on the rows' model
    for row in rows:
        field.set_cached_value(row, instance)
    queryset = manager.get_queryset()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    instance._prefetched_objects_cache[field.remote_field.cache_name] = queryset  # type: ignore[attr-defined]


def forget_statements() -> None:
    """Drop the kept statements (tests that change a shape's statement, e.g. the schema)."""
    with _lock:
        _statements.clear()


def _is_int(param: Any) -> bool:
    return isinstance(param, int) and not isinstance(param, bool)


def _refused(value: str | int) -> bool:
    """A value no statement is kept for: empty, a boolean, text a pattern would need escaped, or text whose
    last character has no successor or that holds a surrogate (no range of prefixes ends after it)."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value >= _INT_STAND_IN
    # A prefix is looked for up to its successor (huitou.lib.conditions): it must have one.
    return not value or bool(_UNSAFE & set(value)) or not has_successor(value)


def _run(queryset: QuerySet[M] | None) -> list[M]:
    return [] if queryset is None else list(queryset)


def _layout(model: type[Model], init_list: tuple[str, ...], start: int) -> tuple[int, ...] | None:
    """Where each concrete field of ``model`` is in a row whose model columns begin at ``start``
    (-1: deferred); None when the columns are all the fields, in order."""
    names = [f.attname for f in model._meta.concrete_fields]
    if list(init_list) == names:
        return None
    position = {name: start + n for n, name in enumerate(init_list)}
    return tuple(position.get(name, -1) for name in names)


def _compile(queryset: QuerySet[Any] | None, markers: list[str | int], using: str) -> _Statement | _NotKept | None:
    """The statement of ``queryset`` built with stand-ins, or ``_NOT_KEPT`` (None: nothing to find)."""
    if queryset is None:
        return None
    # A tenant query checks its scope when it runs (huitou.tenancy.models.TenantQuerySet): a kept
    # statement never runs through Django, so the check is made here, once per shape.
    require_scope = getattr(queryset, "_require_scope", None)
    if require_scope is not None:
        require_scope()
        if not getattr(queryset, "_tenant_scoped", False):
            # Allowed here only by ``unscoped()``: each later call must be allowed again.
            return _NOT_KEPT
    if (
        queryset._iterable_class is not ModelIterable
        or bool(getattr(queryset, "_prefetch_related_lookups", None))
        or bool(getattr(queryset, "_known_related_objects", None))
        or queryset.db != using
    ):
        return _NOT_KEPT
    compiler = queryset.query.get_compiler(using=using)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _NOT_KEPT
    in_text = [str(m) if isinstance(m, int) else m for m in markers]
    if compiler.has_extra_select or any(m in sql or successor(m) in sql for m in in_text):
        return _NOT_KEPT
    slots = tuple(i for i, p in enumerate(params) if any(_holds(p, m) for m in markers))
    if any(not any(_holds(params[i], m) for i in slots) for m in markers):
        return _NOT_KEPT  # a value the statement does not hold: it went somewhere it cannot be swapped
    select, klass_info = compiler.select, compiler.klass_info
    columns = tuple(s[0] for s in select[0 : compiler.col_count])
    if compiler.has_composite_fields(columns):
        return _NOT_KEPT
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    model = klass_info["model"]
    init_list = tuple(f[0].target.attname for f in select[start:end])
    return _Statement(
        sql=sql,
        params=tuple(params),
        slots=slots,
        count=len(markers),
        columns=columns,
        model=model,
        init_list=init_list,
        fields=(start, end),
        layout=_layout(model, init_list, start),
        populators=tuple(get_related_populators(klass_info, select, using)),  # type: ignore[call-arg]
        annotations=tuple((compiler.annotation_col_map or {}).items()),
    )
