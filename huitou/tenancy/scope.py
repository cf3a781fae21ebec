"""Where a query may cross organizations.

Queries on tenant models must be scoped to one organization (``for_org``,
a filter on ``organization``, a related manager of a loaded object); an
unscoped one raises ``UnscopedQuery`` when it is evaluated. The few places
that genuinely work across organizations — the demo loader, benchmarks,
management commands and nightly jobs that iterate organizations — say so
by running inside ``unscoped()``::

    with unscoped():
        for customer in Customer.objects.all(): ...

    @unscoped()
    def nightly() -> None: ...

It nests and is per thread / per asyncio task (a context variable).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_crossing: ContextVar[bool] = ContextVar("huitou_tenancy_unscoped", default=False)


class UnscopedQuery(RuntimeError):
    """A query on a tenant model that is not scoped to an organization."""

    def __init__(self, model_name: str) -> None:
        super().__init__(
            f"Query on {model_name} is not scoped to an organization: start it with "
            f"{model_name}.objects.for_org(organization), filter by organization/organization_id, "
            "go through a related manager of an object already loaded, "
            "or, where crossing organizations is intended, run it inside huitou.tenancy.scope.unscoped()."
        )


@contextmanager
def unscoped() -> Iterator[None]:
    """Allow queries on tenant models that are not scoped to one organization."""
    token = _crossing.set(True)
    try:
        yield
    finally:
        _crossing.reset(token)


def crossing_allowed() -> bool:
    """True inside ``unscoped()``."""
    return _crossing.get()
